//! Commits end to end, on real folders: what each writes, what each
//! refuses, and what a home's owner acting in the middle of one can do.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::pause::{hook, Point};

/// A home at `dir/home` holding `files`.
pub(crate) fn home(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let home = dir.join("home");
    for (rel, body) in files {
        let path = home.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    std::fs::create_dir_all(&home).unwrap();
    home
}

/// `changes` (path, before, after) staged on the home at `home`, under
/// its lock.
fn staged(home: &Path, changes: &[(&str, Option<&str>, &str)]) -> Result<Staged> {
    let root = beneath::Root::open(home).unwrap();
    let mut staged = Staged::new("node node1", Lock::acquire(&root)?);
    for (path, before, after) in changes {
        // What a plan would have read: the file there now, if any.
        let read_from = root.metadata(path).ok().flatten().unwrap_or(NEVER);
        let planned = before.map(|bytes| Planned {
            bytes: bytes.as_bytes(),
            read_from: &read_from,
        });
        staged.add(Path::new(path), planned, after.as_bytes())?;
    }
    Ok(staged)
}

pub(crate) fn commit_one(
    home: &Path,
    changes: &[(&str, Option<&str>, &str)],
    backup: Option<&str>,
) -> Result<usize> {
    let mut trees = vec![staged(home, changes)?];
    let report = commit(&mut trees, Options { backup, jobs: 2 })?;
    Ok(report.written)
}

/// A file no plan read: no device and inode are these.
const NEVER: beneath::Meta = beneath::Meta {
    kind: beneath::Kind::File,
    mode: 0,
    uid: 0,
    gid: 0,
    nlink: 0,
    len: 0,
    dev: u64::MAX,
    ino: u64::MAX,
};

const AB: [(&str, Option<&str>, &str); 2] = [
    ("a.xml", Some("<a/>"), "<a x='1'/>"),
    ("b.xml", Some("<b/>"), "<b x='1'/>"),
];

pub(crate) fn read(home: &Path, rel: &str) -> String {
    std::fs::read_to_string(home.join(rel)).unwrap()
}

/// Whether some run holds the lock on `home` now.
pub(crate) fn is_held(home: &Path) -> bool {
    let Ok(file) = std::fs::File::open(home.join(".carbon-patch/lock")) else {
        return false;
    };
    use rustix::fs::{flock, FlockOperation};
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => false,
        Err(e) => e == rustix::io::Errno::WOULDBLOCK,
    }
}

/// The names in the folder `dir`, sorted.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether this test may go on: true as root; otherwise a failure, unless
/// the run asked to skip what needs root.
pub(crate) fn root_or_fail(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    if std::env::var("CARBON_PATCH_ROOT_TESTS").as_deref() == Ok("skip") {
        eprintln!("{test}: skipped (not root, and CARBON_PATCH_ROOT_TESTS=skip)");
        return false;
    }
    panic!(
        "{test} needs root, to act as the home's owner through setpriv (CI runs as root); \
         run the tests as root, or set CARBON_PATCH_ROOT_TESTS=skip to skip it"
    );
}

pub(crate) const NOBODY: u32 = 65534;

/// Gives everything under `path` to `nobody`, and lets `nobody` into its
/// folder.
pub(crate) fn give_to_nobody(path: &Path) {
    let chowned = Command::new("chown")
        .args(["-R", &format!("{NOBODY}:{NOBODY}")])
        .arg(path)
        .status()
        .unwrap();
    assert!(chowned.success());
    let parent = path.parent().unwrap();
    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `script` with `sh` as `nobody`, in `dir`.
pub(crate) fn as_nobody(dir: &Path, script: &str) {
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "sh",
            "-euc",
            script,
        ])
        .current_dir(dir)
        .output()
        .expect("setpriv (util-linux) runs");
    assert!(
        out.status.success(),
        "as nobody: {script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_file_edited_after_the_plan_stops_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    // Someone edited b.xml after it was planned from "<b/>".
    let home = home(
        dir.path(),
        &[("a.xml", "<a/>"), ("b.xml", "<b edited='yes'/>")],
    );
    let err = commit_one(&home, &AB, None).unwrap_err();
    assert!(err.wrote_nothing());
    assert_eq!(
        err.to_string(),
        format!(
            "node node1: {} changed after it was planned; run again",
            home.join("b.xml").display()
        )
    );
    assert_eq!(read(&home, "a.xml"), "<a/>", "a.xml untouched");
    assert!(
        !home.join(".carbon-patch").exists(),
        "nothing staged is left, nor the folder the run made"
    );
}

