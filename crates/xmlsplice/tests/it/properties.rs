//! Invariants over generated documents and random edits (proptest):
//!
//! 1. a document renders back to its own bytes when nothing is edited;
//! 2. an edit changes only bytes inside the element it is about (its parent,
//!    for edits that add or take away a whole element);
//! 3. every rendered result parses, whatever mix of edits made it;
//! 4. setting a value again changes nothing;
//! 5. what the parser is spared (comment bodies, blank text beside
//!    elements) changes nothing a caller can see or do.
//!
//! The generated documents mix what real files have: LF, CRLF and both in one
//! file, tabs, spaces and no-break spaces, both quote characters, comments,
//! commented-out elements of both forms, CDATA, entity and character
//! references, Latin-1 and UTF-8 text, a missing final newline.

use crate::support::invariants::{changed_window, elements, stage, Edit};

use proptest::prelude::*;
use proptest::sample::Index;
use xmlsplice::{Document, TreeCache};

// ---------------------------------------------------------------- generator

#[derive(Clone, Debug)]
enum Item {
    Element(Element),
    Text(String),
    Comment(String),
    Commented { element: Element, wso2_form: bool },
    CData(String),
}

#[derive(Clone, Debug)]
struct Element {
    name: &'static str,
    attributes: Vec<(&'static str, String, bool)>,
    children: Vec<Item>,
    self_closing: bool,
    tag_over_lines: bool,
}

#[derive(Clone, Debug)]
struct Layout {
    latin1: bool,
    declaration: u8,
    eol_mode: u8,
    indent: &'static str,
    final_newline: bool,
    seed: u64,
}

const NAMES: &[&str] = &[
    "parameter",
    "member",
    "hostName",
    "port",
    "a",
    "b",
    "Offset",
];
const ATTRS: &[&str] = &["name", "enable", "value", "class", "id"];

fn value() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9 .:/&<>\"'\u{e9}\u{fc}\u{20AC}]{0,12}").unwrap()
}

fn element() -> impl Strategy<Value = Element> {
    let leaf = (
        prop::sample::select(NAMES),
        prop::collection::vec((prop::sample::select(ATTRS), value(), any::<bool>()), 0..3),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(value()),
    )
        .prop_map(
            |(name, attributes, self_closing, tag_over_lines, text)| Element {
                name,
                attributes: dedup(attributes),
                children: text.map(Item::Text).into_iter().collect(),
                self_closing,
                tag_over_lines,
            },
        );
    leaf.prop_recursive(4, 40, 6, |inner| {
        (
            prop::sample::select(NAMES),
            prop::collection::vec((prop::sample::select(ATTRS), value(), any::<bool>()), 0..3),
            prop::collection::vec(
                prop_oneof![
                    4 => inner.clone().prop_map(Item::Element),
                    1 => value().prop_map(Item::Text),
                    1 => "[a-z ]{0,10}".prop_map(Item::Comment),
                    1 => (inner, any::<bool>()).prop_map(|(element, wso2_form)| Item::Commented { element, wso2_form }),
                    1 => "[a-z<>& ]{0,8}".prop_map(Item::CData),
                ],
                0..5,
            ),
            any::<bool>(),
        )
            .prop_map(|(name, attributes, children, tag_over_lines)| Element {
                name,
                attributes: dedup(attributes),
                children,
                self_closing: false,
                tag_over_lines,
            })
    })
}

fn dedup(mut attributes: Vec<(&'static str, String, bool)>) -> Vec<(&'static str, String, bool)> {
    let mut seen = Vec::new();
    attributes.retain(|(name, _, _)| {
        let fresh = !seen.contains(name);
        seen.push(name);
        fresh
    });
    attributes
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        any::<bool>(),
        0..3u8,
        0..3u8,
        prop::sample::select(&["  ", "    ", "\t", "\u{a0}\u{a0}"][..]),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(latin1, declaration, eol_mode, indent, final_newline, seed)| Layout {
                latin1,
                declaration,
                eol_mode,
                indent,
                final_newline,
                seed,
            },
        )
}

struct Writer<'l> {
    out: String,
    layout: &'l Layout,
    state: u64,
}

