//! A recipe of 10,000 nodes is planned node by node: from 1,000 nodes to
//! 10,000, the peak memory of `plan` grows only by the parsed recipe, not
//! by the plans. Peak memory is the child's
//! maximum resident set, from wait4(2). Its speed is measured in benches/,
//! not here.

use std::path::Path;
use std::process::{Command, Stdio};

/// A copy of the sample home whose carbon.xml carries a 24 KiB comment, so
/// that keeping every node's plan (its file before and after) would cost
/// about 50 KiB a node.
fn padded_home(dir: &Path) -> std::path::PathBuf {
    let home = dir.join("home");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        &home,
    );
    let carbon = home.join("repository/conf/carbon.xml");
    let mut bytes = std::fs::read(&carbon).unwrap();
    let at = bytes.windows(7).position(|w| w == b"<Server").unwrap();
    let pad = format!(
        "<!--\n{}-->\n",
        "  padding padding padding padding padding padding\n".repeat(480)
    );
    bytes.splice(at..at, pad.into_bytes());
    std::fs::write(&carbon, bytes).unwrap();
    home
}

/// `count` homes under `dir`, each a folder tree of its own whose files are
/// hard links to `home`'s: every node has its own home, as `plan` requires,
/// for the cost of the folders.
fn linked_homes(dir: &Path, home: &Path, count: usize) -> Vec<std::path::PathBuf> {
    let entries: Vec<_> = walkdir::WalkDir::new(home)
        .into_iter()
        .map(|e| e.unwrap())
        .collect();
    (0..count)
        .map(|i| {
            let copy = dir.join(format!("homes/n{i:05}"));
            for entry in &entries {
                let to = copy.join(entry.path().strip_prefix(home).unwrap());
                if entry.file_type().is_dir() {
                    std::fs::create_dir_all(&to).unwrap();
                } else {
                    std::fs::hard_link(entry.path(), &to).unwrap();
                }
            }
            copy
        })
        .collect()
}

/// A recipe of a node on each of `homes`, each with its own port offset.
fn recipe(dir: &Path, homes: &[std::path::PathBuf]) -> std::path::PathBuf {
    let nodes = homes.len();
    let mut text = String::from("[server]\nhostname = \"10.0.0.1\"\n");
    for (i, home) in homes.iter().enumerate() {
        text.push_str(&format!(
            "\n[nodes.n{i:05}]\nhome = {:?}\nserver = {{ offset = {} }}\n",
            home.display().to_string(),
            1 + i % 100,
        ));
    }
    let path = dir.join(format!("fleet-{nodes}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `plan` on the recipe; returns its peak resident memory in KiB and
/// its output's size.
#[allow(unsafe_code)] // wait4 through libc: only it reports the child's peak memory
fn plan_peak_kib(recipe: &Path) -> (i64, u64) {
    let out_path = recipe.with_extension("out");
    // Reaped by wait4 below, which (unlike Child::wait) reports its usage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_carbon-patch"))
        .arg("plan")
        .arg(recipe)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid pointers.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    (usage.ru_maxrss, std::fs::metadata(&out_path).unwrap().len())
}

#[test]
fn ten_thousand_nodes_plan_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let home = padded_home(dir.path());
    let homes = linked_homes(dir.path(), &home, 10_000);
    let (small, small_out) = plan_peak_kib(&recipe(dir.path(), &homes[..1_000]));
    let (large, large_out) = plan_peak_kib(&recipe(dir.path(), &homes));
    eprintln!(
        "peak memory: 1,000 nodes {small} KiB, 10,000 nodes {large} KiB; output {small_out} and {large_out} bytes"
    );
    assert!(
        large_out > 9 * small_out,
        "every node was planned and shown"
    );
    // What may grow is the parsed recipe (about 5 KiB a node, most of it
    // while the TOML is parsed); keeping plans would add about 50 KiB a node.
    let per_node = (large - small) / 9_000;
    assert!(
        per_node < 10,
        "peak grew from {small} KiB to {large} KiB: {per_node} KiB a node"
    );
}
