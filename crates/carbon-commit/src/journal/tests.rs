use std::os::unix::fs::PermissionsExt;

use super::*;

const NAMES: [&str; 3] = ["a.xml", "b.xml", "c.xml"];

/// A home whose `a.xml`, `b.xml` and `c.xml` hold "old", each with "new"
/// staged in the stage folder; its root, stage folder and the journal's
/// entries.
fn staged_home(home: &Path) -> (Root, Dir, Vec<Entry>) {
    let stage = home.join(STAGE_DIR);
    std::fs::create_dir(&stage).unwrap();
    std::fs::set_permissions(&stage, std::fs::Permissions::from_mode(0o700)).unwrap();
    let entries = NAMES
        .iter()
        .map(|name| {
            let staged = Path::new(STAGE_DIR).join(format!("{STAGED_PREFIX}{name}"));
            std::fs::write(home.join(name), "old").unwrap();
            std::fs::write(home.join(&staged), "new").unwrap();
            Entry {
                target: name.into(),
                staged,
                before: Some(Fingerprint::of(b"old")),
                after: Some(Fingerprint::of(b"new")),
            }
        })
        .collect();
    let root = Root::open(home).unwrap();
    let stage = root.dir(STAGE_DIR).unwrap();
    (root, stage, entries)
}

fn read(home: &Path, name: impl AsRef<Path>) -> String {
    std::fs::read_to_string(home.join(name)).unwrap()
}

fn lock(home: &Path) -> PathBuf {
    home.join(".carbon-patch/lock")
}

fn run(home: &Path, root: &Root, stage: &Dir, journal: &[u8]) -> Result<Vec<PathBuf>> {
    recover(root, stage, &lock(home), journal)
}

#[test]
fn a_journal_is_finished_whichever_way_each_file_was_replaced() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    let journal = encode(None, &entries);
    // a.xml was swapped (its original waits under the staged name), b.xml
    // not yet, c.xml renamed over with a hard link keeping its original
    // (where there is no exchange).
    let top = root.top();
    assert!(stage
        .exchange(entries[0].staged.file_name().unwrap(), top, "a.xml")
        .unwrap());
    let staged_c = entries[2].staged.file_name().unwrap();
    let kept_c = crate::stage::kept_name(staged_c);
    top.hard_link("c.xml", &stage, &kept_c).unwrap();
    stage.rename(staged_c, top, "c.xml").unwrap();
    let finished = run(home, &root, &stage, &journal).unwrap();
    assert_eq!(finished, [PathBuf::from("b.xml")]);
    for name in NAMES {
        assert_eq!(read(home, name), "new", "{name}");
    }
    assert_eq!(
        crate::tests::names(&home.join(STAGE_DIR)),
        Vec::<String>::new(),
        "originals removed"
    );
    let again = run(home, &root, &stage, &journal).unwrap();
    assert!(again.is_empty(), "nothing left to finish");
}

/// Finding 8: where the file system cannot swap, a crash between the hard
/// link that keeps an original and the rename over it. The link changed the
/// original's change time, but not its bytes: recovery finishes it.
#[test]
fn a_crash_between_a_kept_link_and_its_rename_is_finished() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    let journal = encode(None, &entries);
    let top = root.top();
    // a.xml replaced; b.xml's original linked, then the crash.
    let staged_a = entries[0].staged.file_name().unwrap();
    top.hard_link("a.xml", &stage, crate::stage::kept_name(staged_a))
        .unwrap();
    stage.rename(staged_a, top, "a.xml").unwrap();
    let staged_b = entries[1].staged.file_name().unwrap();
    top.hard_link("b.xml", &stage, crate::stage::kept_name(staged_b))
        .unwrap();
    let finished = run(home, &root, &stage, &journal).unwrap();
    assert_eq!(finished, [PathBuf::from("b.xml"), PathBuf::from("c.xml")]);
    for name in NAMES {
        assert_eq!(read(home, name), "new", "{name}");
    }
    assert_eq!(
        crate::tests::names(&home.join(STAGE_DIR)),
        Vec::<String>::new()
    );
}

