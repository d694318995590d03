//! Staged edits: a byte range of the original text and what replaces it.
//!
//! Splices are kept in the order they were staged and checked against each
//! other when staged, so that two edits of the same bytes are an error at the
//! call that caused it, never a silent merge. Insertions (empty ranges) at
//! the same offset are allowed and keep their staging order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;

use roxmltree::NodeId;

use crate::error::{Error, ErrorKind, TextPos};

/// One staged edit.
#[derive(Clone, Debug)]
pub(crate) struct Splice {
    /// The bytes of the current text that are replaced (empty: an insertion).
    pub range: Range<usize>,
    /// What replaces them.
    pub text: String,
    /// The node whose text must be re-parsed to check this edit: the element
    /// that encloses every changed byte (the document node for top-level edits).
    pub owner: NodeId,
    /// What the edit does, for error messages.
    pub what: &'static str,
    /// Edits of one thing that is not a byte range yet conflict: two new
    /// attributes of the same name on one element are both insertions at
    /// the same offset, which ranges alone would allow.
    pub key: Option<(NodeId, String)>,
}

impl Splice {
    fn conflicts_with(&self, other: &Splice) -> bool {
        if self.key.is_some() && self.key == other.key {
            return true;
        }
        let (a, b) = (&self.range, &other.range);
        match (a.is_empty(), b.is_empty()) {
            (true, true) => false,
            (true, false) => b.start < a.start && a.start < b.end,
            (false, true) => a.start < b.start && b.start < a.end,
            (false, false) => a.start < b.end && b.start < a.end,
        }
    }
}

/// The staged splices, in staging order, with what tells whether a new one
/// conflicts without comparing it with each: staging each of many thousand
/// edits (a `[[raw]]` path that matches every element) against all the
/// others took the square of their number.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    splices: Vec<Splice>,
    /// The ranges replaced (not empty), end by start: they never overlap.
    replaced: BTreeMap<usize, usize>,
    /// Where insertions are.
    inserted: BTreeSet<usize>,
    /// The keys staged, by the node each is about.
    keys: HashMap<NodeId, HashSet<String>>,
    /// The kinds of the splices staged: asked before each operation of a
    /// session, which may have staged thousands.
    kinds: BTreeSet<&'static str>,
}

impl std::ops::Deref for Staged {
    type Target = [Splice];

    fn deref(&self) -> &[Splice] {
        &self.splices
    }
}

impl Staged {
    /// Adds `splice`, unless it touches bytes a staged edit touches, or has
    /// the key of one.
    pub(crate) fn stage(&mut self, splice: Splice, text: &str) -> Result<(), Error> {
        if self.conflicts(&splice) {
            let other = self
                .splices
                .iter()
                .find(|s| s.conflicts_with(&splice))
                .expect("a conflict is with a staged splice");
            return Err(Error::at(
                ErrorKind::OverlappingEdits {
                    first: other.what,
                    second: splice.what,
                    second_at: TextPos::of_offset(text, splice.range.start),
                },
                TextPos::of_offset(text, other.range.start),
            ));
        }
        let range = splice.range.clone();
        if range.is_empty() {
            self.inserted.insert(range.start);
        } else {
            self.replaced.insert(range.start, range.end);
        }
        if let Some((node, key)) = &splice.key {
            self.keys.entry(*node).or_default().insert(key.clone());
        }
        self.kinds.insert(splice.what);
        self.splices.push(splice);
        Ok(())
    }

    /// Whether `splice` conflicts with a staged one
    /// ([`Splice::conflicts_with`]): of the replaced ranges, only the last to
    /// start before its end can overlap it (they do not overlap one another).
    fn conflicts(&self, splice: &Splice) -> bool {
        if let Some((node, key)) = &splice.key {
            if self.keys.get(node).is_some_and(|keys| keys.contains(key)) {
                return true;
            }
        }
        let Range { start, end } = splice.range;
        // A replaced range that starts before `at` and ends past `start`.
        let replaced_across = |at: usize| {
            let last_before = self.replaced.range(..at).next_back();
            last_before.is_some_and(|(_, &replaced_end)| replaced_end > start)
        };
        if start == end {
            return replaced_across(start);
        }
        replaced_across(end) || self.inserted.range(start + 1..end).next().is_some()
    }

