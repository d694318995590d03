//! One apply at a time per home, and the home's journal:
//! `CARBON_HOME/.carbon-patch/lock`.
//!
//! The lock is an `flock(2)` on that file, which stays between runs. Its
//! first line names its holder's process id; while the holder commits, the
//! journal follows (`journal.rs`), so the one file a home needs anyway also
//! records the apply in flight, where a journal file of its own cost a
//! create and an unlink a home. The kernel releases the lock when its holder
//! exits, however it exits, so a lock is never stale: a held one is refused
//! with a message naming its pid, never waited on forever. Whoever takes the
//! lock first finishes any apply that a crash interrupted (the journal the
//! file still holds), then clears what dead runs staged.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::journal;

/// How the names of staged files begin (in `.carbon-patch/`, or beside
/// their targets when that is another file system): what the lock's next
/// holder finds under such a name in `.carbon-patch/`, a dead run left.
pub const STAGED_PREFIX: &str = ".carbon-patch-staged-";

/// The lock file's first line, the holder's pid padded to one width, so a
/// new holder writes its own over it without touching a journal after it.
const PID_LINE: u64 = 11;

/// An exclusive lock on one home: an `flock(2)` on
/// `CARBON_HOME/.carbon-patch/lock`, held while this value lives.
pub struct HomeLock {
    /// Open for as long as the lock is held: closing it releases the lock.
    file: std::fs::File,
    path: PathBuf,
    /// Whether the file holds a journal this run wrote.
    journal: bool,
    /// The device (file system) of `.carbon-patch/`, where staged files go.
    device: u64,
    /// The files an interrupted apply's journal still had to write, which
    /// taking the lock wrote (relative to the home).
    finished: Vec<PathBuf>,
}

/// The lock file of `home`, which also holds the journal of an apply in
/// flight.
pub fn path(home: &Path) -> PathBuf {
    home.join(".carbon-patch/lock")
}

