//! One apply at a time per home: `CARBON_HOME/.carbon-patch/lock`.
//!
//! The lock is a file holding its owner's process id, created only if
//! absent. A lock whose process is gone is stale and is taken over; a live
//! one is refused with a message naming its pid, never waited on forever.
//! Whoever takes the lock first finishes any apply that a crash interrupted
//! (the journal, see `journal.rs`), then clears what dead runs left in
//! `.carbon-patch/tmp/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::journal;

/// An exclusive lock on one home: `CARBON_HOME/.carbon-patch/lock`, created
/// only if absent, holding the owner's process id. A lock whose process is
/// gone is stale and is taken over; a live one is refused, never waited on
/// forever. Dropping the lock removes it.
pub struct HomeLock {
    path: PathBuf,
    /// The files an interrupted apply's journal still had to write, which
    /// taking the lock wrote (relative to the home).
    finished: Vec<PathBuf>,
}

impl HomeLock {
    /// Takes the lock on `home`.
    pub fn acquire(home: &Path) -> Result<HomeLock> {
        let dir = home.join(".carbon-patch");
        if dir
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            anyhow::bail!(
                "{}: is a symbolic link; refusing to write through it",
                dir.display()
            );
        }
        // Made now: a home never applied to (see below).
        let fresh = match std::fs::create_dir(&dir) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => false,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
                "{}: is not a folder; carbon-patch keeps its lock and journal there. \
                 Move it away and run again",
                dir.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
        };
        let path = dir.join("lock");
        // The pid goes into a private file first, which is then linked to
        // `lock`: linking fails if `lock` exists, and a lock that exists
        // always holds its owner's pid, whenever a process is killed.
        let mine = dir.join(format!("lock.{}", std::process::id()));
        // Not synced: a process that dies leaves the pid in the page cache;
        // only a power cut can leave the lock empty, and an empty lock is
        // taken as stale (see below).
        // One write: the pid and its newline land together.
        let written = std::fs::write(&mine, format!("{}\n", std::process::id()));
        if let Err(e) = written {
            // A full disk, say: nothing of this run stays behind.
            let _ = std::fs::remove_file(&mine);
            if fresh {
                let _ = std::fs::remove_dir(&dir);
            }
            return Err(e).with_context(|| format!("cannot write {}", mine.display()));
        }
        let taken = (|| -> Result<bool> {
            // A few tries: a stale lock is removed and linking tried again,
            // and a lock released between the link and the read is gone.
            for _ in 0..4 {
                match std::fs::hard_link(&mine, &path) {
                    Ok(()) => return Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let held = match std::fs::read_to_string(&path) {
                            Ok(held) => Some(held),
                            // Its holder finished in between: try again.
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(_) => None,
                        };
                        let owner = held.as_deref().and_then(|s| s.trim().parse::<u32>().ok());
                        match owner {
                            // Empty: written by a process that lost power
                            // before its pid reached the disk; gone since.
                            None if held.as_deref() == Some("") => {
                                let _ = std::fs::remove_file(&path);
                            }
                            Some(pid) if !holder_alive(pid) => {
                                // Stale: its process died without removing it
                                // (or a reboot gave its pid to another program).
                                let _ = std::fs::remove_file(&path);
                            }
                            // The caller names the node and its home.
                            Some(pid) => anyhow::bail!(
                                "another carbon-patch (pid {pid}) is applying to this home; run again when it has finished"
                            ),
                            None => anyhow::bail!(
                                "the home is locked by {}, which names no process; if no carbon-patch is running, remove that file",
                                path.display()
                            ),
                        }
                    }
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot create {}", path.display()))
                    }
                }
            }
            Ok(false)
        })();
        let _ = std::fs::remove_file(&mine);
        if taken? {
            let mut lock = HomeLock {
                path,
                finished: Vec::new(),
            };
            let stage = dir.join("tmp");
            // Every run that takes the lock makes tmp/ before it writes
            // anything. So when this run made `.carbon-patch/` and now makes
            // tmp/, no other run has held the lock here: there is no journal
            // to finish and nothing to clear. (If tmp/ is there, another run
            // got the lock in between; then the full path below.)
            if fresh && std::fs::create_dir(&stage).is_ok() {
                return Ok(lock);
            }
            // Holding the lock, nobody else is writing: an interrupted apply
            // is finished first (the journal names its staged files), then
            // what is left in tmp/ was left by runs that died, and so were
            // the private lock files of processes gone. Clear them.
            lock.finished = journal::recover(home)?;
            match std::fs::read_dir(&stage) {
                // Emptied rather than re-made: creating inodes is what costs
                // most on some file systems, a thousand homes at a time.
                Ok(entries) => {
                    for entry in entries.flatten() {
                        let path = entry.path();
                        let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                            std::fs::remove_dir_all(&path)
                        } else {
                            std::fs::remove_file(&path)
                        };
                    }
                }
                Err(_) => std::fs::create_dir_all(&stage)
                    .with_context(|| format!("cannot create {}", stage.display()))?,
            }
            clear_private_locks(&dir, holder_alive);
            return Ok(lock);
        }
        anyhow::bail!("could not take the lock {}", path.display())
    }
}

