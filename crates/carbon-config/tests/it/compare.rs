//! Two versions of a file compared setting by setting: siblings paired by
//! what names them, layout and comments not compared, paths that select.

use carbon_config::compare::{compare_xml, Change, Place, XmlDifference};
use xmlsplice::Document;

fn differences(before: &str, after: &str) -> Vec<XmlDifference> {
    compare_xml(
        &Document::parse(before).unwrap(),
        &Document::parse(after).unwrap(),
    )
}

fn text(path: &str, before: &str, after: &str) -> XmlDifference {
    XmlDifference {
        path: path.into(),
        exact: true,
        change: Change::Text {
            before: before.into(),
            after: after.into(),
        },
    }
}

/// Reordered siblings, other layout, comments, prefixes: no setting differs.
#[test]
fn layout_comments_order_and_prefixes_are_no_settings() {
    let before = "<c xmlns:a=\"urn:a\">\n  <parameter name=\"x\">1</parameter>\n  \
                  <parameter name=\"y\">2</parameter>\n  <a:p a:v=\"1\"/>\n</c>";
    let after = "<c xmlns:b=\"urn:a\"><!-- tuned -->\r\n\t<parameter name=\"y\"> 2 </parameter>\
                 <parameter name=\"x\">1</parameter><b:p b:v=\"1\"></b:p></c>";
    assert_eq!(differences(before, after), vec![]);
}

/// A parameter is found by its name wherever it stands, and its path says so.
#[test]
fn siblings_are_paired_by_their_name_attribute_not_their_place() {
    let before = "<clustering enable=\"false\"><parameter name=\"a\">1</parameter>\
                  <parameter name=\"scheme\">multicast</parameter></clustering>";
    let after = "<clustering enable=\"true\"><parameter name=\"scheme\">wka</parameter>\
                 <parameter name=\"a\">1</parameter></clustering>";
    assert_eq!(
        differences(before, after),
        vec![
            XmlDifference {
                path: "/clustering".into(),
                exact: true,
                change: Change::Attribute {
                    name: "enable".into(),
                    before: Some("false".into()),
                    after: Some("true".into()),
                },
            },
            text("/clustering/parameter[@name='scheme']", "multicast", "wka"),
        ]
    );
}

/// A datasource by its `<name>`, even alone; an element alone by its name.
#[test]
fn a_datasource_is_named_by_its_name_child() {
    let before = "<d><datasources><datasource><name>A</name><url>h2</url></datasource>\
                  </datasources></d>";
    let after = "<d><datasources><datasource><name>A</name><url>mysql</url></datasource>\
                 <datasource><name>B</name></datasource></datasources></d>";
    assert_eq!(
        differences(before, after),
        vec![
            text("/d/datasources/datasource[name='A']/url", "h2", "mysql"),
            XmlDifference {
                path: "/d/datasources/datasource[name='B']".into(),
                exact: true,
                change: Change::Added {
                    markup: "<datasource><name>B</name></datasource>".into(),
                    parent: "/d/datasources".into(),
                    place: Place::After("/d/datasources/datasource[name='A']".into()),
                },
            },
        ]
    );
}

/// Members have no name: equal ones pair, the others are named by all
/// they hold; one removed and commented out where it stood says so.
#[test]
fn siblings_nothing_names_are_told_apart_by_what_they_hold() {
    let member =
        |host: &str| format!("<member><hostName>{host}</hostName><port>4000</port></member>");
    let before = format!("<m>{}{}</m>", member("10.0.0.1"), member("10.0.0.2"));
    let after = format!(
        "<m>{}<!--{}-->{}</m>",
        member("10.0.0.1"),
        member("10.0.0.2"),
        member("10.0.0.3")
    );
    let found = differences(&before, &after);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(
        found[0].path,
        "/m/member[hostName='10.0.0.3' and port='4000']"
    );
    assert!(matches!(
        &found[0].change,
        Change::Added { place: Place::After(p), .. } if p == "/m/member[hostName='10.0.0.1' and port='4000']"
    ));
    assert_eq!(
        found[1].path,
        "/m/member[hostName='10.0.0.2' and port='4000']"
    );
    assert!(matches!(
        found[1].change,
        Change::Removed {
            commented_out: true,
            ..
        }
    ));
    // Every path selects its element in the file it is in.
    let doc = Document::parse(&after).unwrap();
    assert_eq!(doc.select(found[0].path.as_str()).unwrap().len(), 1);
}

