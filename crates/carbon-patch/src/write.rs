//! Writing plans: every node's files staged first, then committed together.
//!
//! Staging (in the worker threads, node by node) writes each new file into
//! `CARBON_HOME/.carbon-patch/` with the original's mode, owner, group
//! and extended attributes, and keeps only a fingerprint of what the plan
//! read, so memory does not grow with the size of the fleet. Committing
//! (once every node is planned and staged, so a bad node stops the run
//! before anything is written):
//!
//! 1. checks that every file still holds the bytes it was planned from,
//!    noting each original's identity;
//! 2. writes each home's journal;
//! 3. makes all of that durable, one `syncfs` per file system;
//! 4. swaps each staged file with its target (the original waits under the
//!    staged name), or where the file system cannot, keeps a hard link to
//!    the original and renames the staged file over it;
//! 5. makes that durable, then removes the journals and the originals.
//!
//! A reader sees each file old or new, never a mix. If a rename fails, the
//! files replaced so far are put back from where their originals wait. If
//! the process dies, the next apply finishes each interrupted home from its
//! journal (`journal.rs`).
//! Files that do not change are never opened for writing (their mtime stays).
//!
//! The two halves are `write/stage.rs` and `write/commit.rs`; what they share
//! (a staged node and its files) is here.

use std::path::{Path, PathBuf};

use crate::journal;
use crate::lock::HomeLock;
#[cfg(test)]
use crate::plan::NodePlan;
#[cfg(test)]
use crate::timings::Timings;

mod commit;
mod stage;

pub use commit::commit;
pub use stage::stage;

/// How every error that stops an apply before its first rename begins (a
/// node's, or the commit's): in a fleet, the first question after an error
/// is whether the nodes before it were written.
pub fn nothing_written(err: anyhow::Error) -> anyhow::Error {
    err.context("nothing was written")
}

/// A file's length and hash: enough to tell that it changed since the plan
/// without keeping its bytes. XXH3, because every changed file is hashed
/// twice (when staged and when the commit checks it) and std's SipHash cost
/// 5% of a fleet apply's instructions; no one crafts a collision against
/// their own configuration while it is being applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: usize,
    hash: u64,
}

/// The most of a file read at once to fingerprint it: a large file is
/// hashed piece by piece, not held whole (a 50 MB axis2.xml would cost 50 MB
/// of fresh memory, and its page faults, to be checked).
const READ_PIECE: usize = 1 << 20;

impl Fingerprint {
    fn of(bytes: &[u8]) -> Fingerprint {
        Fingerprint {
            len: bytes.len(),
            hash: xxhash_rust::xxh3::xxh3_64(bytes),
        }
    }

    /// The fingerprint of what `file` holds from where it stands to its end,
    /// read in pieces; the same as [`Fingerprint::of`] those bytes. `len` is
    /// the length expected (its stat's): a file that holds exactly that
    /// much is read in one piece and a read that finds the end.
    fn of_file(file: &mut impl std::io::Read, len: u64) -> std::io::Result<Fingerprint> {
        let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
        let mut piece = vec![0; (len as usize).saturating_add(1).min(READ_PIECE)];
        let mut read = 0;
        loop {
            match file.read(&mut piece) {
                Ok(0) => break,
                Ok(n) => {
                    hasher.update(&piece[..n]);
                    read += n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Fingerprint {
            len: read,
            hash: hasher.digest(),
        })
    }
}

/// Where staged files go, relative to the home: beside the lock and the
/// journal, not in a folder of their own, which a fresh home would have to
/// make (a `mkdir` a home is among the costliest calls of an apply).
const STAGE_DIR: &str = ".carbon-patch";

/// One staged file.
#[derive(Debug)]
struct StagedFile {
    /// The file as planned and reported, relative to the home.
    shown: PathBuf,
    /// The file the new bytes replace, relative to the home: `shown`, or
    /// where it leads when it is a symbolic link (the link stays).
    rel: PathBuf,
    /// The staged new bytes, relative to the home.
    staged: PathBuf,
    /// The device (file system) the new bytes are staged and renamed on.
    device: u64,
    /// The planned-from bytes; `None` for a file the apply creates.
    before: Option<Fingerprint>,
    /// Where the original waits once replaced (set while committing),
    /// relative to the home: the staged name, or a hard link.
    original: Option<PathBuf>,
    /// The original's identity, for the journal (set while committing).
    identity: Option<journal::Identity>,
}

/// One node's staged files, holding its home's lock until the commit is done
/// or it is dropped. Dropping it before the commit removes what it staged.
pub struct StagedNode {
    name: String,
    home: PathBuf,
    /// The device (file system) of the home's stage folder, which holds the
    /// lock and the journal.
    device: u64,
    files: Vec<StagedFile>,
    /// Whether what was staged has been removed.
    cleaned: bool,
    /// How many of `files`, from the first, the commit has renamed.
    renamed: usize,
    /// Released by the commit's last step, with the node's other files.
    lock: Option<HomeLock>,
}

impl StagedNode {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The changed files as planned, relative to the home.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.shown.as_path())
    }