    /// The keys of the splices staged about `node`, in no order.
    pub(crate) fn keys_of(&self, node: NodeId) -> impl Iterator<Item = &str> {
        self.keys
            .get(&node)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The kinds of the staged splices, each once.
    pub(crate) fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.iter().copied()
    }

    /// Drops every staged splice.
    #[cfg(test)]
    pub(crate) fn clear(&mut self) {
        *self = Staged::default();
    }
}

/// The text with every splice applied.
pub(crate) fn apply(text: &str, splices: &[Splice]) -> String {
    let mut order: Vec<&Splice> = splices.iter().collect();
    // Insertions at an offset go before a replacement starting there; equal
    // keys keep staging order (the sort is stable).
    order.sort_by_key(|s| (s.range.start, !s.range.is_empty()));
    let growth: isize = splices
        .iter()
        .map(|s| s.text.len() as isize - s.range.len() as isize)
        .sum();
    let mut out = String::with_capacity((text.len() as isize + growth.max(0)) as usize);
    let mut cursor = 0;
    for splice in order {
        out.push_str(&text[cursor..splice.range.start]);
        out.push_str(&splice.text);
        cursor = splice.range.end;
    }
    out.push_str(&text[cursor..]);
    out
}

/// How far the end of `range` moves once `splices` (all inside or after it)
/// are applied: the net growth of the splices that fall within it.
pub(crate) fn growth_within(range: &Range<usize>, splices: &[Splice]) -> isize {
    splices
        .iter()
        .filter(|s| s.range.start >= range.start && s.range.end <= range.end)
        .map(|s| s.text.len() as isize - s.range.len() as isize)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splice(range: Range<usize>, text: &str) -> Splice {
        let doc = roxmltree::Document::parse("<a/>").unwrap();
        Splice {
            range,
            text: text.into(),
            owner: doc.root().id(),
            what: "test edit",
            key: None,
        }
    }

    #[test]
    fn splices_apply_in_offset_order() {
        let text = "0123456789";
        let splices = [splice(6..8, "x"), splice(1..2, "ab"), splice(4..4, "+")];
        assert_eq!(apply(text, &splices), "0ab23+45x89");
    }

    #[test]
    fn insertions_at_one_offset_keep_their_order_and_precede_a_replacement() {
        let text = "abc";
        let splices = [splice(1..2, "B"), splice(1..1, "1"), splice(1..1, "2")];
        assert_eq!(apply(text, &splices), "a12Bc");
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let text = "0123456789";
        let mut staged = Staged::default();
        staged.stage(splice(2..5, "x"), text).unwrap();
        assert!(staged.stage(splice(4..6, "y"), text).is_err());
        assert!(staged.stage(splice(3..3, "y"), text).is_err());
        assert!(staged.stage(splice(2..5, "y"), text).is_err());
        // Touching at the boundaries is fine.
        staged.stage(splice(5..6, "y"), text).unwrap();
        staged.stage(splice(2..2, "y"), text).unwrap();
        staged.stage(splice(5..5, "z"), text).unwrap();
        assert_eq!(staged.len(), 4);
    }

    proptest::proptest! {
        /// Staging refuses exactly the splices a comparison with each staged
        /// one refuses, and names the first it conflicts with.
        #[test]
        fn staging_refuses_what_a_comparison_with_each_refuses(
            splices in proptest::collection::vec(
                (0..24usize, 0..4usize, proptest::option::of(0..3u8)),
                1..60,
            ),
        ) {
            let text = "x".repeat(32);
            let mut staged = Staged::default();
            let mut each: Vec<Splice> = Vec::new();
            for (start, len, key) in splices {
                let mut new = splice(start..start + len, "y");
                new.key = key.map(|k| (new.owner, k.to_string()));
                let first = each.iter().find(|s| s.conflicts_with(&new)).map(|s| s.range.start);
                match staged.stage(new.clone(), &text) {
                    Ok(()) => {
                        proptest::prop_assert!(first.is_none());
                        each.push(new);
                    }
                    Err(err) => {
                        let at = first.map(|start| TextPos::of_offset(&text, start));
                        proptest::prop_assert_eq!(err.position(), at);
                    }
                }
            }
            proptest::prop_assert_eq!(staged.len(), each.len());
        }
    }
}
