//! Faults around `apply`, each on the built binary: a crash midway finished
//! by the journal, a full disk, read-only files and directories for a user
//! who is not root, a recipe home that is a symbolic link to a system
//! directory, extended attributes, a file linked within the home. Every
//! refusal must leave the home as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{bin, files, fresh, journal_waits, on_node1, stderr, stdout, RECIPE};

/// What node1's files look like once the recipe is applied.
fn planned(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let home = fresh(dir, "reference");
    let out = on_node1("apply", &home).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    files(&home)
}

#[test]
fn a_crash_between_renames_is_finished_by_the_next_apply() {
    if !crate::common::hooks("a_crash_between_renames_is_finished_by_the_next_apply") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let planned = planned(dir.path());
    let home = fresh(dir.path(), "node1");
    let original = files(&home);

    // Killed (abort) after the second of its renames.
    let out = on_node1("apply", &home)
        .env("CARBON_PATCH_ABORT_AFTER_WRITES", "2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        journal_waits(&home),
        "the journal names the unfinished apply"
    );
    let now = files(&home);
    let new = differing(&now, &original).len();
    assert_eq!(new, 2, "two files renamed before the crash");

    // plan says so, and writes nothing.
    let shown = on_node1("plan", &home).output().unwrap();
    assert!(
        stdout(&shown).contains("an apply or restore on this home was interrupted"),
        "{}",
        stdout(&shown)
    );
    assert_eq!(files(&home), now);

    // The next apply finishes it: every file planned, no journal, no temp.
    // It names the files it finished, and has nothing left to apply.
    let out = on_node1("apply", &home).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut expected: Vec<String> = differing(&now, &planned)
        .iter()
        .map(|path| {
            format!(
                "finished node1: {} (left by an interrupted apply or restore)",
                path.display()
            )
        })
        .collect();
    assert_eq!(expected.len(), 2, "two files left to rename");
    expected.push("Applied: 0 file(s) on 1 node(s)".into());
    // The warnings the plan finds (the fixture's own) are beside the point.
    let shown = stdout(&out);
    let lines: Vec<&str> = shown
        .lines()
        .filter(|l| !l.contains(": warning: "))
        .collect();
    assert_eq!(lines, expected);
    assert_eq!(files(&home), planned);
    assert!(!journal_waits(&home));
    let left: Vec<_> = std::fs::read_dir(home.join(".carbon-patch"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["lock"], "nothing staged is left");
}

/// The files of `now` that do not hold their bytes in `other` (the planned
/// ones: the files not written yet; the originals: those written).
fn differing(now: &BTreeMap<PathBuf, Vec<u8>>, other: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    now.iter()
        .filter(|(path, bytes)| other.get(*path) != Some(bytes))
        .map(|(path, _)| path.clone())
        .collect()
}

#[test]
fn json_names_the_files_an_apply_finished_for_an_interrupted_one() {
    if !crate::common::hooks("json_names_the_files_an_apply_finished_for_an_interrupted_one") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let planned = planned(dir.path());
    let home = fresh(dir.path(), "node1");
    interrupt(&home);
    let left = differing(&files(&home), &planned);
    assert_eq!(left.len(), 3, "one file of four renamed before the crash");

    let out = on_node1("apply", &home)
        .arg("--format=json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = &report["nodes"][0];
    let finished: Vec<&str> = node["finished_interrupted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let left: Vec<String> = left.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(finished, left);
    assert_eq!(node["changes"], false, "nothing left to apply");
    assert_eq!(node["interrupted"], false, "no journal waits any more");
    assert_eq!(files(&home), planned);
}

#[test]
fn an_interrupted_apply_whose_file_changed_since_is_not_finished() {
    if !crate::common::hooks("an_interrupted_apply_whose_file_changed_since_is_not_finished") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = fresh(dir.path(), "node1");
    // Killed after its first file (axis2.xml) was replaced.
    interrupt(&home);
    // Someone edits a file the dead apply had not reached yet.
    let carbon = home.join("repository/conf/carbon.xml");
    let edited = b"<Server><!-- edited by hand --></Server>\n";
    std::fs::write(&carbon, edited).unwrap();

    let out = on_node1("apply", &home).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "carbon-patch: nothing was written: node node1 ({home}): an interrupted apply cannot \
             be finished: {carbon} changed since it began. Check the file, then remove \
             {home}/.carbon-patch/lock to start afresh (the next apply plans again from the \
             files as they are)\n",
            home = home.display(),
            carbon = carbon.display(),
        )
    );
    assert_eq!(std::fs::read(&carbon).unwrap(), edited, "the edit is kept");
    assert!(journal_waits(&home), "left to look at");
}

#[test]
fn a_full_disk_writes_nothing() {
    // A small tmpfs in a private mount namespace (needs root; skipped otherwise).
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("disk");
    std::fs::create_dir(&mount).unwrap();
    let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
    // Fill the disk, then free three pages: room for the lock, not for the
    // staged files. Then compare the home with the fixture, and look for
    // .carbon-patch/: the run made it, wrote nothing, and takes it away.
    let script = r#"
        set -e
        mount -t tmpfs -o size=1m tmpfs "$DISK"
        cp -r "$FIXTURE" "$DISK/node1"
        dd if=/dev/zero of="$DISK/filler" bs=4096 2>/dev/null || true
        truncate -s -12288 "$DISK/filler"
        set +e
        "$BIN" apply "$RECIPE" --node=node1 --home="node1=$DISK/node1"
        echo "exit=$?"
        diff -r -x .carbon-patch "$FIXTURE" "$DISK/node1" && echo "home=unchanged"
        test -e "$DISK/node1/.carbon-patch" || echo "folder=gone"
    "#;
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", script])
        .current_dir(golden::workspace_root())
        .env("DISK", &mount)
        .env("FIXTURE", &fixture)
        .env("BIN", env!("CARGO_BIN_EXE_carbon-patch"))
        .env("RECIPE", RECIPE)
        .output()
        .unwrap();
    let (text, err) = (stdout(&out), stderr(&out));
    if !text.contains("exit=") {
        eprintln!("a_full_disk_writes_nothing: skipped (no private tmpfs here): {err}");
        return;
    }
    assert!(text.contains("exit=1"), "{text}{err}");
    // What failed, where, and that nothing was written; not the staged
    // file's random name (tempfile's "at path" suffix).
    assert!(
        err.starts_with(&format!(
            "carbon-patch: nothing was written: node node1: cannot write {mount}/node1/",
            mount = mount.display()
        )),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with(&format!(
            "staging its new bytes in {mount}/node1/.carbon-patch: \
             No space left on device (os error 28)",
            mount = mount.display()
        )),
        "{err}"
    );
    assert!(!err.contains("at path"), "{err}");
    assert!(text.contains("home=unchanged"), "{text}");
    assert!(text.contains("folder=gone"), "nothing left: {text}");
}

/// A fresh sample home at `dir/node1` given to user `nobody`, `dir` open
/// to it; `None` (the test is skipped) when this process cannot.
fn home_of_nobody(dir: &Path) -> Option<PathBuf> {
    let home = fresh(dir, "node1");
    let status = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(&home)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot give the home to nobody (not root)");
        return None;
    }
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    Some(home)
}

