//! The journal that makes one node's apply all-or-nothing across a crash.
//!
//! An apply stages every new file in `CARBON_HOME/.carbon-patch/`, then
//! writes the journal into the home's lock file (`.carbon-patch/lock`,
//! after the holder's pid; `lock.rs`), naming each (target, staged file,
//! identity of the original) triple, makes all of that durable, and starts
//! replacing the targets: each staged file is swapped with its target by
//! `renameat2(RENAME_EXCHANGE)`, so the original waits under the staged name
//! until the commit is done (where the file system has no exchange, a hard
//! link keeps it and the staged file is renamed). When every replacement is
//! durable the journal is cut from the lock file.
//!
//! So after a crash, a home holds either no journal, and every file is as it
//! was (what was staged is cleared by the next run), or a journal, and some
//! files may already be new. The next `apply` on the home rolls it forward
//! before it plans anything. For each file: a staged name that is gone was
//! renamed already; one that holds the original (the same inode) was
//! swapped already, and the original is removed; one that holds the new
//! bytes is renamed over the target, provided the target is still the
//! original (the same [`Identity`]: inode, size, modification and change
//! times). If a target changed meanwhile, recovery stops, says which, and
//! leaves the journal for a person to look at.
//!
//! The journal is JSON: `{"version": 2, "files": [{"target", "staged",
//! "identity"}]}`, paths relative to the home, `identity` null for a file
//! the apply creates. Versions before 707c3fb (2026-12-06) wrote it to a
//! file of its own, `.carbon-patch/journal`, which is still finished; its
//! version 1 (before the exchange) also named a kept `original`, and reads
//! the same way.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Where versions before 707c3fb kept the journal of `home`.
fn file_path(home: &Path) -> PathBuf {
    home.join(".carbon-patch/journal")
}

/// One file of an apply in progress. Paths are relative to the home.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// The configuration file.
    pub target: PathBuf,
    /// Its new bytes, waiting to replace it; once swapped, the original.
    pub staged: PathBuf,
    /// The original's identity when the journal was written; `None` for a
    /// new file.
    pub identity: Option<Identity>,
}

/// What tells that a file was not touched since: its inode, size and
/// modification and change times. An edit in place keeps the inode but
/// moves the times; the change time cannot be set back without root.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Identity {
    /// The identity of the file at `path` now.
    pub fn of(path: &Path) -> std::io::Result<Identity> {
        Ok(Identity::of_metadata(&std::fs::metadata(path)?))
    }

    /// The identity of the file `meta` describes (of a file already open).
    pub fn of_metadata(meta: &std::fs::Metadata) -> Identity {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Identity {
                dev: meta.dev(),
                ino: meta.ino(),
                len: meta.len(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            }
        }
        #[cfg(not(unix))]
        {
            let since = |t: std::io::Result<std::time::SystemTime>| {
                t.ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or((0, 0), |d| {
                        (d.as_secs() as i64, i64::from(d.subsec_nanos()))
                    })
            };
            Identity {
                dev: 0,
                ino: 0,
                len: meta.len(),
                mtime: since(meta.modified()),
                ctime: since(meta.created()),
            }
        }
    }

    /// Whether `meta` is of the same file (device and inode), whatever its
    /// times: a rename changes the change time.
    fn same_inode(&self, meta: &std::fs::Metadata) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            (self.dev, self.ino) == (meta.dev(), meta.ino())
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            false
        }
    }
}

/// The version this build writes; it reads 1 as well.
const VERSION: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    version: u32,
    files: Vec<Entry>,
}

/// The journal naming `files`, for the lock file. The caller makes it
/// durable before any rename, so a journal cut short (the process killed
/// while writing it, or the power lost before the sync) names no file that
/// was replaced, and [`recover`] discards it.
pub fn encode(files: &[Entry]) -> Result<Vec<u8>> {
    let journal = Journal {
        version: VERSION,
        files: files.to_vec(),
    };
    Ok(serde_json::to_vec_pretty(&journal)?)
}

/// The journal in a lock file's bytes: what follows its first line (the
/// holder's pid); empty when there is none.
pub fn in_lock_file(bytes: &[u8]) -> &[u8] {
    memchr::memchr(b'\n', bytes).map_or(&[], |end| &bytes[end + 1..])
}

