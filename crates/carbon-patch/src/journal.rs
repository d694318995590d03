//! The journal that makes one node's apply all-or-nothing across a crash.
//!
//! An apply stages every new file in `CARBON_HOME/.carbon-patch/`, then
//! writes `CARBON_HOME/.carbon-patch/journal`, naming each (target, staged
//! file, identity of the original) triple, makes all of that durable, and
//! starts replacing the targets: each staged file is swapped with its
//! target by `renameat2(RENAME_EXCHANGE)`, so the original waits under the
//! staged name until the commit is done (where the file system has no
//! exchange, a hard link keeps it and the staged file is renamed). When
//! every replacement is durable the journal is removed.
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
//! the apply creates. Version 1 (before the exchange) also named a kept
//! `original`; it reads the same way.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Where the journal of `home` lives.
pub fn path(home: &Path) -> PathBuf {
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
        let meta = std::fs::metadata(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok(Identity {
                dev: meta.dev(),
                ino: meta.ino(),
                len: meta.len(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            })
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
            Ok(Identity {
                dev: 0,
                ino: 0,
                len: meta.len(),
                mtime: since(meta.modified()),
                ctime: since(meta.created()),
            })
        }
    }
}

impl Identity {
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

/// Writes the journal of `home`. The caller makes it durable before any
/// rename, so a journal cut short (the process killed while writing it, or
/// the power lost before the sync) names no file that was replaced, and
/// [`recover`] discards it: written in place, with no temporary name and
/// rename, which cost a rename a home.
pub fn write(home: &Path, files: &[Entry]) -> Result<()> {
    let journal = Journal {
        version: VERSION,
        files: files.to_vec(),
    };
    let path = path(home);
    if let Err(e) = std::fs::write(&path, serde_json::to_vec_pretty(&journal)?) {
        // A full disk, say: no half-written journal stays behind.
        let _ = std::fs::remove_file(&path);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Removes the journal of `home`: its apply is complete (or undone).
pub fn remove(home: &Path) -> Result<()> {
    match std::fs::remove_file(path(home)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path(home).display()))
        }
        _ => Ok(()),
    }
}

/// Whether an apply on `home` was interrupted and is waiting to be finished.
pub fn pending(home: &Path) -> bool {
    path(home).exists()
}

/// Finishes an interrupted apply on `home`, if there is one; returns the
/// files it wrote now (relative to the home; those renamed before the crash
/// are not among them). The caller holds the home's lock.
pub fn recover(home: &Path) -> Result<Vec<PathBuf>> {
    let path = path(home);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let journal: Journal = match serde_json::from_slice(&text) {
        Ok(journal) => journal,
        // Cut short while it was written: no rename had begun (they wait for
        // the whole journal to be durable), so there is nothing to finish;
        // the staged files are cleared with the rest of the dead run's.
        Err(e) if e.is_eof() => {
            remove(home)?;
            return Ok(Vec::new());
        }
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
    crate::durable::sync_filesystems([home])?;
    // Every file is new, durably: the originals can go (those in
    // `.carbon-patch/` would be cleared anyway; staged beside their
    // targets, on another file system, they would not).
    for original in swapped_originals {
        std::fs::remove_file(&original)
            .with_context(|| format!("cannot remove {}", original.display()))?;
    }
    remove(home)?;
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

    #[cfg(target_os = "linux")]
    #[test]
    fn a_journal_is_finished_whichever_way_each_file_was_replaced() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let entries = staged_home(home);
        write(home, &entries).unwrap();
        // a.xml was swapped (its original waits under the staged name),
        // b.xml not yet, c.xml renamed over (where there is no exchange).
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        let (a, sa) = (home.join("a.xml"), home.join(&entries[0].staged));
        renameat_with(CWD, &sa, CWD, &a, RenameFlags::EXCHANGE).unwrap();
        std::fs::rename(home.join(&entries[2].staged), home.join("c.xml")).unwrap();
        let finished = recover(home).unwrap();
        assert_eq!(finished, [PathBuf::from("b.xml")]);
        for name in ["a.xml", "b.xml", "c.xml"] {
            assert_eq!(std::fs::read(home.join(name)).unwrap(), b"new", "{name}");
        }
        assert!(!sa.exists(), "the swapped original is removed");
        assert!(!pending(home));
        assert!(recover(home).unwrap().is_empty(), "nothing left to finish");
    }

    #[test]
    fn a_journal_of_the_first_version_is_finished() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let entries = staged_home(home);
        // Version 1 named a kept original, linked in `tmp/` (which the
        // lock clears afterwards); a.xml had been renamed over.
        let mut v1 = serde_json::json!({"version": 1, "files": entries});
        for (file, name) in v1["files"].as_array_mut().unwrap().iter_mut().zip(0..) {
            file["original"] = format!(".carbon-patch/tmp/original-{name}").into();
        }
        std::fs::write(path(home), serde_json::to_vec(&v1).unwrap()).unwrap();
        std::fs::rename(home.join(&entries[0].staged), home.join("a.xml")).unwrap();
        let finished = recover(home).unwrap();
        assert_eq!(finished, [PathBuf::from("b.xml"), PathBuf::from("c.xml")]);
        for name in ["a.xml", "b.xml", "c.xml"] {
            assert_eq!(std::fs::read(home.join(name)).unwrap(), b"new", "{name}");
        }
        assert!(!pending(home));
    }

    #[test]
    fn a_journal_of_a_later_version_is_left_alone() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let entries = staged_home(home);
        let v3 = serde_json::json!({"version": 3, "files": entries});
        std::fs::write(path(home), serde_json::to_vec(&v3).unwrap()).unwrap();
        let err = recover(home).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: journal version 3 is not supported",
                path(home).display()
            )
        );
        assert_eq!(std::fs::read(home.join("b.xml")).unwrap(), b"old");
        assert!(pending(home));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_journal_that_cannot_be_written_leaves_no_part_behind() {
        let home = tempfile::tempdir().unwrap();
        let journal = path(home.path());
        std::fs::create_dir(journal.parent().unwrap()).unwrap();
        // Writing to /dev/full fails as a full disk does.
        std::os::unix::fs::symlink("/dev/full", &journal).unwrap();
        let err = write(home.path(), &[]).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            format!(
                "cannot write {}: No space left on device (os error 28)",
                journal.display()
            )
        );
        assert!(journal.symlink_metadata().is_err(), "the journal is left");
        assert!(!pending(home.path()));
    }

    #[test]
    fn a_journal_cut_short_is_discarded_and_nothing_is_renamed() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let entries = staged_home(home);
        write(home, &entries).unwrap();
        let whole = std::fs::read(path(home)).unwrap();
        // Every length a kill or a power cut could leave, empty included.
        for len in 0..whole.len() {
            std::fs::write(path(home), &whole[..len]).unwrap();
            assert!(recover(home).unwrap().is_empty(), "{len} bytes");
            assert!(!pending(home), "{len} bytes: discarded");
            for name in ["a.xml", "b.xml", "c.xml"] {
                assert_eq!(std::fs::read(home.join(name)).unwrap(), b"old", "{name}");
            }
        }
        // Whole, it is finished; and a journal that is not cut short but
        // not JSON either (damaged) is left for a person.
        std::fs::write(path(home), b"\0\0\0\0").unwrap();
        let err = recover(home).unwrap_err().to_string();
        assert!(
            err.ends_with("not a journal this version of carbon-patch can read"),
            "{err}"
        );
        assert!(pending(home));
        std::fs::write(path(home), &whole).unwrap();
        assert_eq!(recover(home).unwrap().len(), 3);
    }
}
