//! What the crash and fault tests both look at in a home after a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file under `home` outside `.carbon-patch/`, with its bytes.
pub fn files(home: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(home)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".carbon-patch")
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(home).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Whether a journal waits in `home`: the lines after the pid in its lock
/// file.
pub fn journal_waits(home: &Path) -> bool {
    let lock = std::fs::read(home.join(".carbon-patch/lock")).unwrap_or_default();
    lock.splitn(2, |&b| b == b'\n')
        .nth(1)
        .is_some_and(|journal| !journal.trim_ascii().is_empty())
}