impl HomeLock {
    /// Takes the lock on `home`.
    pub fn acquire(home: &Path) -> Result<HomeLock> {
        let dir = home.join(".carbon-patch");
        // Made now: a home never applied to (see below). What is there
        // already (`mkdir` follows no link) must be a folder, not a link.
        let fresh = match std::fs::create_dir(&dir) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                match dir.symlink_metadata() {
                    Ok(meta) if meta.file_type().is_symlink() => anyhow::bail!(
                        "{}: is a symbolic link; refusing to write through it",
                        dir.display()
                    ),
                    Ok(meta) if meta.is_dir() => false,
                    _ => anyhow::bail!(
                        "{}: is not a folder; carbon-patch keeps its lock and journal there. \
                         Move it away and run again",
                        dir.display()
                    ),
                }
            }
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
        };
        let path = path(home);
        // Never through a link: whoever may write in the home could point
        // `lock` at a file of root's, for a root apply to write its pid into.
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&path)
            .map_err(|e| {
                match e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                    true => anyhow::anyhow!(
                        "{}: is a symbolic link; refusing to write through it",
                        path.display()
                    ),
                    false => {
                        anyhow::Error::new(e).context(format!("cannot open {}", path.display()))
                    }
                }
            })?;
        let meta = file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if !meta.is_file() {
            anyhow::bail!(
                "{}: is not a regular file; carbon-patch keeps its lock there. Move it away and run again",
                path.display()
            );
        }
        use rustix::fs::{flock, FlockOperation};
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            // The caller names the node and its home.
            Err(rustix::io::Errno::WOULDBLOCK) => anyhow::bail!(match holder(&path) {
                Some(pid) => format!(
                    "another carbon-patch (pid {pid}) is applying to this home; run again when it has finished"
                ),
                None => "another carbon-patch is applying to this home; run again when it has finished"
                    .to_string(),
            }),
            Err(e) => {
                return Err(std::io::Error::from(e)).with_context(|| {
                    format!("cannot lock {} (its file system must support flock)", path.display())
                })
            }
        }
        // Every holder writes its pid before it writes anything else. So a
        // lock file this run created and found empty once locked was never
        // held before: there is no journal to finish and nothing to clear.
        // (Another run could have opened it between its creation and this
        // run's lock, held it and died; then it names that run.)
        let held_before = meta.len() > 0;
        // What the last holder left, read before this run's pid goes over
        // its own: a journal, if it died committing.
        let mut left = Vec::new();
        if held_before {
            use std::io::Read;
            (&file)
                .read_to_end(&mut left)
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        // One write: the pid and its newline land together. Not synced: it
        // only names the holder for a run that finds the lock held.
        use std::os::unix::fs::FileExt;
        let pid = format!(
            "{:<width$}\n",
            std::process::id(),
            width = PID_LINE as usize - 1
        );
        if let Err(e) = file.write_all_at(pid.as_bytes(), 0) {
            // A full disk, say: nothing of this run stays behind.
            if fresh {
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_dir(&dir);
            }
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        use std::os::unix::fs::MetadataExt;
        let mut lock = HomeLock {
            file,
            path,
            journal: false,
            device: meta.dev(),
            finished: Vec::new(),
        };
        if fresh && !held_before {
            return Ok(lock);
        }
        // Holding the lock, nobody else is writing: an interrupted apply is
        // finished first (an older version's journal file, or the journal
        // the lock file holds), then what is left was left by runs that
        // died. Clear it, and the finished journal with it.
        lock.finished = journal::recover_file(home)?;
        let journal = journal::in_lock_file(&left);
        lock.finished
            .extend(journal::recover(home, &lock.path, journal)?);
        if left.len() as u64 > PID_LINE {
            lock.clear_journal()?;
        }
        clear_dead_runs(&dir);
        Ok(lock)
    }

    /// Writes the journal of the apply this run is committing into the lock
    /// file, after the pid. The caller makes it durable.
    pub fn write_journal(&mut self, journal: &[u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        // Set first: a write that fails midway leaves part of it.
        self.journal = true;
        self.file
            .write_all_at(journal, PID_LINE)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Removes the journal: the apply it describes is complete, or undone.
    pub fn clear_journal(&mut self) -> Result<()> {
        self.file
            .set_len(PID_LINE)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.journal = false;
        Ok(())
    }

    /// The device (file system) of the home's `.carbon-patch/` folder, the
    /// lock file's own.
    pub fn device(&self) -> u64 {
        self.device
    }

    /// Whether the lock file holds a journal this run wrote.
    pub fn has_journal(&self) -> bool {
        self.journal
    }

    /// The files that finishing an interrupted apply wrote when the lock was
    /// taken, relative to the home; empty when there was none.
    pub fn finished(&self) -> &[PathBuf] {
        &self.finished
    }
}

/// Whether some run holds the lock on `home` now (for tests: a lock file
/// stays when its lock is released).
#[cfg(test)]
pub fn is_held(home: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path(home)) else {
        return false;
    };
    use rustix::fs::{flock, FlockOperation};
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => false,
        Err(e) => e == rustix::io::Errno::WOULDBLOCK,
    }
}

/// The pid a held lock names on its first line (a journal may follow),
/// read a few times over a few milliseconds: a run that has just taken the
/// lock writes its pid right after.
fn holder(path: &Path) -> Option<u32> {
    for _ in 0..20 {
        let pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.lines().next()?.trim().parse().ok());
        if pid.is_some() {
            return pid;
        }
        std::thread::sleep(std::time::Duration::from_micros(250));
    }
    None
}

