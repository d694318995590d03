//! Putting one file in place of another without losing what either holds.
//!
//! A replacement is one call where the file system can swap two names
//! (`renameat2(RENAME_EXCHANGE)`): the new file takes the target's name and
//! what the target was waits under the new file's old name. Right after, what
//! was swapped out is checked to be what was expected there; if someone
//! changed the target since it was checked, the swap is undone at once and
//! the edit stays in place. Where the file system cannot swap, a hard link
//! keeps the target and a rename follows; an edit that replaces the target
//! between those two calls is not caught. Where it can do neither, nothing
//! is replaced.
//!
//! The commit replaces targets this way, recovery finishes an interrupted
//! commit this way, and putting a file back after a failure undoes it the
//! same way.

use std::ffi::{OsStr, OsString};

use beneath::Dir;

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::stage::{kept_name, StagedFile};

/// What the file a replacement takes the place of must be.
pub(crate) enum Expected<'a> {
    /// Nothing: the name must not exist.
    Nothing,
    /// The original the commit checked: that very file, with the bytes the
    /// plan read.
    Checked(&'a StagedFile),
    /// A file holding these bytes.
    Bytes(Fingerprint),
}

impl Expected<'_> {
    /// A file holding `bytes`; nothing when `None`.
    pub(crate) fn holding(bytes: Option<Fingerprint>) -> Self {
        bytes.map_or(Expected::Nothing, Expected::Bytes)
    }

    /// Whether `name` in `dir` is what is expected.
    fn found(&self, dir: &Dir, name: &OsStr) -> Result<bool> {
        match self {
            Expected::Nothing => Ok(dir.stat(name)?.is_none()),
            Expected::Checked(file) => still_original(file, dir, name),
            Expected::Bytes(bytes) => {
                let found = Fingerprint::of_name_like(dir, name, &[Some(*bytes)])?;
                Ok(found == Some(*bytes))
            }
        }
    }
}

/// Puts the file `staged` of `stage` in place of `name` in `dir`, which
/// must be `expected`, and returns where what it replaced waits (in
/// `stage`): under `staged`, swapped with it; or, where the file system
/// cannot swap (NFS, some overlays; `exchange` is then cleared for the
/// caller's later calls), under a hard link made just before a plain
/// rename. Nothing replaced, nothing waits.
///
/// # Errors
/// [`Error::EditedMeanwhile`] when `name` was not what was expected; it is
/// left as it was found.
pub(crate) fn put_in_place(
    stage: &Dir,
    staged: &OsStr,
    dir: &Dir,
    name: &OsStr,
    expected: &Expected,
    exchange: &mut bool,
) -> Result<Option<OsString>> {
    #[cfg(test)]
    crate::pause::at_path(crate::pause::Point::BeforeSwap, &dir.shown(name));
    let edited = || Error::EditedMeanwhile {
        path: dir.shown(name),
    };
    if let Expected::Nothing = expected {
        return match stage.rename_new(staged, dir, name) {
            Err(e) if already_exists(&e) => Err(edited()),
            done => done.map(|()| None).map_err(Error::from),
        };
    }
    if *exchange && stage.exchange(staged, dir, name)? {
        return match expected.found(stage, staged) {
            Ok(true) => Ok(Some(staged.to_os_string())),
            Ok(false) => {
                stage.exchange(staged, dir, name)?;
                Err(edited())
            }
            // What was swapped out could not be read: swapped back, as an
            // edit would be, before saying why.
            Err(e) => {
                let _ = stage.exchange(staged, dir, name);
                Err(e)
            }
        };
    }
    *exchange = false;
    // Beside the staged file, so on the target's file system: the way back
    // is a rename.
    let kept = kept_name(staged);
    if let Err(e) = dir.hard_link(name, stage, &kept) {
        // A copy would be another file, with another owner: without a way
        // to keep the very original, nothing is replaced.
        return Err(Error::InTheWay {
            path: dir.shown(name),
            what: format!(
                "its file system can neither swap two files nor give one a second name ({e}): \
                 carbon-patch cannot replace it and keep its original to put back"
            ),
        });
    }
    rename_keeping(stage, staged, dir, name, &kept, expected)
}

/// Takes `name` out of `dir`, which must be `expected`, to `staged` in
/// `stage` (a name that holds nothing), where it waits as a replaced
/// original does, and returns that name. What was taken out is checked
/// right after, as a swap's is: an edit that landed meanwhile goes back.
///
/// # Errors
/// [`Error::EditedMeanwhile`] when `name` was not what was expected, or
/// gone; it is left as it was found.
pub(crate) fn take_out(
    dir: &Dir,
    name: &OsStr,
    stage: &Dir,
    staged: &OsStr,
    expected: &Expected,
) -> Result<Option<OsString>> {
    #[cfg(test)]
    crate::pause::at_path(crate::pause::Point::BeforeSwap, &dir.shown(name));
    let edited = || Error::EditedMeanwhile {
        path: dir.shown(name),
    };
    match dir.rename_new(name, stage, staged) {
        Ok(()) => {}
        Err(e) if e.is_not_found() => return Err(edited()),
        Err(e) => return Err(e.into()),
    }
    #[cfg(test)]
    crate::pause::at_path(crate::pause::Point::TakenOut, &dir.shown(name));
    match expected.found(stage, staged) {
        Ok(true) => Ok(Some(staged.to_os_string())),
        Ok(false) => {
            stage.rename_new(staged, dir, name)?;
            Err(edited())
        }
        Err(e) => {
            let _ = stage.rename_new(staged, dir, name);
            Err(e)
        }
    }
}

