//! Committing every staged node together, once all are staged: the five
//! steps of the parent module's documentation, each on both cores, with the
//! two syncs between them that the crash guarantee needs, and the way back
//! when a step fails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result};

use super::{Fingerprint, StagedNode};
use crate::durable::FileSystems;
use crate::fleet::par_each;
use crate::journal;
use crate::lock::HomeLock;
use crate::timings::Timings;

/// Every file system a commit touches, each with a directory on it: the
/// homes' stage folders (the journals, most staged files) and the
/// directories of files staged beside their targets. Their devices were
/// noted while staging, so this stats nothing.
fn touched(nodes: &[StagedNode]) -> Result<FileSystems> {
    FileSystems::of_devices(nodes.iter().flat_map(|node| {
        let beside = node.files.iter().filter(|f| f.device != node.device);
        std::iter::once((node.device, node.home.clone())).chain(beside.filter_map(|f| {
            let dir = node.home.join(&f.rel);
            Some((f.device, dir.parent()?.to_path_buf()))
        }))
    }))
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
    par_each(nodes, jobs, |node| node.verify()).map_err(super::nothing_written)?;
    timings.lap("commit: check the files are unchanged");
    // 2. Backups, journals (naming the originals' identities, noted by 1).
    if let Err(err) = par_each(nodes, jobs, |node| node.prepare(backup_stamp)) {
        return Err(unprepare(nodes, err));
    }
    timings.lap("commit: write the journals");
    // 3. Staged files and journals durable before any rename.
    let filesystems = match touched(nodes) {
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
        let mut exchange = true;
        for i in 0..node.files.len() {
            if failed.load(Ordering::Relaxed) {
                return Ok(()); // the thread that failed reports it
            }
            let replaced = injected_failure(started.fetch_add(1, Ordering::Relaxed))
                .and_then(|()| node.replace(i, &mut exchange))
                .with_context(|| {
                    let target = node.home.join(&node.files[i].rel);
                    format!("node {}: cannot write {}", node.name, target.display())
                });
            match replaced {
                Ok(kept) => node.files[i].original = kept,
                Err(err) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(err);
                }
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
        node.held_lock().clear_journal()?;
        node.clean_up(true);
        node.lock = None;
        Ok(())
    })?;
    timings.lap("commit: remove the journals, kept originals and locks");
    Ok(written)
}

/// The fingerprint and identity of an opened file; `None` when its length
/// is not its stat's (someone is writing it).
fn read_checked(
    mut opened: std::fs::File,
) -> std::io::Result<Option<(Fingerprint, journal::Identity)>> {
    let meta = opened.metadata()?;
    let fingerprint = Fingerprint::of_file(&mut opened, meta.len())?;
    Ok((fingerprint.len as u64 == meta.len())
        .then(|| (fingerprint, journal::Identity::of_metadata(&meta))))
}

