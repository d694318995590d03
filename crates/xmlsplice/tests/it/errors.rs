//! Bad input and wrong edits: each is an error that says what and where,
//! never a panic, a hang or a silently wrong file.

use xmlsplice::{Document, ErrorKind, NewElement, Place};

/// The error `bytes` give when opened, as printed for `conf/x.xml`.
fn open_error(bytes: impl AsRef<[u8]>) -> String {
    Document::parse(bytes)
        .unwrap_err()
        .with_path("conf/x.xml")
        .to_string()
}

#[test]
fn malformed_xml_names_file_line_and_column() {
    assert_eq!(
        open_error("<a>\n  <b>\n</a>"),
        "conf/x.xml:3:1: malformed XML: expected 'b' tag, not 'a'"
    );
    assert_eq!(
        open_error(""),
        "conf/x.xml:1:1: malformed XML: the document does not have a root node"
    );
    assert_eq!(
        open_error("<a>\0</a>"),
        "conf/x.xml:1:4: malformed XML: a non-XML character '\\0' found"
    );
}

#[test]
fn a_text_that_ends_too_soon_is_reported_where_it_ends() {
    // roxmltree gives these errors no position; the first line was printed.
    let cut = "unexpected end of stream";
    let open = "the root node was opened but never closed";
    for (text, at, what) in [
        ("<a>\n  <b x=\"1", "2:10", cut),
        (
            "<!-- licence -->\n<a>\n  <!-- cut",
            "3:11",
            "expected '-->'",
        ),
        ("<a>\n  <b", "2:5", open),
        ("<a>\n  <b/>\n", "3:1", open),
    ] {
        assert_eq!(
            open_error(text),
            format!("conf/x.xml:{at}: malformed XML: {what}"),
            "{text:?}"
        );
    }
}

#[test]
fn encodings_other_than_the_three_are_refused() {
    assert_eq!(
        open_error("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a/>"),
        "conf/x.xml:1:31: unsupported encoding \"Shift_JIS\" (UTF-8, ISO-8859-1 and US-ASCII are supported)"
    );
    assert_eq!(
        open_error(b"<a>\n\xff</a>"),
        "conf/x.xml:2:1: byte sequence is not valid UTF-8"
    );
}

#[test]
fn external_entities_are_refused_and_never_fetched() {
    let xxe = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>";
    assert_eq!(
        open_error(xxe),
        "conf/x.xml:2:4: malformed XML: unknown entity reference 'x'"
    );
}