    fn stage_dir(&self) -> PathBuf {
        self.home.join(STAGE_DIR)
    }
}

impl Drop for StagedNode {
    fn drop(&mut self) {
        // A run that stopped before committing leaves nothing behind.
        if !self.cleaned && !self.lock.as_ref().is_some_and(HomeLock::has_journal) {
            self.clean_up(false);
        }
    }
}

/// Locks, stages and commits plans made outside the lock (the library-style
/// entry point; the CLI plans under the lock itself, see `fleet.rs`).
#[cfg(test)]
pub fn apply(plans: &[NodePlan], backup_stamp: Option<&str>) -> anyhow::Result<usize> {
    let mut staged = Vec::new();
    for plan in plans.iter().filter(|p| !p.changes.is_empty()) {
        let lock = HomeLock::acquire(&plan.home)?;
        staged.push(stage(plan, lock)?);
    }
    commit(&mut staged, backup_stamp, 2, &mut Timings::start())
}

#[cfg(test)]
mod tests {
    use super::*;
    use carbon_config::FileChange;

    fn plan(home: &Path, before: &[u8], after: &[u8]) -> NodePlan {
        NodePlan {
            name: "node1".into(),
            home: home.to_path_buf(),
            product: None,
            outcomes: vec![],
            changes: vec![
                FileChange {
                    path: "a.xml".into(),
                    before: Some(b"<a/>".to_vec()),
                    after: b"<a x='1'/>".to_vec(),
                },
                FileChange {
                    path: "b.xml".into(),
                    before: Some(before.to_vec()),
                    after: after.to_vec(),
                },
            ],
            warnings: vec![],
            secrets: Default::default(),
            manual: vec![],
            interrupted: false,
            finished_interrupted: vec![],
        }
    }

