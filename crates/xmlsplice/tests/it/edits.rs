//! Each edit on realistic fixtures, checked against a golden diff in
//! tests/golden/xmlsplice/: the diff shows exactly which lines an edit
//! changed, line endings included (a carriage return prints as ␍).

use xmlsplice::{Document, Error, NewElement, Place};

/// Given a fixture, running `edit`, produces the golden diff `name`.
fn case(name: &str, fixture: &str, edit: impl FnOnce(&mut Document) -> Result<(), Error>) {
    let before = crate::support::fixture(fixture);
    let mut doc = Document::parse(&before).unwrap();
    edit(&mut doc).unwrap();
    let after = doc.render().unwrap();
    Document::parse(&after).expect("the output parses");
    crate::support::assert_golden(
        &format!("xmlsplice/{name}.diff"),
        &crate::support::unified_diff(fixture, &before, &after),
    );
}

#[test]
fn no_edits_render_every_fixture_byte_for_byte() {
    for name in crate::support::fixture_names() {
        let bytes = crate::support::fixture(&name);
        let doc = Document::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.render().unwrap(), bytes, "{name}");
    }
}

#[test]
fn set_attribute_on_a_start_tag_over_two_lines() {
    case("axis2-enable-clustering", "axis2-crlf.xml", |doc| {
        let clustering = doc.select_one("clustering")?;
        assert!(doc.set_attribute(clustering, "enable", "true")?);
        Ok(())
    });
}

#[test]
fn set_text_and_replace_an_element() {
    case("axis2-wka-members", "axis2-crlf.xml", |doc| {
        let scheme = doc.select_one("clustering/parameter[@name='membershipScheme']")?;
        doc.set_text(scheme, "wka")?;
        let members = doc.select_one("clustering/members")?;
        let mut replacement = NewElement::new("members");
        for (host, port) in [("10.0.0.1", "4000"), ("10.0.0.2", "4001")] {
            replacement = replacement.child(
                NewElement::new("member")
                    .text_child("hostName", host)
                    .text_child("port", port),
            );
        }
        assert!(doc.replace(members, &replacement)?);
        Ok(())
    });
}

#[test]
fn uncomment_a_one_line_wrapped_element_then_edit_it() {
    case("axis2-uncomment-mcast-address", "axis2-crlf.xml", |doc| {
        let found = doc.select_commented("clustering/parameter[@name='mcastAddress']")?;
        assert_eq!(found.len(), 1);
        doc.uncomment(&found[0])?;
        doc.apply()?;
        let address = doc.select_one("clustering/parameter[@name='mcastAddress']")?;
        doc.set_text(address, "228.0.0.5")?;
        Ok(())
    });
}

#[test]
fn uncomment_an_element_on_lines_of_its_own() {
    case("axis2-uncomment-bind-address", "axis2-crlf.xml", |doc| {
        let found = doc.select_commented("clustering/parameter[@name='mcastBindAddress']")?;
        assert_eq!(found.len(), 1);
        doc.uncomment(&found[0])
    });
}

#[test]
fn insert_after_a_sibling_and_as_last_child() {
    case(
        "axis2-insert-parameter-and-member",
        "axis2-crlf.xml",
        |doc| {
            let parameters = doc.select("clustering/parameter")?;
            let last = *parameters.last().unwrap();
            doc.insert(
                Place::After(last),
                NewElement::new("parameter")
                    .attribute("name", "mcastTTL")
                    .text("100"),
            )?;
            let members = doc.select_one("clustering/members")?;
            doc.insert(
                Place::LastChild(members),
                NewElement::new("member")
                    .text_child("hostName", "10.0.0.9")
                    .text_child("port", "4000"),
            )
        },
    );
}

