//! `plan` and `apply` of each example recipe, as a user runs them: the
//! built binary, on the sample homes in fixtures/ (apply on fresh copies,
//! one per node, made outside the measurement).
//!
//!   cargo bench -p carbon-patch --bench examples

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const SECRETS: &[&str] = &[
    "MB_DB_PASSWORD",
    "GREG_DB_PASSWORD",
    "DAS_DB_PASSWORD",
    "ES_DB_PASSWORD",
    "ES_SVN_USER",
    "ES_SVN_PASSWORD",
    "DSS_DB_PASSWORD",
];

fn carbon_patch(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbon-patch"));
    cmd.current_dir(golden::workspace_root())
        .args(args)
        .stdout(Stdio::null());
    for name in SECRETS {
        cmd.env(name, "bench-secret");
    }
    cmd
}

/// Each node of `recipe` with its default home, from `plan --format json`.
fn nodes(recipe: &str) -> Vec<(String, PathBuf)> {
    let out = carbon_patch(&["plan", recipe, "--format=json"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "{recipe}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let home = PathBuf::from(n["home"].as_str().unwrap());
            let home = if home.is_relative() {
                golden::workspace_root().join(home)
            } else {
                home
            };
            (n["name"].as_str().unwrap().to_string(), home)
        })
        .collect()
}

fn examples(c: &mut Criterion) {
    let mut recipes: Vec<String> = std::fs::read_dir(golden::workspace_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("examples/{n}"))
        .collect();
    recipes.sort();
    let mut group = c.benchmark_group("example");
    group.sample_size(20);
    for recipe in &recipes {
        let name = Path::new(recipe).file_stem().unwrap().to_string_lossy();
        group.bench_function(format!("plan/{name}"), |b| {
            b.iter(|| assert!(carbon_patch(&["plan", recipe]).status().unwrap().success()))
        });
        let nodes = nodes(recipe);
        group.bench_function(format!("apply/{name}"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().unwrap();
                    let mut args = vec!["apply".to_string(), recipe.clone()];
                    for (node, home) in &nodes {
                        let copy = dir.path().join(node);
                        golden::copy_tree(home, &copy);
                        args.push(format!("--home={node}={}", copy.display()));
                    }
                    (dir, args)
                },
                |(_dir, args)| {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    assert!(carbon_patch(&args).status().unwrap().success());
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, examples);
criterion_main!(benches);