/// Runs `apply` as user `nobody` on a home that user owns; `setup` makes
/// part of it read-only. Skipped when this process cannot change user.
fn apply_as_nobody(setup: impl Fn(&Path)) -> Option<(Output, bool)> {
    let dir = tempfile::tempdir().unwrap();
    let home = home_of_nobody(dir.path())?;
    setup(&home);
    let before = files(&home);
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_carbon-patch"))
        .args(["apply", RECIPE, "--node=node1"])
        .arg(format!("--home=node1={}", home.display()))
        .current_dir(golden::workspace_root())
        .output()
        .unwrap();
    if stderr(&out).contains("setpriv") {
        eprintln!("skipped: setpriv failed: {}", stderr(&out));
        return None;
    }
    Some((out, files(&home) == before))
}

/// `apply` as `nobody`, with `rel` of the home given `mode`, must exit 1
/// with every one of `expected` in its message, and write nothing.
fn refused_as_nobody(rel: &str, mode: u32, expected: &[&str]) {
    let Some((out, unchanged)) = apply_as_nobody(|home| {
        std::fs::set_permissions(
            home.join(rel),
            std::os::unix::fs::PermissionsExt::from_mode(mode),
        )
        .unwrap();
    }) else {
        return;
    };
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(expected.iter().all(|e| err.contains(e)), "{err}");
    assert!(unchanged, "nothing written");
}