#[test]
fn a_file_removed_or_made_after_the_plan_stops_the_run_too() {
    let dir = tempfile::tempdir().unwrap();
    // Removed: b.xml was planned from "<b/>" and is gone.
    let home = home(dir.path(), &[("a.xml", "<a/>")]);
    let err = commit_one(&home, &AB, None).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("b.xml changed after it was planned; run again"),
        "{err}"
    );
    assert!(!home.join("b.xml").exists());
    // Made: the plan creates c.xml, which someone made meanwhile.
    let creating = [AB[0], ("c.xml", None, "<c/>")];
    std::fs::write(home.join("c.xml"), "<theirs/>").unwrap();
    let err = commit_one(&home, &creating, None).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("c.xml changed after it was planned; run again"),
        "{err}"
    );
    assert_eq!(read(&home, "c.xml"), "<theirs/>");
    // Still absent: created, with its folder.
    std::fs::remove_file(home.join("c.xml")).unwrap();
    let in_new_folder = [
        AB[0],
        ("c.xml", None, "<c/>"),
        ("lib/new/d.jar", None, "jar"),
    ];
    assert_eq!(commit_one(&home, &in_new_folder, None).unwrap(), 3);
    assert_eq!(read(&home, "c.xml"), "<c/>");
    assert_eq!(read(&home, "lib/new/d.jar"), "jar");
}

#[test]
fn the_commit_releases_each_lock_and_keeps_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
    let mut trees = vec![staged(&home, &AB).unwrap()];
    assert!(is_held(&home));
    let report = commit(
        &mut trees,
        Options {
            backup: None,
            jobs: 2,
        },
    )
    .unwrap();
    assert_eq!(report.written, 2);
    assert_eq!(
        report
            .steps
            .phases()
            .map(|(step, _)| step)
            .collect::<Vec<_>>(),
        [
            "check the files are unchanged",
            "write the journals",
            "sync (staged files, journals)",
            "rename the staged files",
            "sync (renames)",
            "remove the journals, kept originals and locks",
        ]
    );
    // Released by the commit's last step, not when the caller drops the
    // trees after reporting.
    assert!(!is_held(&home));
    assert_eq!(
        trees[0].paths().count(),
        2,
        "the report still has the files"
    );
    assert_eq!(read(&home, "b.xml"), "<b x='1'/>");
    assert_eq!(names(&home.join(".carbon-patch")), ["lock"]);
}

#[test]
fn permissions_owner_and_group_are_kept() {
    // 0666: bits a umask of 022 or 002 takes from a new file, which the
    // staged file must get back.
    for wanted in [0o640, 0o666, 0o600] {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
        for name in ["a.xml", "b.xml"] {
            std::fs::set_permissions(home.join(name), std::fs::Permissions::from_mode(wanted))
                .unwrap();
        }
        // Only root can give a file away; elsewhere the owner stays ours.
        let owner = match std::os::unix::fs::chown(home.join("b.xml"), Some(4321), Some(4322)) {
            Ok(()) => (4321, 4322),
            Err(_) => {
                use std::os::unix::fs::MetadataExt;
                let meta = std::fs::metadata(home.join("b.xml")).unwrap();
                (meta.uid(), meta.gid())
            }
        };
        assert_eq!(commit_one(&home, &AB, None).unwrap(), 2);
        for name in ["a.xml", "b.xml"] {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(home.join(name)).unwrap();
            assert_eq!(meta.mode() & 0o7777, wanted, "{name}");
            if name == "b.xml" {
                assert_eq!((meta.uid(), meta.gid()), owner);
            }
        }
        assert_eq!(read(&home, "b.xml"), "<b x='1'/>");
    }
}

/// What root makes in a home (a new file, the folders it needs) is its
/// owner's, as what is around it is, and never one of root's own that the
/// owner could pass off as a folder root trusts.
#[test]
fn what_root_makes_in_a_home_takes_the_owner_of_its_folder() {
    if !root_or_fail("what_root_makes_in_a_home_takes_the_owner_of_its_folder") {
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("conf/a.xml", "<a/>")]);
    give_to_nobody(&home);
    let made = [
        ("conf/new.xml", None, "<new/>"),
        ("lib/drivers/x.jar", None, "jar"),
    ];
    assert_eq!(commit_one(&home, &made, None).unwrap(), 2);
    for made in ["conf/new.xml", "lib", "lib/drivers", "lib/drivers/x.jar"] {
        let meta = std::fs::metadata(home.join(made)).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY), "{made}");
    }
    // A new file's mode is any new file's; with a mode asked for, that one.
    let mode = |rel: &str| std::fs::metadata(home.join(rel)).unwrap().mode() & 0o777;
    assert_eq!(mode("conf/new.xml"), 0o666 & !umask());
    let root = beneath::Root::open(&home).unwrap();
    let mut staged = Staged::new("node node1", Lock::acquire(&root).unwrap());
    staged
        .add_with_mode(Path::new("conf/secret.xml"), None, b"<s/>", 0o600)
        .unwrap();
    commit(
        &mut [staged],
        Options {
            backup: None,
            jobs: 1,
        },
    )
    .unwrap();
    assert_eq!(mode("conf/secret.xml"), 0o600);
}

/// This process's umask, as the kernel reports it (setting it to read it
/// would race the other tests' files).
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .unwrap();
    u32::from_str_radix(line.trim(), 8).unwrap()
}

