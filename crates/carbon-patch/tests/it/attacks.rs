//! The home's owner against carbon-patch run by root: what the built binary
//! must refuse whatever the owner plants in a home (docs/security.md, "The
//! home's owner"). The owner is `nobody` here; the tests that need two users
//! run as root and act as the owner through `setpriv`. Run as another user
//! they fail, since CI runs as root; `CARBON_PATCH_ROOT_TESTS=skip` skips
//! them instead, saying so.
//!
//! The attacks that need a pause in the middle of a commit are the commit
//! crate's own tests (`crates/carbon-commit`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, files, fresh, journal_waits, on_node1, stderr, stdout};

const NOBODY: u32 = 65534;

/// Whether this test may go on: true as root; otherwise a failure, unless
/// the run asked to skip what needs root.
#[allow(unsafe_code)] // geteuid through libc
fn root_or_fail(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
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

/// A home owned by `nobody` at `dir/node1`, in a folder `nobody` may enter
/// (a temporary folder is its creator's alone).
fn home_of_nobody(dir: &Path) -> PathBuf {
    let home = fresh(dir, "node1");
    let chowned = Command::new("chown")
        .args(["-R", &format!("{NOBODY}:{NOBODY}")])
        .arg(&home)
        .status()
        .unwrap();
    assert!(chowned.success(), "chown -R nobody {}", home.display());
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    home
}

/// Runs `script` with `sh` as `nobody`, in `dir`; `input` on its stdin.
fn as_nobody(dir: &Path, script: &str, input: &[u8]) {
    use std::io::Write;
    let mut child = Command::new("setpriv")
        .args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "sh",
            "-euc",
            script,
        ])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv (util-linux) runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "as nobody: {script}: {}",
        stderr(&out)
    );
}

/// The identity today's journal gave a file (JSON), read as the owner
/// would read it with `stat`.
fn identity(path: &Path) -> serde_json::Value {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).unwrap();
    serde_json::json!({
        "dev": meta.dev(), "ino": meta.ino(), "len": meta.len(),
        "mtime": [meta.mtime(), meta.mtime_nsec()],
        "ctime": [meta.ctime(), meta.ctime_nsec()],
    })
}

/// Finding 1: the owner writes a journal whose targets pass through a link
/// in the home to root's folder, with the identities of root's files; the
/// next root `apply` must not "finish" it.
#[test]
fn a_journal_planted_by_the_homes_owner_is_refused() {
    if !root_or_fail("a_journal_planted_by_the_homes_owner_is_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home_of_nobody(dir.path());
    // Root's folder beside the home, with two files of root's.
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("victim.xml"), "<root-owned/>").unwrap();
    std::fs::write(outside.join("gone.xml"), "<root-owned/>").unwrap();
    let journal = serde_json::json!({"version": 2, "files": [
        {"target": "repository/conf/link/victim.xml", "staged": "repository/conf/evil.xml",
         "identity": identity(&outside.join("victim.xml"))},
        {"target": "repository/conf/carbon.xml", "staged": "repository/conf/link/gone.xml",
         "identity": identity(&outside.join("gone.xml"))},
    ]});
    let mut lock = b"4194305   \n".to_vec();
    lock.extend(serde_json::to_vec(&journal).unwrap());
    as_nobody(
        &home,
        &format!(
            "ln -s {} repository/conf/link\n\
             echo '<evil/>' > repository/conf/evil.xml\n\
             mkdir -p .carbon-patch\n\
             cat > .carbon-patch/lock",
            outside.display()
        ),
        &lock,
    );
    let before = files(&home);

    let out = on_node1("apply", &home).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        std::fs::read(outside.join("victim.xml")).unwrap(),
        b"<root-owned/>"
    );
    assert!(
        outside.join("gone.xml").exists(),
        "root's file is not removed"
    );
    assert_eq!(files(&home), before, "nothing written in the home");
    assert!(
        journal_waits(&home),
        "the planted journal is left as it was"
    );
    assert!(
        err.contains(&format!(
            "{}: owned by uid {NOBODY}, not by this user (uid 0)",
            home.join(".carbon-patch").display()
        )),
        "{err}"
    );
    assert!(err.contains("remove"), "says how to recover: {err}");
}

