//! Writing plans: every node's files staged first, then committed together.
//!
//! Staging (in the worker threads, node by node) writes each new file into
//! `CARBON_HOME/.carbon-patch/tmp/` with the original's mode, owner, group
//! and extended attributes, and keeps only a fingerprint of what the plan
//! read, so memory does not grow with the size of the fleet. Committing
//! (once every node is planned and staged, so a bad node stops the run
//! before anything is written):
//!
//! 1. checks that every file still holds the bytes it was planned from;
//! 2. keeps a hard link to each original, and writes each home's journal;
//! 3. makes all of that durable, one `syncfs` per file system;
//! 4. renames the staged files over the originals;
//! 5. makes the renames durable, then removes the journals.
//!
//! A reader sees each file old or new, never a mix. If a rename fails, the
//! renamed files are put back from their links. If the process dies, the
//! next apply finishes each interrupted home from its journal (`journal.rs`).
//! Files that do not change are never opened for writing (their mtime stays).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result};

use crate::durable::FileSystems;
use crate::fleet::par_each;
use crate::journal;
use crate::lock::HomeLock;
use crate::plan::NodePlan;
use crate::timings::Timings;

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

impl Fingerprint {
    fn of(bytes: &[u8]) -> Fingerprint {
        Fingerprint {
            len: bytes.len(),
            hash: xxhash_rust::xxh3::xxh3_64(bytes),
        }
    }
}

/// Where staged files go, relative to the home.
const STAGE_DIR: &str = ".carbon-patch/tmp";

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
    /// The planned-from bytes; `None` for a file the apply creates.
    before: Option<Fingerprint>,
    /// The kept original (set while committing), relative to the home.
    original: Option<PathBuf>,
    /// The original's identity once kept (for the journal).
    identity: Option<journal::Identity>,
}

/// One node's staged files, holding its home's lock until the commit is done
/// or it is dropped. Dropping it before the commit removes what it staged.
pub struct StagedNode {
    name: String,
    home: PathBuf,
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
        if !self.cleaned && !journal::pending(&self.home) {
            self.clean_up(false);
        }
    }
}

/// Stages a node's changes; `lock` is its home's lock (so the plan was made
/// under it, after any interrupted apply was finished).
pub fn stage(plan: &NodePlan, lock: HomeLock) -> Result<StagedNode> {
    let mut node = StagedNode {
        name: plan.name.clone(),
        home: plan.home.clone(),
        files: Vec::with_capacity(plan.changes.len()),
        cleaned: false,
        renamed: 0,
        lock: Some(lock),
    };
    let stage_dir = node.stage_dir();
    let stage_dev = std::fs::metadata(&stage_dir).ok().and_then(|m| device(&m));
    for change in &plan.changes {
        let cannot = || {
            format!(
                "node {}: cannot write {}",
                plan.name,
                plan.home.join(&change.path).display()
            )
        };
        let (rel, original) = replaced_file(&plan.home, &change.path).with_context(cannot)?;
        let target = plan.home.join(&rel);
        let (place, name) = stage_change(&target, original, &change.after, &stage_dir, stage_dev)
            .with_context(cannot)?;
        // Made from the folder and the name: the path the temporary file
        // reports is absolute, whatever the home's (a home given relative
        // to the working directory).
        let folder = match place {
            Place::StageDir => Path::new(STAGE_DIR),
            Place::BesideTarget => rel.parent().unwrap_or(Path::new("")),
        };
        node.files.push(StagedFile {
            shown: change.path.clone(),
            staged: folder.join(name),
            rel,
            before: change.before.as_deref().map(Fingerprint::of),
            original: None,
            identity: None,
        });
    }
    Ok(node)
}

/// The file that new bytes for `rel` replace, relative to `home`, and its
/// metadata if it exists: `rel` itself, or, when `rel` is a symbolic link,
/// the file it leads to, so that the link stays and its target changes
/// (renaming over the link would put a plain file in its place and leave
/// the target as it was). The plan read the file through the link and
/// checked that it stays in the home; this checks again.
fn replaced_file(home: &Path, rel: &Path) -> std::io::Result<(PathBuf, Option<std::fs::Metadata>)> {
    let path = home.join(rel);
    let meta = std::fs::symlink_metadata(&path).ok();
    if !meta.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
        return Ok((rel.to_path_buf(), meta));
    }
    let real = path.canonicalize()?;
    let home = home.canonicalize()?;
    match real.strip_prefix(&home) {
        Ok(inside) => Ok((inside.to_path_buf(), Some(std::fs::metadata(&real)?))),
        Err(_) => Err(std::io::Error::other(format!(
            "it is a symbolic link to {}, outside the home",
            real.display()
        ))),
    }
}

