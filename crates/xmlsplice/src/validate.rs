//! Proving edited text well-formed before it is handed out.
//!
//! Every staged edit names the element that encloses all the bytes it
//! changes. Outside the lowest common ancestor of those elements, the edited
//! text is the text that already parsed when the document was opened. So it is
//! enough to re-parse that ancestor's new text, behind the document's own
//! prolog (for DTD entities) and inside a wrapper that declares the
//! namespaces in scope. When the ancestor is the root element or the document
//! node, the whole text is parsed. On a 10 MB file with a handful of edits,
//! that is the difference between parsing twice and parsing once.

use std::ops::Range;

use roxmltree::{Node, NodeId};

use crate::document::{parsing_options, Document};
use crate::error::{strip_position, Error, ErrorKind, TextPos};
use crate::fragment::{scope_end_tag, scope_start_tag};
use crate::splice::{growth_within, Splice};

/// Checks that `edited` (the document's text with its staged edits applied)
/// is well-formed.
pub(crate) fn check(doc: &Document, edited: &str) -> Result<(), Error> {
    Scope::of(doc).check(doc.text(), &doc.edits, edited)
}

/// What must be re-parsed to prove an edited text well-formed, taken from
/// the tree (so that [`Document::into_rendered`] can drop the tree before it
/// builds the edited text).
pub(crate) enum Scope {
    /// The whole edited text.
    Whole,
    /// The new text of the element at `range`, behind the prolog (the text
    /// before `root_start`) and inside `head`, which declares the namespaces
    /// in scope.
    Element {
        range: Range<usize>,
        root_start: usize,
        head: String,
    },
}

impl Scope {
    /// The scope of `doc`'s staged edits: their lowest common ancestor.
    pub(crate) fn of(doc: &Document) -> Scope {
        let tree = doc.rox();
        let owners: Vec<NodeId> = doc.edits.iter().map(|s| s.owner).collect();
        let scope = common_ancestor(tree, &owners);
        match scope.filter(|n| n.is_element() && n.parent().is_some_and(|p| p.is_element())) {
            Some(element) => Scope::Element {
                range: doc.range_of(element),
                root_start: doc.range_of(tree.root_element()).start,
                head: scope_start_tag(element.parent().expect("checked: the parent is an element")),
            },
            None => Scope::Whole,
        }
    }

    /// How many bytes of the original text the check stands for: the
    /// element's, or the whole `text_len`.
    pub(crate) fn len(&self, text_len: usize) -> usize {
        match self {
            Scope::Whole => text_len,
            Scope::Element { range, .. } => range.len(),
        }
    }

    /// Checks `edited`, which is `text` with `edits` applied.
    pub(crate) fn check(&self, text: &str, edits: &[Splice], edited: &str) -> Result<(), Error> {
        let Scope::Element {
            range,
            root_start,
            head,
        } = self
        else {
            return roxmltree::Document::parse_with_options(edited, parsing_options())
                .map(drop)
                .map_err(|e| broke(edited, &e, 0, edited, 0));
        };
        let new_end = (range.end as isize + growth_within(range, edits)) as usize;
        let new_element = &edited[range.start..new_end];
        let prolog = &text[..*root_start];
        let wrapped = format!("{prolog}{head}{new_element}{}", scope_end_tag());
        match roxmltree::Document::parse_with_options(&wrapped, parsing_options()) {
            Ok(_) => Ok(()),
            Err(e) => Err(broke(
                &wrapped,
                &e,
                prolog.len() + head.len(),
                edited,
                range.start,
            )),
        }
    }
}

