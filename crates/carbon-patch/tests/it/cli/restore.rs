//! `restore`: an apply's backup put back, in every home or none.

use super::*;

/// The backups of `home`, oldest first.
fn stamps(home: &Path) -> Vec<String> {
    let mut stamps: Vec<String> = std::fs::read_dir(home.join(".carbon-patch/backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    stamps.sort();
    stamps
}

fn restore(args: &[&str], homes: &[&Path]) -> Output {
    bin()
        .arg("restore")
        .args(args)
        .args(homes)
        .output()
        .unwrap()
}

/// The files of a home, `.carbon-patch` left out.
fn config(home: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let own = home.join(".carbon-patch");
    snapshot(home)
        .into_iter()
        .filter(|(path, ..)| !path.starts_with(&own))
        .map(|(path, bytes, time)| (path.strip_prefix(home).unwrap().to_path_buf(), bytes, time))
        .collect()
}

fn bytes_only(files: Vec<(PathBuf, Vec<u8>, std::time::SystemTime)>) -> Vec<(PathBuf, Vec<u8>)> {
    files
        .into_iter()
        .map(|(path, bytes, _)| (path, bytes))
        .collect()
}

#[test]
fn restore_puts_every_home_back_byte_for_byte_and_a_rerun_writes_nothing() {
    let h = homes();
    let pristine = bytes_only(config(&h.node1));
    let out = with_homes(&h, "apply", &["--backup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stamp = stamps(&h.node1).pop().unwrap();
    assert_eq!(
        stamps(&h.node2),
        std::slice::from_ref(&stamp),
        "one stamp for the fleet"
    );

    // What it would put back, first: the plan's diffs the other way round.
    let out = restore(
        &["--from", "latest", "--dry-run", "--color=never"],
        &[&h.node1, &h.node2],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out)
        .replace(&h.node1.display().to_string(), "NODE1")
        .replace(&h.node2.display().to_string(), "NODE2")
        .replace(&stamp, "STAMP")
        .replace('\r', "␍");
    golden::assert_golden("cli/restore-quickstart.txt", &shown);

    let out = restore(&["--from", "latest"], &[&h.node1, &h.node2]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut expected = String::new();
    for home in [&h.node1, &h.node2] {
        for file in [
            "repository/conf/axis2/axis2.xml",
            "repository/conf/carbon.xml",
            "repository/conf/datasources/master-datasources.xml",
            "repository/conf/registry.xml",
        ] {
            expected += &format!("restored {}: {file}\n", home.display());
        }
    }
    expected += &format!("Restored: 8 file(s) in 2 home(s) from backup {stamp}\n");
    assert_eq!(stdout(&out), expected);
    assert_eq!(bytes_only(config(&h.node1)), pristine);
    assert_eq!(bytes_only(config(&h.node2)), pristine);
    // The recipe sees its changes gone: check reports drift again.
    assert_eq!(with_homes(&h, "check", &[]).status.code(), Some(2));

    let before = config(&h.node1);
    let out = restore(&["--from", &stamp], &[&h.node1, &h.node2]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("Restored: 0 file(s) in 2 home(s) from backup {stamp}\n")
    );
    assert_eq!(
        config(&h.node1),
        before,
        "no file rewritten, no mtime moved"
    );
}

#[test]
fn a_dry_run_shows_masked_diffs_and_writes_nothing() {
    let h = homes();
    let recipe = "[[datasource]]\nname = \"RESTORE_DB\"\njndi = \"jdbc/Restore\"\nurl = \"jdbc:h2:mem:restore\"\n\
                  password = \"${env:CARBON_PATCH_TEST_SECRET}\"\n\
                  [nodes.node1]\nhome = \"x\"\n";
    let (_dir, path) = recipe_file("recipe.toml", recipe);
    let out = on_node1("apply", &path, &h.node1)
        .arg("--backup")
        .env("CARBON_PATCH_TEST_SECRET", "Hunter2-secret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let before = snapshot(&h.node1);

    let out = restore(&["--from", "latest", "--dry-run"], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let stamp = stamps(&h.node1).pop().unwrap();
    let file = "repository/conf/datasources/master-datasources.xml";
    assert!(
        text.starts_with(&format!(
            "== {home}\n--- {home}: {file}\n+++ {home}: {file}\n@@ ",
            home = h.node1.display()
        )),
        "{text}"
    );
    // The datasource apply added goes, its password masked.
    assert!(
        text.contains("-                    <password>********</password>\n"),
        "{text}"
    );
    assert!(!text.contains("Hunter2"), "{text}");
    assert!(text.ends_with(&format!(
        "Restore would write 1 file(s) in 1 home(s) from backup {stamp}; nothing was written\n"
    )));
    assert_eq!(
        snapshot(&h.node1),
        before,
        "nothing written, the lock untouched"
    );
}

#[test]
fn an_edit_made_since_is_replaced_and_kept_in_a_backup_of_its_own() {
    let h = homes();
    let out = with_homes(&h, "apply", &["--backup", "--node", "node1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let applied = stamps(&h.node1).pop().unwrap();
    let carbon = "repository/conf/registry.xml";
    replace_in(
        &h.node1,
        carbon,
        "<dbConfig name=",
        "<!-- edited by hand --><dbConfig name=",
    );
    let edited = std::fs::read(h.node1.join(carbon)).unwrap();

    let out = restore(&["--from", &applied, "--backup"], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = stamps(&h.node1).pop().unwrap();
    assert_ne!(kept, applied);
    assert!(
        stdout(&out).contains(&format!(
            "the files replaced are kept under CARBON_HOME/.carbon-patch/backups/{kept}/ of each \
             home written to\n"
        )),
        "{}",
        stdout(&out)
    );
    let backup = h.node1.join(".carbon-patch/backups");
    assert_eq!(
        std::fs::read(h.node1.join(carbon)).unwrap(),
        std::fs::read(backup.join(&applied).join(carbon)).unwrap()
    );
    assert_eq!(
        std::fs::read(backup.join(&kept).join(carbon)).unwrap(),
        edited
    );
    // And back again: the newest backup is the restore's own.
    let out = restore(&["--from", "latest"], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(h.node1.join(carbon)).unwrap(), edited);
}

/// One apply gives the homes it wrote to one stamp and the others none; a
/// home without the stamp may also have lost its backup: refused, unless
/// `--skip-missing` says to skip it, and then it is named.
#[test]
fn a_home_without_the_backup_is_refused_or_skipped_when_asked() {
    let h = homes();
    assert!(with_homes(&h, "apply", &["--backup", "--node", "node1"])
        .status
        .success());
    // Drift on node1 for the second apply to put right: one file.
    replace_in(
        &h.node1,
        "repository/conf/axis2/axis2.xml",
        "wso2.example.domain",
        "drifted.domain",
    );
    assert!(with_homes(&h, "apply", &["--backup"]).status.success());
    let (first, second) = (stamps(&h.node1), stamps(&h.node2));
    assert_eq!((first.len(), second.len()), (2, 1));
    let (first, second) = (&first[0], &second[0]);
    assert_eq!(
        &stamps(&h.node1)[1],
        second,
        "the second apply wrote to both"
    );

    // The newest: the second apply's, in both homes.
    let out = restore(&["--from", "latest", "--dry-run"], &[&h.node1, &h.node2]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with(&format!(
            "Restore would write 5 file(s) in 2 home(s) from backup {second}; nothing was written\n"
        )),
        "{}",
        stdout(&out)
    );
    // The first apply's: node1 alone has it.
    let before = (snapshot(&h.node1), snapshot(&h.node2));
    let out = restore(&["--from", first], &[&h.node1, &h.node2]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: nothing was written: backup {first} is not in every home: {} (it has \
             {second}). If the apply that made it wrote nothing there, --skip-missing restores \
             the others\n",
            h.node2.display()
        )
    );
    assert_eq!((snapshot(&h.node1), snapshot(&h.node2)), before);
    let out = restore(&["--from", first, "--skip-missing"], &[&h.node1, &h.node2]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "skipped {}: it has no backup {first} (--skip-missing)\n",
            h.node2.display()
        )),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("in 1 home(s) from backup {first}\n")),
        "{text}"
    );
    assert_eq!(
        snapshot(&h.node2),
        before.1,
        "a home skipped is not touched"
    );

    // A stamp no home has: each home's backups named.
    let out = restore(&["--from", "2026-01-01T000000.000Z"], &[&h.node1, &h.node2]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: nothing was written: no home given has backup 2026-01-01T000000.000Z \
             (`apply --backup` keeps one): {} has {first}, {second}; {} has {second}\n",
            h.node1.display(),
            h.node2.display()
        )
    );
}

#[test]
fn a_home_named_twice_or_without_backups_is_refused() {
    let h = homes();
    let before = snapshot(&h.node1);
    let out = restore(&["--from", "latest"], &[&h.node1]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: nothing was written: no home given has a backup (`apply --backup` keeps \
             one): {} has none\n",
            h.node1.display()
        )
    );
    assert_eq!(snapshot(&h.node1), before, "no folder left behind");
    assert!(!h.node1.join(".carbon-patch").exists());

    let again = h.node1.join("repository/..");
    let out = restore(&["--from", "latest"], &[&h.node1, &again]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: {} and {} are one home; name it once\n",
            h.node1.display(),
            again.display()
        )
    );
}

#[test]
fn a_folder_made_a_link_out_of_the_home_since_is_refused_and_nothing_written() {
    let h = homes();
    assert!(with_homes(&h, "apply", &["--backup", "--node", "node1"])
        .status
        .success());
    // The home's owner moves axis2/ out and leaves a link to a folder of
    // its choosing, holding a file where the backup's would go.
    let outside = h.node1.parent().unwrap().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("axis2.xml"), "root's file").unwrap();
    let axis2 = h.node1.join("repository/conf/axis2");
    std::fs::remove_dir_all(&axis2).unwrap();
    std::os::unix::fs::symlink(&outside, &axis2).unwrap();
    let before = snapshot(&h.node1);

    for args in [
        &["--from", "latest"][..],
        &["--from", "latest", "--dry-run"],
    ] {
        let out = restore(args, &[&h.node1]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with("carbon-patch: nothing was written: "),
            "{err}"
        );
        assert!(err.contains("outside"), "names where the link leads: {err}");
    }
    assert_eq!(
        std::fs::read(outside.join("axis2.xml")).unwrap(),
        b"root's file"
    );
    assert_eq!(snapshot(&h.node1), before);
}

/// Where a driver's jar is copied by an apply with `--backup` (which also
/// sets the offset), on node1's sample home; and that backup's stamp.
const JAR: &str = "repository/components/lib/driver.jar";

fn applied_with_a_new_driver() -> (Homes, String) {
    let h = homes();
    let stamp = apply_with_a_driver(&h, "[server]\noffset = 3\n");
    (h, stamp)
}

/// `apply --backup` on node1 of a recipe that copies a driver to [`JAR`],
/// and `more` tables; the backup's stamp.
fn apply_with_a_driver(h: &Homes, more: &str) -> String {
    let (dir, path) = recipe_file(
        "recipe.toml",
        format!("lib = [\"driver.jar\"]\n{more}[nodes.node1]\nhome = \"x\"\n"),
    );
    std::fs::write(dir.path().join("driver.jar"), b"PK\x03\x04 a driver").unwrap();
    let out = on_node1("apply", &path, &h.node1)
        .arg("--backup")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(h.node1.join(JAR).is_file());
    stamps(&h.node1).pop().unwrap()
}

/// A file the apply created has no original: restoring removes it, in the
/// same commit, while it holds what the apply made it with; one changed
/// since is left, and named. A restore with `--backup` keeps it, so the
/// restore can be undone too.
#[test]
fn files_the_apply_created_are_removed_unless_changed_since() {
    let (h, stamp) = applied_with_a_new_driver();
    let (jar, node1) = (JAR, h.node1.display());

    let out = restore(&["--from", "latest", "--dry-run"], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with(&format!(
            "\nwould remove {node1}: {jar} (the apply created it)\n\
             Restore would write 2 file(s) in 1 home(s) from backup {stamp}; nothing was written\n"
        )),
        "{}",
        stdout(&out)
    );
    // Changed since: left, and named.
    std::fs::write(h.node1.join(jar), b"PK\x03\x04 another driver").unwrap();
    let out = restore(&["--from", "latest", "--dry-run"], &[&h.node1]);
    assert!(
        stdout(&out).ends_with(&format!(
            "\nleft {node1}: {jar} (the apply created it, but it was changed since)\n\
             Restore would write 1 file(s) in 1 home(s) from backup {stamp}; nothing was written\n"
        )),
        "{}",
        stdout(&out)
    );
    let json = |out: &Output| -> serde_json::Value { serde_json::from_slice(&out.stdout).unwrap() };
    let out = restore(
        &["--from", "latest", "--dry-run", "--format", "json"],
        &[&h.node1],
    );
    let created = &json(&out)["homes"][0]["created"];
    assert_eq!(created["removed"], serde_json::json!([]));
    assert_eq!(
        created["left"],
        serde_json::json!([{"path": jar, "why": "it was changed since"}])
    );
    std::fs::write(h.node1.join(jar), b"PK\x03\x04 a driver").unwrap();
    let out = restore(
        &["--from", "latest", "--dry-run", "--format", "json"],
        &[&h.node1],
    );
    let report = json(&out);
    let created = &report["homes"][0]["created"];
    assert_eq!(created["removed"], serde_json::json!([jar]));
    assert_eq!(created["left"], serde_json::json!([]));
    assert_eq!(report["summary"]["files"], 2);

    let out = restore(&["--from", "latest", "--backup"], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "restored {node1}: repository/conf/carbon.xml\n\
             removed {node1}: {jar} (the apply created it)\n\
             the files replaced are kept under CARBON_HOME/.carbon-patch/backups/{}/ of each home \
             written to\n\
             Restored: 2 file(s) in 1 home(s) from backup {stamp}\n",
            stamps(&h.node1).pop().unwrap()
        )
    );
    assert!(!h.node1.join(jar).exists());
    let out = restore(&["--from", &stamp], &[&h.node1]);
    assert_eq!(
        stdout(&out),
        format!("Restored: 0 file(s) in 1 home(s) from backup {stamp}\n")
    );
    // The restore's own backup undoes it: the driver comes back.
    let out = restore(&["--from", "latest"], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(h.node1.join(jar)).unwrap(),
        b"PK\x03\x04 a driver"
    );
    let carbon_xml = std::fs::read(h.node1.join("repository/conf/carbon.xml")).unwrap();
    let carbon_xml = String::from_utf8_lossy(&carbon_xml);
    assert!(carbon_xml.contains("<Offset>3</Offset>"), "{carbon_xml}");
}

/// The folders an apply made for the files it created go with them, when
/// that leaves them empty; also when the files were removed by hand.
#[test]
fn the_folders_the_apply_made_go_with_its_files() {
    let h = homes();
    let lib = h.node1.join("repository/components/lib");
    std::fs::remove_dir_all(h.node1.join("repository/components")).unwrap();
    let stamp = apply_with_a_driver(&h, "");
    let node1 = h.node1.display();
    let out = restore(&["--from", &stamp, "--dry-run"], &[&h.node1]);
    assert!(
        stdout(&out).contains(&format!(
            "would remove {node1}: repository/components/lib/driver.jar (the apply created it)\n\
             would remove {node1}: repository/components/lib/ (the apply made it for the files \
             removed)\n\
             would remove {node1}: repository/components/ (the apply made it for the files \
             removed)\n"
        )),
        "{}",
        stdout(&out)
    );
    // The driver removed by hand: the folders still go.
    std::fs::remove_file(lib.join("driver.jar")).unwrap();
    let out = restore(&["--from", &stamp], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "removed {node1}: repository/components/lib/ (the apply made it for the files removed)\n\
             removed {node1}: repository/components/ (the apply made it for the files removed)\n\
             Restored: 0 file(s) in 1 home(s) from backup {stamp}\n"
        )
    );
    assert!(!h.node1.join("repository/components").exists());
}