/// The same crash where the original is root's and its folder the home
/// owner's: a file of root's with two names there is one root reads from
/// no one, but the second name is the run's own, in its stage folder, and
/// goes first; so does the link a roll back makes to keep the new bytes.
#[test]
fn a_kept_link_to_a_file_of_roots_in_the_owners_folder_is_finished() {
    if !crate::tests::root_or_fail(
        "a_kept_link_to_a_file_of_roots_in_the_owners_folder_is_finished",
    ) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    let nobody = Some(crate::tests::NOBODY);
    std::os::unix::fs::chown(home, nobody, nobody).unwrap();
    let journal = encode(None, &entries);
    let top = root.top();
    let staged_a = entries[0].staged.file_name().unwrap();
    top.hard_link("a.xml", &stage, crate::stage::kept_name(staged_a))
        .unwrap();
    stage.rename(staged_a, top, "a.xml").unwrap();
    let staged_b = entries[1].staged.file_name().unwrap();
    top.hard_link("b.xml", &stage, crate::stage::kept_name(staged_b))
        .unwrap();
    // And a roll back that began putting a.xml's original back: its new
    // bytes linked to keep them, then the crash.
    let kept_a = crate::stage::kept_name(staged_a);
    top.hard_link("a.xml", &stage, crate::stage::kept_name(&kept_a))
        .unwrap();
    let finished = run(home, &root, &stage, &journal).unwrap();
    assert_eq!(finished, [PathBuf::from("b.xml"), PathBuf::from("c.xml")]);
    for name in NAMES {
        assert_eq!(read(home, name), "new", "{name}");
    }
    assert_eq!(
        crate::tests::names(&home.join(STAGE_DIR)),
        Vec::<String>::new()
    );
}

#[test]
fn a_journal_with_nothing_replaced_yet_names_nothing_to_finish() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    let whole = encode(None, &entries);
    // Every length a kill or a power cut could leave, empty and whole
    // included: no file was replaced, so there is nothing to finish.
    for len in 0..=whole.len() {
        let finished = run(home, &root, &stage, &whole[..len]).unwrap();
        assert!(finished.is_empty(), "{len} bytes");
        for name in NAMES {
            assert_eq!(read(home, name), "old", "{len} bytes: {name}");
        }
    }
    // A staged file a power cut left torn is never put in place.
    std::fs::write(home.join(&entries[1].staged), "ne").unwrap();
    assert!(run(home, &root, &stage, &whole).unwrap().is_empty());
    assert_eq!(read(home, "b.xml"), "old");
    // A journal that is not cut short but not JSON either (damaged), or of
    // another version, is left for a person.
    let err = run(home, &root, &stage, b"\0\0\0\0")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "{}: not a journal this version of carbon-patch can read (",
            lock(home).display()
        )),
        "{err}"
    );
    let v2 = serde_json::json!({"version": 2, "files": []});
    let err = run(home, &root, &stage, &serde_json::to_vec(&v2).unwrap())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: journal version 2 is not supported; remove it to start afresh",
            lock(home).display()
        )
    );
}

#[test]
fn a_target_changed_since_the_crash_stops_recovery() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    let journal = encode(None, &entries);
    stage
        .exchange(entries[0].staged.file_name().unwrap(), root.top(), "a.xml")
        .unwrap();
    std::fs::write(home.join("b.xml"), "someone's").unwrap();
    let err = run(home, &root, &stage, &journal).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "an interrupted apply cannot be finished: {} changed since it began. Check the file, \
             then remove {} to start afresh (the next apply plans again from the files as they are)",
            home.join("b.xml").display(),
            lock(home).display()
        )
    );
    assert_eq!(read(home, "b.xml"), "someone's");
    assert_eq!(read(home, "c.xml"), "old", "nothing more written");
}