/// Finding 4: a file reached by two paths (a link to it), which the recipe
/// edits by both: one edit would be lost. The plan is refused.
#[test]
fn one_file_edited_by_two_paths_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = fresh(dir.path(), "node1");
    std::os::unix::fs::symlink("carbon.xml", home.join("repository/conf/alias.xml")).unwrap();
    let recipe = dir.path().join("recipe.toml");
    std::fs::write(
        &recipe,
        format!(
            "[nodes.node1]\nhome = \"{}\"\nserver = {{ offset = 2 }}\n\n\
             [[raw]]\nfile = \"repository/conf/alias.xml\"\npath = \"/Server/Name\"\n\
             action = \"set_text\"\nvalue = \"Node One\"\n",
            home.display()
        ),
    )
    .unwrap();
    let before = files(&home);
    for command in ["plan", "apply"] {
        let out = bin().arg(command).arg(&recipe).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(
            err.contains(
                "repository/conf/alias.xml and repository/conf/carbon.xml are one file \
                 (a link leads from one to the other); edit it by one path"
            ),
            "{command}: {err}"
        );
    }
    assert_eq!(files(&home), before);
}

/// Finding 5: the lock file hard-linked to another file, which an apply
/// would write its pid into.
#[test]
fn a_lock_with_more_than_one_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = fresh(dir.path(), "node1");
    let theirs = dir.path().join("theirs.txt");
    std::fs::write(&theirs, "keep me\n").unwrap();
    std::fs::create_dir(home.join(".carbon-patch")).unwrap();
    std::fs::set_permissions(
        home.join(".carbon-patch"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    std::fs::hard_link(&theirs, home.join(".carbon-patch/lock")).unwrap();
    let before = files(&home);
    let out = on_node1("apply", &home).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{}: has 2 links; a lock carbon-patch trusts has one",
            home.join(".carbon-patch/lock").display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&theirs).unwrap(), b"keep me\n");
    assert_eq!(files(&home), before);
}

/// Runs `cmd` for at most ten seconds; `None` when it had to be killed.
fn within_ten_seconds(mut cmd: Command) -> Option<Output> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Makes a FIFO at `path`.
fn fifo_at(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
}

/// Finding 9: a FIFO where a file is read. Opening one to read waits for a
/// writer; every command must refuse it at once instead.
#[test]
fn a_fifo_in_the_home_is_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    for rel in [
        "repository/conf/carbon.xml",
        "bin/version.txt",
        "repository/conf/datasources/master-datasources.xml",
    ] {
        let home = fresh(dir.path(), &rel.replace('/', "_"));
        let path = home.join(rel);
        std::fs::remove_file(&path).unwrap();
        fifo_at(&path);
        for command in ["plan", "check", "apply", "inspect"] {
            let cmd = match command {
                "inspect" => {
                    let mut cmd = bin();
                    cmd.arg("inspect").arg(&home);
                    cmd
                }
                _ => on_node1(command, &home),
            };
            let out = within_ten_seconds(cmd)
                .unwrap_or_else(|| panic!("{command} waited on the FIFO at {rel}"));
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{command} {rel}: {err}");
            assert!(
                err.contains(&format!("{}: a FIFO, not a regular file", path.display())),
                "{command} {rel}: {err}"
            );
        }
    }
}

/// A `lib` source must be a regular file: a FIFO there is refused at once
/// by every command that reads it, not waited on.
#[test]
fn a_lib_source_that_is_a_fifo_is_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let home = fresh(dir.path(), "node1");
    let pipe = dir.path().join("driver.jar");
    fifo_at(&pipe);
    let recipe = dir.path().join("r.toml");
    let text = format!("lib = [{pipe:?}]\n[nodes.node1]\nhome = {home:?}\n");
    std::fs::write(&recipe, text).unwrap();
    for command in ["plan", "check", "apply"] {
        let mut cmd = bin();
        cmd.arg(command).arg(&recipe);
        let out = within_ten_seconds(cmd)
            .unwrap_or_else(|| panic!("{command} waited on the FIFO given as a lib"));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(
            err.contains(&format!("{}: is not a regular file", pipe.display())),
            "{command}: {err}"
        );
    }
}