#[test]
fn a_backup_is_whole_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("conf/b.xml", "<b/>")]);
    let changes = [AB[0], ("conf/b.xml", Some("<b/>"), "<b x='1'/>")];
    assert_eq!(commit_one(&home, &changes, Some("S")).unwrap(), 2);
    let backups = home.join(".carbon-patch/backups");
    assert_eq!(names(&backups), ["S"], "finished: no partial folder left");
    assert_eq!(read(&backups, "S/conf/b.xml"), "<b/>");
    assert_eq!(read(&backups, "S/a.xml"), "<a/>");
    // A second run under the same stamp: refused, nothing written.
    let again = [("a.xml", Some("<a x='1'/>"), "<a x='2'/>")];
    let err = commit_one(&home, &again, Some("S")).unwrap_err();
    assert!(err.wrote_nothing());
    assert!(
        err.to_string()
            .contains("exists already; not overwriting it"),
        "{err}"
    );
    assert_eq!(read(&backups, "S/a.xml"), "<a/>", "the older original");
    assert_eq!(read(&home, "a.xml"), "<a x='1'/>");
    assert_eq!(names(&backups), ["S"]);
}

#[test]
fn backups_go_only_into_a_folder_the_run_makes() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
    // `backups` made a link to a folder of someone else's choosing.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    staged(&home, &[]).unwrap().lock().keep(); // makes the stage folder
    std::os::unix::fs::symlink(&elsewhere, home.join(".carbon-patch/backups")).unwrap();
    let err = commit_one(&home, &AB, Some("S")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "node node1: {}: is a symbolic link; refusing to write through it",
            home.join(".carbon-patch/backups").display()
        )
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert_eq!(read(&home, "b.xml"), "<b/>");
}

#[test]
fn a_failure_before_the_replacements_leaves_no_journal_to_finish() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let homes: Vec<PathBuf> = dirs
        .iter()
        .map(|dir| home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]))
        .collect();
    let mut trees: Vec<Staged> = homes
        .iter()
        .map(|home| staged(home, &AB).unwrap())
        .collect();
    // The second home's backup cannot be made: one is there already.
    std::fs::create_dir_all(homes[1].join(".carbon-patch/backups/S")).unwrap();
    let err = commit(
        &mut trees,
        Options {
            backup: Some("S"),
            jobs: 2,
        },
    )
    .unwrap_err();
    assert!(err.wrote_nothing(), "{err}");
    drop(trees);
    for home in &homes {
        assert!(
            !pending(&beneath::Root::open(home).unwrap()),
            "no journal left"
        );
        assert_eq!(read(home, "b.xml"), "<b/>");
    }
    // The first home's journal was written, then cleared: its lock stays.
    // The second's was not: its lock went with the run, and the backups
    // folder stays for the backup that was there.
    assert_eq!(names(&homes[0].join(".carbon-patch")), ["backups", "lock"]);
    assert_eq!(names(&homes[1].join(".carbon-patch")), ["backups"]);
    assert_eq!(
        names(&homes[0].join(".carbon-patch/backups")),
        Vec::<String>::new()
    );
    assert_eq!(names(&homes[1].join(".carbon-patch/backups")), ["S"]);
}

#[test]
fn either_way_of_replacing_keeps_the_original_to_put_back() {
    for exchange in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
        let mut tree = staged(&home, &AB).unwrap();
        tree.verify().unwrap();
        tree.prepare(None).unwrap();
        let mut way = exchange;
        for i in 0..tree.files.len() {
            tree.files[i].original = commit::replace(&tree.files[i], &mut way).unwrap();
            tree.renamed += 1;
        }
        assert_eq!(way, exchange && cfg!(target_os = "linux"));
        for (file, old) in tree.files.iter().zip(["<a/>", "<b/>"]) {
            let kept = file.original.clone().expect("an original");
            assert_eq!(
                std::fs::read_to_string(file.stage.shown(&kept)).unwrap(),
                old
            );
            let expected = if way {
                file.staged.clone()
            } else {
                stage::kept_name(&file.staged)
            };
            assert_eq!(kept, expected);
        }
        assert_eq!(read(&home, "a.xml"), "<a x='1'/>");
        let failed = Error::Changed {
            path: "x.xml".into(),
        };
        let err = commit::roll_back(std::slice::from_mut(&mut tree), failed);
        assert_eq!(
            err.to_string(),
            "nothing was changed: the 2 file(s) written before the failure were restored: \
             x.xml changed after it was planned; run again"
        );
        assert_eq!(
            (read(&home, "a.xml"), read(&home, "b.xml")),
            ("<a/>".into(), "<b/>".into())
        );
        assert!(!pending(&beneath::Root::open(&home).unwrap()));
    }
}

