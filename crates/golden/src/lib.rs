//! Test support shared by the workspace's test suites: the workspace root,
//! golden files, and unified diffs that show line endings.
//!
//! A dev-dependency only; nothing ships with it.

use std::path::{Path, PathBuf};

/// The workspace root (fixtures/ and tests/golden/ live there).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Copies the directory tree `from` to `to` (created), byte for byte.
pub fn copy_tree(from: &Path, to: &Path) {
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let target = to.join(dir.strip_prefix(from).expect("below from"));
        std::fs::create_dir_all(&target).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let entry = entry.expect("a directory entry");
            let path = entry.path();
            if entry.file_type().expect("a file type").is_dir() {
                stack.push(path);
            } else {
                std::fs::copy(&path, target.join(entry.file_name()))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
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