#[test]
fn comment_out_and_remove_keep_the_lines_around_them() {
    case("axis2-comment-out-and-remove", "axis2-crlf.xml", |doc| {
        let sub_domain = doc.select_one("clustering/parameter/property[@name='subDomain']")?;
        doc.comment_out(sub_domain)?;
        let host = doc.select_one("clustering/parameter[@name='localMemberHost']")?;
        doc.remove(host)
    });
}

#[test]
fn uncomment_the_wso2_form_in_a_latin1_file_with_a_default_namespace() {
    case("carbon-hostname-offset", "carbon-latin1.xml", |doc| {
        for name in ["HostName", "MgtHostName"] {
            let found = doc.select_commented(name)?;
            doc.uncomment(&found[0])?;
        }
        let offset = doc.select_one("Ports/Offset")?;
        doc.set_text(offset, "3")?;
        doc.apply()?;
        let host = doc.select_one("HostName")?;
        doc.set_text(host, "n\u{f6}de1.example.org")?;
        Ok(())
    });
}

#[test]
fn characters_latin1_cannot_hold_become_references() {
    case("carbon-description-euro", "carbon-latin1.xml", |doc| {
        let description = doc.select_one("Description")?;
        doc.set_text(description, "Co\u{fb}t: 5 \u{20AC} & <plus>")?;
        Ok(())
    });
}

#[test]
fn uncomment_a_block_whose_delimiters_share_lines_with_tags() {
    case("carbon-mediation-config", "carbon-latin1.xml", |doc| {
        let found = doc.select_commented("MediationConfig")?;
        doc.uncomment(&found[0])?;
        doc.apply()?;
        let load = doc.select_one("MediationConfig/LoadFromRegistry")?;
        doc.set_text(load, "true")?;
        Ok(())
    });
}

#[test]
fn edits_in_a_file_with_mixed_line_endings_use_the_local_one() {
    case(
        "registry-remote-instance-and-mount",
        "registry-mixed-eol.xml",
        |doc| {
            let remote = doc.select_commented("remoteInstance")?;
            assert_eq!(remote.len(), 1);
            doc.uncomment(&remote[0])?;
            let db_config = doc.select_one("dbConfig[@name='wso2registry']")?;
            doc.insert(
                Place::After(db_config),
                NewElement::new("mount")
                    .attribute("path", "/_system/config")
                    .attribute("overwrite", "true")
                    .text_child("instanceId", "gov")
                    .text_child("targetPath", "/_system/nodes"),
            )?;
            let root = doc.root();
            doc.insert(
                Place::FirstChild(root),
                NewElement::new("indexingConfiguration").text("on"),
            )?;
            let pattern = doc.select_one("handler/property[@name='pattern']")?;
            doc.set_text(pattern, "x & y < z")?;
            Ok(())
        },
    );
}

#[test]
fn inserted_elements_copy_no_break_space_indentation() {
    case("datasources-nbsp", "datasources-nbsp.xml", |doc| {
        let configuration = doc.select_one(
            "datasources/datasource[name='EXAMPLE_STORE_DB']/definition/configuration",
        )?;
        doc.insert(
            Place::LastChild(configuration),
            NewElement::new("username").text("store"),
        )?;
        let auto_commit = doc.select_one("//defaultAutoCommit")?;
        doc.set_text(auto_commit, "false")?;
        let password = doc.select_one("//datasource[name='EXAMPLE_CARBON_DB']//password")?;
        doc.set_text(password, "s3cret&<")?;
        let datasources = doc.select_one("datasources")?;
        doc.insert(
            Place::LastChild(datasources),
            NewElement::new("datasource")
                .text_child("name", "EXAMPLE_NEW_DB")
                .child(NewElement::new("jndiConfig").text_child("name", "jdbc/New")),
        )
    });
}

