//! `apply` killed with SIGKILL at random moments, 200 times, and 100 times
//! more with `--backup` (set `CARBON_PATCH_KILLS` to change both). After
//! every kill:
//!
//! - each file holds either its original bytes or its planned bytes, never
//!   empty, truncated or mixed;
//! - no temporary file is left beside the configuration (they live in
//!   `.carbon-patch/`, where the next run clears them);
//! - a home is partly written only while its lock file holds a journal (the
//!   commit had begun);
//! - re-running `apply` finishes the change: every file then holds its
//!   planned bytes, and no journal is left. The dead run's lock was
//!   released by the kernel when it died, and is taken;
//! - with `--backup`, a backup under its stamp's name is whole (each copy
//!   holds its original's bytes), one still `.partial` never counts and is
//!   removed by the re-run, and no copy is ever more readable than its
//!   original.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::common::{files, journal_waits, RECIPE};

fn apply(node1: &Path, node2: &Path, backup: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbon-patch"));
    cmd.current_dir(golden::workspace_root())
        .args(["apply", RECIPE])
        .args(backup.then_some("--backup"))
        .arg(format!("--home=node1={}", node1.display()))
        .arg(format!("--home=node2={}", node2.display()))
        .env_remove("CARBON_PATCH_FAIL_AFTER_WRITES")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// The file of the sample home that holds passwords, which only its owner
/// may read.
const SECRET: &str = "repository/conf/datasources/master-datasources.xml";

/// Two fresh copies of the sample home under `dir`.
fn fresh(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
    let (a, b) = (dir.join("node1"), dir.join("node2"));
    for home in [&a, &b] {
        golden::copy_tree(&fixture, home);
        std::fs::set_permissions(home.join(SECRET), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    (a, b)
}

/// Kills `child` after a delay spread over a run that takes `runtime`,
/// planning and writing alike (a fifth of it to one and a fifth), drawn
/// from `seed` by a linear congruential step, so a test's kills repeat.
fn kill_within(mut child: std::process::Child, runtime: std::time::Duration, seed: &mut u64) {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let fraction = (*seed >> 33) as f64 / (1u64 << 31) as f64;
    std::thread::sleep(runtime.mul_f64(0.2 + fraction));
    let _ = child.kill();
    let _ = child.wait();
}

/// How many kills a test makes: `CARBON_PATCH_KILLS`, or `default`.
fn kills(default: usize) -> usize {
    std::env::var("CARBON_PATCH_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[test]
fn killed_applies_leave_each_file_old_or_new_and_a_rerun_finishes() {
    kill_and_rerun(kills(200), false);
}

/// Finding 7: a kill while backups were written left empty or partial
/// copies that looked like whole ones, and (finding 6) copies more readable
/// than their originals.
#[test]
fn killed_applies_with_backups_leave_no_torn_or_readable_backup() {
    kill_and_rerun(kills(100), true);
}

/// Checks the backups a killed run left in `home`, against the home's
/// `original` files: whole under a stamp's name, never more readable than
/// their originals. Returns how many backups were whole and partial.
fn check_backups(home: &Path, original: &BTreeMap<PathBuf, Vec<u8>>, run: usize) -> (usize, usize) {
    use std::os::unix::fs::MetadataExt;
    let (mut whole, mut partial) = (0, 0);
    let Ok(backups) = std::fs::read_dir(home.join(".carbon-patch/backups")) else {
        return (0, 0);
    };
    for backup in backups {
        let backup = backup.unwrap().path();
        let name = backup.file_name().unwrap().to_string_lossy().into_owned();
        let unfinished = name.starts_with('.') && name.ends_with(".partial");
        for copy in walkdir::WalkDir::new(&backup) {
            let copy = copy.unwrap();
            if !copy.file_type().is_file() {
                continue;
            }
            let rel = copy.path().strip_prefix(&backup).unwrap();
            let mode = copy.metadata().unwrap().mode() & 0o777;
            let original_mode = std::fs::metadata(home.join(rel)).unwrap().mode() & 0o777;
            assert_eq!(
                mode & !original_mode,
                0,
                "run {run}: {} is {mode:o}, its original {original_mode:o}",
                copy.path().display()
            );
            if !unfinished {
                assert_eq!(
                    std::fs::read(copy.path()).unwrap(),
                    original[rel],
                    "run {run}: {} is not whole",
                    copy.path().display()
                );
            }
        }
        if unfinished {
            partial += 1;
        } else {
            whole += 1;
        }
    }
    (whole, partial)
}

/// Findings 6 and 7, at the moment that matters: the apply killed right
/// before it copies the k-th original into its backup (`strace` injects the
/// SIGKILL at the k-th `copy_file_range`), for each k. Every backup under a
/// stamp's name must be whole and none more readable than its original; the
/// re-run must finish the change and leave no unfinished backup.
#[test]
fn a_kill_while_originals_are_copied_leaves_no_torn_or_readable_backup() {
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        if std::env::var("CARBON_PATCH_ROOT_TESTS").as_deref() == Ok("skip") {
            eprintln!("skipped: no strace, and CARBON_PATCH_ROOT_TESTS=skip");
            return;
        }
        panic!("this test needs strace (Debian's strace) to kill at a chosen system call");
    }
    let root = tempfile::tempdir().unwrap();
    let (reference, _) = fresh(&root.path().join("reference"));
    let original = files(&reference);
    let mut torn_before = 0;
    for k in 1..=4 {
        let dir = root.path().join(format!("kill{k}"));
        let (node1, _) = fresh(&dir);
        let killed = Command::new("strace")
            .args([
                "-f",
                "-qq",
                "-o",
                "/dev/null",
                "-e",
                "trace=copy_file_range",
            ])
            .args([
                "-e",
                &format!("inject=copy_file_range:signal=KILL:when={k}"),
            ])
            .arg(env!("CARGO_BIN_EXE_carbon-patch"))
            .args(["apply", RECIPE, "--node=node1", "--backup"])
            .arg(format!("--home=node1={}", node1.display()))
            .current_dir(golden::workspace_root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!killed.success(), "k={k}: the apply was killed");
        let (_, unfinished) = check_backups(&node1, &original, k);
        torn_before += unfinished;
        let rerun = Command::new(env!("CARGO_BIN_EXE_carbon-patch"))
            .args(["apply", RECIPE, "--node=node1", "--backup"])
            .arg(format!("--home=node1={}", node1.display()))
            .current_dir(golden::workspace_root())
            .output()
            .unwrap();
        assert!(
            rerun.status.success(),
            "k={k}: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        let left: Vec<_> = std::fs::read_dir(node1.join(".carbon-patch/backups"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "k={k}: unfinished backups left: {left:?}");
    }
    assert!(torn_before > 0, "no kill landed while a backup was copied");
}

fn kill_and_rerun(kills: usize, backup: bool) {
    let root = tempfile::tempdir().unwrap();

    // The reference: the original files, the planned files, and how long an
    // apply takes: the fastest of three, as the first runs with cold caches,
    // and an estimate too long would land every kill after the end.
    let (ref1, ref2) = fresh(&root.path().join("reference"));
    let original = files(&ref1);
    let mut runtime = std::time::Duration::MAX;
    for round in 0..3 {
        let (one, two) = fresh(&root.path().join(format!("timed{round}")));
        let started = Instant::now();
        assert!(apply(&one, &two, backup).status().unwrap().success());
        runtime = runtime.min(started.elapsed());
    }
    assert!(apply(&ref1, &ref2, false).status().unwrap().success());
    let planned = [files(&ref1), files(&ref2)];
    assert_ne!(original, planned[0]);

    let (mut before_any, mut partial, mut complete) = (0, 0, 0);
    let (mut whole_backups, mut partial_backups) = (0, 0);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..kills {
        let dir = root.path().join(format!("run{i}"));
        let (node1, node2) = fresh(&dir);
        kill_within(
            apply(&node1, &node2, backup).spawn().unwrap(),
            runtime,
            &mut seed,
        );

        for (home, planned) in [(&node1, &planned[0]), (&node2, &planned[1])] {
            let (whole, unfinished) = check_backups(home, &original, i);
            whole_backups += whole;
            partial_backups += unfinished;
            let now = files(home);
            assert_eq!(
                now.keys().collect::<Vec<_>>(),
                original.keys().collect::<Vec<_>>(),
                "run {i}: files appeared or vanished beside the configuration (a temp file?)"
            );
            let mut changed = 0;
            for (rel, bytes) in &now {
                if bytes == &planned[rel] && bytes != &original[rel] {
                    changed += 1;
                } else {
                    assert_eq!(
                        bytes,
                        &original[rel],
                        "run {i}: {} is neither original nor planned",
                        rel.display()
                    );
                }
            }
            let to_change = original
                .iter()
                .filter(|(rel, b)| planned[*rel] != **b)
                .count();
            match changed {
                0 => before_any += 1,
                n if n == to_change => complete += 1,
                _ => {
                    // Partly written only while the journal says so: the
                    // next apply rolls it forward (all-or-nothing per node).
                    assert!(
                        journal_waits(home),
                        "run {i}: {} is partly written, with no journal to finish it",
                        home.display()
                    );
                    partial += 1
                }
            }
        }

        // Re-running finishes the change.
        let rerun = apply(&node1, &node2, backup)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            rerun.status.success(),
            "run {i}: re-run failed: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        for (home, planned) in [(&node1, &planned[0]), (&node2, &planned[1])] {
            let now = files(home);
            let wrong: Vec<_> = now
                .iter()
                .filter(|(rel, bytes)| planned.get(*rel) != Some(bytes))
                .map(|(rel, _)| rel)
                .collect();
            assert!(
                wrong.is_empty() && now.len() == planned.len(),
                "run {i}: after the re-run, {} differs from the plan in {wrong:?}",
                home.display()
            );
            // No journal, and nothing the killed run staged or kept.
            let mut left: Vec<_> = std::fs::read_dir(home.join(".carbon-patch"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            left.sort();
            let expected: &[&str] = if backup {
                &["backups", "lock"]
            } else {
                &["lock"]
            };
            assert_eq!(left, expected, "run {i}: {}", home.display());
            if backup {
                let unfinished = std::fs::read_dir(home.join(".carbon-patch/backups"))
                    .unwrap()
                    .filter(|e| {
                        e.as_ref()
                            .unwrap()
                            .file_name()
                            .to_string_lossy()
                            .ends_with(".partial")
                    })
                    .count();
                assert_eq!(
                    unfinished, 0,
                    "run {i}: the re-run removes unfinished backups"
                );
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!(
        "{kills} kills (apply takes {runtime:?}): homes untouched {before_any}, partly written {partial}, fully written {complete}; \
         backups left whole {whole_backups}, unfinished {partial_backups}"
    );
    // Kills that all came after the end would have proved nothing.
    assert!(
        kills < 50 || before_any + partial > 0,
        "no kill landed before an apply finished"
    );
}

/// `restore` killed at random moments (100 times, or `CARBON_PATCH_KILLS`),
/// putting back the files of an `apply --backup` that also copied a driver
/// in, which the restore removes. After every kill each file holds its
/// applied or its original bytes, the driver is there (as the apply wrote
/// it) or gone, a mix only while a journal waits; a re-run of the restore
/// finishes it and leaves nothing staged.
#[test]
fn killed_restores_leave_each_file_old_or_new_and_a_rerun_finishes() {
    let kills = kills(100);
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("driver.jar"), b"PK\x03\x04 a driver").unwrap();
    let recipe = root.path().join("r.toml");
    std::fs::write(
        &recipe,
        "lib = [\"driver.jar\"]\n[server]\noffset = 3\nhostname = \"node.example.com\"\n\
         [clustering]\nmembership_scheme = \"multicast\"\ndomain = \"restore.test\"\n\
         [tomcat]\nhttps_proxy_port = 443\n[nodes.node1]\nhome = \"x\"\n",
    )
    .unwrap();
    let jar = PathBuf::from("repository/components/lib/driver.jar");
    let applied = |dir: &Path| -> PathBuf {
        let home = crate::common::fresh(dir, "node1");
        let out = crate::common::bin()
            .arg("apply")
            .arg(&recipe)
            .arg("--backup")
            .arg(format!("--home=node1={}", home.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", crate::common::stderr(&out));
        home
    };
    let restore = |home: &Path| {
        let mut cmd = crate::common::bin();
        cmd.args(["restore", "--from", "latest"])
            .arg(home)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    };
    let reference = applied(&root.path().join("reference"));
    let after_apply = files(&reference);
    assert!(after_apply.contains_key(&jar));
    let mut runtime = std::time::Duration::MAX;
    for _ in 0..3 {
        let home = applied(&root.path().join("timed"));
        let started = Instant::now();
        assert!(restore(&home).status().unwrap().success());
        runtime = runtime.min(started.elapsed());
        std::fs::remove_dir_all(root.path().join("timed")).unwrap();
    }
    assert!(restore(&reference).status().unwrap().success());
    let restored = files(&reference);
    assert!(!restored.contains_key(&jar));

    let (mut before_any, mut partial, mut complete) = (0, 0, 0);
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..kills {
        let dir = root.path().join(format!("run{i}"));
        let home = applied(&dir);
        kill_within(restore(&home).spawn().unwrap(), runtime, &mut seed);

        let now = files(&home);
        let mut changed = 0;
        for (rel, bytes) in &after_apply {
            match (now.get(rel), restored.get(rel)) {
                (Some(now), _) if now == bytes => {}
                (now, goal) if now == goal => changed += 1,
                (now, _) => panic!(
                    "run {i}: {} is neither as applied nor as restored: {:?}",
                    rel.display(),
                    now.map(|b| String::from_utf8_lossy(b).into_owned())
                ),
            }
        }
        let keys = |files: &BTreeMap<PathBuf, Vec<u8>>| -> Vec<PathBuf> {
            files.keys().filter(|rel| **rel != jar).cloned().collect()
        };
        assert_eq!(keys(&now), keys(&after_apply), "run {i}: files appeared");
        let to_change = after_apply
            .iter()
            .filter(|(rel, bytes)| restored.get(*rel) != Some(bytes))
            .count();
        match changed {
            0 => before_any += 1,
            n if n == to_change => complete += 1,
            _ => {
                assert!(
                    journal_waits(&home),
                    "run {i}: partly restored, with no journal to finish it"
                );
                partial += 1;
            }
        }

        let rerun = restore(&home).output().unwrap();
        assert!(
            rerun.status.success(),
            "run {i}: re-run failed: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        assert_eq!(files(&home), restored, "run {i}: the re-run finishes it");
        let mut left: Vec<_> = std::fs::read_dir(home.join(".carbon-patch"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["backups", "lock"], "run {i}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!(
        "{kills} kills (restore takes {runtime:?}): untouched {before_any}, partly restored \
         {partial}, fully restored {complete}"
    );
    assert!(
        kills < 50 || before_any + partial > 0,
        "no kill landed before a restore finished"
    );
}