#[test]
fn a_read_only_file_is_refused_for_a_user_who_is_not_root() {
    refused_as_nobody(
        "repository/conf/registry.xml",
        0o444,
        &["registry.xml is not writable", "Permission denied"],
    );
}

#[test]
fn a_read_only_directory_is_refused_for_a_user_who_is_not_root() {
    refused_as_nobody(
        "repository/conf/datasources",
        0o555,
        &["its directory", "datasources is not writable"],
    );
}

/// A file the apply created, made read-only since, is still removed by a
/// restore run by its owner: removing a file needs only its folder to be
/// writable, as `rm` does.
#[test]
fn a_read_only_created_file_is_removed_by_its_owners_restore() {
    let dir = tempfile::tempdir().unwrap();
    let Some(home) = home_of_nobody(dir.path()) else {
        return;
    };
    std::fs::write(dir.path().join("driver.jar"), b"PK\x03\x04 a driver").unwrap();
    let recipe = dir.path().join("r.toml");
    std::fs::write(
        &recipe,
        "lib = [\"driver.jar\"]\n[nodes.node1]\nhome = \"node1\"\n",
    )
    .unwrap();
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_carbon-patch"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = as_nobody(&["apply", "r.toml", "--backup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let jar = home.join("repository/components/lib/driver.jar");
    std::fs::set_permissions(&jar, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
    let out = as_nobody(&["restore", "--from", "latest", "node1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!jar.exists());
}

#[test]
fn a_recipe_home_linked_to_a_system_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("node1");
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    let recipe = dir.path().join("recipe.toml");
    std::fs::write(
        &recipe,
        "[nodes.node1]\nhome = \"node1\"\nserver = { offset = 1 }\n",
    )
    .unwrap();
    for command in ["plan", "apply"] {
        let out = bin().arg(command).arg(&recipe).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains("resolves to the system directory /etc"),
            "{command}: {err}"
        );
        assert!(
            !Path::new("/etc/.carbon-patch").exists(),
            "nothing created in /etc"
        );
    }
}

#[test]
fn extended_attributes_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let home = fresh(dir.path(), "node1");
    let carbon = home.join("repository/conf/carbon.xml");
    let name = "user.carbon_patch_test";
    if rustix::fs::setxattr(&carbon, name, b"kept", rustix::fs::XattrFlags::empty()).is_err() {
        eprintln!("extended_attributes_are_kept: skipped (no user xattrs on this file system)");
        return;
    }
    let out = on_node1("apply", &home).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("repository/conf/carbon.xml"));
    let mut value = [0u8; 16];
    let len = rustix::fs::getxattr(&carbon, name, &mut value[..]).unwrap();
    assert_eq!(&value[..len], b"kept");
}

