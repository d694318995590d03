//! The home's lock: held, refused, raced for; one home per node.

use super::*;

/// Whether some process holds the `flock(2)` on the home's lock file.
#[allow(unsafe_code)] // flock through libc
fn lock_is_held(home: &Path) -> bool {
    let Ok(file) = std::fs::File::open(home.join(".carbon-patch/lock")) else {
        return false;
    };
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function owns, closed when `file` drops.
    let held = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0;
    held && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

#[test]
#[allow(unsafe_code)] // flock through libc
fn a_held_lock_is_refused_and_a_released_one_taken() {
    let h = homes();
    let lock_dir = h.node1.join(".carbon-patch");
    std::fs::create_dir_all(&lock_dir).unwrap();
    // This test holds the lock, its file naming it as a holder's would.
    let lock = lock_dir.join("lock");
    let held = std::fs::File::create(&lock).unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor `held` owns.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    assert!(lock_is_held(&h.node1));
    let before = snapshot(&h.node1);
    let out = with_homes(&h, "apply", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: nothing was written: node node1 ({home}): \
             another carbon-patch (pid {}) is writing to this home; run again when it has finished\n",
            std::process::id(),
            home = h.node1.display()
        )
    );
    assert_eq!(snapshot(&h.node1), before, "nothing written");
    // Released (as the kernel releases it when its holder dies), whatever
    // pid the file names, of a live process or of none: taken, and
    // released again when the apply exits.
    drop(held);
    for named in [
        format!("{}\n", std::process::id()),
        "999999999\n".to_string(),
    ] {
        std::fs::write(&lock, &named).unwrap();
        let out = with_homes(&h, "apply", &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!lock_is_held(&h.node1));
        assert_ne!(
            std::fs::read_to_string(&lock).unwrap(),
            named,
            "names its last holder"
        );
    }
}

/// Applies racing for one home: one wins, the others say who holds the
/// lock (never "No such file", as a run reading a lock just released
/// could say), and the home
/// ends applied once. A race either way on each round: a regression shows
/// in some rounds, not necessarily all.
#[test]
fn racing_applies_on_one_home_name_the_holder_or_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("race.toml");
    let home = dir.path().join("home");
    std::fs::write(
        &recipe,
        format!(
            "[server]\noffset = 7\n[nodes.a]\nhome = {:?}\n",
            home.display().to_string()
        ),
    )
    .unwrap();
    let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
    for round in 0..20 {
        if home.exists() {
            std::fs::remove_dir_all(&home).unwrap();
        }
        golden::copy_tree(&fixture, &home);
        // Not the first apply on this home: the winner then clears what
        // dead runs left, where an old race was.
        std::fs::create_dir_all(home.join(".carbon-patch")).unwrap();
        let runs: Vec<_> = (0..3)
            .map(|_| {
                bin()
                    .args(["apply", recipe.to_str().unwrap()])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for run in runs {
            let out = run.wait_with_output().unwrap();
            let err = stderr(&out);
            assert!(
                out.status.success()
                    || (err.contains("another carbon-patch (pid ")
                        && err.contains("is writing to this home")),
                "round {round}: {err}"
            );
        }
        let check = run(&["check", recipe.to_str().unwrap()]);
        assert!(check.status.success(), "round {round}: {}", stdout(&check));
    }
}

/// Refused by apply, and by plan and check, which must never show what apply
/// refuses.
/// Two runs that wait, over the same homes, take them in one order: each
/// waits for the first home the other holds, and neither can hold a home
/// the other waits for. The second starts while the first waits for node2.
#[test]
fn waiting_runs_over_the_same_homes_both_finish() {
    let h = homes();
    let args = |h: &Homes| -> Vec<String> {
        vec![
            "apply".into(),
            "examples/quickstart.toml".into(),
            format!("--home=node1={}", h.node1.display()),
            format!("--home=node2={}", h.node2.display()),
            "-j2".into(),
            "--wait=20s".into(),
        ]
    };
    // The first run starts as soon as something else lets node2 go.
    let first = Command::new("flock")
        .arg(&h.node2)
        .args(["-c", "sleep 0.6"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let second = bin()
        .args(args(&h))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = first;
    assert!(first.wait().unwrap().success());
    let started = std::time::Instant::now();
    let out = bin().args(args(&h)).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = second.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "no run waited for one the other held"
    );
}

#[test]
fn nodes_sharing_a_home_are_not_applied() {
    let h = homes();
    let shared = format!("home = \"{}\"\n", h.node1.display());
    let (_dir, recipe) = recipe_file(
        "r.toml",
        format!("[server]\noffset = 2\n[nodes.node1]\n{shared}[nodes.node2]\n{shared}"),
    );
    let before = snapshot(&h.node1);
    for command in ["apply", "plan", "check"] {
        let out = run(&[command, recipe.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        assert!(
            stderr(&out).contains("nodes node1 and node2 share the home"),
            "{command}: {}",
            stderr(&out)
        );
    }
    assert_eq!(snapshot(&h.node1), before, "nothing written");
    // Through a symbolic link, it is the same home.
    let link = h.node1.with_file_name("node1-link");
    std::os::unix::fs::symlink(&h.node1, &link).unwrap();
    let before = snapshot(&h.node1);
    let out = bin()
        .args(["apply", "examples/quickstart.toml"])
        .arg(format!("--home=node1={}", h.node1.display()))
        .arg(format!("--home=node2={}", link.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nodes node1 and node2 share the home"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&h.node1), before, "nothing written");
}