/// Which folder a file's new bytes were staged in.
enum Place {
    /// The home's stage folder, [`STAGE_DIR`].
    StageDir,
    /// The target's own folder: the stage folder is on another file system.
    BesideTarget,
}

/// Stages the new bytes of `target`: checks that they may be written, makes
/// the target's folders if need be, and writes them into `stage_dir` (on
/// device `stage_dev`), or beside the target when that is another file
/// system (a rename cannot cross them). `original` is the target's
/// metadata, if it exists. Returns where, and the staged file's name.
fn stage_change(
    target: &Path,
    original: Option<std::fs::Metadata>,
    bytes: &[u8],
    stage_dir: &Path,
    stage_dev: Option<u64>,
) -> std::io::Result<(Place, std::ffi::OsString)> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let dir_meta = match writable(target, original.is_some())? {
        Some(meta) => meta,
        None => {
            std::fs::create_dir_all(dir)?;
            std::fs::metadata(dir)?
        }
    };
    let (place, here) = if stage_dev.is_some() && device(&dir_meta) == stage_dev {
        (Place::StageDir, stage_dir)
    } else {
        (Place::BesideTarget, dir)
    };
    let staged = stage_file(target, original.as_ref(), bytes, here)?;
    let name = staged
        .file_name()
        .expect("a temporary file has a name")
        .to_os_string();
    Ok((place, name))
}

/// The device (file system) a file is on; `None` elsewhere than Unix.
fn device(meta: &std::fs::Metadata) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(meta.dev())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Refuses a target that this user may not write, or whose directory it may
/// not write (a rename needs that), before anything is written: a read-only
/// file is a decision someone made, even though a rename could replace it.
/// Also catches a read-only mount, for root too. `exists`: whether the
/// target does. Returns its directory's metadata, if that exists (a new
/// file's folders may not yet).
fn writable(target: &Path, exists: bool) -> std::io::Result<Option<std::fs::Metadata>> {
    let dir = target.parent().unwrap_or(Path::new("."));
    // The nearest existing directory is the one whose permission counts.
    let Some((nearest, meta)) = dir
        .ancestors()
        .find_map(|d| std::fs::metadata(d).ok().map(|meta| (d, meta)))
    else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use rustix::fs::{access, Access};
        let denied = |what: &str, path: &Path, e: rustix::io::Errno| {
            std::io::Error::new(
                std::io::Error::from(e).kind(),
                format!("{what} {} is not writable ({e})", path.display()),
            )
        };
        if exists {
            access(target, Access::WRITE_OK).map_err(|e| denied("the file", target, e))?;
        }
        access(nearest, Access::WRITE_OK).map_err(|e| denied("its directory", nearest, e))?;
    }
    #[cfg(not(unix))]
    let _ = exists;
    Ok((nearest == dir).then_some(meta))
}

/// Writes `bytes` to a new file in `stage_dir` (on the file system of
/// `target`), with the permissions, owner, group and extended attributes of
/// the `original` target; returns its path.
fn stage_file(
    target: &Path,
    original: Option<&std::fs::Metadata>,
    bytes: &[u8],
    stage_dir: &Path,
) -> std::io::Result<PathBuf> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".carbon-patch-staged-");
    #[cfg(unix)]
    if original.is_none() {
        // A new file (a copied driver, a new datasources file) gets what
        // any new file gets, 0666 less the umask, not a temporary file's
        // 0600: a server running as another user must be able to read it.
        // A replaced file is created 0600 and given its original's mode
        // once written, so its new bytes are never more readable than its
        // old ones were.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(stage_dir)?;
    temp.write_all(bytes)?;
    if let Some(meta) = original {
        keep_metadata(target, meta, temp.as_file())?;
    }
    if !cfg!(target_os = "linux") {
        // Elsewhere there is no syncfs to batch with (durable.rs).
        temp.as_file().sync_all()?;
    }
    let (_, path) = temp.keep().map_err(|e| e.error)?;
    Ok(path)
}