/// Two equal unnamed siblings where one was: the one added cannot be
/// told apart from the other, and the difference says its path is not exact.
#[test]
fn a_path_that_cannot_select_one_element_is_not_exact() {
    let found = differences("<m><x>1</x></m>", "<m><x>1</x><x>1</x></m>");
    assert_eq!(found.len(), 1);
    assert!(!found[0].exact, "{found:?}");
    // A value with both quotes cannot be written in a path.
    let found = differences(
        "<m><p name=\"it's &quot;x&quot;\">1</p></m>",
        "<m><p name=\"it's &quot;x&quot;\">2</p></m>",
    );
    assert!(!found[0].exact, "{found:?}");
}

/// Attributes by namespace, whatever the prefix; one gone has no value after.
#[test]
fn attributes_are_compared_by_namespace_and_removal_is_seen() {
    let found = differences(
        "<r xmlns:s=\"urn:s\"><e s:alias=\"a\" old=\"1\"/></r>",
        "<r xmlns:t=\"urn:s\"><e t:alias=\"b\"/></r>",
    );
    assert_eq!(
        found.iter().map(|d| d.change.clone()).collect::<Vec<_>>(),
        vec![
            Change::Attribute {
                name: "{urn:s}alias".into(),
                before: Some("a".into()),
                after: Some("b".into()),
            },
            Change::Attribute {
                name: "old".into(),
                before: Some("1".into()),
                after: None,
            },
        ]
    );
}

/// Nesting as deep as a parse allows is compared without recursion (a
/// thread's stack holds a few thousand levels of it), and a difference at
/// the bottom gets its whole path.
#[test]
fn a_file_nested_100_000_deep_is_compared() {
    let depth = 100_000;
    let nested = |leaf: &str| {
        format!(
            "<r>{}{leaf}{}</r>",
            "<a>".repeat(depth),
            "</a>".repeat(depth)
        )
    };
    let path = format!("/r{}", "/a".repeat(depth));
    assert_eq!(
        differences(&nested("1"), &nested("2")),
        vec![text(&path, "1", "2")]
    );
}

/// Siblings that only their content tells apart, nested in one another:
/// each element's content is worked out once, not again at every level
/// above it (which took minutes, and overflowed the stack, this deep).
#[test]
fn siblings_told_apart_by_content_nest_deep() {
    let nested = |root: &str| {
        let mut inner = "<a>x</a>".to_string();
        for level in 0..20_000 {
            inner = format!("<a>{inner}<a>{level}</a></a>");
        }
        format!("<r side=\"{root}\">{inner}</r>")
    };
    assert_eq!(
        differences(&nested("1"), &nested("2")),
        vec![XmlDifference {
            path: "/r".into(),
            exact: true,
            change: Change::Attribute {
                name: "side".into(),
                before: Some("1".into()),
                after: Some("2".into()),
            },
        }]
    );
}

/// An element removed is commented out where it stood: in the element it
/// stood in, not in another that its parent's path also selects (here the
/// parents' names hold both quotes, which no path can).
#[test]
fn commented_out_is_where_the_removed_element_stood() {
    let before = "<r><g name=\"q&quot;'1\"><p>1</p></g><g name=\"q&quot;'2\"><p>1</p></g></r>";
    let after = "<r><g name=\"q&quot;'1\"><!-- x --></g>\
                 <g name=\"q&quot;'2\"><!--<p>1</p>--></g></r>";
    let commented: Vec<(String, bool, bool)> = differences(before, after)
        .into_iter()
        .filter_map(|d| match d.change {
            Change::Removed { commented_out, .. } => Some((d.path, d.exact, commented_out)),
            _ => None,
        })
        .collect();
    assert_eq!(
        commented,
        vec![
            ("/r/g/p".to_string(), false, false),
            ("/r/g/p".to_string(), false, true),
        ]
    );
}

/// A name in no namespace beside the same name in another is written bare,
/// which selects both: its paths are not exact.
#[test]
fn a_bare_name_that_another_namespace_shares_is_not_exact() {
    let before = "<r xmlns:y=\"urn:y\"><a c=\"1\"/><y:a/></r>";
    let after = "<r xmlns:y=\"urn:y\"><a c=\"2\"/><y:a/></r>";
    assert_eq!(
        differences(before, after),
        vec![XmlDifference {
            path: "/r/a".into(),
            exact: false,
            change: Change::Attribute {
                name: "c".into(),
                before: Some("1".into()),
                after: Some("2".into()),
            },
        }]
    );
}