#[test]
fn new_attributes_follow_the_quotes_of_their_tag() {
    case(
        "catalina-proxy-ports",
        "catalina-single-quoted.xml",
        |doc| {
            let http = doc.select_one("Service/Connector[@port='9763']")?;
            doc.set_attribute(http, "proxyPort", "80")?;
            let https = doc.select_one("Service/Connector[@port='9443']")?;
            doc.set_attribute(https, "proxyPort", "443")?;
            doc.set_attribute(http, "compression", "off")?;
            doc.remove_attribute(https, "secure")?;
            Ok(())
        },
    );
}

#[test]
fn a_self_closing_element_opens_up_for_its_first_child() {
    case(
        "catalina-engine-child",
        "catalina-single-quoted.xml",
        |doc| {
            let engine = doc.select_one("Service/Engine")?;
            doc.insert(
                Place::LastChild(engine),
                NewElement::new("Host").attribute("name", "localhost"),
            )
        },
    );
}

#[test]
fn a_doctype_and_its_entities_survive_edits() {
    case("web-doctype", "web-doctype.xml", |doc| {
        let servlet = doc.select_one("servlet")?;
        doc.insert(
            Place::FirstChild(servlet),
            NewElement::new("description").text("bridge"),
        )?;
        let display = doc.select_one("display-name")?;
        doc.set_text(display, "Console")?;
        Ok(())
    });
}

#[test]
fn byte_order_mark_cdata_and_non_ascii_text_are_kept() {
    case("user-mgt-bom", "user-mgt-bom.xml", |doc| {
        let pattern = doc.select_one("Realm/Configuration/Property[@name='pattern']")?;
        doc.set_text(pattern, "^[\\S]{8,30}$")?;
        let data_source = doc.select_one("Realm/Configuration/Property[@name='dataSource']")?;
        doc.insert(
            Place::Before(data_source),
            NewElement::new("Property")
                .attribute("name", "isCascadeDeleteEnabled")
                .text("true"),
        )
    });
}

#[test]
fn a_sibling_goes_after_the_comment_that_shares_the_line() {
    // Shipped user-mgt.xml: `<EveryOneRoleName>everyone</EveryOneRoleName> <!-- ... -->`.
    let text = "<r>\r\n    <a>1</a> <!-- about a -->  \r\n    <c/>\r\n</r>\r\n";
    let mut doc = Document::parse(text).unwrap();
    let a = doc.select_one("a").unwrap();
    doc.insert(Place::After(a), "<b/>").unwrap();
    assert_eq!(
        String::from_utf8(doc.render().unwrap()).unwrap(),
        "<r>\r\n    <a>1</a> <!-- about a -->  \r\n    <b/>\r\n    <c/>\r\n</r>\r\n"
    );
}

/// An attribute named by its namespace (`{uri}local`), as paths name
/// elements: set with the prefix bound to the URI there (or one declared
/// beside it), removed whatever its prefix.
#[test]
fn attributes_are_named_by_namespace_too() {
    let mut doc = Document::parse(
        "<beers xmlns:a=\"urn:attrs\"><beer a:rating=\"5\" name=\"x\"/><beer name=\"y\"/></beers>",
    )
    .unwrap();
    let beers = doc.select("beer").unwrap();
    assert!(!doc
        .set_attribute(beers[0], "{urn:attrs}rating", "5")
        .unwrap());
    assert!(doc
        .set_attribute(beers[1], "{urn:attrs}rating", "3")
        .unwrap());
    assert!(doc.set_attribute(beers[1], "{urn:other}note", "n").unwrap());
    let text = String::from_utf8(doc.render().unwrap()).unwrap();
    assert_eq!(
        text,
        "<beers xmlns:a=\"urn:attrs\"><beer a:rating=\"5\" name=\"x\"/><beer name=\"y\" a:rating=\"3\" xmlns:ns0=\"urn:other\" ns0:note=\"n\"/></beers>"
    );
    let mut doc = Document::parse(text).unwrap();
    let first = doc.select_one("beer[@name='x']").unwrap();
    assert!(doc.remove_attribute(first, "{urn:attrs}rating").unwrap());
    assert!(!doc.remove_attribute(first, "{urn:none}rating").unwrap());
    assert_eq!(
        String::from_utf8(doc.render().unwrap()).unwrap(),
        "<beers xmlns:a=\"urn:attrs\"><beer name=\"x\"/><beer name=\"y\" a:rating=\"3\" xmlns:ns0=\"urn:other\" ns0:note=\"n\"/></beers>"
    );
}