/// An edit that landed just before its file's swap, then the crash before
/// the swap was checked: the edit waits under the staged name. It goes
/// back in place, and recovery stops.
#[test]
fn an_edit_swapped_out_before_the_crash_is_put_back() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    let journal = encode(None, &entries);
    std::fs::write(home.join("a.xml"), "hand-edited").unwrap();
    stage
        .exchange(entries[0].staged.file_name().unwrap(), root.top(), "a.xml")
        .unwrap();
    let err = run(home, &root, &stage, &journal).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "{} changed since it began (an edit made meanwhile was put back in place)",
            home.join("a.xml").display()
        )),
        "{err}"
    );
    assert_eq!(read(home, "a.xml"), "hand-edited");
    assert_eq!(read(home, "b.xml"), "old");
}

/// Finding 1, in the journal: a journal names only staged files in a stage
/// folder (or beside their target) and targets inside the home.
#[test]
fn a_journal_naming_other_files_is_not_trusted() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    for (target, staged) in [
        ("a.xml", "evil.xml"),
        ("a.xml", "conf/.carbon-patch-staged-x"),
        ("../a.xml", ".carbon-patch/.carbon-patch-staged-a.xml"),
        ("/etc/passwd", ".carbon-patch/.carbon-patch-staged-a.xml"),
        ("a.xml", "/tmp/.carbon-patch-staged-x"),
        ("a.xml", ".carbon-patch/../.carbon-patch-staged-x"),
    ] {
        let mut bad = entries.clone();
        bad[1].target = target.into();
        bad[1].staged = staged.into();
        let err = run(home, &root, &stage, &encode(None, &bad))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("where this version stages nothing; not trusting it"),
            "{target} {staged}: {err}"
        );
    }
    for name in NAMES {
        assert_eq!(read(home, name), "old");
    }
}

#[test]
fn the_journal_is_what_follows_the_lock_files_first_line() {
    assert_eq!(in_lock_file(b""), b"");
    assert_eq!(in_lock_file(b"4242      \n"), b"");
    assert_eq!(in_lock_file(b"4242"), b"", "a pid cut short");
    assert_eq!(in_lock_file(b"4242      \n{\"version\""), b"{\"version\"");
    let home = tempfile::tempdir().unwrap();
    let root = Root::open(home.path()).unwrap();
    std::fs::create_dir(home.path().join(STAGE_DIR)).unwrap();
    assert!(!crate::pending(&root), "no lock file");
    std::fs::write(lock(home.path()), "4242      \n").unwrap();
    assert!(!crate::pending(&root), "a pid alone");
    std::fs::write(lock(home.path()), "4242      \n{").unwrap();
    assert!(crate::pending(&root), "a journal, even cut short");
}

/// A recovery that finished some files before it met one changed as it
/// was about to replace it says which it wrote: it did write.
#[test]
fn a_recovery_stopped_midway_names_what_it_finished() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (root, stage, entries) = staged_home(home);
    let journal = encode(None, &entries);
    // a.xml was swapped before the crash; b.xml and c.xml wait.
    assert!(stage
        .exchange(entries[0].staged.file_name().unwrap(), root.top(), "a.xml")
        .unwrap());
    // c.xml is edited just as recovery is about to replace it.
    let c = home.join("c.xml");
    let _hooked = crate::pause::hook(home, move |point, path| {
        if point == crate::pause::Point::BeforeSwap && path.ends_with("c.xml") {
            std::fs::write(&c, "edited").unwrap();
        }
    });
    let err = run(home, &root, &stage, &journal).unwrap_err();
    assert!(!err.wrote_nothing(), "b.xml was written");
    assert!(
        err.to_string().starts_with(&format!(
            "an interrupted apply cannot be finished: {} changed since it began; finishing it \
             wrote b.xml first.",
            home.join("c.xml").display()
        )),
        "{err}"
    );
    assert_eq!(read(home, "b.xml"), "new");
    assert_eq!(read(home, "c.xml"), "edited", "the edit stays");
}