/// A `lib` source in a folder the home's owner controls (a recipe `capture`
/// wrote from that home names its jars there): the owner makes it a link
/// to a file only root may read, for root to copy into the home as the
/// owner's. Root refuses the source, naming who controls it, and copies
/// nothing.
#[test]
fn a_lib_source_the_homes_owner_controls_is_not_copied() {
    if !root_or_fail("a_lib_source_the_homes_owner_controls_is_not_copied") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home_of_nobody(dir.path());
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "ROOT-ONLY-MARKER\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let theirs = home.join("repository/components/lib");
    as_nobody(
        &home,
        &format!(
            "ln -s {} repository/components/lib/mysql.jar",
            secret.display()
        ),
        b"",
    );
    let recipe = dir.path().join("r.toml");
    let source = theirs.join("mysql.jar");
    let text = format!("lib = [{source:?}]\n[nodes.node1]\nhome = {home:?}\n");
    std::fs::write(&recipe, text).unwrap();
    let before = files(&home);
    for command in ["plan", "apply"] {
        let out = bin().arg(command).arg(&recipe).output().unwrap();
        let (out_text, err) = (stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(
            err.contains(&format!(
                "{}: {} is owned by uid {NOBODY}, so it could make this path lead to another \
                 file for root to copy into the home",
                source.display(),
                home.display()
            )),
            "{command}: {err}"
        );
        assert!(!out_text.contains("ROOT-ONLY") && !err.contains("ROOT-ONLY"));
    }
    assert_eq!(files(&home), before);
}

/// An operator's own folder, beside the recipe it wrote (run with sudo,
/// the runner is root): its owner chose every source, so a jar there is
/// copied; a jar in the same folder named by a recipe of root's is not.
#[test]
fn a_lib_source_the_recipes_owner_controls_is_copied() {
    if !root_or_fail("a_lib_source_the_recipes_owner_controls_is_copied") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let home = fresh(dir.path(), "node1");
    let ops = dir.path().join("ops");
    std::fs::create_dir(&ops).unwrap();
    std::os::unix::fs::chown(&ops, Some(NOBODY), Some(NOBODY)).unwrap();
    let recipe = format!("lib = [\"driver.jar\"]\n[nodes.node1]\nhome = {home:?}\n");
    as_nobody(
        &ops,
        "printf 'PK driver' > driver.jar && cat > r.toml",
        recipe.as_bytes(),
    );
    let out = bin().arg("apply").arg(ops.join("r.toml")).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let jar = home.join("repository/components/lib/driver.jar");
    assert_eq!(std::fs::read(&jar).unwrap(), b"PK driver");
    std::fs::remove_file(&jar).unwrap();
    let roots = dir.path().join("r.toml");
    let text = recipe.replace("driver.jar", &ops.join("driver.jar").display().to_string());
    std::fs::write(&roots, text).unwrap();
    let out = bin().arg("apply").arg(&roots).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("{} is owned by uid {NOBODY}", ops.display())),
        "{}",
        stderr(&out)
    );
    assert!(!jar.exists());
}

/// The datasources files are validated together, so they are bounded
/// together: many names of one large file (hard links cost the owner no
/// space) took a gigabyte of memory each. Each file here is within the
/// limit, and all of them together are not.
#[test]
fn the_datasources_files_are_bounded_together() {
    let dir = tempfile::tempdir().unwrap();
    let home = fresh(dir.path(), "node1");
    let folder = home.join("repository/conf/datasources");
    let within = |out: &Output| {
        let err = stderr(out);
        assert!(
            !err.contains("in all"),
            "one datasources file is within the limit: {err}"
        );
    };
    let plan = || {
        on_node1("plan", &home)
            .args(["--max-file-size", "3000"])
            .output()
            .unwrap()
    };
    let first = plan();
    within(&first);
    assert!(first.status.success(), "{}", stderr(&first));
    for name in ["a-datasources.xml", "b-datasources.xml"] {
        std::fs::hard_link(folder.join("master-datasources.xml"), folder.join(name)).unwrap();
    }
    let out = plan();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{}: its *-datasources.xml files hold over 3000 bytes in all, the limit for a file \
             (raise it with --max-file-size)",
            folder.display()
        )),
        "{err}"
    );
}

/// The attacker's 7: a home named through a link the home's owner owns
/// (`current`, a common layout), which it points at another account's home
/// (here root's): root applied the recipe there. A path is taken only when
/// root and the home's owner alone control it.
#[test]
fn a_home_named_through_a_link_another_user_owns_is_refused() {
    if !root_or_fail("a_home_named_through_a_link_another_user_owns_is_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let victim = fresh(dir.path(), "victim");
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    as_nobody(&theirs, &format!("ln -s {} current", victim.display()), b"");
    let before = files(&victim);
    let out = on_node1("apply", &theirs.join("current")).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // Its folder is the owner's, and so is the link: the first met is named.
    assert!(
        err.contains(&format!(
            "{} is owned by uid {NOBODY}, so it can make this path lead to another folder \
             than the home; name the home by a path that only root and the home's owner \
             (uid 0) control",
            theirs.display()
        )),
        "{err}"
    );
    assert_eq!(files(&victim), before);
    // Named by a path root controls, the same home is taken.
    let out = on_node1("plan", &victim).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A backup the home's owner wrote (its own `.carbon-patch`, with a
/// carbon.xml of its choosing) is never put in place by a root `restore`,
/// and the message says whose backups they are, not to remove them.
#[test]
fn a_backup_the_homes_owner_wrote_is_not_restored_by_root() {
    if !root_or_fail("a_backup_the_homes_owner_wrote_is_not_restored_by_root") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home_of_nobody(dir.path());
    as_nobody(
        &home,
        "mkdir -m 700 -p .carbon-patch/backups/S/repository/conf && \
         echo '<Server>planted</Server>' > .carbon-patch/backups/S/repository/conf/carbon.xml",
        b"",
    );
    let before = files(&home);
    for args in [
        &["--from", "S"][..],
        &["--from", "latest"],
        &["--from", "S", "--dry-run"],
    ] {
        let out = bin().arg("restore").args(args).arg(&home).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&out),
            format!(
                "carbon-patch: nothing was written: {}: owned by uid {NOBODY}, not by this user \
                 (uid 0). Its backups are that user's: run restore as uid {NOBODY}. carbon-patch \
                 trusts a backup only where no other user could have written it\n",
                home.join(".carbon-patch").display()
            ),
            "{args:?}"
        );
        assert_eq!(files(&home), before, "{args:?}: nothing written");
    }
}