/// Finding 3: an edit that lands between the check and the swap (here,
/// made just before the second file's swap) was lost. It is kept, the
/// first file is put back, and the run says so.
#[test]
fn an_edit_made_while_the_files_are_replaced_is_kept() {
    for replacing in ["b.xml", "a.xml"] {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
        let edited = home.join(replacing);
        let target = edited.clone();
        let _hooked = hook(dir.path(), move |point, path| {
            if point == Point::BeforeSwap && path == target {
                std::fs::write(&target, "<hand-edited/>").unwrap();
            }
        });
        let err = commit_one(&home, &AB, None).unwrap_err();
        assert!(!err.wrote_nothing(), "it wrote, and put back");
        assert_eq!(
            err.to_string(),
            format!(
                "nothing was changed: the {} file(s) written before the failure were restored: \
                 node node1: {} was edited while it was being written; the edit is kept and \
                 nothing of this node was written; run again",
                if replacing == "b.xml" { 1 } else { 0 },
                edited.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&edited).unwrap(), "<hand-edited/>");
        let other = if replacing == "b.xml" {
            "a.xml"
        } else {
            "b.xml"
        };
        assert_eq!(
            read(&home, other),
            format!("<{}/>", &other[..1]),
            "put back"
        );
        assert!(!pending(&beneath::Root::open(&home).unwrap()));
        assert_eq!(names(&home.join(".carbon-patch")), ["lock"]);
    }
}

/// A file the plan creates, made by someone between the check and its
/// rename: theirs stays.
#[test]
fn a_file_made_while_the_files_are_replaced_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>")]);
    let target = home.join("c.xml");
    let made = target.clone();
    let _hooked = hook(dir.path(), move |point, path| {
        if point == Point::BeforeSwap && path == made {
            std::fs::write(&made, "<theirs/>").unwrap();
        }
    });
    let err = commit_one(&home, &[AB[0], ("c.xml", None, "<c/>")], None).unwrap_err();
    assert!(
        err.to_string()
            .contains("c.xml was edited while it was being written"),
        "{err}"
    );
    assert_eq!(read(&home, "c.xml"), "<theirs/>");
    assert_eq!(read(&home, "a.xml"), "<a/>");
}

/// Finding 2: the folder of a file swapped, once the journal is written,
/// for a link to a folder of root's. The commit writes into the folder it
/// checked, wherever that now is, and nothing of root's changes.
#[test]
fn a_folder_swapped_for_a_link_during_the_commit_leads_nowhere() {
    if !root_or_fail("a_folder_swapped_for_a_link_during_the_commit_leads_nowhere") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home(
        dir.path(),
        &[("conf/axis2/axis2.xml", "<a/>"), ("b.xml", "<b/>")],
    );
    let roots = dir.path().join("roots");
    std::fs::create_dir(&roots).unwrap();
    std::fs::write(roots.join("axis2.xml"), "<root-owned/>").unwrap();
    give_to_nobody(&home);
    let changes = [("conf/axis2/axis2.xml", Some("<a/>"), "<a x='1'/>"), AB[1]];
    let (home_at, roots_at) = (home.clone(), roots.clone());
    let _hooked = hook(dir.path(), move |point, _| {
        if point == Point::Journalled {
            as_nobody(
                &home_at,
                &format!(
                    "mv conf/axis2 conf/moved && ln -s {} conf/axis2",
                    roots_at.display()
                ),
            );
        }
    });
    assert_eq!(commit_one(&home, &changes, None).unwrap(), 2);
    assert_eq!(read(&roots, "axis2.xml"), "<root-owned/>");
    assert_eq!(names(&roots), ["axis2.xml"]);
    assert_eq!(read(&home, "conf/moved/axis2.xml"), "<a x='1'/>");
    // The next run meets the link, and refuses it.
    let err = staged(
        &home,
        &[("conf/axis2/axis2.xml", Some("<root-owned/>"), "<x/>")],
    )
    .unwrap_err();
    assert!(err.to_string().contains("leads to"), "{err}");
}