/// Gives `file` the mode, owner, group and extended attributes of
/// `original`. Where that is not allowed (another user's file, without
/// root), the write fails rather than change them.
fn keep_metadata(
    original: &Path,
    meta: &std::fs::Metadata,
    file: &std::fs::File,
) -> std::io::Result<()> {
    // A new temporary file is 0600: give it the original's mode.
    file.set_permissions(meta.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let new = file.metadata()?;
        if (new.uid(), new.gid()) != (meta.uid(), meta.gid()) {
            std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))?;
        }
    }
    #[cfg(target_os = "linux")]
    copy_xattrs(original, file)?;
    let _ = original;
    Ok(())
}

/// Copies every extended attribute of `from` (SELinux labels, ACLs, user
/// attributes) to `to`. A file system without them has none to copy.
#[cfg(target_os = "linux")]
fn copy_xattrs(from: &Path, to: &std::fs::File) -> std::io::Result<()> {
    use rustix::io::Errno;
    let size = match rustix::fs::listxattr_query(from) {
        Ok(0) | Err(Errno::NOTSUP) => return Ok(()),
        Ok(size) => size,
        Err(e) => return Err(e.into()),
    };
    let mut names = vec![0u8; size];
    let len = rustix::fs::listxattr(from, &mut names[..])?;
    for name in names[..len.min(size)]
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
    {
        let name = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name);
        let size = rustix::fs::getxattr_query(from, name)?;
        let mut value = vec![0u8; size];
        let len = rustix::fs::getxattr(from, name, &mut value[..])?;
        rustix::fs::fsetxattr(to, name, &value[..len], rustix::fs::XattrFlags::empty())?;
    }
    Ok(())
}

/// Test hooks, given each rename's number (0, 1, ... in the order the
/// renames start): `CARBON_PATCH_FAIL_AFTER_WRITES=N` makes every rename
/// from the (N+1)-th on fail, so exactly N are written and tests can prove
/// that a failure midway restores every file (a read-only file cannot do
/// that for root, who may write anything); `CARBON_PATCH_ABORT_AFTER_WRITES=N`
/// kills the process there instead, as a crash would, so tests can prove the
/// journal finishes the apply (a rename under way on the other thread may or
/// may not land, as in a real crash).
fn injected_failure(written: usize) -> std::io::Result<()> {
    if std::env::var("CARBON_PATCH_ABORT_AFTER_WRITES")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| written >= n)
    {
        std::process::abort();
    }
    match std::env::var("CARBON_PATCH_FAIL_AFTER_WRITES")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(n) if written >= n => Err(std::io::Error::other(
            "injected write failure (CARBON_PATCH_FAIL_AFTER_WRITES)",
        )),
        _ => Ok(()),
    }
}

/// Every file system a commit touches: the homes (their `.carbon-patch/`)
/// and the directories of the files.
fn touched_dirs(nodes: &[StagedNode]) -> Vec<PathBuf> {
    let mut seen = std::collections::HashSet::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for node in nodes {
        for dir in std::iter::once(node.home.clone()).chain(
            node.files
                .iter()
                .filter_map(|f| node.home.join(&f.rel).parent().map(Path::to_path_buf)),
        ) {
            if seen.insert(dir.clone()) {
                dirs.push(dir);
            }
        }
    }
    dirs
}

/// Commits staged nodes (see the module documentation); with a backup stamp,
/// copies the originals to `CARBON_HOME/.carbon-patch/backups/<stamp>/`
/// first. Returns the number of files written.
pub fn commit(
    nodes: &mut [StagedNode],
    backup_stamp: Option<&str>,
    jobs: usize,
    timings: &mut Timings,
) -> Result<usize> {
    // 1. Nothing changed since the plan.
    par_each(nodes, jobs, |node| node.verify())?;
    timings.lap("commit: check the files are unchanged");
    // 2. Originals kept, backups, journals.
    if let Err(err) = par_each(nodes, jobs, |node| node.prepare(backup_stamp)) {
        return Err(unprepare(nodes, err));
    }
    timings.lap("commit: keep the originals, write the journals");
    // 3. Staged files, kept originals and journals durable before any rename.
    let filesystems = match FileSystems::of(touched_dirs(nodes)) {
        Ok(filesystems) => filesystems,
        Err(err) => return Err(unprepare(nodes, err)),
    };
    if let Err(err) = filesystems.sync() {
        return Err(unprepare(nodes, err));
    }
    timings.lap("commit: sync (staged files, journals)");
    // 4. The renames: each node's files in order, the nodes on both cores.
    // A failure stops the other thread at its next file, and every file
    // renamed by then is put back.
    let started = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let result = par_each(nodes, jobs, |node| {
        for file in &node.files {
            if failed.load(Ordering::Relaxed) {
                return Ok(()); // the thread that failed reports it
            }
            let target = node.home.join(&file.rel);
            let renamed = injected_failure(started.fetch_add(1, Ordering::Relaxed))
                .and_then(|()| std::fs::rename(node.home.join(&file.staged), &target))
                .with_context(|| format!("node {}: cannot write {}", node.name, target.display()));
            if let Err(err) = renamed {
                failed.store(true, Ordering::Relaxed);
                return Err(err);
            }
            node.renamed += 1;
        }
        Ok(())
    });
    if let Err(err) = result {
        return Err(roll_back(nodes, &filesystems, err));
    }
    let written = files_renamed(nodes);
    timings.lap("commit: rename the staged files");
    // 5. Renames durable, then the journals, kept originals and locks go
    // (on both cores: each is a file to unlink, a few hundred in a fleet).
    filesystems.sync()?;
    timings.lap("commit: sync (renames)");
    par_each(nodes, jobs, |node| {
        journal::remove(&node.home)?;
        node.clean_up(true);
        node.lock = None;
        Ok(())
    })?;
    timings.lap("commit: remove the journals, kept originals and locks");
    Ok(written)
}