/// An edit put back for one file counts however the files before it
/// stopped the recovery: it was a write.
#[test]
fn an_edit_put_back_after_another_conflict_still_counts_as_written() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    let journal = encode(None, &entries);
    // b.xml changed by someone since; c.xml's edit was swapped out just
    // before the crash.
    std::fs::write(home.join("b.xml"), "someone's").unwrap();
    std::fs::write(home.join("c.xml"), "hand-edited").unwrap();
    stage
        .exchange(entries[2].staged.file_name().unwrap(), root.top(), "c.xml")
        .unwrap();
    let err = run(home, &root, &stage, &journal).unwrap_err();
    assert!(!err.wrote_nothing(), "{err}");
    assert!(
        err.to_string().contains(&format!(
            "{} changed since it began (an edit made meanwhile was put back in place)",
            home.join("b.xml").display()
        )),
        "{err}"
    );
    assert_eq!(read(home, "c.xml"), "hand-edited");
}

/// A recovery that wrote files and then failed otherwise (here: a staged
/// file gone as it was about to be put in place) names what it wrote.
#[test]
fn a_recovery_that_fails_after_writing_names_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (root, stage, entries) = staged_home(home);
    let journal = encode(None, &entries);
    assert!(stage
        .exchange(entries[0].staged.file_name().unwrap(), root.top(), "a.xml")
        .unwrap());
    let staged_c = home.join(&entries[2].staged);
    let _hooked = crate::pause::hook(home, move |point, path| {
        if point == crate::pause::Point::BeforeSwap && path.ends_with("c.xml") {
            let _ = std::fs::remove_file(&staged_c);
        }
    });
    let err = run(home, &root, &stage, &journal).unwrap_err();
    assert!(!err.wrote_nothing());
    assert!(
        err.to_string()
            .starts_with("finishing an interrupted apply wrote b.xml, then: "),
        "{err}"
    );
    assert_eq!(read(home, "b.xml"), "new");
}

/// `staged_home`, and `d.xml` (holding "made") for the commit to remove:
/// the entries with its removal last, and its staged name there.
fn home_with_a_removal(home: &Path) -> (Root, Dir, Vec<Entry>, OsString) {
    let (root, stage, mut entries) = staged_home(home);
    std::fs::write(home.join("d.xml"), "made").unwrap();
    let staged = format!("{STAGED_PREFIX}d.xml");
    entries.push(Entry {
        target: "d.xml".into(),
        staged: Path::new(STAGE_DIR).join(&staged),
        before: Some(Fingerprint::of(b"made")),
        after: None,
    });
    (root, stage, entries, staged.into())
}

/// A file the commit removes waits under its staged name, which no one else
/// knows: that, not the file being gone, shows the commit had begun.
#[test]
fn a_removal_is_finished_from_wherever_the_crash_left_it() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries, staged_d) = home_with_a_removal(home);
    let journal = encode(None, &entries);
    // Nothing begun: nothing finished, d.xml stays.
    assert!(run(home, &root, &stage, &journal).unwrap().is_empty());
    assert_eq!(read(home, "d.xml"), "made");
    // Gone, but not taken out by the commit (someone removed it): still
    // nothing begun, and nothing written.
    std::fs::remove_file(home.join("d.xml")).unwrap();
    assert!(run(home, &root, &stage, &journal).unwrap().is_empty());
    assert_eq!(read(home, "a.xml"), "old");
    // Taken out first, then the crash: the others are finished.
    std::fs::write(home.join("d.xml"), "made").unwrap();
    root.top().rename_new("d.xml", &stage, &staged_d).unwrap();
    let finished = run(home, &root, &stage, &journal).unwrap();
    assert_eq!(finished, ["a.xml", "b.xml", "c.xml"].map(PathBuf::from));
    assert!(!home.join("d.xml").exists());
    assert_eq!(
        crate::tests::names(&home.join(STAGE_DIR)),
        Vec::<String>::new(),
        "the file taken out goes once every file is done"
    );
}