/// `restore` removes a file the apply created only by its own name: the
/// home's owner, who may not remove a file of root's in the home, swaps the
/// created file for a link to one with the same bytes. Root leaves both.
#[test]
fn a_created_file_swapped_for_a_link_is_not_removed_through_it() {
    if !root_or_fail("a_created_file_swapped_for_a_link_is_not_removed_through_it") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home_of_nobody(dir.path());
    let recipe = dir.path().join("r.toml");
    std::fs::write(dir.path().join("driver.jar"), b"PK\x03\x04 a driver").unwrap();
    std::fs::write(
        &recipe,
        format!("lib = [\"driver.jar\"]\n[nodes.node1]\nhome = {:?}\n", home),
    )
    .unwrap();
    let out = bin()
        .args(["apply", "--backup"])
        .arg(&recipe)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Root's own copy, in a folder of root's: the owner cannot remove it.
    let protected = home.join("protected");
    std::fs::create_dir(&protected).unwrap();
    std::fs::write(protected.join("driver.jar"), b"PK\x03\x04 a driver").unwrap();
    let jar = "repository/components/lib/driver.jar";
    as_nobody(
        &home,
        &format!("rm {jar} && ln -s ../../../protected/driver.jar {jar}"),
        b"",
    );
    let out = bin()
        .args(["restore", "--from", "latest"])
        .arg(&home)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "left {}: {jar} (the apply created it, but it is now reached through a symbolic link)\n",
            home.display()
        )),
        "{}",
        stdout(&out)
    );
    assert!(protected.join("driver.jar").is_file());
    assert!(home.join(jar).is_symlink());
}

/// `fs.protected_hardlinks` set to `value` while this lives, then put back
/// (the kernel's setting: other tests only ever see it more permissive).
struct HardLinks(String);

impl HardLinks {
    const PATH: &'static str = "/proc/sys/fs/protected_hardlinks";

    fn set(value: &str) -> HardLinks {
        let was = std::fs::read_to_string(Self::PATH).expect("fs.protected_hardlinks is readable");
        std::fs::write(Self::PATH, value).unwrap_or_else(|e| {
            panic!("this test turns fs.protected_hardlinks off for a while, as root: {e}")
        });
        HardLinks(was.trim().to_string())
    }
}

impl Drop for HardLinks {
    fn drop(&mut self) {
        let _ = std::fs::write(Self::PATH, &self.0);
    }
}

/// Where hard links to others' files are allowed (`fs.protected_hardlinks`
/// off, if only for a while), the home's owner can give a file of root's a
/// name in the home: root's plan and apply never read it (so never show it,
/// copy it into a backup, or write it back as the owner's), whatever the
/// setting is by the time they run.
#[test]
fn a_file_of_roots_linked_into_the_home_is_never_read() {
    if !root_or_fail("a_file_of_roots_linked_into_the_home_is_never_read") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home_of_nobody(dir.path());
    let secret = dir.path().join("shadow");
    std::fs::write(&secret, "root:$6$NotForTheOwner:19000:0:99999:7:::\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    {
        // The link is made while the protection is off; the runs below
        // happen once it is back on, and the link stays.
        let _off = HardLinks::set("0");
        as_nobody(
            &home,
            "rm repository/conf/carbon.xml && ln ../shadow repository/conf/carbon.xml",
            b"",
        );
    }
    let before = files(&home);
    for command in ["plan", "apply"] {
        let out = on_node1(command, &home).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        let (text, err) = (crate::common::stdout(&out), stderr(&out));
        assert!(!text.contains("NotForTheOwner") && !err.contains("NotForTheOwner"));
        assert!(
            err.contains(
                "has 2 names, belongs to uid 0, and its folder (uid 65534's) may be written"
            ),
            "{command}: {err}"
        );
    }
    assert_eq!(files(&home), before, "nothing written");
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "root:$6$NotForTheOwner:19000:0:99999:7:::\n"
    );
}
