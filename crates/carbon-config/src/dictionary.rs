//! Which of many words occur in a text, in time linear in the words and the
//! text: an Aho-Corasick automaton.
//!
//! Validation asks which datasource names the other configuration files
//! mention, and a plan's errors which recipe entries they quote. The home's
//! owner chooses the names (thousands of datasources) and the texts, and a
//! captured recipe has an entry for each, so a search for each word would
//! cost their numbers times the text. The `aho-corasick` crate is not used:
//! its build takes time quadratic in the number of words for sets as plain as
//! `c0`, `c1`, ... (64,000 took seconds), and it reports every occurrence of
//! every word, where [`Dictionary::mark_found`] marks each word once.
//!
//! It steps through the text a byte at a time: for a few words, memchr's
//! vectorised search for each is faster.

/// No state, or no word.
const NONE: u32 = u32::MAX;

/// The words, as a trie with failure links. State 0 is the root (the empty
/// prefix); a state's edges are `edge_start[s]..edge_start[s + 1]` of
/// `edge_byte`/`edge_to`, sorted by byte.
#[derive(Debug)]
pub struct Dictionary {
    edge_start: Vec<u32>,
    edge_byte: Vec<u8>,
    edge_to: Vec<u32>,
    /// The longest proper suffix of the state's prefix that is a state.
    fail: Vec<u32>,
    /// The longest proper suffix of the state's prefix that is a word, as
    /// its state, or `NONE`.
    shorter: Vec<u32>,
    /// The word a state's prefix is (the last given, for a word given
    /// twice), or `NONE`.
    word_at: Vec<u32>,
    /// Each word's state.
    state_of: Vec<u32>,
    /// How many distinct words there are.
    distinct: usize,
}

impl Dictionary {
    /// The dictionary of `words`, each known by its place in the list.
    ///
    /// # Panics
    /// When the words have `u32::MAX` distinct prefixes or more, or there
    /// are that many words (what a file holds is within the file-size
    /// limit, far below).
    pub fn new<W: AsRef<[u8]>>(words: &[W]) -> Dictionary {
        // Sorted, the words share each prefix with the one before: the trie
        // is built in one pass, each state's edges made in byte order.
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.sort_by(|&a, &b| words[a].as_ref().cmp(words[b].as_ref()));
        let mut parent_of = vec![NONE];
        let mut byte_of = vec![0u8];
        let mut word_at = vec![NONE];
        let mut state_of = vec![0u32; words.len()];
        let mut path: Vec<u32> = vec![0];
        let mut previous: &[u8] = &[];
        for &index in &order {
            let word = words[index].as_ref();
            let shared = word
                .iter()
                .zip(previous)
                .take_while(|(a, b)| a == b)
                .count();
            path.truncate(shared + 1);
            for &byte in &word[shared..] {
                let state = u32::try_from(parent_of.len())
                    .ok()
                    .filter(|&s| s != NONE)
                    .expect("fewer states than u32::MAX");
                parent_of.push(path[path.len() - 1]);
                byte_of.push(byte);
                word_at.push(NONE);
                path.push(state);
            }
            let end = path[word.len()];
            word_at[end as usize] = u32::try_from(index)
                .ok()
                .filter(|&i| i != NONE)
                .expect("fewer words than u32::MAX");
            state_of[index] = end;
            previous = word;
        }
        let states = parent_of.len();
        // Edges by parent: created in byte order for each parent, so a
        // stable bucketing keeps them sorted.
        let mut edge_start = vec![0u32; states + 1];
        for &parent in &parent_of[1..] {
            edge_start[parent as usize + 1] += 1;
        }
        for s in 0..states {
            edge_start[s + 1] += edge_start[s];
        }
        let mut next = edge_start.clone();
        let mut edge_byte = vec![0u8; states - 1];
        let mut edge_to = vec![0u32; states - 1];
        for child in 1..states {
            let slot = &mut next[parent_of[child] as usize];
            edge_byte[*slot as usize] = byte_of[child];
            edge_to[*slot as usize] = child as u32;
            *slot += 1;
        }
        let distinct = word_at.iter().filter(|&&w| w != NONE).count();
        let mut dictionary = Dictionary {
            edge_start,
            edge_byte,
            edge_to,
            fail: vec![0; states],
            shorter: vec![NONE; states],
            word_at,
            state_of,
            distinct,
        };
        dictionary.link(&parent_of, &byte_of);
        dictionary
    }