impl StagedNode {
    /// Checks that every file still holds the bytes it was planned from,
    /// and notes the identity of each original so checked, for the journal.
    fn verify(&mut self) -> Result<()> {
        for file in &mut self.files {
            let path = self.home.join(&file.rel);
            let changed = match carbon_config::unmarked::open(&path).and_then(read_checked) {
                Ok(Some((fingerprint, identity))) => {
                    file.identity = Some(identity);
                    file.before != Some(fingerprint)
                }
                Ok(None) => true, // written to while it was read
                // Gone: changed, unless the apply creates it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => file.before.is_some(),
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("node {}: cannot read {}", self.name, path.display())
                    })
                }
            };
            if changed {
                anyhow::bail!(
                    "node {}: {} changed after it was planned; run again",
                    self.name,
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Backs up (when asked), and writes the journal.
    fn prepare(&mut self, backup_stamp: Option<&str>) -> Result<()> {
        if let Some(stamp) = backup_stamp {
            backup(self, stamp)?;
        }
        let entries: Vec<journal::Entry> = self
            .files
            .iter()
            .map(|f| journal::Entry {
                target: f.rel.clone(),
                staged: f.staged.clone(),
                identity: f.identity,
            })
            .collect();
        let journal = journal::encode(&entries)?;
        let written = self.held_lock().write_journal(&journal);
        written.with_context(|| format!("node {}", self.name))
    }

    /// The home's lock, which a node holds until its commit is done.
    fn held_lock(&mut self) -> &mut HomeLock {
        self.lock
            .as_mut()
            .expect("a node holds its lock until the commit is done")
    }

    /// Puts file `i`'s staged bytes in place of its target, in one call.
    /// Returns where the original is kept until the commit is done (relative
    /// to the home), to be put back if a later rename fails: under the
    /// staged name, which `renameat2(RENAME_EXCHANGE)` swaps with the
    /// target's; or, where the file system has no exchange (NFS, some
    /// overlays; `exchange` is then cleared for the node's other files), a
    /// hard link (or a copy) made just before a plain rename. A file the
    /// apply creates has no original.
    pub(super) fn replace(
        &self,
        i: usize,
        exchange: &mut bool,
    ) -> std::io::Result<Option<PathBuf>> {
        let file = &self.files[i];
        let (staged, target) = (self.home.join(&file.staged), self.home.join(&file.rel));
        if file.identity.is_none() {
            std::fs::rename(&staged, &target)?;
            return Ok(None);
        }
        #[cfg(target_os = "linux")]
        if *exchange {
            use rustix::fs::{renameat_with, RenameFlags, CWD};
            use rustix::io::Errno;
            match renameat_with(CWD, &staged, CWD, &target, RenameFlags::EXCHANGE) {
                Ok(()) => return Ok(Some(file.staged.clone())),
                // No exchange on this file system: the way below, for
                // the node's other files too.
                Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {}
                Err(e) => return Err(e.into()),
            }
        }
        *exchange = false;
        // Beside the staged file, so on the target's file system: the way
        // back is a rename.
        let kept_rel = file
            .staged
            .with_file_name(format!("{}original-{i}", crate::lock::STAGED_PREFIX));
        let kept = self.home.join(&kept_rel);
        if let Err(e) = std::fs::hard_link(&target, &kept) {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                return Err(e);
            }
            // A file system without hard links: a copy.
            copy_new(&target, &kept)?;
        }
        if let Err(e) = std::fs::rename(&staged, &target) {
            let _ = std::fs::remove_file(&kept);
            return Err(e);
        }
        Ok(Some(kept_rel))
    }

    /// Removes what is left of the staging: the staged files, unless the
    /// commit `renamed` them all, and the kept originals. Never while a
    /// journal needs them (the caller checks).
    pub(super) fn clean_up(&mut self, renamed: bool) {
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
fn unprepare(nodes: &mut [StagedNode], err: anyhow::Error) -> anyhow::Error {
    for node in nodes.iter_mut() {
        if let Some(lock) = node.lock.as_mut().filter(|lock| lock.has_journal()) {
            let _ = lock.clear_journal();
        }
    }
    if let Ok(filesystems) = touched(nodes) {
        let _ = filesystems.sync();
    }
    super::nothing_written(err)
}

/// Puts back the originals of the files renamed before a failure.
fn roll_back(
    nodes: &mut [StagedNode],
    filesystems: &FileSystems,
    err: anyhow::Error,
) -> anyhow::Error {
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
        for node in nodes.iter_mut() {
            let _ = node.held_lock().clear_journal();
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
    let backups = node.home.join(".carbon-patch/backups");
    let root = backups.join(stamp);
    let context = |path: &Path| format!("node {}: cannot back up to {}", node.name, path.display());
    // Only into a folder this run makes: a `backups` that is a link, or a
    // stamp's folder someone made beforehand, could lead a root apply to
    // write where whoever may write in the home chose.
    if backups
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        anyhow::bail!(
            "node {}: {} is a symbolic link; refusing to write through it",
            node.name,
            backups.display()
        );
    }
    std::fs::create_dir_all(&backups).with_context(|| context(&backups))?;
    match std::fs::create_dir(&root) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "node {}: the backup {} exists already; not overwriting it",
            node.name,
            root.display()
        ),
        other => other.with_context(|| context(&root))?,
    }
    for file in node.files.iter().filter(|f| f.before.is_some()) {
        let target = root.join(&file.rel);
        std::fs::create_dir_all(target.parent().expect("a file has a parent"))
            .with_context(|| context(&target))?;
        copy_new(&node.home.join(&file.rel), &target).with_context(|| context(&target))?;
    }
    Ok(())
}