/// `--wait` lets a restore on a home another run holds go on once it is
/// free.
#[test]
fn restore_waits_for_a_held_home_when_told() {
    let (h, stamp) = applied_with_a_new_driver();
    let mut holder = super::held_for(&h.node1, 0.5);
    let out = restore(&["--from", &stamp], &[&h.node1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is writing to this home"),
        "{}",
        stderr(&out)
    );
    let out = restore(&["--from", &stamp, "--wait", "60"], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!h.node1.join(JAR).exists());
    assert!(holder.wait().unwrap().success());
}

/// A restore killed after its first file is finished by the next holder
/// of the lock, the removal of a file the apply created included.
#[test]
fn a_restore_killed_midway_is_finished_removal_and_all() {
    let (h, stamp) = applied_with_a_new_driver();
    let out = bin()
        .args(["restore", "--from", &stamp, "-j1"])
        .arg(&h.node1)
        .env("CARBON_PATCH_ABORT_AFTER_WRITES", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(crate::common::journal_waits(&h.node1));
    let jar = JAR;
    assert!(h.node1.join(jar).exists(), "killed before its removal");

    let out = restore(&["--from", &stamp], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "finished {}: {jar} (left by an interrupted apply or restore)\n\
             Restored: 0 file(s) in 1 home(s) from backup {stamp}\n",
            h.node1.display()
        )
    );
    assert!(!h.node1.join(jar).exists());
    assert!(!crate::common::journal_waits(&h.node1));
    let names: Vec<_> = std::fs::read_dir(h.node1.join(".carbon-patch"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "the lock and the backups, nothing staged: {names:?}"
    );
}

#[test]
fn a_file_gone_since_comes_back_with_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let rel = "repository/conf/datasources/master-datasources.xml";
    // 0664 and 0666: bits the usual umask (022) takes, which must come
    // back too; 0666 is also what a new file asks for.
    for wanted in [0o664, 0o666] {
        let h = homes();
        let file = h.node1.join(rel);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(wanted)).unwrap();
        assert!(with_homes(&h, "apply", &["--backup", "--node", "node1"])
            .status
            .success());
        std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
        let out = restore(&["--from", "latest"], &[&h.node1]);
        assert!(out.status.success(), "{}", stderr(&out));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, wanted, "as it was, to the bit");
    }
}