impl StagedNode {
    /// Checks that every file still holds the bytes it was planned from.
    fn verify(&mut self) -> Result<()> {
        for file in &self.files {
            let path = self.home.join(&file.rel);
            let now = match std::fs::read(&path) {
                Ok(bytes) => Some(Fingerprint::of(&bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            if now != file.before {
                anyhow::bail!(
                    "node {}: {} changed after it was planned; nothing was written, run again",
                    self.name,
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Backs up (when asked), keeps a link to each original, and writes the
    /// journal.
    fn prepare(&mut self, backup_stamp: Option<&str>) -> Result<()> {
        if let Some(stamp) = backup_stamp {
            backup(self, stamp)?;
        }
        let stage_dir = self.stage_dir();
        for (i, file) in self.files.iter_mut().enumerate() {
            if file.before.is_none() {
                continue;
            }
            let target = self.home.join(&file.rel);
            let kept = stage_dir.join(format!("original-{i}"));
            if std::fs::hard_link(&target, &kept).is_err() {
                // Another file system than the stage: keep a copy instead.
                std::fs::copy(&target, &kept).with_context(|| {
                    format!("node {}: cannot keep {}", self.name, target.display())
                })?;
            }
            file.original = Some(kept.strip_prefix(&self.home).expect("in the home").into());
            // After the link, which changes the inode's change time.
            file.identity = Some(journal::Identity::of(&target)?);
        }
        let entries: Vec<journal::Entry> = self
            .files
            .iter()
            .map(|f| journal::Entry {
                target: f.rel.clone(),
                staged: f.staged.clone(),
                original: f.original.clone(),
                identity: f.identity,
            })
            .collect();
        journal::write(&self.home, &entries).with_context(|| format!("node {}", self.name))
    }

    /// Removes what is left of the staging: the staged files, unless the
    /// commit `renamed` them all, and the kept originals. Never while a
    /// journal needs them (the caller checks).
    fn clean_up(&mut self, renamed: bool) {
        self.cleaned = true;
        for file in &mut self.files {
            if !renamed {
                let _ = std::fs::remove_file(self.home.join(&file.staged));
            }
            if let Some(original) = file.original.take() {
                let _ = std::fs::remove_file(self.home.join(original));
            }
        }
    }
}

/// After a failure before any rename: removes the journals the nodes that
/// got that far wrote, and makes that durable, so that the next apply does
/// not finish a run that stopped with an error (dropping the nodes then
/// removes what they staged).
fn unprepare(nodes: &[StagedNode], err: anyhow::Error) -> anyhow::Error {
    for node in nodes {
        let _ = journal::remove(&node.home);
    }
    if let Ok(filesystems) = FileSystems::of(touched_dirs(nodes)) {
        let _ = filesystems.sync();
    }
    err.context("nothing was written")
}

/// Puts back the originals of the files renamed before a failure.
fn roll_back(nodes: &[StagedNode], filesystems: &FileSystems, err: anyhow::Error) -> anyhow::Error {
    let mut unrestored = Vec::new();
    let renamed = nodes.iter().flat_map(|node| {
        node.files[..node.renamed]
            .iter()
            .map(move |file| (node, file))
    });
    for (node, file) in renamed {
        let target = node.home.join(&file.rel);
        let restored = match &file.original {
            Some(original) => std::fs::rename(node.home.join(original), &target),
            None => std::fs::remove_file(&target),
        };
        if restored.is_err() {
            unrestored.push(target.display().to_string());
        }
    }
    if !unrestored.is_empty() {
        // The journals stay: the next apply finishes the change.
        return err.context(format!(
            "could not restore: {}; the next apply finishes the change",
            unrestored.join(", ")
        ));
    }
    // The journals go only once the restored files are durable.
    if filesystems.sync().is_ok() {
        for node in nodes {
            let _ = journal::remove(&node.home);
        }
    }
    err.context(format!(
        "nothing was changed: the {} file(s) written before the failure were restored",
        files_renamed(nodes)
    ))
}

/// How many files the commit has renamed, over all nodes.
fn files_renamed(nodes: &[StagedNode]) -> usize {
    nodes.iter().map(|node| node.renamed).sum()
}

/// Copies the originals of a node's changing files to
/// `CARBON_HOME/.carbon-patch/backups/<stamp>/`. A backup already there is
/// never overwritten: it holds an older original (the stamps are to the
/// millisecond, so only a clock set back could bring two runs together).
fn backup(node: &StagedNode, stamp: &str) -> Result<()> {
    let root = node.home.join(".carbon-patch/backups").join(stamp);
    for file in node.files.iter().filter(|f| f.before.is_some()) {
        let target = root.join(&file.rel);
        if target.symlink_metadata().is_ok() {
            anyhow::bail!(
                "node {}: the backup {} exists already; not overwriting it",
                node.name,
                target.display()
            );
        }
        let context = || format!("node {}: cannot back up to {}", node.name, target.display());
        std::fs::create_dir_all(target.parent().expect("a file has a parent"))
            .with_context(context)?;
        if let Err(e) = std::fs::copy(node.home.join(&file.rel), &target) {
            // A full disk, say: no truncated copy passes for an original.
            let _ = std::fs::remove_file(&target);
            return Err(e).with_context(context);
        }
    }
    Ok(())
}

/// Locks, stages and commits plans made outside the lock (the library-style
/// entry point; the CLI plans under the lock itself, see `fleet.rs`).
#[cfg(test)]
pub fn apply(plans: &[NodePlan], backup_stamp: Option<&str>) -> Result<usize> {
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
    fn a_file_edited_after_the_plan_stops_the_whole_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml"), "<a/>").unwrap();
        // Someone edited b.xml after it was planned from "<b/>".
        std::fs::write(dir.path().join("b.xml"), "<b edited='yes'/>").unwrap();
        let err = apply(&[plan(dir.path(), b"<b/>", b"<b x='1'/>")], None).unwrap_err();
        assert!(
            format!("{err:#}").contains("b.xml changed after it was planned; nothing was written"),
            "{err:#}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("a.xml")).unwrap(),
            b"<a/>",
            "a.xml untouched"
        );
        assert!(
            !dir.path().join(".carbon-patch/lock").exists(),
            "the lock is released"
        );
    }

    #[test]
    fn the_commit_releases_each_lock_while_the_nodes_are_still_held() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml"), "<a/>").unwrap();
        std::fs::write(dir.path().join("b.xml"), "<b/>").unwrap();
        let plan = plan(dir.path(), b"<b/>", b"<b x='1'/>");
        let lock = HomeLock::acquire(dir.path()).unwrap();
        let mut staged = vec![stage(&plan, lock).unwrap()];
        let lock_file = dir.path().join(".carbon-patch/lock");
        assert!(lock_file.exists());
        assert_eq!(
            commit(&mut staged, None, 2, &mut Timings::start()).unwrap(),
            2
        );
        // Released by the commit's last step, on the worker threads, not
        // when the caller drops the nodes after reporting.
        assert!(!lock_file.exists());
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
            let tmp = dir.path().join(".carbon-patch/tmp");
            assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "tmp is empty");
        }
    }

    #[test]
    fn permissions_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in [("a.xml", "<a/>"), ("b.xml", "<b/>")] {
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        assert_eq!(
            apply(&[plan(dir.path(), b"<b/>", b"<b x='1'/>")], None).unwrap(),
            2
        );
        let mode = std::fs::metadata(dir.path().join("b.xml"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(
            std::fs::read(dir.path().join("b.xml")).unwrap(),
            b"<b x='1'/>"
        );
    }
}
