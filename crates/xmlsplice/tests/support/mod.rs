//! Fixtures of the xmlsplice tests; golden files and diffs come from the `golden` crate.
#![allow(dead_code)] // each test binary uses its own subset

/// The bytes of `fixtures/xml/<name>`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = workspace_root().join("fixtures/xml").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every fixture under fixtures/xml, by name.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("fixtures/xml"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    names
}

#[allow(unused_imports)] // each test binary uses its own subset
pub use golden::{assert_golden, unified_diff, workspace_root};

pub mod commented;
pub mod invariants;

/// A small xorshift generator: the same sequence on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One of `from`, which must not be empty.
    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}
