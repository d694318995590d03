//! One commit at a time per home, and the home's journal:
//! `CARBON_HOME/.carbon-patch/lock`.
//!
//! The lock is an `flock(2)` on the home's own folder and one on that file,
//! which stays between runs. Its
//! first line names its holder's process id; while the holder commits, the
//! journal follows (`journal.rs`). The kernel releases the lock when its
//! holder exits, however it exits, so a lock is never stale: a held one is
//! refused with a message naming its pid, never waited on. Whoever takes
//! the lock first finishes any commit that a crash interrupted (the journal
//! the file still holds), then clears what dead runs staged.
//!
//! A journal tells its reader which files to rename over which: whoever
//! could write one could have a root run rename and remove files for them.
//! So the folder and the lock are trusted only when this run's user owns
//! them and no one else may write them, the lock has one name, and a
//! journal names only files of its own stage folders. The folder is made
//! `0700` and the lock `0600`: the backups in it hold the originals'
//! passwords.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use beneath::{Dir, Kind, Meta, Root};

use crate::error::{Error, Result};
use crate::journal;

/// The folder, in the home, where carbon-patch keeps its lock, its journal,
/// the files it stages and the backups.
pub const STAGE_DIR: &str = ".carbon-patch";

/// The lock file's name in [`STAGE_DIR`].
const LOCK: &str = "lock";

/// How the names of staged files begin (in [`STAGE_DIR`], or beside their
/// targets when that is another file system): what the lock's next holder
/// finds under such a name in [`STAGE_DIR`], a dead run left.
pub(crate) const STAGED_PREFIX: &str = ".carbon-patch-staged-";

/// How the names of originals kept by a hard link begin (where the file
/// system cannot swap two names), beside the staged file.
pub(crate) const KEPT_PREFIX: &str = ".carbon-patch-kept-";

/// The most of a lock file read for its journal: a journal names a few
/// hundred bytes a file; one larger than this is not one this build wrote.
const JOURNAL_LIMIT: u64 = 64 << 20;

/// The lock file's first line, the holder's pid padded to one width, so a
/// new holder writes its own over it without touching a journal after it.
pub(crate) const PID_LINE: u64 = 11;

/// An exclusive lock on one home, held while this value lives.
#[derive(Debug)]
pub struct Lock {
    root: Root,
    /// The `flock(2)` on the home's folder, released with the lock.
    _home: HomeFlock,
    /// The home's [`STAGE_DIR`].
    stage: Dir,
    /// Open for as long as the lock is held: closing it releases the lock.
    file: std::fs::File,
    /// Whether the file holds a journal this run wrote.
    journal: bool,
    /// Whether this run made the stage folder, and has written nothing
    /// through this lock: then it leaves the home as it found it.
    made_for_nothing: bool,
    /// The files an interrupted commit's journal still had to write, which
    /// taking the lock wrote (relative to the home).
    finished: Vec<PathBuf>,
}

/// The user this process acts as.
pub(crate) fn this_user() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// What every refusal of an untrusted stage folder or lock begins its
/// remedy with.
const TRUSTS_ONLY_OURS: &str =
    "carbon-patch trusts a journal or a staged file only where no other user could have written it.";