impl Writer<'_> {
    fn eol(&mut self) {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let crlf = match self.layout.eol_mode {
            0 => false,
            1 => true,
            _ => (self.state >> 33) % 2 == 0,
        };
        self.out.push_str(if crlf { "\r\n" } else { "\n" });
    }

    fn escaped(&mut self, value: &str, quote: Option<char>) {
        for ch in value.chars() {
            match ch {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&#62;"),
                '"' if quote == Some('"') => self.out.push_str("&quot;"),
                '\'' if quote == Some('\'') => self.out.push_str("&apos;"),
                c if self.layout.latin1 && (c as u32) > 0xFF => {
                    self.out.push_str(&format!("&#x{:X};", c as u32))
                }
                c => self.out.push(c),
            }
        }
    }

    fn element(&mut self, el: &Element, depth: usize) {
        self.out.push('<');
        self.out.push_str(el.name);
        for (i, (name, value, single)) in el.attributes.iter().enumerate() {
            if el.tag_over_lines && i > 0 {
                self.eol();
                // Inside a tag only XML whitespace may separate attributes.
                let indent = self.layout.indent.replace('\u{a0}', " ");
                self.out.push_str(&indent.repeat(depth + 2));
            } else {
                self.out.push(' ');
            }
            let quote = if *single { '\'' } else { '"' };
            self.out.push_str(name);
            self.out.push('=');
            self.out.push(quote);
            self.escaped(value, Some(quote));
            self.out.push(quote);
        }
        if el.self_closing && el.children.is_empty() {
            self.out
                .push_str(if el.tag_over_lines { " />" } else { "/>" });
            return;
        }
        self.out.push('>');
        let nested = el.children.iter().any(|c| !matches!(c, Item::Text(_)));
        for child in &el.children {
            if nested {
                self.eol();
                self.out.push_str(&self.layout.indent.repeat(depth + 1));
            }
            match child {
                Item::Element(e) => self.element(e, depth + 1),
                Item::Text(t) => self.escaped(t, None),
                Item::Comment(c) => self.out.push_str(&format!("<!--{c}-->")),
                Item::CData(c) => self.out.push_str(&format!("<![CDATA[{c}]]>")),
                Item::Commented { element, wso2_form } => {
                    let mut inner = Writer {
                        out: String::new(),
                        layout: self.layout,
                        state: self.state,
                    };
                    inner.element(&strip_comments(element), depth + 1);
                    let markup = inner.out;
                    if *wso2_form && markup.ends_with('>') && !markup.ends_with("/>") {
                        self.out
                            .push_str(&format!("<!--{}-->", &markup[1..markup.len() - 1]));
                    } else {
                        self.out.push_str(&format!("<!--{markup}-->"));
                    }
                }
            }
        }
        if nested {
            self.eol();
            self.out.push_str(&self.layout.indent.repeat(depth));
        }
        self.out.push_str(&format!("</{}>", el.name));
    }
}

/// A comment cannot hold a comment: commented-out elements have none inside.
fn strip_comments(el: &Element) -> Element {
    let mut el = el.clone();
    el.children = el
        .children
        .into_iter()
        .filter_map(|c| match c {
            Item::Comment(_) | Item::Commented { .. } | Item::CData(_) => None,
            Item::Element(e) => Some(Item::Element(strip_comments(&e))),
            // `--` cannot appear in a comment: keep text free of dashes.
            Item::Text(t) => Some(Item::Text(t.replace('-', ""))),
        })
        .collect();
    for (_, value, _) in &mut el.attributes {
        *value = value.replace('-', "");
    }
    el
}

fn document() -> impl Strategy<Value = Vec<u8>> {
    (element(), layout()).prop_map(|(root, layout)| {
        let mut w = Writer {
            out: String::new(),
            layout: &layout,
            state: layout.seed,
        };
        let encoding = if layout.latin1 { "ISO-8859-1" } else { "UTF-8" };
        match layout.declaration {
            0 if !layout.latin1 => {}
            1 => {
                w.out
                    .push_str(&format!("<?xml version=\"1.0\" encoding=\"{encoding}\"?>"));
                w.eol();
            }
            _ => {
                w.out
                    .push_str(&format!("<?xml version='1.0' encoding='{encoding}'?>"));
                w.eol();
            }
        }
        w.out.push_str("<!-- generated -->");
        w.eol();
        let mut root = root;
        root.self_closing = false;
        w.element(&root, 0);
        if layout.final_newline {
            w.eol();
        }
        if layout.latin1 {
            w.out.chars().map(|c| c as u32 as u8).collect()
        } else {
            w.out.into_bytes()
        }
    })
}

