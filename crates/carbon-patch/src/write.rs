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
///
/// The temporary file is made in `stage` (the home's `.carbon-patch/tmp`),
/// not beside the configuration, so that a process killed mid-write leaves
/// nothing in repository/conf; the next run clears `stage`. If `stage` is on
/// another file system than `path` (a rename cannot cross them), the
/// temporary file is made beside `path` instead.
fn write_atomic(path: &Path, bytes: &[u8], stage: &Path) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let same_device = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            matches!((std::fs::metadata(stage), std::fs::metadata(dir)), (Ok(a), Ok(b)) if a.dev() == b.dev())
        }
        #[cfg(not(unix))]
        {
            false
        }
    };
    let mut temp = tempfile::NamedTempFile::new_in(if same_device { stage } else { dir })?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        // NamedTempFile is created 0600: give the new file the old one's mode.
        std::fs::set_permissions(temp.path(), meta.permissions())?;
        // And its owner and group. Where that is not allowed (another user's
        // file, without root), the write fails rather than change ownership.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let new = temp.as_file().metadata()?;
            if (new.uid(), new.gid()) != (meta.uid(), meta.gid()) {
                std::os::unix::fs::chown(temp.path(), Some(meta.uid()), Some(meta.gid()))?;
            }
        }
    }
    temp.persist(path).map_err(|e| e.error)?;
    if same_device {
        if let Ok(s) = std::fs::File::open(stage) {
            let _ = s.sync_all();
        }
    }
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
    stage: PathBuf,
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

/// An exclusive lock on one home: `CARBON_HOME/.carbon-patch/lock`, created
/// only if absent, holding the owner's process id. A lock whose process is
/// gone is stale and is taken over; a live one is refused, never waited on
/// forever. Dropping the lock removes it.
pub struct HomeLock {
    path: PathBuf,
}

impl HomeLock {
    /// Takes the lock on `home`.
    pub fn acquire(home: &Path) -> Result<HomeLock> {
        let dir = home.join(".carbon-patch");
        if dir
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            anyhow::bail!(
                "{}: is a symbolic link; refusing to write through it",
                dir.display()
            );
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("lock");
        // The pid goes into a private file first, which is then linked to
        // `lock`: linking fails if `lock` exists, and a lock that exists
        // always holds its owner's pid, whenever a process is killed.
        let mine = dir.join(format!("lock.{}", std::process::id()));
        {
            let mut file = std::fs::File::create(&mine)
                .with_context(|| format!("cannot create {}", mine.display()))?;
            writeln!(file, "{}", std::process::id())?;
            file.sync_all()?;
        }
        let taken = (|| -> Result<bool> {
            for _ in 0..2 {
                match std::fs::hard_link(&mine, &path) {
                    Ok(()) => return Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let owner = std::fs::read_to_string(&path)
                            .ok()
                            .and_then(|s| s.trim().parse::<u32>().ok());
                        match owner {
                            Some(pid) if !process_alive(pid) => {
                                // Stale: its process died without removing it.
                                let _ = std::fs::remove_file(&path);
                            }
                            Some(pid) => anyhow::bail!(
                                "{}: another carbon-patch (pid {pid}) is applying to this home; run again when it has finished",
                                home.display()
                            ),
                            None => anyhow::bail!(
                                "{}: is locked ({}); if no carbon-patch is running, remove that file",
                                home.display(),
                                path.display()
                            ),
                        }
                    }
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot create {}", path.display()))
                    }
                }
            }
            Ok(false)
        })();
        let _ = std::fs::remove_file(&mine);
        if taken? {
            // Holding the lock, nobody else is writing: what is in tmp/, and
            // private lock files, were left by runs that died. Clear them.
            let stage = dir.join("tmp");
            let _ = std::fs::remove_dir_all(&stage);
            std::fs::create_dir_all(&stage)
                .with_context(|| format!("cannot create {}", stage.display()))?;
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    if entry.file_name().to_string_lossy().starts_with("lock.") {
                        let _ = std::fs::remove_file(entry.path());
                    }
                }
            }
            return Ok(HomeLock { path });
        }
        anyhow::bail!(
            "{}: could not take the lock {}",
            home.display(),
            path.display()
        )
    }
}

impl Drop for HomeLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether process `pid` is running (Linux: /proc; elsewhere assume it is).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Takes every home's lock and checks that nothing changed since the plan:
/// each file must still hold the bytes it was planned from (absent ones must
/// still be absent). Two nodes sharing a home are refused: their plans would
/// overwrite each other.
fn prepare(plans: &[NodePlan]) -> Result<Vec<HomeLock>> {
    let mut seen: Vec<(PathBuf, &str)> = Vec::new();
    for plan in plans {
        let real = plan
            .home
            .canonicalize()
            .unwrap_or_else(|_| plan.home.clone());
        if let Some((_, other)) = seen.iter().find(|(h, _)| *h == real) {
            anyhow::bail!(
                "nodes {other} and {} share the home {}; give each node its own (--home NAME=PATH)",
                plan.name,
                plan.home.display()
            );
        }
        seen.push((real, &plan.name));
    }
    let mut locks = Vec::new();
    for plan in plans.iter().filter(|p| !p.changes.is_empty()) {
        locks.push(HomeLock::acquire(&plan.home)?);
    }
    for plan in plans {
        for change in &plan.changes {
            let path = plan.home.join(&change.path);
            let now = match std::fs::read(&path) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            if now != change.before {
                anyhow::bail!(
                    "node {}: {} changed after it was planned; nothing was written, run again",
                    plan.name,
                    path.display()
                );
            }
        }
    }
    Ok(locks)
}

/// Writes every change of every node; on failure restores what was written.
/// Returns the number of files written.
pub fn apply(plans: &[NodePlan], backup_stamp: Option<&str>) -> Result<usize> {
    let _locks = prepare(plans)?;
    let mut written: Vec<Written> = Vec::new();
    let result = (|| -> Result<()> {
        for plan in plans {
            if let Some(stamp) = backup_stamp {
                backup(plan, stamp)?;
            }
            let stage = plan.home.join(".carbon-patch/tmp");
            for change in &plan.changes {
                let path = plan.home.join(&change.path);
                injected_failure(written.len())
                    .and_then(|()| write_atomic(&path, &change.after, &stage))
                    .with_context(|| {
                        format!("node {}: cannot write {}", plan.name, path.display())
                    })?;
                written.push(Written {
                    path,
                    original: change.before.clone(),
                    stage: stage.clone(),
                });
            }
        }
        Ok(())
    })();
    if let Err(err) = result {
        let mut unrestored = Vec::new();
        for w in written.iter().rev() {
            let restored = match &w.original {
                Some(bytes) => write_atomic(&w.path, bytes, &w.stage),
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
            secrets: vec![],
            manual: vec![],
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
