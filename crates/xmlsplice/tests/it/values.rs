//! Values keep their shape: a line break in a value is written as given
//! (element text) or as a character reference (attribute values), never
//! re-indented, and reads back as the very value that was set.

use xmlsplice::{Document, NewElement, Place};

/// The document's text after its staged edits.
fn rendered(doc: &Document) -> String {
    String::from_utf8(doc.render().unwrap()).unwrap()
}

/// `doc` with its edits applied, then the text of the one element at `path`.
fn text_after_apply(doc: &mut Document, path: &str) -> String {
    doc.apply().unwrap();
    let element = doc.select_one(path).unwrap();
    doc.element_text(element).unwrap()
}

const INDENTED: &str = "<r>\n    <conf>\n        <url>u</url>\n    </conf>\n</r>\n";

#[test]
fn set_text_writes_a_line_break_as_it_is() {
    let mut doc = Document::parse(INDENTED).unwrap();
    let url = doc.select_one("conf/url").unwrap();
    assert!(doc.set_text(url, "sec\nret\n").unwrap());
    assert_eq!(
        rendered(&doc),
        "<r>\n    <conf>\n        <url>sec\nret\n</url>\n    </conf>\n</r>\n"
    );
    assert_eq!(text_after_apply(&mut doc, "conf/url"), "sec\nret\n");
    let url = doc.select_one("conf/url").unwrap();
    assert!(!doc.set_text(url, "sec\nret\n").unwrap(), "already so");
    // Not the same value: the reading compares it exactly.
    assert!(doc.set_text(url, "sec\n        ret\n").unwrap());
}

#[test]
fn set_attribute_writes_line_breaks_and_tabs_as_references() {
    let mut doc = Document::parse(INDENTED).unwrap();
    let url = doc.select_one("conf/url").unwrap();
    assert!(doc.set_attribute(url, "v", "a\nb\r\nc\td").unwrap());
    assert!(rendered(&doc).contains("<url v=\"a&#10;b&#13;&#10;c&#9;d\">u</url>"));
    doc.apply().unwrap();
    let url = doc.select_one("conf/url").unwrap();
    assert_eq!(doc.attribute(url, "v"), Some("a\nb\r\nc\td"));
    assert!(!doc.set_attribute(url, "v", "a\nb\r\nc\td").unwrap());
}

#[test]
fn an_inserted_element_keeps_the_line_breaks_of_its_text() {
    for value in ["sec\nret", "secret\n", "\nsecret", "\n", "a\n\n  b\n"] {
        let mut doc = Document::parse(INDENTED).unwrap();
        let conf = doc.select_one("conf").unwrap();
        doc.insert(
            Place::LastChild(conf),
            NewElement::new("password").text(value),
        )
        .unwrap();
        assert_eq!(
            rendered(&doc),
            format!(
                "<r>\n    <conf>\n        <url>u</url>\n        <password>{value}</password>\n    </conf>\n</r>\n"
            ),
            "{value:?}"
        );
        assert_eq!(text_after_apply(&mut doc, "conf/password"), value);
    }
}

#[test]
fn a_nested_new_element_is_laid_out_and_its_text_kept() {
    // A datasource as carbon-config builds one, in a CRLF file indented with tabs.
    let mut doc =
        Document::parse("<r>\r\n\t<ds>\r\n\t\t<name>A</name>\r\n\t</ds>\r\n</r>").unwrap();
    let ds = doc.select_one("ds").unwrap();
    let new = NewElement::new("ds").text_child("name", "B").child(
        NewElement::new("definition")
            .attribute("type", "RDBMS")
            .child(NewElement::new("configuration").text_child("password", "p\nq")),
    );
    doc.insert(Place::After(ds), &new).unwrap();
    assert_eq!(
        rendered(&doc),
        "<r>\r\n\t<ds>\r\n\t\t<name>A</name>\r\n\t</ds>\r\n\
         \t<ds>\r\n\t\t<name>B</name>\r\n\t\t<definition type=\"RDBMS\">\r\n\
         \t\t\t<configuration>\r\n\t\t\t\t<password>p\nq</password>\r\n\
         \t\t\t</configuration>\r\n\t\t</definition>\r\n\t</ds>\r\n</r>"
    );
    assert_eq!(
        text_after_apply(&mut doc, "ds[name='B']/definition/configuration/password"),
        "p\nq"
    );
}

#[test]
fn inserted_markup_keeps_its_text_attribute_values_and_cdata() {
    let markup = "<Extra note=\"one\n  two\">\n  line1\n line2\n  <![CDATA[c1\n   c2]]></Extra>";
    let alone = Document::parse(markup).unwrap();
    let note = alone.attribute(alone.root(), "note").unwrap().to_string();
    let text = alone.element_text(alone.root()).unwrap();
    let mut doc = Document::parse(INDENTED).unwrap();
    let conf = doc.select_one("conf").unwrap();
    doc.insert(Place::LastChild(conf), markup).unwrap();
    assert_eq!(
        rendered(&doc),
        format!("<r>\n    <conf>\n        <url>u</url>\n        {markup}\n    </conf>\n</r>\n")
    );
    doc.apply().unwrap();
    let extra = doc.select_one("conf/Extra").unwrap();
    assert_eq!(doc.attribute(extra, "note"), Some(note.as_str()));
    assert_eq!(doc.element_text(extra).unwrap(), text);
}

#[test]
fn layout_between_tags_is_still_made_the_files_own() {
    // Only the whitespace between tags is layout: the structure is re-indented
    // (four spaces a level in the markup, two in the file), the text is not.
    let markup = "<a>\n    <b>x\n  y</b>\n    <c>\n        <d/>\n    </c>\n</a>";
    let mut doc = Document::parse("<r>\n  <z/>\n</r>").unwrap();
    let z = doc.select_one("z").unwrap();
    doc.insert(Place::After(z), markup).unwrap();
    assert_eq!(
        rendered(&doc),
        "<r>\n  <z/>\n  <a>\n    <b>x\n  y</b>\n    <c>\n      <d/>\n    </c>\n  </a>\n</r>"
    );
}

#[test]
fn a_replaced_element_keeps_the_line_breaks_of_its_text() {
    let mut doc = Document::parse(INDENTED).unwrap();
    let conf = doc.select_one("conf").unwrap();
    let new = NewElement::new("conf").text_child("url", "v\n");
    assert!(doc.replace(conf, &new).unwrap());
    assert_eq!(
        rendered(&doc),
        "<r>\n    <conf>\n        <url>v\n</url>\n    </conf>\n</r>\n"
    );
    doc.apply().unwrap();
    let conf = doc.select_one("conf").unwrap();
    assert!(!doc.replace(conf, &new).unwrap(), "already so");
}