impl HomeLock {
    /// The files that finishing an interrupted apply wrote when the lock was
    /// taken, relative to the home; empty when there was none.
    pub fn finished(&self) -> &[PathBuf] {
        &self.finished
    }
}

impl Drop for HomeLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes the private pid files (`lock.PID`) in `dir` of runs that died
/// before linking theirs to `lock`. A live run's is left alone: that run
/// is between writing it and linking it, and will find the lock held
/// (removing its file made it fail with a bare "No such file").
fn clear_private_locks(dir: &Path, alive: impl Fn(u32) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("lock.")) else {
            continue;
        };
        if pid.parse().map_or(true, |pid| !alive(pid)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether process `pid` may hold a lock: it runs, and (Linux) it is a
/// carbon-patch, its program name or executable the same as this process's.
/// A lock left by a power cut can name a pid that, after the reboot, belongs
/// to some daemon; that lock is stale. A process whose executable this one
/// may not read (another user's) is assumed to hold the lock. Elsewhere
/// than Linux, every lock is assumed held.
fn holder_alive(pid: u32) -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let proc = Path::new("/proc").join(pid.to_string());
    if !proc.exists() {
        return false;
    }
    let comm = |dir: &Path| std::fs::read(dir.join("comm")).ok();
    // A running binary that was replaced reads as "PATH (deleted)".
    let exe = |dir: &Path| {
        std::fs::read_link(dir.join("exe")).ok().map(|p| {
            let p = p.to_string_lossy().into_owned();
            p.strip_suffix(" (deleted)")
                .map(str::to_string)
                .unwrap_or(p)
        })
    };
    let me = Path::new("/proc/self");
    match (exe(&proc), exe(me)) {
        (Some(theirs), Some(mine)) => theirs == mine || comm(&proc) == comm(me),
        _ => true,
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
    fn a_fresh_home_gets_its_lock_and_an_empty_tmp() {
        let home = tempfile::tempdir().unwrap();
        let lock = HomeLock::acquire(home.path()).unwrap();
        let dir = home.path().join(".carbon-patch");
        assert_eq!(names(&dir), ["lock", "tmp"]);
        assert!(names(&dir.join("tmp")).is_empty());
        let pid = std::fs::read_to_string(dir.join("lock")).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        drop(lock);
        assert_eq!(names(&dir), ["tmp"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_when_the_pid_is_written_leaves_nothing_behind() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        std::fs::create_dir(&dir).unwrap();
        // Writing to /dev/full fails as a full disk does.
        let mine = dir.join(format!("lock.{}", std::process::id()));
        std::os::unix::fs::symlink("/dev/full", &mine).unwrap();
        let Err(err) = HomeLock::acquire(home.path()) else {
            panic!("the lock was taken on a full disk");
        };
        assert_eq!(
            format!("{err:#}"),
            format!(
                "cannot write {}: No space left on device (os error 28)",
                mine.display()
            )
        );
        assert!(names(&dir).is_empty(), "{:?}", names(&dir));
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
    fn a_lock_naming_a_live_process_of_another_program_is_stale() {
        // What a reboot after a power cut can leave: the pid now runs
        // something else (here `sleep`, not this program).
        let mut other = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("lock"), format!("{}\n", other.id())).unwrap();
        let taken = HomeLock::acquire(home.path());
        let _ = other.kill();
        let _ = other.wait();
        let lock = taken.unwrap();
        let pid = std::fs::read_to_string(dir.join("lock")).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        drop(lock);
        // This process is this program: its lock is held.
        std::fs::write(dir.join("lock"), format!("{}\n", std::process::id())).unwrap();
        let err = HomeLock::acquire(home.path()).err().unwrap().to_string();
        assert!(err.contains("another carbon-patch"), "{err}");
    }

    #[test]
    fn what_dead_runs_left_is_cleared_when_the_lock_is_taken() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".carbon-patch");
        std::fs::create_dir_all(dir.join("tmp/half-staged")).unwrap();
        std::fs::write(dir.join("tmp/.carbon-patch-staged-x"), "new").unwrap();
        // A private pid file of a run killed before it linked it.
        std::fs::write(dir.join("lock.4194305"), "4194305\n").unwrap();
        let _lock = HomeLock::acquire(home.path()).unwrap();
        assert_eq!(names(&dir), ["lock", "tmp"]);
        assert!(names(&dir.join("tmp")).is_empty());
    }

    #[test]
    fn private_lock_files_of_live_runs_are_left_to_them() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["lock.100", "lock.200", "lock.x", "lock", "journal"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        clear_private_locks(dir.path(), |pid| pid == 200);
        assert_eq!(names(dir.path()), ["journal", "lock", "lock.200"]);
    }
}
