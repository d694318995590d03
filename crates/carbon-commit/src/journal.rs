//! The journal that makes one home's commit all-or-nothing across a crash.
//!
//! A commit stages every new file, then writes the journal into the home's
//! lock file (after the holder's pid), naming for each file its target, its
//! staged file, and fingerprints of the bytes it was planned from and of
//! its new bytes. All of that is made durable together, and only then do
//! the replacements start: each staged file is swapped with its target
//! (`renameat2(RENAME_EXCHANGE)`), so the original waits under the staged
//! name until the commit is done; where the file system cannot swap, a
//! hard link keeps the original and the staged file is renamed over the
//! target. When every replacement is durable, the journal is cut from the
//! lock file.
//!
//! So after a crash a home holds no journal, and every file is as it was,
//! or a journal, and some files may already be new. The next holder of the
//! lock reads each file's content, not its inode or times (a hard link
//! changes a file's change time, and so would any tool that looks):
//!
//! - no target holds its new bytes: no replacement had begun (they wait for
//!   the journal and the staged files to be durable, so a staged file torn
//!   by a power cut is never put in place). Nothing to finish;
//! - some do: every staged file was durable before the first replacement.
//!   Each target still holding the bytes it was planned from gets its
//!   staged file; one holding neither was changed by someone since, and
//!   recovery stops, names it, and changes nothing. A staged name that
//!   holds neither the original nor the new bytes holds an edit that
//!   landed just before its swap: it is put back in place before stopping.
//!
//! A file the commit removes is taken out to its staged name (which held
//! nothing), so there it waits as an original would: its new state is
//! "absent", and its staged name holding it shows the commit had begun.
//!
//! The journal is JSON, `{"version": 4, "backup": ..., "files": [{"target",
//! "staged", "before", "after"}]}`, paths relative to the home, `before`
//! null for a file the commit creates, `after` null for one it removes,
//! fingerprints as `{"len", "xxh3"}`. Version 3, the same without removals,
//! is read too.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use beneath::{Dir, Root};
use serde::{Deserialize, Serialize};

use crate::durable::Durable;
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::lock::{STAGED_PREFIX, STAGE_DIR};
use crate::swap::{self, Expected};

/// The version this build writes, and the versions it reads.
const VERSION: u32 = 4;
const READABLE_VERSIONS: [u32; 2] = [3, 4];

/// One file of a commit in progress. Paths are relative to the home.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Entry {
    /// The file replaced (its real path: no link in it).
    pub target: PathBuf,
    /// Its new bytes, waiting to replace it; once swapped, the original.
    pub staged: PathBuf,
    /// What the target held when planned; `None` for a new file.
    pub before: Option<Fingerprint>,
    /// What the staged file holds; `None` for a file the commit removes.
    pub after: Option<Fingerprint>,
}

/// A backup folder the commit finishes by renaming it (see `backup.rs`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Backup {
    /// Where it is written, relative to the stage folder.
    pub partial: PathBuf,
    /// What it is renamed to once the commit's replacements begin.
    pub done: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    version: u32,
    backup: Option<Backup>,
    files: Vec<Entry>,
}

/// The journal naming `files` (and `backup`), for the lock file.
pub(crate) fn encode(backup: Option<&Backup>, files: &[Entry]) -> Vec<u8> {
    let journal = Journal {
        version: VERSION,
        backup: backup.cloned(),
        files: files.to_vec(),
    };
    serde_json::to_vec_pretty(&journal).expect("a journal always serializes")
}

/// The journal in a lock file's bytes: what follows its first line (the
/// holder's pid); empty when there is none.
pub(crate) fn in_lock_file(bytes: &[u8]) -> &[u8] {
    memchr::memchr(b'\n', bytes).map_or(&[], |end| &bytes[end + 1..])
}

