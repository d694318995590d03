use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::tests::{as_nobody, give_to_nobody, is_held, names, root_or_fail, NOBODY};

fn acquire(home: &Path) -> Result<Lock> {
    Lock::acquire(&Root::open(home).unwrap())
}

#[test]
fn a_fresh_home_gets_a_private_lock_naming_this_process() {
    let home = tempfile::tempdir().unwrap();
    let lock = acquire(home.path()).unwrap();
    let dir = home.path().join(STAGE_DIR);
    assert_eq!(names(&dir), ["lock"]);
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&dir), mode(&dir.join("lock"))), (0o700, 0o600));
    let pid = std::fs::read_to_string(dir.join("lock")).unwrap();
    assert_eq!(pid, format!("{:<10}\n", std::process::id()));
    // Held: a second taker is refused, naming this process.
    let err = acquire(home.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "another carbon-patch (pid {}) is writing to this home; run again when it has finished",
            std::process::id()
        )
    );
    assert!(is_held(home.path()));
    drop(lock);
    // Released; having written nothing, it takes away the folder it made.
    assert!(!dir.exists());
    // A lock a run wrote through stays for the next run, and is taken again.
    acquire(home.path()).unwrap().keep();
    assert!(!is_held(home.path()));
    assert_eq!(names(&dir), ["lock"]);
    drop(acquire(home.path()).unwrap());
    assert_eq!(names(&dir), ["lock"], "a folder it did not make stays");
}

/// A stage folder as an older version of carbon-patch, or a person, made
/// it: whatever the umask gave.
fn stage_dir(home: &Path) -> PathBuf {
    let dir = home.join(STAGE_DIR);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// With a wait, a run takes the lock once its holder lets it go, and is
/// refused, saying how long it waited, when that is not soon enough.
#[test]
fn a_run_waits_for_the_lock_as_long_as_it_is_told() {
    let home = tempfile::tempdir().unwrap();
    let held = acquire(home.path()).unwrap();
    let short = std::time::Duration::from_millis(120);
    let started = std::time::Instant::now();
    let root = Root::open(home.path()).unwrap();
    let err = Lock::acquire_waiting(&root, short).unwrap_err();
    assert!(started.elapsed() >= short);
    assert_eq!(
        err.to_string(),
        format!(
            "another carbon-patch (pid {}) is writing to this home, and still was after 120ms; \
             run again when it has finished",
            std::process::id()
        )
    );
    let released = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(held);
    });
    let lock = Lock::acquire_waiting(&root, std::time::Duration::from_secs(30)).unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    released.join().unwrap();
    drop(lock);
    let shown = |waited| Error::Held { pid: None, waited }.to_string();
    let after = |ms| shown(std::time::Duration::from_millis(ms));
    assert!(after(300_000).contains(", and still was after 5m; run again"));
    assert!(after(90_000).contains(" after 1m30s;"));
    assert!(after(1_500).contains(" after 1.5s;"));
    // No wait: refused at once, as `acquire`.
    let held = acquire(home.path()).unwrap();
    let err = Lock::acquire_waiting(&root, std::time::Duration::ZERO).unwrap_err();
    assert!(matches!(err, Error::Held { waited, .. } if waited.is_zero()));
    drop(held);
}

#[test]
fn a_lock_file_held_by_no_one_is_taken_whatever_it_names() {
    // What a killed run or a reboot leaves: a pid (here longer than a real
    // one), or nothing.
    for left in ["4194305000\n", "", "not a pid"] {
        let home = tempfile::tempdir().unwrap();
        let dir = stage_dir(home.path());
        std::fs::write(dir.join("lock"), left).unwrap();
        std::fs::set_permissions(dir.join("lock"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let lock = acquire(home.path()).unwrap();
        let pid = std::fs::read_to_string(dir.join("lock")).unwrap();
        assert_eq!(pid, format!("{:<10}\n", std::process::id()), "{left:?}");
        drop(lock);
    }
}

#[test]
fn a_held_lock_that_names_no_pid_yet_is_still_refused() {
    let home = tempfile::tempdir().unwrap();
    let dir = stage_dir(home.path());
    let held = std::fs::File::create(dir.join("lock")).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    let err = acquire(home.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        "another carbon-patch is writing to this home; run again when it has finished"
    );
}

#[test]
fn a_lock_that_is_a_link_or_not_a_file_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let dir = stage_dir(home.path());
    // A file of someone else's, which a root apply must not write to.
    let theirs = home.path().join("theirs");
    std::fs::write(&theirs, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&theirs, dir.join("lock")).unwrap();
    let err = acquire(home.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: is a symbolic link; refusing to write through it",
            dir.join("lock").display()
        )
    );
    assert_eq!(std::fs::read(&theirs).unwrap(), b"keep me\n");
    // A folder, a pipe: not a lock file either (and a pipe is not waited on).
    std::fs::remove_file(dir.join("lock")).unwrap();
    std::fs::create_dir(dir.join("lock")).unwrap();
    let err = acquire(home.path()).unwrap_err().to_string();
    assert!(
        err.starts_with(&dir.join("lock").display().to_string()),
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
    let err = acquire(home.path()).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "is not a regular file; carbon-patch keeps its lock there. Move it away and run again"
        ),
        "{err}"
    );
}