/// The two URIs no prefix of the file's can stand for: no namespace at all
/// (`{}name`, written unprefixed) and XML's own (always `xml:`); the
/// namespace of declarations names no attribute to set.
#[test]
fn attribute_names_in_no_namespace_and_in_xmls_own() {
    let mut doc = Document::parse("<rating subjective=\"true\">10</rating>").unwrap();
    let rating = doc.root();
    assert!(!doc.set_attribute(rating, "{}subjective", "true").unwrap());
    assert!(doc.set_attribute(rating, "{}scale", "10").unwrap());
    assert!(doc
        .set_attribute(rating, "{http://www.w3.org/XML/1998/namespace}lang", "en")
        .unwrap());
    for declaration in [
        "{http://www.w3.org/2000/xmlns/}n",
        "xmlns",
        "xmlns:n",
        "{}xmlns",
    ] {
        let refused = doc.set_attribute(rating, declaration, "urn:n").unwrap_err();
        assert!(
            refused.to_string().contains("namespace declarations"),
            "{declaration}: {refused}"
        );
        let refused = doc.remove_attribute(rating, declaration).unwrap_err();
        assert!(refused.to_string().contains("namespace declarations"));
    }
    let text = String::from_utf8(doc.render().unwrap()).unwrap();
    assert_eq!(
        text,
        "<rating subjective=\"true\" scale=\"10\" xml:lang=\"en\">10</rating>"
    );
    let mut doc = Document::parse(text).unwrap();
    let rating = doc.root();
    assert!(!doc
        .set_attribute(rating, "{http://www.w3.org/XML/1998/namespace}lang", "en")
        .unwrap());
    assert!(doc
        .remove_attribute(rating, "{http://www.w3.org/XML/1998/namespace}lang")
        .unwrap());
    assert!(doc.remove_attribute(rating, "{}scale").unwrap());
    assert_eq!(
        String::from_utf8(doc.render().unwrap()).unwrap(),
        "<rating subjective=\"true\">10</rating>"
    );
}

/// Two attributes in one namespace no prefix is bound to, set on one
/// element in one go: the prefix is declared once, for both.
#[test]
fn attributes_in_a_new_namespace_share_one_declaration() {
    let mut doc = Document::parse("<rating>10</rating>").unwrap();
    let rating = doc.root();
    assert!(doc.set_attribute(rating, "{urn:s}x", "1").unwrap());
    assert!(doc.set_attribute(rating, "{urn:s}y", "2").unwrap());
    assert!(doc.set_attribute(rating, "{urn:t}z", "3").unwrap());
    assert_eq!(
        String::from_utf8(doc.render().unwrap()).unwrap(),
        "<rating xmlns:ns0=\"urn:s\" ns0:x=\"1\" ns0:y=\"2\" xmlns:ns1=\"urn:t\" ns1:z=\"3\">10</rating>"
    );
}

/// An element first on its line with a comment after it: removed with the
/// blanks between, so that the comment stands where the element stood.
#[test]
fn a_removed_element_leaves_what_followed_it_on_its_line_in_place() {
    let mut doc =
        Document::parse("<l>\n    <i>1</i> <!-- about one -->\n    <i>2</i>\n</l>").unwrap();
    let one = doc.select_one("i[.='1']").unwrap();
    doc.remove(one).unwrap();
    assert_eq!(
        String::from_utf8(doc.render().unwrap()).unwrap(),
        "<l>\n    <!-- about one -->\n    <i>2</i>\n</l>"
    );
}