/// Finding 6: a backup copy exists with its original's permissions (here
/// 0600) from the moment it is created, in a folder only this user can
/// enter, under a name that does not count until it is whole.
#[test]
fn a_backup_is_never_more_readable_than_its_original() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(
        dir.path(),
        &[("a.xml", "<a/>"), ("b.xml", "<b password='x'/>")],
    );
    std::fs::set_permissions(home.join("b.xml"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let _hooked = hook(dir.path(), move |point, path| {
        if point == Point::BackedUp {
            use std::os::unix::fs::MetadataExt;
            let mode = std::fs::metadata(path).unwrap().mode() & 0o777;
            let folder = std::fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777;
            record
                .lock()
                .unwrap()
                .push((path.to_path_buf(), mode, folder));
        }
    });
    let changes = [
        AB[0],
        ("b.xml", Some("<b password='x'/>"), "<b password='y'/>"),
    ];
    assert_eq!(commit_one(&home, &changes, Some("S")).unwrap(), 2);
    let partial = home.join(".carbon-patch/backups/.S.partial");
    let umask_keeps = |mode: u32| {
        // The umask may take bits, never add them.
        mode & !0o644 == 0
    };
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for (path, mode, folder) in seen.iter() {
        assert!(path.starts_with(&partial), "{}", path.display());
        assert_eq!(*folder, 0o700);
        match path.file_name().unwrap().to_str().unwrap() {
            "b.xml" => assert_eq!(*mode & !0o600, 0, "b.xml copy made {mode:o}"),
            _ => assert!(umask_keeps(*mode), "{mode:o}"),
        }
    }
    assert_eq!(
        read(&home, ".carbon-patch/backups/S/b.xml"),
        "<b password='x'/>"
    );
}

/// Finding 12: a commit syncs exactly what it wrote (its staged files,
/// journal, folders), never a whole file system.
#[test]
fn a_commit_syncs_its_own_files_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(
        dir.path(),
        &[
            ("a.xml", "<a/>"),
            ("conf/b.xml", "<b/>"),
            ("other.xml", "<o/>"),
        ],
    );
    let changes = [
        AB[0],
        ("conf/b.xml", Some("<b/>"), "<b x='1'/>"),
        ("lib/new/c.jar", None, "jar"),
    ];
    let mut trees = vec![staged(&home, &changes).unwrap()];
    let staged_names: Vec<PathBuf> = trees[0]
        .files
        .iter()
        .map(|f| f.stage.shown(&f.staged))
        .collect();
    commit(
        &mut trees,
        Options {
            backup: None,
            jobs: 2,
        },
    )
    .unwrap();
    let mut synced = crate::pause::synced_under(dir.path());
    synced.sort();
    let stage = home.join(".carbon-patch");
    // The folders made for c.jar: their names in their parents before the
    // replacements, the last one's entry for c.jar after.
    let mut expected = vec![
        home.clone(),
        home.clone(),
        home.join("conf"),
        home.join("lib"),
        home.join("lib/new"),
        stage.clone(),
        stage.clone(),
        stage.join("lock"),
    ];
    expected.extend(staged_names);
    expected.sort();
    assert_eq!(synced, expected);
}

/// A run that stops before its commit, or is rolled back, takes away the
/// folders it made for new files: nothing is written when anything is
/// wrong. A folder that holds something of someone else's by then stays.
#[test]
fn folders_made_for_new_files_go_when_the_run_stops() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("b.xml", "<b/>")]);
    let changes = [
        ("lib/new/d.jar", None, "jar"),
        ("b.xml", Some("<b/>"), "<b x='1'/>"),
    ];
    // Stopped before the commit: b.xml changed since it was planned.
    let stale = [changes[0], ("b.xml", Some("<old/>"), "<b x='1'/>")];
    let err = commit_one(&home, &stale, None).unwrap_err();
    assert!(err.wrote_nothing(), "{err}");
    assert!(!home.join("lib").exists());
    // Dropped before the commit, as when another home is refused.
    drop(staged(&home, &changes).unwrap());
    assert!(!home.join("lib").exists());
    // Rolled back: b.xml is edited by hand just before it is swapped, once
    // d.jar is in place; on the second run someone also leaves a file in
    // lib/ meanwhile.
    let (b, theirs) = (home.join("b.xml"), home.join("lib/theirs.txt"));
    let leave_theirs = std::sync::Arc::new(AtomicBool::new(false));
    let leave = leave_theirs.clone();
    let _hooked = hook(dir.path(), move |point, path| {
        if point == Point::BeforeSwap && path == b {
            std::fs::write(&b, "<b hand-edited='yes'/>").unwrap();
            if leave.load(Ordering::Relaxed) {
                std::fs::write(&theirs, "theirs").unwrap();
            }
        }
    });
    let err = commit_one(&home, &changes, None).unwrap_err();
    assert!(
        matches!(err, Error::RolledBack { restored: 1, .. }),
        "{err}"
    );
    assert!(!home.join("lib").exists());
    std::fs::write(home.join("b.xml"), "<b/>").unwrap();
    leave_theirs.store(true, Ordering::Relaxed);
    let err = commit_one(&home, &changes, None).unwrap_err();
    assert!(matches!(err, Error::RolledBack { .. }), "{err}");
    assert_eq!(names(&home.join("lib")), ["theirs.txt"]);
    assert_eq!(read(&home, "b.xml"), "<b hand-edited='yes'/>");
}

/// The removal of `removed` (as it is now), then `changes`, staged on the
/// home at `home`.
fn staged_removing(
    home: &Path,
    changes: &[(&str, Option<&str>, &str)],
    removed: &str,
) -> Result<Staged> {
    let root = beneath::Root::open(home).unwrap();
    let mut staged = Staged::new("node node1", Lock::acquire(&root)?);
    let (bytes, meta) = (
        std::fs::read(home.join(removed)).unwrap(),
        root.metadata(removed).unwrap().unwrap(),
    );
    let planned = Planned {
        bytes: &bytes,
        read_from: &meta,
    };
    staged.remove(Path::new(removed), planned)?;
    for (path, before, after) in changes {
        let read_from = root.metadata(path).unwrap().unwrap();
        let planned = before.map(|bytes| Planned {
            bytes: bytes.as_bytes(),
            read_from: &read_from,
        });
        staged.add(Path::new(path), planned, after.as_bytes())?;
    }
    Ok(staged)
}