/// Refuses `meta` (of `path`, the stage folder or the lock, open as
/// `opened`) unless only this run's user could have written what it holds.
pub(crate) fn trust(path: &Path, meta: &Meta, opened: &impl std::os::fd::AsFd) -> Result<()> {
    let user = this_user();
    let untrusted = |reason: String, remedy: String| Error::Untrusted {
        path: path.to_path_buf(),
        reason,
        remedy,
    };
    if meta.uid != user {
        return Err(untrusted(
            format!("owned by uid {}, not by this user (uid {user})", meta.uid),
            format!(
                "{TRUSTS_ONLY_OURS} If no apply is running as uid {owner}, have that user run \
                 apply once (it finishes an interrupted one), then remove {} and run again",
                path.display(),
                owner = meta.uid
            ),
        ));
    }
    if meta.mode & 0o022 != 0 {
        let who = if meta.mode & 0o020 != 0 {
            "its group"
        } else {
            "others"
        };
        return Err(untrusted(
            format!("writable by {who} (mode {:04o})", meta.mode),
            format!(
                "{TRUSTS_ONLY_OURS} Once you have checked it holds nothing you did not write, \
                 `chmod go-w {}` and run again",
                path.display()
            ),
        ));
    }
    if beneath::has_acl(opened) {
        return Err(untrusted(
            "has an access control list, which may let others write it".to_string(),
            format!(
                "{TRUSTS_ONLY_OURS} Once you have checked it holds nothing you did not write, \
                 `setfacl -b {}` and run again",
                path.display()
            ),
        ));
    }
    if meta.kind == Kind::File && meta.nlink != 1 {
        return Err(untrusted(
            format!(
                "has {} links; a lock carbon-patch trusts has one",
                meta.nlink
            ),
            format!(
                "Another name for it could be written through. Remove {} (no apply is running \
                 if none holds it) and run again",
                path.display()
            ),
        ));
    }
    Ok(())
}