/// Taking a home's lock finishes an interrupted apply first: the dry run
/// says one waits, and a restore stopped afterwards does not claim that
/// nothing was written.
#[test]
fn an_interrupted_apply_is_noted_and_never_hidden_behind_nothing_was_written() {
    use std::os::unix::fs::PermissionsExt;
    let test = "an_interrupted_apply_is_noted_and_never_hidden_behind_nothing_was_written";
    if !crate::common::hooks(test) {
        return;
    }
    let h = homes();
    assert!(with_homes(&h, "apply", &["--backup", "--node", "node1"])
        .status
        .success());
    let stamp = stamps(&h.node1).pop().unwrap();
    // Two files drift; the next apply is killed after putting back one.
    let backup = h.node1.join(".carbon-patch/backups").join(&stamp);
    for file in [
        "repository/conf/registry.xml",
        "repository/conf/axis2/axis2.xml",
    ] {
        std::fs::copy(backup.join(file), h.node1.join(file)).unwrap();
    }
    let out = bin()
        .args([
            "apply",
            "examples/quickstart.toml",
            "--node",
            "node1",
            "-j1",
        ])
        .arg(format!("--home=node1={}", h.node1.display()))
        .env("CARBON_PATCH_ABORT_AFTER_WRITES", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(crate::common::journal_waits(&h.node1));

    let out = restore(&["--from", &stamp, "--dry-run"], &[&h.node1]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "\n   note: an apply or restore on this home was interrupted; restore finishes it before \
             anything else\n"
        ),
        "{}",
        stdout(&out)
    );
    assert!(
        crate::common::journal_waits(&h.node1),
        "the dry run finished nothing"
    );

    // A folder in the backup no backup run made stops the restore, after
    // the lock finished the interrupted apply.
    let planted = backup.join("planted");
    std::fs::create_dir(&planted).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = restore(&["--from", &stamp], &[&h.node1]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "carbon-patch: nothing was restored; only interrupted applies were finished: {}",
            backup.join("planted").display()
        )),
        "{err}"
    );
    assert!(
        stdout(&out).starts_with(&format!("finished {}: repository/conf/", h.node1.display())),
        "{}",
        stdout(&out)
    );
    assert!(!err.contains("nothing was written"), "{err}");
    assert!(!crate::common::journal_waits(&h.node1));
}