/// Removes from `dir` (`.carbon-patch/`) what runs that died left: staged
/// files (or the originals swapped with them) and hard-linked originals,
/// and what earlier versions left (the `tmp/` folder they staged in, their
/// `journal.new` and private `lock.PID` files).
/// The lock, the journal (finished by now) and the backups stay.
fn clear_dead_runs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let left = name.starts_with(STAGED_PREFIX)
            || name.starts_with("original-")
            || name.starts_with("lock.")
            || name == "journal.new";
        if left {
            let _ = std::fs::remove_file(entry.path());
        } else if name == "tmp" {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_fresh_home_gets_its_lock_naming_this_process() {
        let home = tempfile::tempdir().unwrap();
        let lock = HomeLock::acquire(home.path()).unwrap();
        let dir = home.path().join(".carbon-patch");
        assert_eq!(names(&dir), ["lock"]);
        let pid = std::fs::read_to_string(dir.join("lock")).unwrap();
        assert_eq!(pid, format!("{:<10}\n", std::process::id()));
        // Held: a second taker is refused, naming this process.
        let err = HomeLock::acquire(home.path()).err().unwrap().to_string();
        assert_eq!(
            err,
            format!(
                "another carbon-patch (pid {}) is applying to this home; run again when it has finished",
                std::process::id()
            )
        );
        assert!(is_held(home.path()));
        drop(lock);
        // Released, and the file stays for the next run.
        assert!(!is_held(home.path()));
        assert_eq!(names(&dir), ["lock"]);
        let again = HomeLock::acquire(home.path()).unwrap();
        drop(again);
    }

    #[test]
    fn a_lock_file_held_by_no_one_is_taken_whatever_it_names() {
        // What a killed run, an older version or a reboot leaves: a pid
        // (here this live process's, longer than a real one), or nothing.
        for left in ["4194305000\n", "", "not a pid"] {
            let home = tempfile::tempdir().unwrap();
            let dir = home.path().join(".carbon-patch");
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("lock"), left).unwrap();
            let lock = HomeLock::acquire(home.path()).unwrap();
            let pid = std::fs::read_to_string(dir.join("lock")).unwrap();
            assert_eq!(pid, format!("{:<10}\n", std::process::id()), "{left:?}");
            drop(lock);
        }
    }

    #[test]
    fn a_held_lock_that_names_no_pid_yet_is_still_refused() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        std::fs::create_dir(&dir).unwrap();
        let held = std::fs::File::create(dir.join("lock")).unwrap();
        rustix::fs::flock(&held, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
        let err = HomeLock::acquire(home.path()).err().unwrap().to_string();
        assert_eq!(
            err,
            "another carbon-patch is applying to this home; run again when it has finished"
        );
    }

    #[test]
    fn a_lock_that_is_a_link_or_not_a_file_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        std::fs::create_dir(&dir).unwrap();
        // A file of someone else's, which a root apply must not write to.
        let theirs = home.path().join("theirs");
        std::fs::write(&theirs, "keep me\n").unwrap();
        std::os::unix::fs::symlink(&theirs, dir.join("lock")).unwrap();
        let err = HomeLock::acquire(home.path()).err().unwrap().to_string();
        assert_eq!(
            err,
            format!(
                "{}: is a symbolic link; refusing to write through it",
                dir.join("lock").display()
            )
        );
        assert_eq!(std::fs::read(&theirs).unwrap(), b"keep me\n");
        // A folder, a pipe: not a lock file either.
        std::fs::remove_file(dir.join("lock")).unwrap();
        std::fs::create_dir(dir.join("lock")).unwrap();
        let err = format!("{:#}", HomeLock::acquire(home.path()).err().unwrap());
        assert!(
            err.starts_with(&format!("cannot open {}", dir.join("lock").display())),
            "{err}"
        );
        std::fs::remove_dir(dir.join("lock")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.join("lock"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = HomeLock::acquire(home.path()).err().unwrap().to_string();
        assert!(err.ends_with("is not a regular file; carbon-patch keeps its lock there. Move it away and run again"), "{err}");
    }

    #[test]
    fn a_folder_that_is_a_link_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        // To a folder, and to nothing at all (`mkdir` follows neither).
        for target in [
            elsewhere.path().to_path_buf(),
            elsewhere.path().join("none"),
        ] {
            std::os::unix::fs::symlink(&target, &dir).unwrap();
            let err = HomeLock::acquire(home.path()).err().unwrap().to_string();
            assert_eq!(
                err,
                format!(
                    "{}: is a symbolic link; refusing to write through it",
                    dir.display()
                )
            );
            std::fs::remove_file(&dir).unwrap();
        }
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_file_where_the_folder_goes_is_named() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        std::fs::write(&dir, "not a folder").unwrap();
        let err = HomeLock::acquire(home.path()).err().unwrap().to_string();
        assert_eq!(
            err,
            format!(
                "{}: is not a folder; carbon-patch keeps its lock and journal there. \
                 Move it away and run again",
                dir.display()
            )
        );
        assert_eq!(std::fs::read(&dir).unwrap(), b"not a folder");
    }

    #[test]
    fn what_dead_runs_left_is_cleared_when_the_lock_is_taken() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        // An older version's staging folder and private pid file.
        std::fs::create_dir_all(dir.join("tmp/half-staged")).unwrap();
        std::fs::write(dir.join("lock.4194305"), "4194305\n").unwrap();
        // An older version's unfinished journal; this version's staged
        // file and hard-linked original.
        std::fs::write(dir.join(format!("{STAGED_PREFIX}x")), "new").unwrap();
        std::fs::write(dir.join("original-0"), "old").unwrap();
        std::fs::write(dir.join("journal.new"), "{\"vers").unwrap();
        // What stays: the backups.
        std::fs::create_dir_all(dir.join("backups/S")).unwrap();
        let _lock = HomeLock::acquire(home.path()).unwrap();
        assert_eq!(names(&dir), ["backups", "lock"]);
        assert_eq!(names(&dir.join("backups")), ["S"]);
    }

    #[test]
    fn the_journal_goes_into_the_lock_file_after_the_pid() {
        let home = tempfile::tempdir().unwrap();
        let mut lock = HomeLock::acquire(home.path()).unwrap();
        let file = home.path().join(".carbon-patch/lock");
        assert!(!journal::pending(home.path()));
        lock.write_journal(b"{\"version\": 2, \"files\": []}")
            .unwrap();
        assert!(lock.has_journal() && journal::pending(home.path()));
        // A run that finds it held while the journal is there still names
        // the holder.
        let err = HomeLock::acquire(home.path()).err().unwrap().to_string();
        assert!(
            err.starts_with(&format!(
                "another carbon-patch (pid {}) ",
                std::process::id()
            )),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!(
                "{:<10}\n{{\"version\": 2, \"files\": []}}",
                std::process::id()
            )
        );
        lock.clear_journal().unwrap();
        assert!(!lock.has_journal() && !journal::pending(home.path()));
        assert_eq!(std::fs::metadata(&file).unwrap().len(), PID_LINE);
    }

    #[test]
    fn a_journal_left_in_the_lock_file_is_finished_when_the_lock_is_taken() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        std::fs::create_dir(&dir).unwrap();
        let target = home.path().join("a.xml");
        std::fs::write(&target, "old").unwrap();
        let staged = Path::new(".carbon-patch").join(format!("{STAGED_PREFIX}a"));
        std::fs::write(home.path().join(&staged), "new").unwrap();
        let entries = [journal::Entry {
            target: "a.xml".into(),
            staged,
            identity: Some(journal::Identity::of(&target).unwrap()),
        }];
        // What a run killed while renaming leaves: its pid, then its journal.
        let mut left = b"4194305   \n".to_vec();
        left.extend(journal::encode(&entries).unwrap());
        std::fs::write(dir.join("lock"), left).unwrap();
        let lock = HomeLock::acquire(home.path()).unwrap();
        assert_eq!(lock.finished(), [PathBuf::from("a.xml")]);
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(
            std::fs::read_to_string(dir.join("lock")).unwrap(),
            format!("{:<10}\n", std::process::id()),
            "the journal is gone, the pid is this run's"
        );
        assert_eq!(names(&dir), ["lock"]);
    }
}