/// A configuration file that is a symbolic link to a file elsewhere in the
/// home: the new bytes go to the file it leads to, and the link stays.
#[test]
fn a_file_linked_within_the_home_is_written_through_its_link() {
    let dir = tempfile::tempdir().unwrap();
    let planned = planned(dir.path());
    let home = fresh(dir.path(), "node1");
    let link = home.join("repository/conf/carbon.xml");
    let real = home.join("shared/carbon.xml");
    std::fs::create_dir(home.join("shared")).unwrap();
    std::fs::rename(&link, &real).unwrap();
    std::os::unix::fs::symlink("../../shared/carbon.xml", &link).unwrap();

    let out = on_node1("apply", &home).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("wrote node1: repository/conf/carbon.xml\n"),
        "{}",
        stdout(&out)
    );
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../../shared/carbon.xml")
    );
    let expected = &planned[Path::new("repository/conf/carbon.xml")];
    assert_eq!(&std::fs::read(&real).unwrap(), expected);

    let again = on_node1("apply", &home).output().unwrap();
    assert!(
        stdout(&again).contains("Applied: 0 file(s) on 1 node(s)"),
        "{}",
        stdout(&again)
    );
}

/// Killed once its journal was durable but before its first replacement:
/// nothing was written, so nothing is finished, and the next apply plans
/// and writes as if the first had never run.
#[test]
fn a_crash_before_the_first_replacement_is_applied_afresh() {
    if !crate::common::hooks("a_crash_before_the_first_replacement_is_applied_afresh") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let planned = planned(dir.path());
    let home = fresh(dir.path(), "node1");
    let original = files(&home);
    let out = on_node1("apply", &home)
        .env("CARBON_PATCH_ABORT_AFTER_WRITES", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(journal_waits(&home));
    assert_eq!(files(&home), original, "nothing replaced");
    let out = on_node1("apply", &home).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("finished node1"),
        "nothing to finish: {}",
        stdout(&out)
    );
    assert_eq!(files(&home), planned);
    assert!(!journal_waits(&home));
}