/// The rename that follows the hard link keeping `name`'s original as
/// `kept`, then the check of what was kept.
fn rename_keeping(
    stage: &Dir,
    staged: &OsStr,
    dir: &Dir,
    name: &OsStr,
    kept: &OsStr,
    expected: &Expected,
) -> Result<Option<OsString>> {
    if let Err(e) = stage.rename(staged, dir, name) {
        let _ = stage.remove_file(kept);
        return Err(e.into());
    }
    match expected.found(stage, kept) {
        Ok(true) => Ok(Some(kept.to_os_string())),
        Ok(false) => {
            stage.rename(kept, dir, name)?;
            Err(Error::EditedMeanwhile {
                path: dir.shown(name),
            })
        }
        Err(e) => {
            let _ = stage.rename(kept, dir, name);
            Err(e)
        }
    }
}

/// Whether `name` in `dir` and `other` in `stage` are one file.
pub(crate) fn same_file(dir: &Dir, name: &OsStr, stage: &Dir, other: &OsStr) -> Result<bool> {
    Ok(match (dir.stat(name)?, stage.stat(other)?) {
        (Some(a), Some(b)) => a.same_object(&b),
        _ => false,
    })
}

/// Puts `file`'s original back in place of the staged bytes the commit put
/// there, provided the target still holds those bytes: an edit made to the
/// new file since stays. A file the commit created is removed, on the same
/// condition. What the new bytes were is then removed.
///
/// # Errors
/// [`Error::EditedMeanwhile`] when the target holds something else now.
pub(crate) fn put_back(file: &StagedFile) -> Result<()> {
    let ours = Expected::holding(file.after);
    let Some(original) = &file.original else {
        if !ours.found(&file.dir, &file.name)? {
            return Err(Error::EditedMeanwhile {
                path: file.dir.shown(&file.name),
            });
        }
        return Ok(file.dir.remove_file(&file.name)?);
    };
    let mut exchange = true;
    let new_bytes = put_in_place(
        &file.stage,
        original,
        &file.dir,
        &file.name,
        &ours,
        &mut exchange,
    )?;
    if let Some(new_bytes) = new_bytes {
        let _ = file.stage.remove_file(new_bytes);
    }
    Ok(())
}

fn already_exists(e: &beneath::Error) -> bool {
    e.io_error()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::AlreadyExists)
}

/// Whether `name` in `dir` is still the original of `file`: the very file
/// the commit checked (the same object, not one renamed in its place since),
/// holding the bytes the plan read (no edit in place since). Read through
/// the check's own descriptor, from its start.
fn still_original(file: &StagedFile, dir: &beneath::Dir, name: &std::ffi::OsStr) -> Result<bool> {
    let Some((checked, meta)) = &file.checked else {
        return Ok(false);
    };
    let Some(now) = dir.stat(name)? else {
        return Ok(false);
    };
    if !now.same_object(meta) {
        return Ok(false);
    }
    let read = Fingerprint::of_file_like(&mut ReadAt(checked, 0), now.len, &[file.before])
        .map_err(|e| Error::io("cannot read", dir.shown(name), e))?;
    Ok(Some(read) == file.before)
}

/// Reads a file from an offset on, leaving its own position alone.
struct ReadAt<'f>(&'f std::fs::File, u64);

impl std::io::Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(self.0, buf, self.1)?;
        self.1 += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree holding `stage/staged-a` ("new"), its root, and what putting
    /// it in place of `a.xml` (expected to hold "old") returns, after
    /// `before` made the tree's `a.xml` and its stage folder ready.
    fn put_staged_a(
        dir: &std::path::Path,
        exchange: bool,
        before: impl FnOnce(&Dir, &Dir),
    ) -> Result<Option<OsString>> {
        std::fs::create_dir(dir.join("stage")).unwrap();
        std::fs::write(dir.join("stage/staged-a"), "new").unwrap();
        let root = beneath::Root::open(dir).unwrap();
        let (top, stage) = (root.top(), root.dir("stage").unwrap());
        before(top, &stage);
        let old = Expected::Bytes(Fingerprint::of(b"old"));
        let mut exchange = exchange;
        let staged = OsStr::new("staged-a");
        put_in_place(
            &stage,
            staged,
            top,
            OsStr::new("a.xml"),
            &old,
            &mut exchange,
        )
    }

    /// What was swapped out that cannot be read (a folder put in the
    /// target's place) is swapped back before the error: the target is
    /// left as it was found.
    #[test]
    fn what_cannot_be_read_once_swapped_out_is_swapped_back() {
        let dir = tempfile::tempdir().unwrap();
        let result = put_staged_a(dir.path(), true, |_, _| {
            std::fs::create_dir(dir.path().join("a.xml")).unwrap();
        });
        assert!(result.is_err());
        assert!(
            dir.path().join("a.xml").is_dir(),
            "the folder is where it was"
        );
        assert_eq!(
            std::fs::read(dir.path().join("stage/staged-a")).unwrap(),
            b"new"
        );
    }
}
