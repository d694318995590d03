//! Helpers shared by the integration tests: fixtures, golden files, diffs.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

/// The workspace root (fixtures/ and tests/golden/ live there).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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

/// Bytes as text for a diff: UTF-8 when they are, else Latin-1 (one char a byte).
fn as_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// A unified diff (3 lines of context) in which every carriage return is shown
/// as `␍`, so that a golden file records line endings and git cannot alter them.
pub fn unified_diff(name: &str, before: &[u8], after: &[u8]) -> String {
    let (old, new) = (as_text(before), as_text(after));
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .missing_newline_hint(true)
        .to_string();
    diff.replace('\r', "␍")
}

/// Compares `actual` with the golden file `tests/golden/<rel>`.
///
/// With `UPDATE_GOLDEN=1` the file is written instead (review it with
/// `git diff` before committing). A missing golden file is a failure.
pub fn assert_golden(rel: &str, actual: &str) {
    let path = workspace_root().join("tests/golden").join(rel);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\n(run with UPDATE_GOLDEN=1 to create it, then review it)",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the output (UPDATE_GOLDEN=1 rewrites it):\n{}",
            path.display(),
            similar::TextDiff::from_lines(&expected, actual)
                .unified_diff()
                .header("golden", "actual")
        );
    }
}