// ---------------------------------------------------------------- edits

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (prop::sample::select(ATTRS), value()).prop_map(|(n, v)| Edit::SetAttribute(n, v)),
        prop::sample::select(ATTRS).prop_map(Edit::RemoveAttribute),
        value().prop_map(Edit::SetText),
        (0..4u8, value()).prop_map(|(p, v)| Edit::Insert(p, v)),
        value().prop_map(Edit::Replace),
        Just(Edit::Remove),
        Just(Edit::CommentOut),
        any::<usize>().prop_map(Edit::Uncomment),
    ]
}

/// Edits that set a value, and so must be idempotent.
fn value_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (prop::sample::select(ATTRS), value()).prop_map(|(n, v)| Edit::SetAttribute(n, v)),
        prop::sample::select(ATTRS).prop_map(Edit::RemoveAttribute),
        value().prop_map(Edit::SetText),
        value().prop_map(Edit::Replace),
    ]
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=20000 for a long run.

    #[test]
    fn unedited_documents_render_to_their_own_bytes(bytes in document()) {
        let doc = Document::parse(&bytes).unwrap();
        prop_assert!(doc.is_pristine());
        prop_assert_eq!(doc.render().unwrap(), bytes);
    }

    #[test]
    fn one_edit_changes_only_its_own_element(bytes in document(), pick in any::<Index>(), edit in edit()) {
        let mut doc = Document::parse(&bytes).unwrap();
        let all = elements(&doc);
        let target = all[pick.index(all.len())];
        let before = doc.text().to_string();
        let Some(region) = stage(&mut doc, target, &edit) else { return Ok(()); };
        let rendered = doc.render().unwrap();
        let reopened = Document::parse(&rendered).unwrap();
        if reopened.text() == before {
            return Ok(());
        }
        let window = changed_window(&before, reopened.text());
        prop_assert!(
            window.start >= region.start && window.end <= region.end,
            "{:?} changed {:?}, outside {:?}", edit, window, region
        );
    }

    #[test]
    fn any_mix_of_edits_renders_text_that_parses(bytes in document(), edits in prop::collection::vec((any::<Index>(), edit()), 1..6)) {
        let mut doc = Document::parse(&bytes).unwrap();
        let all = elements(&doc);
        for (pick, edit) in &edits {
            let before = doc.has_edits();
            let staged = stage(&mut doc, all[pick.index(all.len())], edit);
            prop_assert!(staged.is_some() || doc.has_edits() == before);
        }
        let rendered = doc.render().unwrap();
        prop_assert!(Document::parse(&rendered).is_ok());
        // Opened owned and rendered consuming, for large files: the same.
        let mut owned = Document::parse_owned(bytes.clone()).unwrap();
        let targets = elements(&owned);
        for (pick, edit) in &edits {
            stage(&mut owned, targets[pick.index(targets.len())], edit);
        }
        prop_assert_eq!(owned.into_rendered().unwrap(), rendered.clone());
        let staged = doc.has_edits();
        prop_assert_eq!(doc.is_pristine(), !staged);
        // apply() agrees with render().
        doc.apply().unwrap();
        prop_assert_eq!(doc.render().unwrap(), rendered);
        // Applied edits leave it not pristine, even with nothing staged now.
        prop_assert_eq!(doc.is_pristine(), !staged);
    }

    #[test]
    fn setting_a_value_again_changes_nothing(bytes in document(), pick in any::<Index>(), edit in value_edit()) {
        let mut doc = Document::parse(&bytes).unwrap();
        let all = elements(&doc);
        let index = pick.index(all.len());
        if stage(&mut doc, all[index], &edit).is_none() {
            return Ok(());
        }
        let once = doc.render().unwrap();
        let mut again = Document::parse(&once).unwrap();
        let target = elements(&again)[index];
        stage(&mut again, target, &edit);
        prop_assert!(!again.has_edits(), "{:?} staged an edit the second time", edit);
        prop_assert_eq!(again.render().unwrap(), once);
    }

    #[test]
    fn documents_sharing_trees_edit_as_if_parsed_alone(bytes in document(), runs in prop::collection::vec(prop::collection::vec((any::<Index>(), edit()), 1..4), 1..3)) {
        // Each edit list three times over: the texts its apply parses are
        // then kept and shared, the original's from the second run on.
        let cache = TreeCache::new(1 << 20);
        for edits in runs.iter().cycle().take(3 * runs.len()) {
            let mut alone = Document::parse(&bytes).unwrap();
            let mut shared = Document::parse_with(&bytes, &cache).unwrap();
            for doc in [&mut alone, &mut shared] {
                let all = elements(doc);
                for (pick, edit) in edits {
                    stage(doc, all[pick.index(all.len())], edit);
                }
                doc.apply().unwrap();
                // And an edit on the tree that apply parsed (or shared).
                let root = doc.root();
                doc.set_attribute(root, "shared", "no").unwrap();
            }
            // Consuming a document whose tree the cache shares: the same.
            prop_assert_eq!(shared.into_rendered().unwrap(), alone.render().unwrap());
        }
        let (hits, _) = cache.stats();
        prop_assert!(hits >= runs.len() as u64);
    }
}

