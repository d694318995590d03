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