    /// Sets the failure links and the shorter words, breadth first: a
    /// state's links are made from its parent's, which are shorter.
    fn link(&mut self, parent_of: &[u32], byte_of: &[u8]) {
        let mut queue = std::collections::VecDeque::from([0u32]);
        while let Some(state) = queue.pop_front() {
            let s = state as usize;
            let (start, end) = (self.edge_start[s], self.edge_start[s + 1]);
            queue.extend(&self.edge_to[start as usize..end as usize]);
            if state == 0 {
                continue;
            }
            // The root's children fail to the root.
            let parent = parent_of[s];
            let fail = if parent == 0 {
                0
            } else {
                self.step(self.fail[parent as usize], byte_of[s])
            };
            self.fail[s] = fail;
            self.shorter[s] = if self.word_at[fail as usize] != NONE {
                fail
            } else {
                self.shorter[fail as usize]
            };
        }
    }

    /// The child of `state` by `byte`.
    fn child(&self, state: u32, byte: u8) -> Option<u32> {
        let s = state as usize;
        let range = self.edge_start[s] as usize..self.edge_start[s + 1] as usize;
        let at = self.edge_byte[range.clone()].binary_search(&byte).ok()?;
        Some(self.edge_to[range.start + at])
    }

    /// The state after `byte` read in `state`: the longest suffix of the
    /// text read that is a prefix of a word.
    fn step(&self, mut state: u32, byte: u8) -> u32 {
        loop {
            if let Some(next) = self.child(state, byte) {
                return next;
            }
            if state == 0 {
                return 0;
            }
            state = self.fail[state as usize];
        }
    }

    /// The longest word the prefix of `state` ends with, as its state.
    fn longest_ending(&self, state: u32) -> Option<u32> {
        if self.word_at[state as usize] != NONE {
            Some(state)
        } else {
            Some(self.shorter[state as usize]).filter(|&s| s != NONE)
        }
    }

    /// Marks in `found` (one flag per state, from [`Dictionary::no_state_found`])
    /// every word that occurs in `text`. Each word is marked once: a word
    /// found stops the walk to the shorter words it ends with, which were
    /// marked with it.
    pub fn mark_found(&self, text: &[u8], found: &mut Found) {
        let mut state = 0;
        // The empty word occurs in every text.
        found.mark(self, 0);
        for &byte in text {
            state = self.step(state, byte);
            if let Some(longest) = self.longest_ending(state) {
                found.mark(self, longest);
            }
        }
    }

    /// No word found yet, for [`Dictionary::mark_found`].
    pub fn no_state_found(&self) -> Found {
        Found {
            states: vec![false; self.fail.len()],
            words: 0,
        }
    }

    /// Each word that occurs in `text`, with where it ends (one past its
    /// last byte), the longest ending at each place only: the others ending
    /// there are its suffixes. A word given twice is reported as its last
    /// place; the empty word is not reported.
    pub fn longest_at_each_end<'s>(
        &'s self,
        text: &'s [u8],
    ) -> impl Iterator<Item = (usize, usize)> + 's {
        let mut state = 0;
        text.iter().enumerate().filter_map(move |(at, &byte)| {
            state = self.step(state, byte);
            let longest = self.longest_ending(state).filter(|&s| s != 0)?;
            Some((self.word_at[longest as usize] as usize, at + 1))
        })
    }
}

/// The words [`Dictionary::mark_found`] found so far.
#[derive(Debug)]
pub struct Found {
    states: Vec<bool>,
    words: usize,
}

impl Found {
    /// Marks the word of `state` and every shorter word it ends with, up to
    /// one marked before (whose shorter words are marked already).
    fn mark(&mut self, dictionary: &Dictionary, mut state: u32) {
        while state != NONE && !self.states[state as usize] {
            if dictionary.word_at[state as usize] != NONE {
                self.states[state as usize] = true;
                self.words += 1;
            }
            state = dictionary.shorter[state as usize];
        }
    }

    /// Whether word `index` (its place in the list the dictionary was made
    /// of) was found.
    pub fn contains(&self, dictionary: &Dictionary, index: usize) -> bool {
        self.states[dictionary.state_of[index] as usize]
    }

    /// Whether every word was found: a search can stop.
    pub fn all(&self, dictionary: &Dictionary) -> bool {
        self.words == dictionary.distinct
    }
}

#[cfg(test)]
mod tests;