/// The error for an edited text that does not parse, positioned in the
/// edited text: in `parsed`, `shift` bytes (prolog and wrapper) stood before
/// what begins at `edited_start` of `edited`.
fn broke(
    parsed: &str,
    err: &roxmltree::Error,
    shift: usize,
    edited: &str,
    edited_start: usize,
) -> Error {
    let in_parsed = crate::error::offset_of(err, parsed);
    let offset = (edited_start + in_parsed.saturating_sub(shift)).min(edited.len());
    Error::at(
        ErrorKind::EditBrokeDocument(strip_position(&err.to_string())),
        TextPos::of_offset(edited, offset),
    )
}

/// The lowest node that is an ancestor-or-self of every node in `ids`.
fn common_ancestor<'a, 'input>(
    tree: &'a roxmltree::Document<'input>,
    ids: &[NodeId],
) -> Option<Node<'a, 'input>> {
    let mut nodes = ids.iter().filter_map(|&id| tree.get_node(id));
    let first = nodes.next()?;
    // roxmltree numbers nodes in document order, ancestors first, each
    // subtree right after its node: the lowest node whose subtree holds the
    // first and the last of them holds every one between (walking up from
    // each node instead took the square of the depth for each).
    let (mut low, mut high) = (first, first);
    for node in nodes {
        if node.id().get_usize() < low.id().get_usize() {
            low = node;
        }
        if node.id().get_usize() > high.id().get_usize() {
            high = node;
        }
    }
    let subtree_end = |n: &Node| n.id().get_usize() + n.descendants().len();
    low.ancestors()
        .find(|a| subtree_end(a) > high.id().get_usize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_ancestor_is_the_lowest_shared_node() {
        let doc = roxmltree::Document::parse("<r><a><b/><c><d/></c></a><e/></r>").unwrap();
        let find = |name: &str| {
            doc.descendants()
                .find(|n| n.has_tag_name(name))
                .unwrap()
                .id()
        };
        let name = |ids: &[NodeId]| {
            common_ancestor(&doc, ids)
                .map(|n| n.tag_name().name().to_string())
                .unwrap()
        };
        assert_eq!(name(&[find("b")]), "b");
        assert_eq!(name(&[find("b"), find("d")]), "a");
        assert_eq!(name(&[find("d"), find("c")]), "c");
        assert_eq!(name(&[find("d"), find("e")]), "r");
        assert!(common_ancestor(&doc, &[]).is_none());
    }

    proptest::proptest! {
        /// The lowest node above every one of a set is the deepest of the
        /// ancestors they all share.
        #[test]
        fn common_ancestor_is_the_deepest_shared_ancestor(
            picks in proptest::collection::vec(0..40usize, 1..6),
        ) {
            let text = "<r><a><b/><c><d/><e><f/></e></c></a><g><h><i/></h><j/></g><k/></r>";
            let doc = roxmltree::Document::parse(text).unwrap();
            let all: Vec<Node> = doc.descendants().collect();
            let nodes: Vec<Node> = picks.iter().map(|&i| all[i % all.len()]).collect();
            let shared = nodes[0]
                .ancestors()
                .find(|a| nodes.iter().all(|n| n.ancestors().any(|b| b == *a)));
            let ids: Vec<NodeId> = nodes.iter().map(|n| n.id()).collect();
            proptest::prop_assert_eq!(common_ancestor(&doc, &ids), shared);
        }
    }

    #[test]
    fn check_len_is_what_the_render_check_parses() {
        let text = "<r><a><b>1</b><c>2</c></a><e/></r>";
        let mut doc = Document::parse(text).unwrap();
        assert_eq!(doc.check_len(), 0);
        let b = doc.select_one("a/b").unwrap();
        doc.set_text(b, "3").unwrap();
        assert_eq!(doc.check_len(), "<b>1</b>".len());
        let c = doc.select_one("a/c").unwrap();
        doc.set_text(c, "4").unwrap();
        assert_eq!(doc.check_len(), "<a><b>1</b><c>2</c></a>".len());
        let e = doc.select_one("e").unwrap();
        doc.set_attribute(e, "x", "y").unwrap();
        assert_eq!(doc.check_len(), text.len());
    }
}