impl Lock {
    /// Takes the lock on the home at `root`: finishes an interrupted commit
    /// first, then clears what dead runs left.
    ///
    /// # Errors
    /// [`Error::Held`] while another run holds it; [`Error::Untrusted`] for
    /// a stage folder or lock another user could have written;
    /// [`Error::InTheWay`] for a link or another kind of file where they
    /// go; an interrupted commit that cannot be finished.
    pub fn acquire(root: &Root) -> Result<Lock> {
        // The home's own folder first: the stage folder is found by name in
        // a folder its owner may write, and a run that found it renamed
        // away would make one of its own beside a run still committing.
        let home = HomeFlock::take(root)?;
        let (stage, fresh) = open_stage_dir(root)?;
        let path = stage.shown(LOCK);
        let (file, meta) = match stage.open_or_create(LOCK, 0o600) {
            Ok(opened) => opened,
            Err(beneath::Error::NotAFile {
                kind: Kind::Symlink,
                ..
            }) => return Err(in_the_way(&path, A_LINK)),
            Err(beneath::Error::NotAFile { .. }) => {
                return Err(in_the_way(
                    &path,
                    "is not a regular file; carbon-patch keeps its lock there. Move it away and run again",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        trust(&path, &meta, &file)?;
        lock_now(&file, &path, || holder(&stage))?;
        // Every holder writes its pid before anything else. So a lock file
        // this run created and found empty once locked was never held
        // before: there is no journal to finish and nothing to clear.
        let held_before = meta.len > 0;
        // What the last holder left, read before this run's pid goes over
        // its own: a journal, if it died committing.
        let mut left = Vec::new();
        if held_before {
            // Trusted, so written by this user's runs; bounded all the same.
            (&file)
                .take(JOURNAL_LIMIT)
                .read_to_end(&mut left)
                .map_err(|e| Error::io("cannot read", &path, e))?;
        }
        // One write: the pid and its newline land together. Not synced: it
        // only names the holder for a run that finds the lock held.
        let pid = format!(
            "{:<width$}\n",
            std::process::id(),
            width = PID_LINE as usize - 1
        );
        if let Err(e) = file.write_all_at(pid.as_bytes(), 0) {
            // A full disk, say: nothing of this run stays behind.
            if fresh {
                let _ = stage.remove_file(LOCK);
                let _ = root.top().remove_dir(STAGE_DIR);
            }
            return Err(Error::io("cannot write", &path, e));
        }
        let mut lock = Lock {
            // Not the caller's folders: a fleet's locks live until the
            // commit, and each folder kept open is a descriptor.
            root: root.detached(),
            _home: home,
            stage,
            file,
            journal: false,
            made_for_nothing: fresh && !held_before,
            finished: Vec::new(),
        };
        if fresh && !held_before {
            return Ok(lock);
        }
        // Holding the lock, nobody else is committing: an interrupted commit
        // is finished first, then what is left was left by runs that died.
        let waiting = journal::in_lock_file(&left);
        lock.finished = journal::recover(&lock.root, &lock.stage, &path, waiting)?;
        if left.len() as u64 > PID_LINE {
            lock.clear_journal()?;
        }
        clear_dead_runs(&lock.stage);
        Ok(lock)
    }

    /// [`Lock::acquire`], waiting up to `wait` while another run holds the
    /// lock: tried again at growing intervals (up to half a second), so a
    /// run started while another commits goes on once that one is done.
    ///
    /// # Errors
    /// As [`Lock::acquire`]; [`Error::Held`] once `wait` has passed.
    pub fn acquire_waiting(root: &Root, wait: std::time::Duration) -> Result<Lock> {
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(10);
        loop {
            match Lock::acquire(root) {
                Err(Error::Held { pid, .. }) if !wait.is_zero() => {
                    let waited = started.elapsed();
                    if waited >= wait {
                        return Err(Error::Held { pid, waited: wait });
                    }
                    std::thread::sleep(pause.min(wait - waited));
                    pause = (pause * 2).min(std::time::Duration::from_millis(500));
                }
                done => return done,
            }
        }
    }

    /// The order to lock the homes at `roots` in, as indexes into it: by
    /// their folders' device and inode, the same for every run. Runs that
    /// wait ([`Lock::acquire_waiting`]) and take their homes' locks one after
    /// another in this order cannot each hold a home the other waits for.
    ///
    /// # Errors
    /// What `fstat(2)` of a home's folder says.
    pub fn order<'a>(roots: impl IntoIterator<Item = &'a Root>) -> Result<Vec<usize>> {
        let mut keyed = Vec::new();
        for (i, root) in roots.into_iter().enumerate() {
            let meta = root.top().meta()?;
            keyed.push(((meta.dev, meta.ino), i));
        }
        keyed.sort_unstable();
        Ok(keyed.into_iter().map(|(_, i)| i).collect())
    }

    /// Writes the journal of the commit this run is making into the lock
    /// file, after the pid. The caller makes it durable.
    pub(crate) fn write_journal(&mut self, journal: &[u8]) -> Result<()> {
        // Set first: a write that fails midway leaves part of it.
        self.journal = true;
        self.made_for_nothing = false;
        self.file
            .write_all_at(journal, PID_LINE)
            .map_err(|e| Error::io("cannot write", self.path(), e))
    }

    /// Removes the journal: the commit it describes is complete, or undone.
    pub(crate) fn clear_journal(&mut self) -> Result<()> {
        self.file
            .set_len(PID_LINE)
            .map_err(|e| Error::io("cannot write", self.path(), e))?;
        self.journal = false;
        Ok(())
    }

    /// The lock file, to make the journal in it durable.
    pub(crate) fn journal_file(&self) -> Result<crate::durable::Durable> {
        let file = self
            .file
            .try_clone()
            .map_err(|e| Error::io("cannot sync", self.path(), e))?;
        Ok(crate::durable::Durable::File(file, self.path()))
    }

    /// The lock file's path, for messages.
    pub(crate) fn path(&self) -> PathBuf {
        self.stage.shown(LOCK)
    }

    /// The home.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The home's stage folder.
    pub(crate) fn stage(&self) -> &Dir {
        &self.stage
    }

    /// Keeps the stage folder and the lock when this value drops, as a run
    /// that wrote through it would: for tests that set a home up.
    #[cfg(test)]
    pub(crate) fn keep(&mut self) {
        self.made_for_nothing = false;
    }

    /// Whether the lock file holds a journal this run wrote.
    pub(crate) fn has_journal(&self) -> bool {
        self.journal
    }

    /// The files that finishing an interrupted commit wrote when the lock
    /// was taken, relative to the home; empty when there was none.
    pub fn finished(&self) -> &[PathBuf] {
        &self.finished
    }
}

/// A run that made the stage folder and committed nothing through this
/// lock (refused before its commit, or with nothing to change in this home)
/// takes the lock and the folder away again: a refused apply creates
/// nothing in any home. This runs before the fields drop, so the home's own
/// `flock` is still held and no other run is between; a folder that holds
/// anything else (backups) stays.
impl Drop for Lock {
    fn drop(&mut self) {
        if self.made_for_nothing {
            let _ = self.stage.remove_file(LOCK);
            let _ = self.stage.remove_dir(crate::backup::BACKUPS);
            let _ = self._home.0.remove_dir(STAGE_DIR);
        }
    }
}

/// An exclusive `flock(2)` on a home's own folder, held while it lives.
#[derive(Debug)]
struct HomeFlock(beneath::Dir);

impl HomeFlock {
    fn take(root: &Root) -> Result<HomeFlock> {
        let top = root.top().clone();
        lock_now(&top, root.path(), || {
            top.open_dir(STAGE_DIR)
                .ok()
                .and_then(|stage| holder(&stage))
        })?;
        Ok(HomeFlock(top))
    }
}

/// Takes an exclusive `flock(2)` on `opened` (`path`, for messages) without
/// waiting: [`Error::Held`], naming the pid `holder` finds, while another
/// run holds it.
fn lock_now(
    opened: &impl std::os::fd::AsFd,
    path: &Path,
    holder: impl FnOnce() -> Option<u32>,
) -> Result<()> {
    use rustix::fs::{flock, FlockOperation};
    match flock(opened, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(Error::Held {
            pid: holder(),
            waited: std::time::Duration::ZERO,
        }),
        Err(e) => {
            let e = std::io::Error::from(e);
            let hint = format!("{e} (its file system must support flock)");
            Err(Error::io(
                "cannot lock",
                path,
                std::io::Error::new(e.kind(), hint),
            ))
        }
    }
}

impl Drop for HomeFlock {
    fn drop(&mut self) {
        // The folder's descriptor is shared with the caller's root, which
        // may outlive the lock: released here, not when it closes.
        let _ = rustix::fs::flock(&self.0, rustix::fs::FlockOperation::Unlock);
    }
}

/// Why carbon-patch does not use a link where its own file or folder goes.
const A_LINK: &str = "is a symbolic link; refusing to write through it";

/// carbon-patch's own folder `name` in `parent`: made `0700` where it is
/// missing (then `true`), else opened; refused where a link or anything
/// but a folder stands. `keeps` says what it holds, for that message.
pub(crate) fn own_folder(parent: &Dir, name: &str, keeps: &str) -> Result<(Dir, bool)> {
    match parent.create_dir(name, 0o700) {
        Ok(dir) => return Ok((dir, true)),
        Err(e)
            if e.io_error()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::AlreadyExists) => {}
        Err(e) => return Err(e.into()),
    }
    let path = parent.shown(name);
    match parent.stat(name)?.map(|meta| meta.kind) {
        Some(Kind::Folder) => Ok((parent.open_dir(name)?, false)),
        Some(Kind::Symlink) => Err(in_the_way(&path, A_LINK)),
        _ => Err(in_the_way(
            &path,
            &format!(
                "is not a folder; carbon-patch keeps {keeps} there. Move it away and run again"
            ),
        )),
    }
}

fn in_the_way(path: &Path, what: &str) -> Error {
    Error::InTheWay {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
}

/// The home's stage folder, made now (a home never applied to: `true`) or
/// opened, and trusted.
fn open_stage_dir(root: &Root) -> Result<(Dir, bool)> {
    let path = root.top().shown(STAGE_DIR);
    let (stage, fresh) = own_folder(root.top(), STAGE_DIR, "its lock and journal")?;
    if fresh {
        // Made in a folder the home's owner may have given a default ACL,
        // which the new folder would carry (and pass on to all it holds).
        acl::remove_all(&stage).map_err(|e| Error::io("cannot set up", &path, e))?;
    }
    trust(&path, &stage.meta()?, &stage)?;
    Ok((stage, fresh))
}

/// Whether an interrupted commit waits in the home at `root` (read without
/// the lock: `plan` and `check` say so). A lock that cannot be read is
/// taken to hold none; `apply` reports what is wrong with it.
pub fn pending(root: &Root) -> bool {
    let Ok(stage) = root.top().open_dir(STAGE_DIR) else {
        return false;
    };
    let Ok(Some((file, _))) = stage.open_read(LOCK) else {
        return false;
    };
    // The pid line and the start of what follows it tell; a lock file is
    // never read whole here (it is not known to be this user's).
    let mut start = Vec::new();
    let read = file.take(PID_LINE + 64).read_to_end(&mut start);
    read.is_ok() && !journal::in_lock_file(&start).trim_ascii().is_empty()
}

/// The pid a held lock names on its first line (a journal may follow),
/// read a few times over a few milliseconds: a run that has just taken the
/// lock writes its pid right after.
fn holder(stage: &Dir) -> Option<u32> {
    for _ in 0..20 {
        let mut first = [0u8; PID_LINE as usize];
        let pid = stage.open_read(LOCK).ok().flatten().and_then(|(file, _)| {
            let n = file.read_at(&mut first, 0).ok()?;
            std::str::from_utf8(&first[..n])
                .ok()?
                .lines()
                .next()?
                .trim()
                .parse()
                .ok()
        });
        if pid.is_some() {
            return pid;
        }
        std::thread::sleep(std::time::Duration::from_micros(250));
    }
    None
}

/// Removes from the stage folder what runs that died left: staged files
/// (or the originals swapped with them), kept originals, and backups never
/// finished (`backups/.<stamp>.partial`). The lock (its journal finished by
/// now) and whole backups stay.
fn clear_dead_runs(stage: &Dir) {
    let Ok(entries) = stage.list() else {
        return;
    };
    for entry in entries {
        let name = entry.name.to_string_lossy();
        if !entry.is_dir && (name.starts_with(STAGED_PREFIX) || name.starts_with(KEPT_PREFIX)) {
            let _ = stage.remove_file(&entry.name);
        }
    }
    if let Ok(backups) = stage.open_dir(crate::backup::BACKUPS) {
        for entry in backups.list().unwrap_or_default() {
            if entry.is_dir && crate::backup::is_partial(&entry.name) {
                let _ = remove_tree(&backups, &entry.name);
            }
        }
    }
}

/// Removes the folder `name` in `dir` and everything in it, following no
/// link.
pub(crate) fn remove_tree(dir: &Dir, name: &OsStr) -> beneath::Result<()> {
    let inner = dir.open_dir(name)?;
    for entry in inner.list()? {
        if entry.is_dir {
            remove_tree(&inner, &entry.name)?;
        } else {
            inner.remove_file(&entry.name)?;
        }
    }
    dir.remove_dir(name)
}

/// POSIX ACLs, as the extended attributes Linux keeps them in.
pub(crate) mod acl {
    use std::os::fd::AsFd;

    /// A file's or folder's own ACL.
    pub const ACCESS: &str = "system.posix_acl_access";
    /// The ACL a folder gives what is made in it.
    pub const DEFAULT: &str = "system.posix_acl_default";

    /// Removes both ACLs of `opened`, where there are any.
    pub fn remove_all(opened: &impl AsFd) -> std::io::Result<()> {
        [ACCESS, DEFAULT]
            .iter()
            .try_for_each(|name| remove(opened, name))
    }

    /// Removes the ACL `name` of `opened`, if it has one.
    pub fn remove(opened: &impl AsFd, name: &str) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use rustix::io::Errno;
            match rustix::fs::fremovexattr(opened, name) {
                Ok(()) | Err(Errno::NODATA | Errno::NOTSUP) => {}
                Err(e) => return Err(e.into()),
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (opened, name);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
