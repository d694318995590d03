//! Writing a plan: every file atomically, all of the run or none.
//!
//! Each file is written to a temporary file in its own directory, synced,
//! given the original's permissions, and renamed over the original, so a
//! reader sees the old bytes or the new, never a mix. If a write fails, the
//! files already written in this run are put back. Files that do not change
//! are never opened for writing (their mtime stays).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::plan::NodePlan;

/// Writes `bytes` to `path` atomically, keeping the original's permissions.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        // NamedTempFile is created 0600: give the new file the old one's mode.
        std::fs::set_permissions(temp.path(), meta.permissions())?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    // The rename is durable once the directory is.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// What was written, so a failure can put it back.
struct Written {
    path: PathBuf,
    original: Option<Vec<u8>>,
}

/// Test hook: `CARBON_PATCH_FAIL_AFTER_WRITES=N` makes the write after the
/// N-th fail, so tests can prove that a failure midway restores every file
/// (a read-only file cannot do that for root, who may write anything).
fn injected_failure(written: usize) -> std::io::Result<()> {
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

/// Writes every change of every node; on failure restores what was written.
/// Returns the number of files written.
pub fn apply(plans: &[NodePlan], backup_stamp: Option<&str>) -> Result<usize> {
    let mut written: Vec<Written> = Vec::new();
    let result = (|| -> Result<()> {
        for plan in plans {
            if let Some(stamp) = backup_stamp {
                backup(plan, stamp)?;
            }
            for change in &plan.changes {
                let path = plan.home.join(&change.path);
                injected_failure(written.len())
                    .and_then(|()| write_atomic(&path, &change.after))
                    .with_context(|| {
                        format!("node {}: cannot write {}", plan.name, path.display())
                    })?;
                written.push(Written {
                    path,
                    original: change.before.clone(),
                });
            }
        }
        Ok(())
    })();
    if let Err(err) = result {
        let mut unrestored = Vec::new();
        for w in written.iter().rev() {
            let restored = match &w.original {
                Some(bytes) => write_atomic(&w.path, bytes),
                None => std::fs::remove_file(&w.path),
            };
            if restored.is_err() {
                unrestored.push(w.path.display().to_string());
            }
        }
        if unrestored.is_empty() {
            return Err(err.context(format!(
                "nothing was changed: the {} file(s) written before the failure were restored",
                written.len()
            )));
        }
        return Err(err.context(format!("could not restore: {}", unrestored.join(", "))));
    }
    Ok(written.len())
}

/// Copies the originals of a node's changing files to
/// `CARBON_HOME/.carbon-patch/backups/<stamp>/`.
fn backup(plan: &NodePlan, stamp: &str) -> Result<()> {
    let root = plan.home.join(".carbon-patch/backups").join(stamp);
    for change in &plan.changes {
        if let Some(before) = &change.before {
            let target = root.join(&change.path);
            std::fs::create_dir_all(target.parent().expect("a file has a parent"))?;
            std::fs::write(&target, before).with_context(|| {
                format!("node {}: cannot back up to {}", plan.name, target.display())
            })?;
        }
    }
    Ok(())
}