/// Copies `from` to `to`, a file this creates (never through a link, never
/// over a file), with `from`'s permissions. A copy that fails midway (a
/// full disk, say) is removed: no truncated copy passes for an original.
fn copy_new(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut source = std::fs::File::open(from)?;
    let mut copy = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    let copied = std::io::copy(&mut source, &mut copy)
        .and_then(|_| copy.set_permissions(source.metadata()?.permissions()));
    if copied.is_err() {
        let _ = std::fs::remove_file(to);
    }
    copied
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::HomeLock;
    use crate::plan::NodePlan;
    use carbon_config::FileChange;

    const NAMES: [&str; 2] = ["a.xml", "b.xml"];

    /// A home whose two files hold "old", with "new" staged for both,
    /// checked and the journal written, as the commit does before renaming.
    fn prepared(home: &Path) -> StagedNode {
        let changes = NAMES
            .iter()
            .map(|name| {
                std::fs::write(home.join(name), "old").unwrap();
                FileChange {
                    path: name.into(),
                    before: Some(b"old".to_vec()),
                    after: b"new".to_vec(),
                }
            })
            .collect();
        let plan = NodePlan {
            name: "node1".into(),
            home: home.to_path_buf(),
            product: None,
            outcomes: vec![],
            changes,
            warnings: vec![],
            secrets: Default::default(),
            manual: vec![],
            interrupted: false,
            finished_interrupted: vec![],
        };
        let mut node = super::super::stage(&plan, HomeLock::acquire(home).unwrap()).unwrap();
        node.verify().unwrap();
        node.prepare(None).unwrap();
        node
    }

    #[test]
    fn either_way_of_replacing_keeps_the_original_to_put_back() {
        for exchange in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let home = dir.path();
            let mut node = prepared(home);
            let mut way = exchange;
            for i in 0..NAMES.len() {
                node.files[i].original = node.replace(i, &mut way).unwrap();
                node.renamed += 1;
            }
            let swapped = exchange && cfg!(target_os = "linux");
            assert_eq!(way, swapped);
            for (i, name) in NAMES.iter().enumerate() {
                assert_eq!(std::fs::read(home.join(name)).unwrap(), b"new");
                let kept = node.files[i].original.clone().expect("an original");
                assert_eq!(std::fs::read(home.join(&kept)).unwrap(), b"old");
                let expected = match swapped {
                    true => node.files[i].staged.clone(),
                    false => Path::new(".carbon-patch")
                        .join(format!("{}original-{i}", crate::lock::STAGED_PREFIX)),
                };
                assert_eq!(kept, expected);
            }
            let filesystems = FileSystems::of([home]).unwrap();
            let err = roll_back(
                std::slice::from_mut(&mut node),
                &filesystems,
                anyhow::anyhow!("failed"),
            );
            assert_eq!(
                format!("{err:#}"),
                "nothing was changed: the 2 file(s) written before the failure were restored: failed"
            );
            for name in NAMES {
                assert_eq!(std::fs::read(home.join(name)).unwrap(), b"old", "{name}");
            }
            assert!(!journal::pending(home));
        }
    }
}