/// Taking a home's lock finishes an interrupted apply before anything is
/// planned; an apply that then stops (here: a `[[raw]]` path that matches
/// nothing) did write those files, and says so rather than "nothing was
/// written".
#[test]
fn an_apply_stopped_after_finishing_an_interrupted_one_says_what_it_wrote() {
    let test = "an_apply_stopped_after_finishing_an_interrupted_one_says_what_it_wrote";
    if !crate::common::hooks(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = fresh(dir.path(), "node1");
    interrupt(&home);
    let recipe = dir.path().join("raw.toml");
    std::fs::write(
        &recipe,
        "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"Server/NoSuchThing\"\n\
         action = \"set_text\"\nvalue = \"1\"\n[nodes.node1]\nhome = \"x\"\n",
    )
    .unwrap();
    let out = bin()
        .arg("apply")
        .arg(&recipe)
        .arg(format!("--home=node1={}", home.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "carbon-patch: nothing was applied; only interrupted applies were finished: node \
             node1 ("
        ),
        "{err}"
    );
    assert!(
        stdout(&out).starts_with("finished node1: repository/conf/"),
        "the files finished, as apply names them: {}",
        stdout(&out)
    );
    assert!(!journal_waits(&home), "finished");
}

/// Whatever order a fleet's workers reach the homes in, an apply that stops
/// says truly whether it wrote: "nothing was written" only when no lock
/// finished anything, else the files finished, node by node. A recipe's
/// own error (a variable not set for node2) is no exception.
#[test]
fn a_fleet_apply_that_stops_says_truly_what_its_locks_finished() {
    let test = "a_fleet_apply_that_stops_says_truly_what_its_locks_finished";
    if !crate::common::hooks(test) {
        return;
    }
    for (jobs, broken) in [("2", "xml"), ("1", "recipe")] {
        let dir = tempfile::tempdir().unwrap();
        let (node1, node2) = (fresh(dir.path(), "node1"), fresh(dir.path(), "node2"));
        // node1's last apply was interrupted; node2 is broken.
        interrupt(&node1);
        let interrupted = files(&node1);
        let mut cmd = bin();
        cmd.args(["apply", RECIPE, "-j", jobs])
            .arg(format!("--home=node1={}", node1.display()))
            .arg(format!("--home=node2={}", node2.display()));
        if broken == "xml" {
            let carbon = node2.join("repository/conf/carbon.xml");
            let mut text = std::fs::read(&carbon).unwrap();
            text.extend_from_slice(b"<broken");
            std::fs::write(&carbon, text).unwrap();
        } else {
            let recipe = dir.path().join("r.toml");
            let text = std::fs::read_to_string(golden::workspace_root().join(RECIPE)).unwrap();
            let unset = "server = { offset = 3, hostname = \"${env:CARBON_PATCH_TEST_UNSET}\" }";
            assert!(text.contains("server = { offset = 3 }"));
            std::fs::write(&recipe, text.replace("server = { offset = 3 }", unset)).unwrap();
            cmd = bin();
            cmd.args(["apply"])
                .arg(&recipe)
                .args(["-j", jobs])
                .arg(format!("--home=node1={}", node1.display()))
                .arg(format!("--home=node2={}", node2.display()))
                .env_remove("CARBON_PATCH_TEST_UNSET");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{broken}");
        let (text, err) = (stdout(&out), stderr(&out));
        if files(&node1) == interrupted {
            assert!(
                err.starts_with("carbon-patch: nothing was written: "),
                "{broken}: {err}"
            );
            assert!(journal_waits(&node1));
        } else {
            assert!(
                err.starts_with(
                    "carbon-patch: nothing was applied; only interrupted applies were finished: "
                ),
                "{broken}: {err}"
            );
            assert!(
                text.starts_with("finished node1: repository/conf/"),
                "{broken}: {text}"
            );
            assert!(!journal_waits(&node1));
        }
    }
}

/// An apply whose lock put back an edit (swapped out just before a crash)
/// did write, and a commit that failed midway after the locks finished
/// interrupted applies names those too: neither says "nothing was written".
#[test]
fn errors_after_a_lock_wrote_never_say_nothing_was_written() {
    let test = "errors_after_a_lock_wrote_never_say_nothing_was_written";
    if !crate::common::hooks(test) {
        return;
    }
    // An edit lands in an original swapped out just before the crash.
    let dir = tempfile::tempdir().unwrap();
    let home = fresh(dir.path(), "node1");
    let pristine = files(&home);
    interrupt(&home);
    let stage = home.join(".carbon-patch");
    let swapped_out = std::fs::read_dir(&stage)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|path| {
            let bytes = std::fs::read(path).unwrap_or_default();
            path.is_file() && pristine.values().any(|original| *original == bytes)
        })
        .expect("an original waits under its staged name");
    let mut edited = std::fs::read(&swapped_out).unwrap();
    edited.extend_from_slice(b"<!-- edited -->\n");
    std::fs::write(&swapped_out, &edited).unwrap();
    let out = on_node1("apply", &home).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(!err.contains("nothing was written"), "{err}");
    assert!(
        err.contains("(an edit made meanwhile was put back in place)"),
        "{err}"
    );
    assert!(
        files(&home).values().any(|bytes| *bytes == edited),
        "the edit is in place"
    );

    // A commit that fails midway, after node1's lock finished its apply.
    let dir = tempfile::tempdir().unwrap();
    let (node1, node2) = (fresh(dir.path(), "node1"), fresh(dir.path(), "node2"));
    interrupt(&node1);
    let out = bin()
        .args(["apply", RECIPE, "-j1"])
        .arg(format!("--home=node1={}", node1.display()))
        .arg(format!("--home=node2={}", node2.display()))
        .env("CARBON_PATCH_FAIL_AFTER_WRITES", "2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "carbon-patch: interrupted applies were finished first: nothing was changed"
        ),
        "{err}"
    );
    assert!(
        stdout(&out).starts_with("finished node1: repository/conf/"),
        "{}",
        stdout(&out)
    );
}

/// Leaves node1's apply on `home` interrupted after its first replacement,
/// its journal waiting.
fn interrupt(home: &Path) {
    let out = on_node1("apply", home)
        .env("CARBON_PATCH_ABORT_AFTER_WRITES", "1")
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(journal_waits(home));
}
