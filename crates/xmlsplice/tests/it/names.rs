//! Names are XML names: an element or attribute name that is not one is
//! refused, and the error names it, so that no name can carry markup into
//! the document.

use xmlsplice::{Document, ErrorKind, NewElement, Path, Place};

const DOC: &str = "<r>\n  <a x=\"1\"/>\n</r>\n";

/// The name an error says is not an XML name.
fn refused_name(err: &xmlsplice::Error) -> &str {
    match err.kind() {
        ErrorKind::InvalidName { name, .. } => name,
        other => panic!("not an invalid name: {other:?} ({err})"),
    }
}

#[test]
fn an_attribute_name_cannot_carry_markup() {
    // Unchecked, `<a x="1"/>` became `<a x="1" z="1"/><Evil/><a y="v"/>`.
    let evil = "z=\"1\"/><Evil/><a y";
    let mut doc = Document::parse(DOC).unwrap();
    let a = doc.select_one("a").unwrap();
    let err = doc.set_attribute(a, evil, "v").unwrap_err();
    assert_eq!(refused_name(&err), evil);
    assert_eq!(
        err.to_string(),
        "invalid XML name \"z=\\\"1\\\"/><Evil/><a y\": '=' cannot be part of a name"
    );
    let err = doc.remove_attribute(a, evil).unwrap_err();
    assert_eq!(refused_name(&err), evil);
    assert_eq!(doc.render().unwrap(), DOC.as_bytes(), "nothing staged");
}

#[test]
fn names_follow_the_xml_name_productions() {
    let mut doc = Document::parse(DOC).unwrap();
    let a = doc.select_one("a").unwrap();
    for good in [
        "b",
        "_b",
        "b.c-d_1",
        "svns:secretAlias",
        "xml:lang",
        "\u{e9}t\u{e9}",
        "b\u{b7}c",
    ] {
        assert!(doc.set_attribute(a, good, "v").unwrap(), "{good}");
    }
    let bad = [
        ("", "a name cannot be empty"),
        ("1b", "a name cannot start with '1'"),
        ("-b", "a name cannot start with '-'"),
        ("b c", "' ' cannot be part of a name"),
        ("b\nc", "'\\n' cannot be part of a name"),
        ("b>", "'>' cannot be part of a name"),
        ("b'", "'\\'' cannot be part of a name"),
        (":b", "a prefix cannot be empty"),
        ("b:", "a local name cannot be empty"),
        ("a:b:c", "a name holds at most one ':' (prefix:local)"),
        ("a:1b", "a local name cannot start with '1'"),
        ("\u{d7}", "'\u{d7}' cannot be part of a name"),
    ];
    for (name, reason) in bad {
        let err = doc.set_attribute(a, name, "v").unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::InvalidName {
                name: name.into(),
                reason: reason.into()
            },
            "{name:?}"
        );
    }
}

#[test]
fn a_name_the_encoding_cannot_hold_is_refused() {
    // A character reference cannot stand in a name.
    let mut doc = Document::parse("<?xml version='1.0' encoding='ISO-8859-1'?><r/>").unwrap();
    let r = doc.root();
    let err = doc.set_attribute(r, "\u{20ac}", "v").unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Unencodable {
            ch: '\u{20ac}',
            encoding: "ISO-8859-1"
        }
    );
}

#[test]
fn new_elements_have_xml_names() {
    let bad_element = NewElement::new("p><Evil/");
    assert_eq!(
        refused_name(&bad_element.to_markup().unwrap_err()),
        "p><Evil/"
    );
    let bad_child = NewElement::new("p").text_child("x y", "1");
    assert_eq!(refused_name(&bad_child.to_markup().unwrap_err()), "x y");
    let bad_attribute = NewElement::new("p").attribute("a=\"1\" b", "2");
    assert_eq!(
        refused_name(&bad_attribute.to_markup().unwrap_err()),
        "a=\"1\" b"
    );
    let mut doc = Document::parse(DOC).unwrap();
    let a = doc.select_one("a").unwrap();
    let err = doc.insert(Place::After(a), &bad_element).unwrap_err();
    assert_eq!(refused_name(&err), "p><Evil/");
    assert_eq!(doc.render().unwrap(), DOC.as_bytes(), "nothing staged");
}

#[test]
fn a_path_names_elements_and_attributes_with_xml_names() {
    for (path, reason) in [
        (
            "a>b",
            "\"a>b\" is not an XML name: '>' cannot be part of a name",
        ),
        (
            "a[@x<y='1']",
            "\"x<y\" is not an XML name: '<' cannot be part of a name",
        ),
        (
            "a[b&c='1']",
            "\"b&c\" is not an XML name: '&' cannot be part of a name",
        ),
        (
            "1a",
            "\"1a\" is not an XML name: a name cannot start with '1'",
        ),
    ] {
        match Path::parse(path).unwrap_err().kind() {
            ErrorKind::InvalidPath { reason: said, .. } => assert_eq!(said, reason, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    assert!(Path::parse("{urn:x}a.b-c/d[@e_f='1'][g='2']").is_ok());
}

#[test]
fn check_name_is_what_the_edits_use() {
    assert!(xmlsplice::check_name("svns:secretAlias").is_ok());
    let err = xmlsplice::check_name("x=\"1\"><Evil/>").unwrap_err();
    assert_eq!(refused_name(&err), "x=\"1\"><Evil/>");
}