#[test]
fn entity_loops_and_blow_ups_are_refused_quickly() {
    let mut decls = String::from("<!ENTITY a \"aaaaaaaaaa\">");
    for (prev, name) in "abcdefghi".chars().zip("bcdefghij".chars()) {
        decls.push_str(&format!(
            "<!ENTITY {name} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    let laughs = format!("<!DOCTYPE r [{decls}]><r>&j;</r>");
    let err = open_error(laughs);
    assert!(
        err.contains("expand to more than 16 MiB") || err.contains("entity reference loop"),
        "{err}"
    );

    let big = "x".repeat(100_000);
    let quadratic = format!(
        "<!DOCTYPE r [<!ENTITY a \"{big}\">]><r>{}</r>",
        "&a;".repeat(10_000)
    );
    assert!(open_error(quadratic).contains("expand to more than 16 MiB"));
}

#[test]
fn an_external_dtd_is_kept_and_not_fetched() {
    let text = "<?xml version=\"1.0\"?>\n<!DOCTYPE web-app PUBLIC \"-//X//DTD Web//EN\" \"http://example.invalid/web.dtd\">\n<web-app><x>1</x></web-app>\n";
    let mut doc = Document::parse(text).unwrap();
    let x = doc.select_one("x").unwrap();
    doc.set_text(x, "2").unwrap();
    assert_eq!(doc.render().unwrap(), text.replace(">1<", ">2<").as_bytes());
}

#[test]
fn deep_nesting_is_handled_without_recursion() {
    let depth = 100_000;
    let text = format!(
        "{}<leaf>1</leaf>{}",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let mut doc = Document::parse(&text).unwrap();
    let leaf = doc.select_one("//leaf").unwrap();
    doc.set_text(leaf, "2").unwrap();
    let parent = doc.parent(leaf).unwrap();
    doc.insert(Place::LastChild(parent), "<more/>").unwrap();
    let out = String::from_utf8(doc.render().unwrap()).unwrap();
    assert!(out.contains("<leaf>2</leaf><more/></a>"));
    assert_eq!(out.len(), text.len() + "<more/>".len());
}

#[test]
fn selections_that_need_one_element_say_where_the_matches_are() {
    let doc = Document::parse("<r>\n  <p name='a'/>\n  <p name='b'/>\n</r>").unwrap();
    let err = doc.select_one("p").unwrap_err().with_path("x.xml");
    assert_eq!(
        err.to_string(),
        "x.xml:3:3: 2 elements match \"p\" where one was expected (at 2:3, 3:3)"
    );
    let err = doc.select_one("q").unwrap_err();
    assert_eq!(err.to_string(), "1:1: no element matches \"q\"");
    assert!(matches!(
        doc.select("p[").unwrap_err().kind(),
        ErrorKind::InvalidPath { .. }
    ));
}

#[test]
fn overlapping_edits_are_an_error_not_a_merge() {
    let mut doc = Document::parse("<r>\n  <p>1</p>\n</r>").unwrap();
    let p = doc.select_one("p").unwrap();
    doc.set_text(p, "2").unwrap();
    let err = doc.remove(p).unwrap_err();
    assert_eq!(
        err.to_string(),
        "2:6: edits overlap: set text and remove (at 2:1) touch the same text"
    );
    // The first edit is still staged and still renders.
    assert_eq!(doc.render().unwrap(), b"<r>\n  <p>2</p>\n</r>");
}

#[test]
fn edits_that_would_destroy_content_are_refused() {
    let mut doc = Document::parse("<r><a><b/></a><c>x<!-- note --></c></r>").unwrap();
    let a = doc.select_one("a").unwrap();
    assert_eq!(
        doc.set_text(a, "t").unwrap_err().to_string(),
        "1:4: <a> holds child elements; setting its text would remove them"
    );
    let c = doc.select_one("c").unwrap();
    assert!(doc.set_text(c, "t").is_err());
    assert_eq!(
        doc.comment_out(c).unwrap_err().to_string(),
        "1:15: <c> holds \"--\" (a comment, perhaps), which a comment cannot contain"
    );
    let root = doc.root();
    assert!(doc.remove(root).is_err());
    assert!(doc.insert(Place::After(root), "<x/>").is_err());
    assert!(!doc.has_edits());
}

#[test]
fn bad_fragments_and_values_are_refused_before_staging() {
    let mut doc =
        Document::parse("<?xml version='1.0' encoding='ISO-8859-1'?><r><a/></r>").unwrap();
    let a = doc.select_one("a").unwrap();
    for bad in ["<x>", "<x/><y/>", "text", "<p:x/>", "<x>&nbsp;</x>"] {
        let err = doc.insert(Place::LastChild(a), bad).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidFragment(_)),
            "{bad}: {err}"
        );
    }
    let err = doc
        .insert(Place::LastChild(a), "<caf\u{20AC}/>")
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Unencodable { .. }), "{err}");
    let err = doc.set_text(a, "bell\u{7}").unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidChar('\u{7}'));
    let err = doc
        .insert(
            Place::LastChild(a),
            NewElement::new("x").attribute("v", "\u{1}"),
        )
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidChar('\u{1}'));
    assert!(!doc.has_edits());
}

/// An entity that would expand to elements is refused where it is
/// declared: its elements, parsed again at every reference, have no text
/// of their own to edit (the engine still refuses to edit one, should
/// another way to make one appear).
#[test]
fn entities_that_hold_elements_are_refused() {
    let text = "<!DOCTYPE r [<!ENTITY e \"<x>1</x>\">]><r>&e;</r>";
    assert_eq!(
        open_error(text),
        "conf/x.xml:1:14: malformed XML: the entity \"e\" holds markup; a configuration file's entities hold text"
    );
}

#[test]
#[should_panic(expected = "stale xmlsplice::Element")]
fn handles_from_before_apply_are_stale() {
    let mut doc = Document::parse("<r><a/></r>").unwrap();
    let a = doc.select_one("a").unwrap();
    doc.set_attribute(a, "x", "1").unwrap();
    doc.apply().unwrap();
    let _ = doc.name(a);
}

#[test]
fn setting_a_value_it_already_has_changes_nothing() {
    let text = "<r a='x &amp; y'><t>&#65;B</t><e/></r>";
    let mut doc = Document::parse(text).unwrap();
    let root = doc.root();
    assert!(!doc.set_attribute(root, "a", "x & y").unwrap());
    let t = doc.select_one("t").unwrap();
    assert!(!doc.set_text(t, "AB").unwrap());
    let e = doc.select_one("e").unwrap();
    assert!(!doc.set_text(e, "").unwrap());
    assert!(!doc.remove_attribute(e, "missing").unwrap());
    assert!(!doc.has_edits());
    assert_eq!(doc.render().unwrap(), text.as_bytes());
}