/// A removal is one more replacement: made with the others, its file kept
/// (the very file) until every one is done, put back when the commit is.
#[test]
fn a_file_the_commit_removes_goes_with_the_others_or_stays() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let home = home(
        dir.path(),
        &[("a.xml", "<a/>"), ("b.xml", "<b/>"), ("d.xml", "made")],
    );
    let options = Options {
        backup: None,
        jobs: 2,
    };
    let inode = std::fs::metadata(home.join("d.xml")).unwrap().ino();
    // Rolled back: b.xml, replaced after d.xml is taken out (and a.xml
    // replaced), is edited by hand just before. d.xml comes back, the very file.
    let b = home.join("b.xml");
    let hooked = hook(dir.path(), move |point, path| {
        if point == Point::BeforeSwap && path == b {
            std::fs::write(&b, "<b hand-edited='yes'/>").unwrap();
        }
    });
    let mut trees = vec![staged_removing(&home, &AB, "d.xml").unwrap()];
    let err = commit(&mut trees, options).unwrap_err();
    assert!(
        matches!(err, Error::RolledBack { restored: 2, .. }),
        "{err}"
    );
    drop((trees, hooked));
    assert_eq!(read(&home, "d.xml"), "made");
    assert_eq!(std::fs::metadata(home.join("d.xml")).unwrap().ino(), inode);
    assert_eq!(read(&home, "a.xml"), "<a/>");
    // An edit to d.xml just before it is taken out stays, in place.
    std::fs::write(home.join("b.xml"), "<b/>").unwrap();
    let d = home.join("d.xml");
    let hooked = hook(dir.path(), move |point, path| {
        if point == Point::BeforeSwap && path == d {
            std::fs::write(&d, "edited").unwrap();
        }
    });
    let mut trees = vec![staged_removing(&home, &AB, "d.xml").unwrap()];
    let err = commit(&mut trees, options).unwrap_err();
    assert!(
        matches!(err, Error::RolledBack { restored: 0, .. }),
        "{err}"
    );
    drop((trees, hooked));
    assert_eq!(read(&home, "d.xml"), "edited");
    assert_eq!(read(&home, "a.xml"), "<a/>");
    // Committed, with a backup: d.xml is gone, its original kept there.
    std::fs::write(home.join("d.xml"), "made").unwrap();
    let mut trees = vec![staged_removing(&home, &AB, "d.xml").unwrap()];
    let report = commit(
        &mut trees,
        Options {
            backup: Some("S"),
            jobs: 2,
        },
    )
    .unwrap();
    assert_eq!(report.written, 3);
    assert!(!home.join("d.xml").exists());
    assert_eq!(read(&home, "b.xml"), "<b x='1'/>");
    assert_eq!(read(&home, ".carbon-patch/backups/S/d.xml"), "made");
    assert_eq!(names(&home.join(".carbon-patch")), ["backups", "lock"]);
    // A file gone before its removal is a file changed since the plan.
    std::fs::write(home.join("d.xml"), "made").unwrap();
    let mut staged = staged_removing(&home, &[], "d.xml").unwrap();
    std::fs::remove_file(home.join("d.xml")).unwrap();
    let err = commit(std::slice::from_mut(&mut staged), options).unwrap_err();
    assert!(err.wrote_nothing(), "{err}");
    assert!(err
        .to_string()
        .ends_with("d.xml changed after it was planned; run again"));
}

/// A file the commit would remove through a symbolic link is refused: the
/// removal would take the file the link leads to.
#[test]
fn a_removal_follows_no_link() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("conf/kept.jar", "jar")]);
    std::os::unix::fs::symlink("conf/kept.jar", home.join("d.jar")).unwrap();
    std::os::unix::fs::symlink("conf", home.join("c")).unwrap();
    for path in ["d.jar", "c/kept.jar"] {
        let err = staged_removing(&home, &[], path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "node node1: cannot remove {}: {}: is what {path} leads to through a symbolic \
                 link; a removal follows none",
                home.join(path).display(),
                home.join("conf/kept.jar").display()
            )
        );
    }
    assert_eq!(read(&home, "conf/kept.jar"), "jar");
}

/// An edit taken out with the file, whose name was taken again before it
/// could go back: it is never removed, and the journal stays.
#[test]
fn an_edit_taken_out_that_cannot_go_back_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("d.xml", "made")]);
    let d = home.join("d.xml");
    let edited = AtomicBool::new(false);
    let _hooked = hook(dir.path(), move |point, path| {
        // Once: putting it back passes here again.
        if path == d && point == Point::BeforeSwap && !edited.swap(true, Ordering::Relaxed) {
            std::fs::write(&d, "precious edit").unwrap();
        }
        if path == d && point == Point::TakenOut {
            std::fs::write(&d, "made again").unwrap();
        }
    });
    let mut trees = vec![staged_removing(&home, &[AB[0]], "d.xml").unwrap()];
    let err = commit(
        &mut trees,
        Options {
            backup: None,
            jobs: 1,
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotRestored { .. }), "{err}");
    assert!(!err.wrote_nothing());
    drop(trees);
    assert_eq!(read(&home, "d.xml"), "made again");
    let stage = home.join(".carbon-patch");
    let kept: Vec<String> = names(&stage)
        .into_iter()
        .filter(|name| name != "lock")
        .map(|name| std::fs::read_to_string(stage.join(name)).unwrap())
        .collect();
    assert!(kept.iter().any(|kept| kept == "precious edit"), "{kept:?}");
    assert!(pending(&beneath::Root::open(&home).unwrap()));
}