#[test]
fn json_describes_each_home_and_an_error_is_one_document_too() {
    let h = homes();
    assert!(with_homes(&h, "apply", &["--backup", "--node", "node1"])
        .status
        .success());
    let stamp = stamps(&h.node1).pop().unwrap();
    let parse = |out: &Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
    };
    let files = [
        "repository/conf/axis2/axis2.xml",
        "repository/conf/carbon.xml",
        "repository/conf/datasources/master-datasources.xml",
        "repository/conf/registry.xml",
    ];
    for dry_run in [true, false] {
        let mut args = vec!["--from", "latest", "--format", "json", "--skip-missing"];
        if dry_run {
            args.push("--dry-run");
        }
        let out = restore(&args, &[&h.node1, &h.node2]);
        assert!(out.status.success(), "{}", stderr(&out));
        let doc = parse(&out);
        assert_eq!(doc["command"], "restore");
        assert_eq!(doc["backup"], stamp.as_str());
        assert_eq!(doc["dry_run"], dry_run);
        assert_eq!(doc["kept"], serde_json::Value::Null);
        assert_eq!(doc["summary"], serde_json::json!({"homes": 1, "files": 4}));
        let (node1, node2) = (&doc["homes"][0], &doc["homes"][1]);
        assert_eq!(node1["home"], h.node1.display().to_string());
        assert_eq!(node1["has_backup"], true);
        let paths: Vec<&str> = node1["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, files);
        assert!(node1["files"][0]["diff"]
            .as_str()
            .unwrap()
            .starts_with("--- "));
        assert_eq!(
            node1["created"],
            serde_json::json!({"removed": [], "removed_folders": [], "left": []})
        );
        assert_eq!(node2["has_backup"], false);
        assert_eq!(node2["files"], serde_json::json!([]));
    }
    let out = restore(&["--from", "nosuch", "--format", "json"], &[&h.node1]);
    assert_eq!(out.status.code(), Some(1));
    let doc = parse(&out);
    assert_eq!(doc["command"], "restore");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .starts_with("nothing was written: no home given has backup nosuch"),
        "{doc}"
    );
}

/// `apply --backup --format json` names the stamp `restore --from` takes
/// (null when it wrote nothing, and no such field without `--backup`).
#[test]
fn apply_json_names_the_backup_restore_takes() {
    let h = homes();
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["--node", "node1", "--format", "json"];
        args.extend_from_slice(extra);
        let out = with_homes(&h, "apply", &args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let doc = json(&["--backup"]);
    assert_eq!(doc["backup"], stamps(&h.node1).pop().unwrap().as_str());
    assert_eq!(
        json(&["--backup"])["backup"],
        serde_json::Value::Null,
        "nothing written"
    );
    assert!(json(&[]).get("backup").is_none());
}