#[test]
fn a_folder_that_is_a_link_or_a_file_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = home.path().join(STAGE_DIR);
    // To a folder, and to nothing at all (`mkdir` follows neither).
    for target in [
        elsewhere.path().to_path_buf(),
        elsewhere.path().join("none"),
    ] {
        std::os::unix::fs::symlink(&target, &dir).unwrap();
        let err = acquire(home.path()).unwrap_err().to_string();
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
    std::fs::write(&dir, "not a folder").unwrap();
    let err = acquire(home.path()).unwrap_err().to_string();
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

/// Finding 5: the lock hard-linked to another file, which taking the lock
/// would write a pid into.
#[test]
fn a_lock_with_another_name_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let dir = stage_dir(home.path());
    let theirs = home.path().join("theirs");
    std::fs::write(&theirs, "keep me\n").unwrap();
    std::fs::hard_link(&theirs, dir.join("lock")).unwrap();
    let err = acquire(home.path()).unwrap_err();
    assert!(matches!(err, Error::Untrusted { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "{}: has 2 links; a lock carbon-patch trusts has one. ",
            dir.join("lock").display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&theirs).unwrap(), b"keep me\n");
}

#[test]
fn a_folder_or_lock_others_may_write_is_refused() {
    for (what, mode, who) in [
        (STAGE_DIR, 0o775, "its group (mode 0775)"),
        (STAGE_DIR, 0o757, "others (mode 0757)"),
        ("lock", 0o666, "its group (mode 0666)"),
    ] {
        let home = tempfile::tempdir().unwrap();
        acquire(home.path()).unwrap().keep();
        let path = match what {
            "lock" => home.path().join(STAGE_DIR).join("lock"),
            _ => home.path().join(STAGE_DIR),
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = acquire(home.path()).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: writable by {who}. ", path.display())),
            "{err}"
        );
        assert!(
            err.contains(&format!("`chmod go-w {}`", path.display())),
            "{err}"
        );
    }
}

/// Finding 1, at its root: a stage folder, or a lock, that the home's owner
/// made (and could have written a journal into) is not trusted by root.
#[test]
fn a_folder_or_lock_another_user_owns_is_refused() {
    if !root_or_fail("a_folder_or_lock_another_user_owns_is_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    give_to_nobody(&home);
    as_nobody(
        &home,
        "mkdir -m 700 .carbon-patch && echo 1 > .carbon-patch/lock",
    );
    let err = acquire(&home).unwrap_err().to_string();
    let stage = home.join(STAGE_DIR);
    assert!(
        err.starts_with(&format!(
            "{}: owned by uid {NOBODY}, not by this user (uid 0). ",
            stage.display()
        )),
        "{err}"
    );
    assert!(
        err.ends_with(&format!(
            "If no apply is running as uid {NOBODY}, have that user run apply once (it finishes \
             an interrupted one), then remove {} and run again",
            stage.display()
        )),
        "{err}"
    );
    // Root's own folder, with a lock the owner planted in it.
    std::fs::remove_dir_all(&stage).unwrap();
    acquire(&home).unwrap().keep();
    std::fs::remove_file(stage.join("lock")).unwrap();
    std::fs::write(stage.join("lock"), "4194305   \n").unwrap();
    std::os::unix::fs::chown(stage.join("lock"), Some(NOBODY), Some(NOBODY)).unwrap();
    let err = acquire(&home).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{}: owned by uid {NOBODY}, not by this user (uid 0). ",
            stage.join("lock").display()
        )),
        "{err}"
    );
}

#[test]
fn what_dead_runs_left_is_cleared_when_the_lock_is_taken() {
    let home = tempfile::tempdir().unwrap();
    acquire(home.path()).unwrap().keep();
    let dir = home.path().join(STAGE_DIR);
    // A staged file, a kept original, a backup never finished.
    std::fs::write(dir.join(format!("{STAGED_PREFIX}x")), "new").unwrap();
    std::fs::write(dir.join(format!("{KEPT_PREFIX}x")), "old").unwrap();
    std::fs::create_dir_all(dir.join("backups/.S.partial/conf")).unwrap();
    std::fs::write(dir.join("backups/.S.partial/conf/a.xml"), "<a/>").unwrap();
    // What stays: whole backups.
    std::fs::create_dir_all(dir.join("backups/T")).unwrap();
    let _lock = acquire(home.path()).unwrap();
    assert_eq!(names(&dir), ["backups", "lock"]);
    assert_eq!(names(&dir.join("backups")), ["T"]);
}

#[test]
fn the_journal_goes_into_the_lock_file_after_the_pid() {
    let home = tempfile::tempdir().unwrap();
    let mut lock = acquire(home.path()).unwrap();
    let root = Root::open(home.path()).unwrap();
    let file = home.path().join(".carbon-patch/lock");
    assert!(!pending(&root));
    lock.write_journal(b"{\"version\": 3, \"files\": []}")
        .unwrap();
    assert!(lock.has_journal() && pending(&root));
    // A run that finds it held while the journal is there still names the
    // holder.
    let err = acquire(home.path()).unwrap_err().to_string();
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
            "{:<10}\n{{\"version\": 3, \"files\": []}}",
            std::process::id()
        )
    );
    lock.clear_journal().unwrap();
    assert!(!lock.has_journal() && !pending(&root));
    assert_eq!(std::fs::metadata(&file).unwrap().len(), PID_LINE);
}

/// Finding 5b of the second attack: the home's owner renames the stage
/// folder aside while a run holds its lock, and a second run, finding none,
/// made its own and ran beside the first. The home's own folder is locked.
#[test]
fn a_stage_folder_renamed_away_does_not_free_the_home() {
    let home = tempfile::tempdir().unwrap();
    let lock = acquire(home.path()).unwrap();
    let stage = home.path().join(STAGE_DIR);
    std::fs::rename(&stage, home.path().join("aside")).unwrap();
    let err = acquire(home.path()).unwrap_err().to_string();
    assert!(
        err.starts_with("another carbon-patch")
            && err.ends_with("is writing to this home; run again when it has finished"),
        "{err}"
    );
    assert!(!stage.exists(), "nothing made by the refused run");
    drop(lock);
    drop(acquire(home.path()).unwrap());
}
