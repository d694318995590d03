//! The engine's invariants as plain functions, shared by the property tests
//! (`tests/it/properties.rs`), the fuzz targets (`fuzz/fuzz_targets/engine.rs`
//! includes this file by path) and the regression test that replays the
//! fuzz corpus (`tests/it/fuzz_corpus.rs`). Only xmlsplice is used here, so the
//! fuzz crate can compile it without the test support crates.

use xmlsplice::{Document, NewElement, Place};

/// One edit, applied to a chosen element.
#[derive(Clone, Debug)]
pub enum Edit {
    SetAttribute(&'static str, String),
    RemoveAttribute(&'static str),
    SetText(String),
    /// 0 first child, 1 last child, 2 before, 3 after.
    Insert(u8, String),
    Replace(String),
    Remove,
    CommentOut,
    /// Uncomment the n-th (modulo their number) commented-out element inside.
    Uncomment(usize),
}

impl Edit {
    /// Edits that set a value, and so must be idempotent.
    pub fn sets_a_value(&self) -> bool {
        matches!(
            self,
            Edit::SetAttribute(..) | Edit::RemoveAttribute(_) | Edit::SetText(_) | Edit::Replace(_)
        )
    }
}

/// Every element of `doc`, in document order.
pub fn elements(doc: &Document) -> Vec<xmlsplice::Element> {
    doc.select("//*").unwrap()
}

/// Stages `edit` on `target`. Returns what the edit may change: the element
/// itself, or its parent when a whole element comes or goes beside it;
/// `None` when the edit was refused.
pub fn stage(
    doc: &mut Document,
    target: xmlsplice::Element,
    edit: &Edit,
) -> Option<std::ops::Range<usize>> {
    let own = doc.range(target);
    let around = doc.parent(target).map(|p| doc.range(p));
    let new = |v: &str| NewElement::new("added").attribute("v", v).text(v);
    let staged = match edit {
        Edit::SetAttribute(n, v) => doc.set_attribute(target, n, v).map(|_| own.clone()),
        Edit::RemoveAttribute(n) => doc.remove_attribute(target, n).map(|_| own.clone()),
        Edit::SetText(v) => doc.set_text(target, v).map(|_| own.clone()),
        Edit::Insert(p, v) => {
            let (place, region) = match p {
                0 => (Place::FirstChild(target), Some(own.clone())),
                1 => (Place::LastChild(target), Some(own.clone())),
                2 => (Place::Before(target), around.clone()),
                _ => (Place::After(target), around.clone()),
            };
            doc.insert(place, new(v))
                .map(|_| region.unwrap_or(own.clone()))
        }
        Edit::Replace(v) => doc
            .replace(target, new(v))
            .map(|_| around.clone().unwrap_or(own.clone())),
        Edit::Remove => doc
            .remove(target)
            .map(|_| around.clone().unwrap_or(own.clone())),
        Edit::CommentOut => doc
            .comment_out(target)
            .map(|_| around.clone().unwrap_or(own.clone())),
        Edit::Uncomment(i) => {
            let found = doc.select_commented((target, "*")).ok()?;
            if found.is_empty() {
                return None;
            }
            doc.uncomment(&found[i % found.len()]).map(|_| own.clone())
        }
    };
    staged.ok()
}

/// The changed window of `after` relative to `before`, in `before`'s offsets.
pub fn changed_window(before: &str, after: &str) -> std::ops::Range<usize> {
    let prefix = before
        .char_indices()
        .zip(after.chars())
        .find(|((_, a), b)| a != b)
        .map_or(before.len().min(after.len()), |((i, _), _)| i);
    let max_suffix = before.len().min(after.len()) - prefix;
    let suffix = before
        .bytes()
        .rev()
        .zip(after.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    prefix..before.len() - suffix
}

/// Values that stress escaping: markup characters, both quotes, a CDATA
/// end, non-ASCII, whitespace only, nothing.
const VALUES: &[&str] = &[
    "x&y", "<v>", "\"'", "]]>", "é€", "  ", "", "a\r\nb", "plain",
];
const ATTRS: &[&str] = &["name", "enable", "value", "class", "id"];

/// Decodes a fuzz input: three control bytes (element, edit, value), then
/// the document.
pub fn decode(data: &[u8]) -> Option<(usize, Edit, &[u8])> {
    let (&[pick, kind, value], document) = data.split_first_chunk::<3>()?;
    let v = VALUES[value as usize % VALUES.len()].to_string();
    let a = ATTRS[value as usize % ATTRS.len()];
    let edit = match kind % 8 {
        0 => Edit::SetAttribute(a, v),
        1 => Edit::RemoveAttribute(a),
        2 => Edit::SetText(v),
        3 => Edit::Insert(value % 4, v),
        4 => Edit::Replace(v),
        5 => Edit::Remove,
        6 => Edit::CommentOut,
        _ => Edit::Uncomment(value as usize),
    };
    Some((pick as usize, edit, document))
}

/// The fuzz check. For any bytes: no panic. For bytes that parse:
///
/// 1. rendering without edits gives back the same bytes;
/// 2. an edit that is accepted and renders gives text that parses, changed
///    only inside the region the edit is about;
/// 3. a value edit made again on the result stages nothing.
///
/// Panics (with the reason) when an invariant does not hold.
pub fn check_fuzz_input(data: &[u8]) {
    let Some((pick, edit, bytes)) = decode(data) else {
        let _ = Document::parse(data);
        return;
    };
    let Ok(mut doc) = Document::parse(bytes) else {
        return;
    };
    assert_eq!(
        doc.render().expect("an unedited document renders"),
        bytes,
        "round trip"
    );
    let all = elements(&doc);
    let index = pick % all.len();
    let before = doc.text().to_string();
    let Some(region) = stage(&mut doc, all[index], &edit) else {
        return;
    };
    // Refusing to render (the edit would make the file malformed) is allowed;
    // rendering something that does not parse is not.
    let Ok(rendered) = doc.render() else {
        return;
    };
    let reopened = Document::parse(&rendered)
        .unwrap_or_else(|e| panic!("{edit:?} rendered text that does not parse: {e}"));
    let window = changed_window(&before, reopened.text());
    if reopened.text() != before {
        assert!(
            window.start >= region.start && window.end <= region.end,
            "{edit:?} changed {window:?}, outside {region:?}"
        );
    }
    if edit.sets_a_value() {
        let mut again = reopened;
        let Some(&target) = elements(&again).get(index) else {
            return;
        };
        stage(&mut again, target, &edit);
        assert!(
            !again.has_edits(),
            "{edit:?} staged an edit the second time"
        );
    }
}