/// `bytes` with `<!DOCTYPE x>` just before the root element: the engine then
/// parses the text as it is, sparing the parser nothing. Returns the bytes
/// and how far the root element moved.
fn with_doctype(bytes: &[u8]) -> (Vec<u8>, usize) {
    const DOCTYPE: &[u8] = b"<!DOCTYPE x>";
    let doc = Document::parse(bytes).unwrap();
    // Latin-1 texts are ASCII up to the root element: the offset is the byte's.
    let at = doc.range(doc.root()).start;
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(DOCTYPE);
    out.extend_from_slice(&bytes[at..]);
    (out, DOCTYPE.len())
}

proptest! {
    #[test]
    fn what_the_parser_is_spared_changes_nothing_a_caller_sees(bytes in document(), edits in prop::collection::vec((any::<Index>(), edit()), 1..5)) {
        let (whole_bytes, shift) = with_doctype(&bytes);
        let mut spared = Document::parse(&bytes).unwrap();
        let mut whole = Document::parse(&whole_bytes).unwrap();
        let (a, b) = (elements(&spared), elements(&whole));
        prop_assert_eq!(a.len(), b.len());
        for (&x, &y) in a.iter().zip(&b) {
            prop_assert_eq!(spared.name(x), whole.name(y));
            prop_assert_eq!(spared.attributes(x), whole.attributes(y));
            prop_assert_eq!(spared.element_text(x), whole.element_text(y));
            prop_assert_eq!(spared.children(x).len(), whole.children(y).len());
            let (r, s) = (spared.range(x), whole.range(y));
            prop_assert_eq!((r.start + shift, r.end + shift), (s.start, s.end));
        }
        prop_assert_eq!(
            spared.select_commented("//*").unwrap().len(),
            whole.select_commented("//*").unwrap().len()
        );
        for (pick, edit) in &edits {
            let i = pick.index(a.len());
            let x = stage(&mut spared, a[i], edit);
            let y = stage(&mut whole, b[i], edit);
            prop_assert_eq!(x.map(|r| (r.start + shift, r.end + shift)), y.map(|r| (r.start, r.end)));
        }
        let (x, y) = (spared.render().unwrap(), whole.render().unwrap());
        prop_assert_eq!(with_doctype(&x).0, y);
    }
}

#[test]
fn every_fixture_survives_random_edits_in_bulk() {
    // The same invariants on the hand-written fixtures: every element gets
    // every kind of edit, one at a time.
    let edits = [
        Edit::SetAttribute("name", "x&y".into()),
        Edit::RemoveAttribute("name"),
        Edit::SetText("v<1>".into()),
        Edit::Insert(0, "n".into()),
        Edit::Insert(1, "n".into()),
        Edit::Insert(2, "n".into()),
        Edit::Insert(3, "n".into()),
        Edit::Replace("r".into()),
        Edit::Remove,
        Edit::CommentOut,
    ];
    for name in crate::support::fixture_names() {
        let bytes = crate::support::fixture(&name);
        let count = elements(&Document::parse(&bytes).unwrap()).len();
        for index in 0..count {
            for edit in &edits {
                let mut doc = Document::parse(&bytes).unwrap();
                let target = elements(&doc)[index];
                let before = doc.text().to_string();
                let Some(region) = stage(&mut doc, target, edit) else {
                    continue;
                };
                let rendered = doc
                    .render()
                    .unwrap_or_else(|e| panic!("{name} #{index} {edit:?}: {e}"));
                let reopened = Document::parse(&rendered).unwrap();
                if reopened.text() == before {
                    continue;
                }
                let window = changed_window(&before, reopened.text());
                assert!(
                    window.start >= region.start && window.end <= region.end,
                    "{name} #{index} {edit:?}: changed {window:?} outside {region:?}"
                );
            }
        }
    }
}