/// Whether `rel` is a plain relative path: no root, no `..`, not empty.
fn plain(rel: &Path) -> bool {
    !rel.as_os_str().is_empty()
        && rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Where a staged file may be, for a journal to be trusted: in the home's
/// stage folder, or beside its target (another file system), under a
/// staged file's name. Returns its folder relative to the home, and name.
fn staged_place(entry: &Entry) -> Option<(PathBuf, OsString)> {
    let name = entry.staged.file_name()?;
    let folder = entry.staged.parent()?;
    let staged_name = name.to_string_lossy().starts_with(STAGED_PREFIX);
    let beside = Some(folder) == entry.target.parent();
    (plain(&entry.staged) && staged_name && (folder == Path::new(STAGE_DIR) || beside))
        .then(|| (folder.to_path_buf(), name.to_os_string()))
}

/// One entry, read: its folders and what each name holds now.
struct Found<'e> {
    entry: &'e Entry,
    dir: Dir,
    name: OsString,
    stage: Dir,
    staged: OsString,
    target_holds: Option<Fingerprint>,
    staged_holds: Option<Fingerprint>,
}

impl Found<'_> {
    fn replaced(&self) -> bool {
        self.target_holds == self.entry.after
    }

    /// Whether its staged name holds what the commit staged: the new bytes
    /// (nothing, for a removal), or, for a removal taken out halfway where
    /// a move is a hard link then a removal, the file itself.
    fn staged_as_planned(&self) -> bool {
        self.staged_holds == self.entry.after
            || (self.entry.after.is_none() && self.staged_holds == self.entry.before)
    }

    /// Whether this file shows that the replacements had begun: its target
    /// holds the new bytes, or, for a removal, the file waits under its
    /// staged name (no one else knows that name, while a target may be
    /// gone for other reasons).
    fn begun(&self) -> bool {
        match self.entry.after {
            Some(_) => self.replaced(),
            None => self.staged_holds.is_some(),
        }
    }
}

