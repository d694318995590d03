//! Parsed trees shared between documents opened from the same text.
//!
//! Parsing is most of the engine's work, and a fleet parses the same text
//! over and over: homes are unpacked from one archive, so every node opens
//! the same shipped files, and the edits that do not depend on the node (a
//! shared database, a registry mount) turn them into the same text again on
//! every node. A tree is never changed once parsed (edits are splices on the
//! text, applied by parsing anew), so documents can share one safely, on any
//! thread.
//!
//! A tree is kept the second time its text is parsed: a text parsed once
//! (a node's own port, its own datasource) is likely never parsed again,
//! and keeping it would only grow memory; the cache remembers just its hash.
//!
//! The key is the whole text, compared byte for byte when the texts' XXH3
//! hashes agree: no collision can make two different files share a tree, and
//! the nodes' own texts (the same length, different bytes) cost a hash each,
//! not a comparison with every kept text. The cache holds at most `budget` bytes of
//! text (its trees take a few times that), dropping the least recently used
//! tree first, so a fleet of nodes whose files all differ costs a bounded
//! amount of memory and a few comparisons per parse.
//!
//! It also keeps the fragments inserted so far, checked (each one is parsed
//! on its own before it is spliced in, see `fragment.rs`): a fleet inserts
//! the same datasources and members on every node.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::document::{parse_tree, Tree};
use crate::error::Error;
use crate::fragment::FragmentKey;

/// Trees shared by the documents parsed through it. Cloning gives another
/// handle on the same cache.
///
/// # Examples
/// ```
/// use xmlsplice::{Document, TreeCache};
///
/// let cache = TreeCache::new(1 << 20);
/// let shipped = "<Server><Ports><Offset>0</Offset></Ports></Server>";
/// for node in 1..=3 {
///     // Parsed for the first and second node (then kept); the third reuses it.
///     let mut doc = Document::parse_with(shipped, &cache)?;
///     let offset = doc.select_one("Ports/Offset")?;
///     doc.set_text(offset, &node.to_string())?;
///     assert!(String::from_utf8(doc.render()?).unwrap().contains(&format!(">{node}<")));
/// }
/// assert_eq!(cache.stats(), (1, 2));
/// # Ok::<(), xmlsplice::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TreeCache {
    shared: Arc<Mutex<Entries>>,
    budget: usize,
}

#[derive(Debug, Default)]
struct Entries {
    /// Each tree with its text's hash, least recently used first.
    trees: Vec<(u64, Arc<Tree>)>,
    /// The text bytes of `trees`.
    bytes: usize,
    /// The hashes of the texts parsed once and not kept (yet).
    seen_once: HashSet<u64>,
    /// Fragments checked and encoded, by what the answer depends on
    /// ([`fragment_key`]); `fragment_bytes` counts both.
    fragments: HashMap<String, String>,
    fragment_bytes: usize,
    hits: u64,
    misses: u64,
}

impl TreeCache {
    /// A cache keeping trees of at most `budget` bytes of text in all. A
    /// text is kept once it has been parsed twice; a text longer than
    /// `budget` is never kept.
    pub fn new(budget: usize) -> TreeCache {
        TreeCache {
            shared: Arc::default(),
            budget,
        }
    }

    /// How many parses were answered from the cache, and how many parsed.
    pub fn stats(&self) -> (u64, u64) {
        let entries = self.lock();
        (entries.hits, entries.misses)
    }

    /// The tree of `text`: a kept one when the same text was parsed before,
    /// else a new parse, kept for next time.
    pub(crate) fn parse(&self, text: String) -> Result<Arc<Tree>, Error> {
        let hash = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
        if let Some(tree) = self.take_hit(hash, &text) {
            return Ok(tree);
        }
        // Parsed outside the lock: the other threads go on meanwhile. Two
        // threads may parse the same text at once; the second keeps its own
        // only if the first has not kept one by then.
        let tree = Arc::new(parse_tree(text)?);
        self.keep(hash, &tree);
        Ok(tree)
    }

    /// The checked markup of a fragment: kept from an earlier `prepare` of
    /// the same key, else prepared now (and kept, unless it is an error).
    pub(crate) fn prepared(
        &self,
        key: &FragmentKey,
        prepare: impl FnOnce() -> Result<String, Error>,
    ) -> Result<String, Error> {
        let key = fragment_key(key);
        if let Some(markup) = self.lock().fragments.get(&key) {
            return Ok(markup.clone());
        }
        let markup = prepare()?;
        let mut entries = self.lock();
        if entries.fragment_bytes + key.len() + markup.len() > MAX_FRAGMENT_BYTES {
            entries.fragments.clear();
            entries.fragment_bytes = 0;
        }
        entries.fragment_bytes += key.len() + markup.len();
        entries.fragments.insert(key, markup.clone());
        Ok(markup)
    }

    #[cfg(test)]
    pub(crate) fn fragments_kept(&self) -> usize {
        self.lock().fragments.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while the lock was held leaves the entries consistent
        // (each change is one push or one remove), so the poison is moot.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_hit(&self, hash: u64, text: &str) -> Option<Arc<Tree>> {
        let mut entries = self.lock();
        let found = entries.trees.iter().rposition(|e| is(e, hash, text));
        match found {
            Some(index) => {
                entries.hits += 1;
                let entry = entries.trees.remove(index);
                let tree = Arc::clone(&entry.1);
                entries.trees.push(entry);
                Some(tree)
            }
            None => {
                entries.misses += 1;
                None
            }
        }
    }

