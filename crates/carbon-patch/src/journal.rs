//! The journal that makes one node's apply all-or-nothing across a crash.
//!
//! An apply stages every new file in `CARBON_HOME/.carbon-patch/`, keeps
//! a hard link to every original there, and makes all of that durable. Only
//! then does it write `CARBON_HOME/.carbon-patch/journal`, naming each
//! (staged file, original, target) triple, make that durable, and start
//! renaming staged files over their targets. When every rename is durable
//! the journal is removed.
//!
//! So after a crash, a home holds either no journal, and every file is as it
//! was (what was staged is cleared by the next run), or a journal, and some
//! files may already be new. The next `apply` on the home rolls it forward
//! before it plans anything: a staged file still present had not been
//! renamed yet, and is, provided its target is still the original (the
//! same [`Identity`]: inode, size, modification and change times); a staged
//! file that is gone was renamed already. If a target changed meanwhile, recovery stops, says which, and
//! leaves the journal for a person to look at.
//!
//! The journal is JSON: `{"version": 1, "files": [{"target", "staged",
//! "original", "identity"}]}`, paths relative to the home, `original` and
//! `identity` null for a file the apply creates.

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
    /// Its new bytes, waiting to be renamed over it.
    pub staged: PathBuf,
    /// A hard link to (or a copy of) its original, for putting it back if a
    /// rename fails; `None` for a new file.
    pub original: Option<PathBuf>,
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

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    version: u32,
    files: Vec<Entry>,
}

/// Writes the journal of `home` (through a temporary name and a rename, so
/// it is whole or absent). The caller makes it durable.
pub fn write(home: &Path, files: &[Entry]) -> Result<()> {
    let journal = Journal {
        version: 1,
        files: files.to_vec(),
    };
    let path = path(home);
    let temp = path.with_extension("new");
    if let Err(e) = std::fs::write(&temp, serde_json::to_vec_pretty(&journal)?) {
        // A full disk, say: no half-written journal stays behind.
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("cannot write {}", temp.display()));
    }
    std::fs::rename(&temp, &path).with_context(|| format!("cannot write {}", path.display()))
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
    let journal: Journal = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{}: not a journal this version of carbon-patch can read",
            path.display()
        )
    })?;
    if journal.version != 1 {
        bail!(
            "{}: journal version {} is not supported",
            path.display(),
            journal.version
        );
    }
    for entry in &journal.files {
        for rel in [
            Some(&entry.target),
            Some(&entry.staged),
            entry.original.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
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
    for entry in &journal.files {
        let staged = home.join(&entry.staged);
        if !staged.exists() {
            continue; // renamed before the crash
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
    remove(home)?;
    Ok(finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_journal_that_cannot_be_written_leaves_no_part_behind() {
        let home = tempfile::tempdir().unwrap();
        let temp = path(home.path()).with_extension("new");
        std::fs::create_dir(temp.parent().unwrap()).unwrap();
        // Writing to /dev/full fails as a full disk does.
        std::os::unix::fs::symlink("/dev/full", &temp).unwrap();
        let err = write(home.path(), &[]).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            format!(
                "cannot write {}: No space left on device (os error 28)",
                temp.display()
            )
        );
        assert!(temp.symlink_metadata().is_err(), "journal.new is left");
        assert!(!pending(home.path()));
    }
}
