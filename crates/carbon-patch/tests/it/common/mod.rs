//! What the crash, fault and attack tests share: the built binary run on
//! node1 of the quickstart recipe, fresh copies of the sample home, and what
//! they look at in a home after a run. Each test binary uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The recipe these tests run.
pub const RECIPE: &str = "examples/quickstart.toml";

/// The built binary, run from the workspace, with no test hook set.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbon-patch"));
    cmd.current_dir(golden::workspace_root())
        .env_remove("CARBON_PATCH_FAIL_AFTER_WRITES")
        .env_remove("CARBON_PATCH_ABORT_AFTER_WRITES");
    cmd
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `command` of the quickstart recipe on node1 only, at `home`.
pub fn on_node1(command: &str, home: &Path) -> Command {
    let mut cmd = bin();
    cmd.args([command, RECIPE, "--node=node1"])
        .arg(format!("--home=node1={}", home.display()));
    cmd
}

/// A fresh copy of the sample home at `dir/name`.
pub fn fresh(dir: &Path, name: &str) -> PathBuf {
    let home = dir.join(name);
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        &home,
    );
    home
}

/// Every file under `home` outside `.carbon-patch/`, with its bytes.
pub fn files(home: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(home)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".carbon-patch")
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(home).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Whether a journal waits in `home`: the lines after the pid in its lock
/// file.
pub fn journal_waits(home: &Path) -> bool {
    let lock = std::fs::read(home.join(".carbon-patch/lock")).unwrap_or_default();
    lock.splitn(2, |&b| b == b'\n')
        .nth(1)
        .is_some_and(|journal| !journal.trim_ascii().is_empty())
}

/// Whether the built binary injects failures and crashes for the tests
/// (carbon-commit's test hooks: a debug build only). A test that needs them
/// says it was skipped in a release-profile run.
pub fn hooks(test: &str) -> bool {
    if !cfg!(debug_assertions) {
        eprintln!("{test}: skipped (test hooks exist in debug builds only)");
    }
    cfg!(debug_assertions)
}
