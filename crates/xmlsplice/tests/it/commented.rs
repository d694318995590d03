//! Commented-out elements read once under an element and asked about many
//! steps ([`Document::commented_children`]) answer as a search of every
//! comment for each path ([`Document::select_commented`]) does.

use xmlsplice::Document;

use crate::support::commented::check_commented_children;
use crate::support::workspace_root;
use crate::support::Rng;

/// Every XML file of the fixtures: the engine's and the sample homes'.
fn every_fixture() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut folders = vec![workspace_root().join("fixtures")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

#[test]
fn read_once_they_answer_as_a_search_of_every_comment_does() {
    let mut asked = 0;
    for (name, bytes) in every_fixture() {
        let Ok(doc) = Document::parse(bytes) else {
            continue; // a fixture of a broken file
        };
        asked += check_commented_children(&doc)
            .map_err(|e| format!("{name}: {e}"))
            .unwrap();
    }
    assert!(asked > 1000, "only {asked} steps asked about");
}

#[test]
fn comments_in_both_forms_are_read_and_prose_is_not() {
    let doc = Document::parse(
        "<Server>\n  <!-- the host name -->\n  <!--HostName>www.wso2.org</HostName-->\n  \
         <!--\n  <parameter name=\"a\">\n    <x>1</x>\n  </parameter>\n  -->\n</Server>",
    )
    .unwrap();
    let mut commented = doc.commented_children(doc.root());
    assert!(commented.any("HostName").unwrap());
    assert!(commented.any("HostName[.='www.wso2.org']").unwrap());
    assert!(commented.any("parameter[@name='a' and x='1']").unwrap());
    assert!(!commented.any("parameter[@name='a' and x='2']").unwrap());
    assert!(!commented.any("the").unwrap());
}

#[test]
fn only_one_step_down_is_asked_about() {
    let doc = Document::parse("<a><!--<b/>--></a>").unwrap();
    let mut commented = doc.commented_children(doc.root());
    for step in ["a/b", "//b", ".", "/b"] {
        let err = commented.any(step).unwrap_err();
        assert!(err.to_string().contains("one step down"), "{step}: {err}");
    }
}

/// One random element, as markup: names in and out of namespaces,
/// attributes, text with blanks around it, children with text.
fn random_element(r: &mut Rng) -> String {
    let name = r.pick(&["a", "x:a", "y:a", "b"]);
    let mut markup = format!("<{name}");
    for attribute in ["name", "v", "x:v"] {
        if r.below(2) == 0 {
            let value = r
                .pick(&["1", "2", " 1", "it's", ""])
                .replace('\'', "&apos;");
            markup.push_str(&format!(" {attribute}=\"{value}\""));
        }
    }
    markup.push('>');
    match r.below(3) {
        0 => markup.push_str(r.pick(&[" 1 ", "1", "x"])),
        1 => {
            for _ in 0..=r.below(2) {
                let child = r.pick(&["p", "x:p", "v"]);
                let text = r.pick(&[" 1 ", "1", "it's"]);
                markup.push_str(&format!("<{child}>{text}</{child}>"));
            }
        }
        _ => {}
    }
    markup.push_str(&format!("</{name}>"));
    markup
}

/// Random steps about random commented-out elements (both forms, prefixes,
/// values with blanks, positions, several predicates at once).
#[test]
fn random_steps_are_answered_as_a_search_answers_them() {
    let names = ["a", "x:a", "y:a", "b", "*", "{urn:x}a", "{urn:y}a"];
    let tests = [
        "@name", "@v", "@x:v", "@*", "name", "x:v", "v", ".", "text()", "p", "x:p", "*",
    ];
    let values = ["1", "2", " 1", "1 ", "", "it's", "x"];
    let mut asked = 0;
    for seed in 1..=3_000u64 {
        let mut r = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
        let mut body = String::new();
        for _ in 0..r.below(6) {
            let element = random_element(&mut r);
            if r.below(2) == 0 {
                body.push_str(&format!("<!--{}-->", &element[1..element.len() - 1]));
            } else {
                body.push_str(&format!("<!-- {element} -->"));
            }
            if r.below(3) == 0 {
                body.push_str(&element);
            }
        }
        let text = format!("<r xmlns:x=\"urn:x\" xmlns:y=\"urn:y\"><c>{body}</c></r>");
        let doc = Document::parse(text.as_str()).unwrap();
        let parent = doc.children(doc.root())[0];
        let mut commented = doc.commented_children(parent);
        for _ in 0..30 {
            let mut step = r.pick(&names).to_string();
            for _ in 0..r.below(4) {
                if r.below(10) == 0 {
                    step.push_str(&format!("[{}]", 1 + r.below(3)));
                    continue;
                }
                let (test, value) = (r.pick(&tests), r.pick(&values));
                let quoted = if value.contains('\'') {
                    format!("\"{value}\"")
                } else {
                    format!("'{value}'")
                };
                match r.below(3) {
                    0 if test.starts_with('@') => step.push_str(&format!("[{test}]")),
                    1 => step.push_str(&format!("[{test}={quoted} and @name='1']")),
                    _ => step.push_str(&format!("[{test}={quoted}]")),
                }
            }
            let Ok(searched) = doc.select_commented((parent, step.as_str())) else {
                continue; // a step the path syntax refuses
            };
            assert_eq!(
                commented.any(&step).unwrap(),
                !searched.is_empty(),
                "{step} in {text}"
            );
            asked += 1;
        }
    }
    assert!(asked > 40_000, "only {asked} steps asked about");
}