    fn keep(&self, hash: u64, tree: &Arc<Tree>) {
        let text = tree.borrow_owner().original();
        if text.len() > self.budget {
            return;
        }
        let mut entries = self.lock();
        if entries.seen_once.len() >= MAX_SEEN_ONCE {
            entries.seen_once.clear();
        }
        if entries.seen_once.insert(hash) || entries.trees.iter().any(|e| is(e, hash, text)) {
            return;
        }
        entries.seen_once.remove(&hash);
        while entries.bytes + text.len() > self.budget {
            let (_, oldest) = entries.trees.remove(0);
            entries.bytes -= oldest.borrow_owner().original().len();
        }
        entries.bytes += text.len();
        entries.trees.push((hash, Arc::clone(tree)));
    }
}

/// How many texts parsed once the cache remembers (8 bytes each); past
/// that it forgets them all and starts again.
const MAX_SEEN_ONCE: usize = 1 << 16;

/// How many bytes of fragments (keys and checked markup) the cache keeps;
/// past that it forgets them all and starts again.
const MAX_FRAGMENT_BYTES: usize = 1 << 20;

/// One string for a fragment's key: the encoding and the wrapper's start tag
/// hold no NUL, so the parts cannot run into each other whatever the markup.
fn fragment_key(key: &FragmentKey) -> String {
    format!("{:?}\0{}\0{}", key.encoding, key.scope, key.markup)
}

/// Whether `entry` is the tree of `text` (whose hash is `hash`).
fn is(entry: &(u64, Arc<Tree>), hash: u64, text: &str) -> bool {
    entry.0 == hash && entry.1.borrow_owner().original() == text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn shared(a: &Document, b: &Document) -> bool {
        Arc::ptr_eq(&a.tree, &b.tree)
    }

    fn parse(text: &str, cache: &TreeCache) -> Document {
        Document::parse_with(text, cache).unwrap()
    }

    #[test]
    fn a_text_parsed_twice_is_kept_and_shared_from_then_on() {
        let cache = TreeCache::new(1 << 20);
        let first = parse("<a><b/></a>", &cache);
        let second = parse("<a><b/></a>", &cache);
        let third = parse("<a><b/></a>", &cache);
        let other = parse("<a><c/></a>", &cache);
        assert!(!shared(&first, &second), "a text seen once is not kept");
        assert!(shared(&second, &third));
        assert!(!shared(&third, &other));
        assert_eq!(cache.stats(), (1, 3));
        assert_eq!(
            cache.lock().trees.len(),
            1,
            "the text seen once is not kept"
        );
    }

    #[test]
    fn apply_parses_through_the_cache() {
        let cache = TreeCache::new(1 << 20);
        let mut docs: Vec<Document> = (0..3)
            .map(|_| {
                let mut doc = parse("<a><!--<b/>--></a>", &cache);
                let b = doc.select_commented("b").unwrap()[0].clone();
                doc.uncomment(&b).unwrap();
                doc.apply().unwrap();
                doc
            })
            .collect();
        assert!(shared(&docs[1], &docs[2]));
        assert_eq!(docs[2].text(), "<a><b/></a>");
        // Each document still edits its own text.
        let b = docs[2].select_one("b").unwrap();
        docs[2].set_attribute(b, "n", "1").unwrap();
        assert_eq!(docs[1].render().unwrap(), b"<a><b/></a>");
        assert_eq!(docs[2].render().unwrap(), b"<a><b n=\"1\"/></a>");
        assert_eq!(cache.stats(), (2, 4));
    }

    #[test]
    fn the_least_recently_used_tree_goes_first_and_the_budget_holds() {
        let texts = ["<a>1</a>", "<a>2</a>", "<a>3</a>"];
        // Room for two texts of 8 bytes.
        let cache = TreeCache::new(16);
        for text in texts[..2].iter().chain(&texts[..2]) {
            parse(text, &cache);
        }
        // Using the first makes the second the oldest, which the third evicts.
        parse(texts[0], &cache);
        parse(texts[2], &cache);
        parse(texts[2], &cache);
        assert_eq!(cache.stats(), (1, 6));
        parse(texts[0], &cache);
        parse(texts[2], &cache);
        assert_eq!(cache.stats(), (3, 6));
        parse(texts[1], &cache);
        assert_eq!(cache.stats(), (3, 7));
        let entries = cache.lock();
        assert_eq!(entries.bytes, 16);
        assert_eq!(entries.trees.len(), 2);
    }

    #[test]
    fn a_text_over_the_budget_is_parsed_but_not_kept() {
        let cache = TreeCache::new(4);
        for text in ["<a/>", "<a/>", "<a/>", "<ab/>", "<ab/>", "<ab/>"] {
            parse(text, &cache);
        }
        assert_eq!(cache.stats(), (1, 5));
    }

    #[test]
    fn a_text_that_does_not_parse_is_an_error_every_time() {
        let cache = TreeCache::new(1 << 20);
        for _ in 0..3 {
            let err = Document::parse_with("<a><b></a>", &cache).unwrap_err();
            assert_eq!(err.position().map(|p| (p.line, p.column)), Some((1, 7)));
        }
        assert_eq!(cache.stats(), (0, 3));
    }
}