    #[test]
    fn a_file_read_in_pieces_has_the_fingerprint_of_its_bytes() {
        // Lengths around XXH3's internal block sizes and the read piece.
        for len in [
            0,
            1,
            16,
            17,
            128,
            129,
            240,
            241,
            1024,
            100_000,
            READ_PIECE + 7,
        ] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            for expected in [len as u64, 0, 2 * len as u64] {
                let mut reader = std::io::Cursor::new(&bytes);
                let read = Fingerprint::of_file(&mut reader, expected).unwrap();
                assert_eq!(
                    read,
                    Fingerprint::of(&bytes),
                    "{len} bytes, {expected} expected"
                );
            }
        }
    }

    #[test]
    fn a_file_edited_after_the_plan_stops_the_whole_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml"), "<a/>").unwrap();
        // Someone edited b.xml after it was planned from "<b/>".
        std::fs::write(dir.path().join("b.xml"), "<b edited='yes'/>").unwrap();
        let err = apply(&[plan(dir.path(), b"<b/>", b"<b x='1'/>")], None).unwrap_err();
        let err = format!("{err:#}");
        assert!(err.starts_with("nothing was written: node "), "{err}");
        assert!(
            err.ends_with("b.xml changed after it was planned; run again"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("a.xml")).unwrap(),
            b"<a/>",
            "a.xml untouched"
        );
        assert!(!crate::lock::is_held(dir.path()), "the lock is released");
    }

    #[test]
    fn a_file_removed_or_made_after_the_plan_stops_the_run_too() {
        // Removed: b.xml was planned from "<b/>" and is gone.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml"), "<a/>").unwrap();
        let err = apply(&[plan(dir.path(), b"<b/>", b"<b x='1'/>")], None).unwrap_err();
        assert!(
            format!("{err:#}").ends_with("b.xml changed after it was planned; run again"),
            "{err:#}"
        );
        assert!(!dir.path().join("b.xml").exists());
        // Made: the plan creates c.xml, which someone made meanwhile.
        let mut creating = plan(dir.path(), b"<b/>", b"<b x='1'/>");
        creating.changes[1] = FileChange {
            path: "c.xml".into(),
            before: None,
            after: b"<c/>".to_vec(),
        };
        std::fs::write(dir.path().join("c.xml"), "<theirs/>").unwrap();
        let err = apply(std::slice::from_ref(&creating), None).unwrap_err();
        assert!(
            format!("{err:#}").ends_with("c.xml changed after it was planned; run again"),
            "{err:#}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("c.xml")).unwrap(),
            b"<theirs/>"
        );
        // Still absent: created.
        std::fs::remove_file(dir.path().join("c.xml")).unwrap();
        assert_eq!(apply(&[creating], None).unwrap(), 2);
        assert_eq!(std::fs::read(dir.path().join("c.xml")).unwrap(), b"<c/>");
    }

    #[test]
    fn the_commit_releases_each_lock_while_the_nodes_are_still_held() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml"), "<a/>").unwrap();
        std::fs::write(dir.path().join("b.xml"), "<b/>").unwrap();
        let plan = plan(dir.path(), b"<b/>", b"<b x='1'/>");
        let lock = HomeLock::acquire(dir.path()).unwrap();
        let mut staged = vec![stage(&plan, lock).unwrap()];
        assert!(crate::lock::is_held(dir.path()));
        assert_eq!(
            commit(&mut staged, None, 2, &mut Timings::start()).unwrap(),
            2
        );
        // Released by the commit's last step, on the worker threads, not
        // when the caller drops the nodes after reporting.
        assert!(!crate::lock::is_held(dir.path()));
        assert_eq!(
            staged[0].paths().count(),
            2,
            "the report still has the files"
        );
    }

    #[test]
    fn owner_and_group_are_kept() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in [("a.xml", "<a/>"), ("b.xml", "<b/>")] {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        let b = dir.path().join("b.xml");
        // Only root can give a file away; elsewhere there is nothing to prove.
        if std::os::unix::fs::chown(&b, Some(4321), Some(4322)).is_err() {
            eprintln!("owner_and_group_are_kept: skipped (not root)");
            return;
        }
        apply(&[plan(dir.path(), b"<b/>", b"<b x='1'/>")], None).unwrap();
        let meta = std::fs::metadata(&b).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4321, 4322));
        assert_eq!(std::fs::read(&b).unwrap(), b"<b x='1'/>");
    }

    #[test]
    fn a_backup_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml"), "<a/>").unwrap();
        std::fs::write(dir.path().join("b.xml"), "<b/>").unwrap();
        let kept = dir.path().join(".carbon-patch/backups/S/b.xml");
        apply(&[plan(dir.path(), b"<b/>", b"<b x='1'/>")], Some("S")).unwrap();
        assert_eq!(std::fs::read(&kept).unwrap(), b"<b/>");
        // A second run under the same stamp: refused, nothing written.
        std::fs::write(dir.path().join("a.xml"), "<a/>").unwrap();
        let err = apply(&[plan(dir.path(), b"<b x='1'/>", b"<b x='2'/>")], Some("S")).unwrap_err();
        let err = format!("{err:#}");
        assert!(err.contains("exists already; not overwriting it"), "{err}");
        assert_eq!(std::fs::read(&kept).unwrap(), b"<b/>", "the older original");
        assert_eq!(
            std::fs::read(dir.path().join("b.xml")).unwrap(),
            b"<b x='1'/>"
        );
    }

    #[test]
    fn backups_go_only_into_a_folder_the_run_makes() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("a.xml"), "<a/>").unwrap();
        std::fs::write(home.join("b.xml"), "<b/>").unwrap();
        // `backups` made a link to a folder of someone else's choosing.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::create_dir(home.join(".carbon-patch")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, home.join(".carbon-patch/backups")).unwrap();
        let err = apply(&[plan(&home, b"<b/>", b"<b x='1'/>")], Some("S")).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            format!(
                "nothing was written: node node1: {} is a symbolic link; refusing to write through it",
                home.join(".carbon-patch/backups").display()
            )
        );
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        assert_eq!(std::fs::read(home.join("b.xml")).unwrap(), b"<b/>");
    }

    #[test]
    fn a_failure_before_the_renames_leaves_no_journal_to_finish() {
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        for dir in &dirs {
            std::fs::write(dir.path().join("a.xml"), "<a/>").unwrap();
            std::fs::write(dir.path().join("b.xml"), "<b/>").unwrap();
        }
        // The second home's backup cannot be made: one is there already.
        let taken = dirs[1].path().join(".carbon-patch/backups/S/a.xml");
        std::fs::create_dir_all(taken.parent().unwrap()).unwrap();
        std::fs::write(&taken, "older").unwrap();
        let plans: Vec<NodePlan> = dirs
            .iter()
            .map(|d| plan(d.path(), b"<b/>", b"<b x='1'/>"))
            .collect();
        let err = apply(&plans, Some("S")).unwrap_err();
        assert!(
            format!("{err:#}").starts_with("nothing was written: "),
            "{err:#}"
        );
        for dir in &dirs {
            assert!(!crate::journal::pending(dir.path()), "no journal left");
            assert_eq!(std::fs::read(dir.path().join("b.xml")).unwrap(), b"<b/>");
            let stage = dir.path().join(".carbon-patch");
            let mut left: Vec<_> = std::fs::read_dir(&stage)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            left.sort();
            assert_eq!(left, ["backups", "lock"], "nothing staged is left");
        }
    }

    #[test]
    fn permissions_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        // 0666: bits a umask of 022 or 002 takes from a new file, which the
        // staged file must get back.
        for wanted in [0o640, 0o666] {
            let dir = tempfile::tempdir().unwrap();
            for (name, body) in [("a.xml", "<a/>"), ("b.xml", "<b/>")] {
                let path = dir.path().join(name);
                std::fs::write(&path, body).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(wanted)).unwrap();
            }
            assert_eq!(
                apply(&[plan(dir.path(), b"<b/>", b"<b x='1'/>")], None).unwrap(),
                2
            );
            for name in ["a.xml", "b.xml"] {
                let mode = std::fs::metadata(dir.path().join(name))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o7777;
                assert_eq!(mode, wanted, "{name}");
            }
            assert_eq!(
                std::fs::read(dir.path().join("b.xml")).unwrap(),
                b"<b x='1'/>"
            );
        }
    }
}