/// Whether an apply on `home` was interrupted and is waiting to be finished
/// (read without the lock: `plan` and `check` say so).
pub fn pending(home: &Path) -> bool {
    file_path(home).exists()
        || std::fs::read(crate::lock::path(home))
            .is_ok_and(|bytes| !in_lock_file(&bytes).trim_ascii().is_empty())
}

/// Finishes an interrupted apply of a version before 707c3fb, whose
/// journal is a file of its own, and removes that file.
/// The caller holds the home's lock.
pub fn recover_file(home: &Path) -> Result<Vec<PathBuf>> {
    let path = file_path(home);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let finished = recover(home, &path, &bytes)?;
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(finished)
}

/// Finishes the interrupted apply on `home` that `journal` (read from
/// `path`) describes, if any; returns the files it wrote now (relative to
/// the home; those renamed before the crash are not among them). The
/// caller holds the home's lock, and removes the journal once this returns.
pub fn recover(home: &Path, path: &Path, journal: &[u8]) -> Result<Vec<PathBuf>> {
    if journal.trim_ascii().is_empty() {
        return Ok(Vec::new());
    }
    let journal: Journal = match serde_json::from_slice(journal) {
        Ok(journal) => journal,
        // Cut short while it was written: no rename had begun (they wait for
        // the whole journal to be durable), so there is nothing to finish;
        // the staged files are cleared with the rest of the dead run's.
        Err(e) if e.is_eof() => return Ok(Vec::new()),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "{}: not a journal this version of carbon-patch can read",
                    path.display()
                )
            })
        }
    };
    if !(1..=VERSION).contains(&journal.version) {
        bail!(
            "{}: journal version {} is not supported",
            path.display(),
            journal.version
        );
    }
    for entry in &journal.files {
        for rel in [&entry.target, &entry.staged] {
            if rel.is_absolute()
                || rel
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                bail!(
                    "{}: names {} outside the home; not touching it",
                    path.display(),
                    rel.display()
                );
            }
        }
    }
    let mut finished = Vec::new();
    let mut swapped_originals = Vec::new();
    for entry in &journal.files {
        let staged = home.join(&entry.staged);
        let Ok(meta) = std::fs::symlink_metadata(&staged) else {
            continue; // renamed before the crash
        };
        if entry.identity.is_some_and(|id| id.same_inode(&meta)) {
            // Swapped before the crash: the original waits there.
            swapped_originals.push(staged);
            continue;
        }
        let target = home.join(&entry.target);
        let untouched = match entry.identity {
            Some(identity) => Identity::of(&target).ok() == Some(identity),
            None => !target.exists(),
        };
        if !untouched {
            // The caller (the home's lock) names the node and its home.
            bail!(
                "an interrupted apply cannot be finished: {} changed since it began. \
                 Check the file, then remove {} to start afresh",
                target.display(),
                path.display()
            );
        }
        std::fs::rename(&staged, &target)
            .with_context(|| format!("cannot finish writing {}", target.display()))?;
        finished.push(entry.target.clone());
    }
    // The journal's file system, and each target's: a file staged beside
    // its target, on another file system than the home's `.carbon-patch/`,
    // was renamed there (the caller clears the journal once this returns).
    let folders = journal
        .files
        .iter()
        .filter_map(|entry| home.join(&entry.target).parent().map(Path::to_path_buf));
    crate::durable::sync_filesystems(std::iter::once(home.to_path_buf()).chain(folders))?;
    // Every file is new, durably: the originals can go (those in
    // `.carbon-patch/` would be cleared anyway; staged beside their
    // targets, on another file system, they would not).
    for original in swapped_originals {
        std::fs::remove_file(&original)
            .with_context(|| format!("cannot remove {}", original.display()))?;
    }
    Ok(finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A home with `a.xml`, `b.xml` and `c.xml` holding "old", each with
    /// "new" staged in `.carbon-patch/`; returns the journal's entries.
    fn staged_home(home: &Path) -> Vec<Entry> {
        std::fs::create_dir(home.join(".carbon-patch")).unwrap();
        ["a.xml", "b.xml", "c.xml"]
            .iter()
            .map(|name| {
                let staged = Path::new(".carbon-patch").join(format!("staged-{name}"));
                std::fs::write(home.join(name), "old").unwrap();
                std::fs::write(home.join(&staged), "new").unwrap();
                Entry {
                    target: name.into(),
                    staged,
                    identity: Some(Identity::of(&home.join(name)).unwrap()),
                }
            })
            .collect()
    }

    fn read(home: &Path, name: &str) -> Vec<u8> {
        std::fs::read(home.join(name)).unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_journal_is_finished_whichever_way_each_file_was_replaced() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let entries = staged_home(home);
        let journal = encode(&entries).unwrap();
        // a.xml was swapped (its original waits under the staged name),
        // b.xml not yet, c.xml renamed over (where there is no exchange).
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        let (a, sa) = (home.join("a.xml"), home.join(&entries[0].staged));
        renameat_with(CWD, &sa, CWD, &a, RenameFlags::EXCHANGE).unwrap();
        std::fs::rename(home.join(&entries[2].staged), home.join("c.xml")).unwrap();
        let finished = recover(home, &crate::lock::path(home), &journal).unwrap();
        assert_eq!(finished, [PathBuf::from("b.xml")]);
        for name in ["a.xml", "b.xml", "c.xml"] {
            assert_eq!(read(home, name), b"new", "{name}");
        }
        assert!(!sa.exists(), "the swapped original is removed");
        let again = recover(home, &crate::lock::path(home), &journal).unwrap();
        assert!(again.is_empty(), "nothing left to finish");
    }

    #[test]
    fn a_journal_file_of_an_earlier_version_is_finished_and_removed() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let entries = staged_home(home);
        // Version 1 named a kept original, linked in `tmp/` (which the
        // lock clears afterwards); a.xml had been renamed over.
        let mut v1 = serde_json::json!({"version": 1, "files": entries});
        for (file, name) in v1["files"].as_array_mut().unwrap().iter_mut().zip(0..) {
            file["original"] = format!(".carbon-patch/tmp/original-{name}").into();
        }
        std::fs::write(file_path(home), serde_json::to_vec(&v1).unwrap()).unwrap();
        assert!(pending(home));
        std::fs::rename(home.join(&entries[0].staged), home.join("a.xml")).unwrap();
        let finished = recover_file(home).unwrap();
        assert_eq!(finished, [PathBuf::from("b.xml"), PathBuf::from("c.xml")]);
        for name in ["a.xml", "b.xml", "c.xml"] {
            assert_eq!(read(home, name), b"new", "{name}");
        }
        assert!(!pending(home));
        assert!(recover_file(home).unwrap().is_empty());
    }

    #[test]
    fn a_journal_of_a_later_version_is_left_alone() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let entries = staged_home(home);
        let v3 = serde_json::json!({"version": 3, "files": entries});
        let err = recover(
            home,
            &crate::lock::path(home),
            &serde_json::to_vec(&v3).unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            format!(
                "{}: journal version 3 is not supported",
                crate::lock::path(home).display()
            )
        );
        assert_eq!(read(home, "b.xml"), b"old");
    }

    #[test]
    fn a_journal_cut_short_is_discarded_and_nothing_is_renamed() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let entries = staged_home(home);
        let whole = encode(&entries).unwrap();
        // Every length a kill or a power cut could leave, empty included.
        for len in 0..whole.len() {
            let finished = recover(home, &crate::lock::path(home), &whole[..len]).unwrap();
            assert!(finished.is_empty(), "{len} bytes");
            for name in ["a.xml", "b.xml", "c.xml"] {
                assert_eq!(read(home, name), b"old", "{len} bytes: {name}");
            }
        }
        // A journal that is not cut short but not JSON either (damaged) is
        // left for a person; whole, it is finished.
        let err = recover(home, &crate::lock::path(home), b"\0\0\0\0").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("not a journal this version of carbon-patch can read"),
            "{err}"
        );
        let finished = recover(home, &crate::lock::path(home), &whole).unwrap();
        assert_eq!(finished.len(), 3);
    }

    #[test]
    fn the_journal_is_what_follows_the_lock_files_first_line() {
        assert_eq!(in_lock_file(b""), b"");
        assert_eq!(in_lock_file(b"4242      \n"), b"");
        assert_eq!(
            in_lock_file(b"4242"),
            b"",
            "an older version's pid, cut short"
        );
        assert_eq!(in_lock_file(b"4242      \n{\"version\""), b"{\"version\"");
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        std::fs::create_dir(home.join(".carbon-patch")).unwrap();
        assert!(!pending(home), "no lock file");
        std::fs::write(crate::lock::path(home), "4242      \n").unwrap();
        assert!(!pending(home), "a pid alone");
        std::fs::write(crate::lock::path(home), "4242      \n{").unwrap();
        assert!(pending(home), "a journal, even cut short");
    }
}
