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
use crate::timings::Timings;

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
    par_each(nodes, jobs, |node| node.verify()).map_err(super::nothing_written)?;
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
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("node {}: cannot read {}", self.name, path.display())
                    })
                }
            };
            if now != file.before {
                anyhow::bail!(
                    "node {}: {} changed after it was planned; run again",
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
fn unprepare(nodes: &[StagedNode], err: anyhow::Error) -> anyhow::Error {
    for node in nodes {
        let _ = journal::remove(&node.home);
    }
    if let Ok(filesystems) = FileSystems::of(touched_dirs(nodes)) {
        let _ = filesystems.sync();
    }
    super::nothing_written(err)
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