#[test]
fn a_removal_not_yet_made_is_finished_and_a_half_made_one_too() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries, _) = home_with_a_removal(home);
    let journal = encode(None, &entries);
    // a.xml swapped, d.xml not touched yet: it goes now.
    let top = root.top();
    assert!(stage
        .exchange(entries[0].staged.file_name().unwrap(), top, "a.xml")
        .unwrap());
    let finished = run(home, &root, &stage, &journal).unwrap();
    assert_eq!(finished, ["b.xml", "c.xml", "d.xml"].map(PathBuf::from));
    assert!(!home.join("d.xml").exists());
    assert_eq!(
        crate::tests::names(&home.join(STAGE_DIR)),
        Vec::<String>::new()
    );
    // Where the file system has no RENAME_NOREPLACE, a move is a hard link
    // then a removal: a crash between them leaves two names. The staged one
    // goes first, as if the move had not begun; the commit is finished if
    // it had begun elsewhere (a.xml), and otherwise nothing is.
    for a_replaced in [true, false] {
        let second = tempfile::tempdir().unwrap();
        let home = second.path();
        let (root, stage, entries, staged_d) = home_with_a_removal(home);
        if a_replaced {
            let staged_a = entries[0].staged.file_name().unwrap();
            assert!(stage.exchange(staged_a, root.top(), "a.xml").unwrap());
        }
        root.top().hard_link("d.xml", &stage, &staged_d).unwrap();
        let finished = run(home, &root, &stage, &encode(None, &entries)).unwrap();
        if a_replaced {
            assert_eq!(finished, ["b.xml", "c.xml", "d.xml"].map(PathBuf::from));
            assert!(!home.join("d.xml").exists());
            assert_eq!(read(home, "a.xml"), "new");
        } else {
            assert!(finished.is_empty());
            assert_eq!(read(home, "d.xml"), "made");
            assert_eq!(read(home, "a.xml"), "old");
        }
        assert!(!home.join(STAGE_DIR).join(&staged_d).exists());
    }
}

/// An edit that landed just before the file was taken out, then the crash
/// before the check: the edit goes back in place, and recovery stops.
#[test]
fn an_edit_taken_out_before_the_crash_is_put_back() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries, staged_d) = home_with_a_removal(home);
    let journal = encode(None, &entries);
    std::fs::write(home.join("d.xml"), "edited").unwrap();
    root.top().rename_new("d.xml", &stage, &staged_d).unwrap();
    let err = run(home, &root, &stage, &journal).unwrap_err().to_string();
    assert!(
        err.contains("(an edit made meanwhile was put back in place)"),
        "{err}"
    );
    assert_eq!(read(home, "d.xml"), "edited");
    assert_eq!(read(home, "a.xml"), "old");
}

/// A journal of the version before removals is still finished.
#[test]
fn a_version_3_journal_is_finished() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries) = staged_home(home);
    let mut journal: serde_json::Value = serde_json::from_slice(&encode(None, &entries)).unwrap();
    assert_eq!(journal["version"], 4);
    journal["version"] = 3.into();
    assert!(stage
        .exchange(entries[0].staged.file_name().unwrap(), root.top(), "a.xml")
        .unwrap());
    let journal = serde_json::to_vec(&journal).unwrap();
    let finished = run(home, &root, &stage, &journal).unwrap();
    assert_eq!(finished, ["b.xml", "c.xml"].map(PathBuf::from));
}

/// A file taken out whose name was taken again before the crash: recovery
/// stops, and says where what was taken out waits, since starting afresh
/// would remove it.
#[test]
fn what_was_taken_out_of_a_file_changed_since_is_named() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (root, stage, entries, staged_d) = home_with_a_removal(home);
    let journal = encode(None, &entries);
    std::fs::write(home.join("d.xml"), "precious edit").unwrap();
    root.top().rename_new("d.xml", &stage, &staged_d).unwrap();
    std::fs::write(home.join("d.xml"), "made again").unwrap();
    let err = run(home, &root, &stage, &journal).unwrap_err().to_string();
    let waits = home.join(STAGE_DIR).join(&staged_d);
    assert!(
        err.contains(&format!(
            "{} changed since it began; what the interrupted run took out of it waits as {}: \
             move that back first if it is wanted, as starting afresh removes it. Check the file",
            home.join("d.xml").display(),
            waits.display()
        )),
        "{err}"
    );
    assert_eq!(read(home, waits), "precious edit");
    assert_eq!(read(home, "d.xml"), "made again");
}