/// Finishes the interrupted commit on the home at `root` that `journal`
/// (read from the lock file at `lock`) describes, if any; returns the files
/// it wrote now (relative to the home; those written before the crash are
/// not among them). The caller holds the lock, and clears the journal once
/// this returns.
pub(crate) fn recover(
    root: &Root,
    home_stage: &Dir,
    lock: &Path,
    journal: &[u8],
) -> Result<Vec<PathBuf>> {
    if journal.trim_ascii().is_empty() {
        return Ok(Vec::new());
    }
    let bad = |message: String| Error::Journal {
        path: lock.to_path_buf(),
        message,
    };
    let journal: Journal = match serde_json::from_slice(journal) {
        Ok(journal) => journal,
        // Cut short while it was written: no replacement had begun (they
        // wait for the whole journal to be durable), so there is nothing
        // to finish; the staged files are cleared with the rest of the
        // dead run's.
        Err(e) if e.is_eof() => return Ok(Vec::new()),
        Err(e) => {
            return Err(bad(format!(
                "not a journal this version of carbon-patch can read ({e}); \
                 remove it to start afresh"
            )))
        }
    };
    if !READABLE_VERSIONS.contains(&journal.version) {
        return Err(bad(format!(
            "journal version {} is not supported; remove it to start afresh",
            journal.version
        )));
    }
    let mut found = Vec::with_capacity(journal.files.len());
    for entry in &journal.files {
        let (Some((folder, staged)), true) = (staged_place(entry), plain(&entry.target)) else {
            return Err(bad(format!(
                "names {} to replace {}, where this version stages nothing; not trusting it",
                entry.staged.display(),
                entry.target.display()
            )));
        };
        let (Some(parent), Some(name)) = (entry.target.parent(), entry.target.file_name()) else {
            return Err(bad(format!("names no file in {}", entry.target.display())));
        };
        let dir = root.dir(parent)?;
        let stage = if folder == Path::new(STAGE_DIR) {
            home_stage.clone()
        } else {
            dir.clone()
        };
        // A crash between the hard link that keeps an original (or moves a
        // file out, where there is no `RENAME_NOREPLACE`) and the rename or
        // removal that follows left the target a second name, the run's own,
        // in its stage folder: that step is undone first, and the target is
        // read as the file of one name it was (root reads no file of root's
        // with two names in a folder another user writes).
        // The link that keeps the new bytes while a roll back puts an
        // original back is one more such name.
        let kept = crate::stage::kept_name(&staged);
        let seconds = match entry.after {
            Some(_) => vec![crate::stage::kept_name(&kept), kept],
            None => vec![staged.clone()],
        };
        for second in &seconds {
            if swap::same_file(&dir, name, &stage, second)? {
                stage.remove_file(second)?;
            }
        }
        let expected = [entry.before, entry.after];
        found.push(Found {
            entry,
            target_holds: Fingerprint::of_name_like(&dir, name, &expected)?,
            staged_holds: Fingerprint::of_name_like(&stage, &staged, &expected)?,
            dir,
            name: name.to_os_string(),
            stage,
            staged,
        });
    }
    if !found.iter().any(Found::begun) {
        return Ok(Vec::new()); // no replacement had begun
    }
    // Edits swapped out just before the crash go back first, then any
    // target changed since stops the recovery: nothing more is written.
    let mut conflict = None;
    // The files whose edit was put back, whichever: that is a write.
    let mut put_back = Vec::new();
    let mut exchange = true;
    for f in &found {
        let original = f.staged_holds == f.entry.before;
        if f.replaced() && f.staged_holds.is_some() && !original {
            // The edit goes in place of the new bytes, if they are still
            // there; whatever happens, it is not removed.
            let ours = Expected::holding(f.entry.after);
            swap::put_in_place(&f.stage, &f.staged, &f.dir, &f.name, &ours, &mut exchange)
                .and_then(|_| Ok(f.dir.sync()?))
                .map_err(|e| Error::partly_recovered(put_back.clone(), e))?;
            put_back.push(f.entry.target.clone());
            conflict.get_or_insert(f);
        } else if !f.replaced() && (f.target_holds != f.entry.before || !f.staged_as_planned()) {
            conflict.get_or_insert(f);
        }
    }
    if let Some(f) = conflict {
        // Anything under its staged name but the staged bytes was taken out
        // of the target, and has no other place.
        let taken_out = f.staged_holds.is_some() && f.staged_holds != f.entry.after;
        return Err(Error::Unfinishable {
            path: f.dir.shown(&f.name),
            edit_kept: !put_back.is_empty(),
            written: Vec::new(),
            waits: taken_out.then(|| f.stage.shown(&f.staged)),
            lock: lock.to_path_buf(),
        });
    }
    // Each target still holding its planned-from bytes gets its staged
    // file, checked again as it is swapped: an edit landing now stays.
    let mut finished = Vec::new();
    let mut originals = Vec::new();
    for f in found.iter().filter(|f| !f.replaced()) {
        let expected = Expected::holding(f.entry.before);
        let done = match f.entry.after {
            Some(_) => swap::put_in_place(
                &f.stage,
                &f.staged,
                &f.dir,
                &f.name,
                &expected,
                &mut exchange,
            ),
            None => swap::take_out(&f.dir, &f.name, &f.stage, &f.staged, &expected),
        };
        match done {
            Ok(original) => originals.extend(original.map(|name| (f.stage.clone(), name))),
            Err(Error::EditedMeanwhile { .. }) => {
                return Err(Error::Unfinishable {
                    path: f.dir.shown(&f.name),
                    edit_kept: false,
                    written: finished,
                    waits: None,
                    lock: lock.to_path_buf(),
                })
            }
            Err(e) => return Err(Error::partly_recovered(finished, e)),
        }
        finished.push(f.entry.target.clone());
    }
    tidy_up(&found, originals, home_stage, journal.backup.as_ref())
        .map_err(|e| Error::partly_recovered(finished.clone(), e))?;
    Ok(finished)
}

/// What a recovery does once every file is new: makes that durable, then
/// removes the originals and kept names it no longer needs.
fn tidy_up(
    found: &[Found],
    originals: Vec<(Dir, OsString)>,
    home_stage: &Dir,
    backup: Option<&Backup>,
) -> Result<()> {
    let mut durable: Vec<Durable> = found
        .iter()
        .map(|f| Durable::Folder(f.dir.clone()))
        .collect();
    durable.push(Durable::Folder(home_stage.clone()));
    if let Some(backup) = backup {
        crate::backup::finish(home_stage, backup)?;
        durable.extend(crate::backup::folder(home_stage).map(Durable::Folder));
    }
    crate::durable::sync(durable)?;
    // Every file is new, durably: the originals can go (those in the stage
    // folder would be cleared anyway; beside their targets they would not).
    for f in found
        .iter()
        .filter(|f| f.replaced() && f.staged_holds.is_some())
    {
        f.stage.remove_file(&f.staged)?;
    }
    for (stage, name) in originals {
        stage.remove_file(name)?;
    }
    for f in found {
        match f.stage.remove_file(crate::stage::kept_name(&f.staged)) {
            Err(e) if !e.is_not_found() => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