/// A folder the run made, moved out of the home by its owner during the
/// commit, is not removed when the run is put back: nothing outside the
/// home is touched.
#[test]
fn a_folder_made_and_moved_out_of_the_home_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>")]);
    let (lib, away) = (home.join("lib"), dir.path().join("away"));
    let _hooked = hook(dir.path(), move |point, _| {
        if point == Point::Journalled {
            std::fs::rename(&lib, &away).unwrap();
        }
    });
    let changes = [AB[0], ("lib/new/deeper/d.jar", None, "jar")];
    let err = commit_one(&home, &changes, None).unwrap_err();
    assert!(matches!(err, Error::RolledBack { .. }), "{err}");
    assert!(dir.path().join("away/new/deeper").is_dir());
    assert_eq!(read(&home, "a.xml"), "<a/>");
}

/// Putting files back after a failure must not lose an edit either: a file
/// the commit replaced and someone edited since stays as they left it.
#[test]
fn an_edit_to_a_new_file_survives_the_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
    let (a, b) = (home.join("a.xml"), home.join("b.xml"));
    let (a_at, b_at) = (a.clone(), b.clone());
    // Just before b.xml is swapped: a.xml (new by now) and b.xml are
    // edited by hand; b's edit stops the run, and a's must then survive
    // the putting back.
    let _hooked = hook(dir.path(), move |point, path| {
        if point == Point::BeforeSwap && path == b_at {
            std::fs::write(&a_at, "<a edited-after-write='yes'/>").unwrap();
            std::fs::write(&b_at, "<b hand-edited='yes'/>").unwrap();
        }
    });
    let err = commit_one(&home, &AB, None).unwrap_err();
    assert!(!err.wrote_nothing());
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "could not put back: {} (changed since it was written, or a rename failed); \
             the next apply finishes the change or names what stops it: node node1: {} was \
             edited while it was being written",
            a.display(),
            b.display()
        )),
        "{shown}"
    );
    assert_eq!(read(&home, "a.xml"), "<a edited-after-write='yes'/>");
    assert_eq!(read(&home, "b.xml"), "<b hand-edited='yes'/>");
    // The journal stays. No target holds new bytes of this run any more, so
    // the next run finishes nothing, and both edits stay.
    let root = beneath::Root::open(&home).unwrap();
    assert!(pending(&root));
    let lock = Lock::acquire(&root).unwrap();
    assert!(lock.finished().is_empty());
    assert!(!pending(&root));
    assert_eq!(read(&home, "a.xml"), "<a edited-after-write='yes'/>");
    assert_eq!(read(&home, "b.xml"), "<b hand-edited='yes'/>");
}

/// Recovery replaces a target only if it still holds what the plan read
/// when it is swapped: an edit landing during recovery stays, and stops it.
#[test]
fn an_edit_made_while_recovery_finishes_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
    // A commit killed after its first replacement: a.xml new, b.xml not.
    let mut tree = staged(&home, &AB).unwrap();
    tree.verify().unwrap();
    tree.prepare(None).unwrap();
    let mut exchange = true;
    tree.files[0].original = commit::replace(&tree.files[0], &mut exchange).unwrap();
    tree.renamed = 1;
    // As a crash leaves it: the lock released, the journal and what was
    // staged there (a tree holding a journal removes nothing when dropped).
    drop(tree);
    let b = home.join("b.xml");
    let b_at = b.clone();
    let _hooked = hook(dir.path(), move |point, path| {
        if point == Point::BeforeSwap && path == b_at {
            std::fs::write(&b_at, "<b hand-edited='yes'/>").unwrap();
        }
    });
    let root = beneath::Root::open(&home).unwrap();
    let err = Lock::acquire(&root).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "an interrupted apply cannot be finished: {} changed since it began",
            b.display()
        )),
        "{err}"
    );
    assert_eq!(read(&home, "b.xml"), "<b hand-edited='yes'/>");
    assert_eq!(read(&home, "a.xml"), "<a x='1'/>");
}

/// Finding 1 of the second attack: a file put in place of the original
/// between the plan and the staging (a decoy of the owner's), whose owner
/// and mode the new bytes would have taken. The staging takes them from the
/// file the plan read, or refuses.
#[test]
fn the_file_written_over_is_the_file_the_plan_read() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("decoy", "<a/>")]);
    let root = beneath::Root::open(&home).unwrap();
    let read_from = root.metadata("a.xml").unwrap().unwrap();
    // The same bytes, another file.
    std::fs::rename(home.join("decoy"), home.join("a.xml")).unwrap();
    let mut staged = Staged::new("node node1", Lock::acquire(&root).unwrap());
    let planned = Planned {
        bytes: b"<a/>",
        read_from: &read_from,
    };
    let err = staged
        .add(Path::new("a.xml"), Some(planned), b"<a x='1'/>")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "node node1: cannot write {a}: {a} changed after it was planned; run again",
            a = home.join("a.xml").display()
        )
    );
    assert_eq!(staged.paths().count(), 0);
}

/// A POSIX default ACL (the extended attribute's own format) that lets
/// `nobody` read and write what is made in the folder.
fn default_acl_for_nobody() -> Vec<u8> {
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 7u16, u32::MAX), // the owner
        (0x02, 7, NOBODY),         // nobody
        (0x04, 5, u32::MAX),       // the group
        (0x10, 7, u32::MAX),       // the mask
        (0x20, 0, u32::MAX),       // others
    ] {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    acl
}

/// Finding 2 of the second attack: a default ACL the owner set on the home
/// was carried by the stage folder made in it and by every staged file, so
/// the owner could read a root-only file's new bytes. The stage folder is
/// made without it, a new file gets the ACL its original had (none), and a
/// stage folder that has one is not trusted.
#[test]
fn a_default_acl_on_the_home_reaches_neither_the_stage_folder_nor_the_new_files() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
    std::fs::set_permissions(home.join("b.xml"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let acl = default_acl_for_nobody();
    if let Err(e) = rustix::fs::setxattr(
        &home,
        "system.posix_acl_default",
        &acl,
        rustix::fs::XattrFlags::empty(),
    ) {
        eprintln!("skipped: no ACLs on this file system ({e})");
        return;
    }
    assert_eq!(commit_one(&home, &AB, None).unwrap(), 2);
    let has =
        |path: &Path, name: &str| rustix::fs::getxattr(path, name, &mut [0u8; 256][..]).is_ok();
    let stage = home.join(".carbon-patch");
    assert!(!has(&stage, "system.posix_acl_access") && !has(&stage, "system.posix_acl_default"));
    for name in ["a.xml", "b.xml"] {
        assert!(!has(&home.join(name), "system.posix_acl_access"), "{name}");
    }
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(home.join("b.xml")).unwrap().mode() & 0o777,
        0o600
    );
    // A stage folder that has an ACL: not trusted.
    rustix::fs::setxattr(
        &stage,
        "system.posix_acl_default",
        &acl,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    let err = commit_one(&home, &[("a.xml", Some("<a x='1'/>"), "<a/>")], None).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{}: has an access control list, which may let others write it. ",
            stage.display()
        )),
        "{err}"
    );
    assert_eq!(read(&home, "a.xml"), "<a x='1'/>");
}

/// Findings 3 and 8 of the second attack: a file put to a sparse terabyte
/// after the plan (or a lock file made one) was read to its end. A file of
/// another length than the plan read is told by its size, unread.
#[test]
fn a_file_grown_huge_after_the_plan_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
    let mut trees = vec![staged(&home, &AB).unwrap()];
    std::fs::OpenOptions::new()
        .write(true)
        .open(home.join("b.xml"))
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let err = commit(
        &mut trees,
        Options {
            backup: None,
            jobs: 2,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("b.xml changed after it was planned; run again"),
        "{err}"
    );
    drop(trees);
    // A lock file made a sparse terabyte: `pending` reads its start only.
    Lock::acquire(&beneath::Root::open(&home).unwrap())
        .unwrap()
        .keep();
    let lock = home.join(".carbon-patch/lock");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&lock)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    assert!(pending(&beneath::Root::open(&home).unwrap()));
}

/// Finding 4 of the second attack: a folder moved out of the home while
/// the commit wrote into it (to a place its owner may write): the new file
/// was written there, outside the home, with exit 0. Every folder written
/// into is checked to be where it was once its files are in place; one
/// moved stops the run, and every file is put back as it was.
#[test]
fn a_folder_moved_out_of_the_home_during_the_commit_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(
        dir.path(),
        &[("conf/axis2/axis2.xml", "<a/>"), ("b.xml", "<b/>")],
    );
    let away = dir.path().join("away");
    let (from, to) = (home.join("conf/axis2"), away.clone());
    let _hooked = hook(dir.path(), move |point, _| {
        if point == Point::Journalled {
            std::fs::rename(&from, &to).unwrap();
        }
    });
    let changes = [("conf/axis2/axis2.xml", Some("<a/>"), "<a x='1'/>"), AB[1]];
    let err = commit_one(&home, &changes, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "nothing was changed: the 2 file(s) written before the failure were restored: \
             node node1: {} was moved while files were written into it (it is no longer \
             where it was in the home)",
            home.join("conf/axis2").display()
        )
    );
    assert_eq!(read(&away, "axis2.xml"), "<a/>", "the original, as it was");
    assert_eq!(names(&away), ["axis2.xml"], "nothing else left there");
    assert_eq!(read(&home, "b.xml"), "<b/>");
}
