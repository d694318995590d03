//! Durability in batches: one `syncfs` per file system instead of an
//! `fsync` per file and directory.
//!
//! An apply to many nodes writes thousands of files. Syncing each alone
//! costs a journal commit of the file system each time; `syncfs(2)` flushes
//! everything written so far on one file system with one commit. The order
//! the crash guarantee needs (staged files and journal durable before any
//! rename; renames durable before the journal goes) is kept by calling this
//! between those steps. Elsewhere than Linux each path is fsynced instead.

use std::path::Path;

use anyhow::{Context, Result};

/// Makes everything written so far on the file systems holding `paths`
/// durable: one sync per distinct file system.
pub fn sync_filesystems<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<()> {
    FileSystems::of(paths)?.sync()
}

/// The distinct file systems under some paths, each held open by one of
/// its directories, to be synced more than once (before and after a
/// commit's renames) for one stat per path.
pub struct FileSystems {
    /// A directory of each file system, and the path it was opened by.
    dirs: Vec<(std::fs::File, std::path::PathBuf)>,
}

impl FileSystems {
    /// The file systems holding `paths` (a stat per path, an open per file
    /// system; elsewhere than Linux, an open per path).
    pub fn of<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<FileSystems> {
        let mut known = Vec::new();
        for path in paths {
            let path = path.as_ref();
            #[cfg(target_os = "linux")]
            let device = {
                use std::os::unix::fs::MetadataExt;
                std::fs::metadata(path)
                    .with_context(|| format!("cannot sync {}", path.display()))?
                    .dev()
            };
            #[cfg(not(target_os = "linux"))]
            let device = 0;
            known.push((device, path.to_path_buf()));
        }
        FileSystems::of_devices(known)
    }

    /// The file systems of directories whose devices are known already
    /// (from stats made while staging): an open per file system, no stat.
    /// Elsewhere than Linux, where each directory is synced on its own, an
    /// open per directory.
    pub fn of_devices(
        dirs: impl IntoIterator<Item = (u64, std::path::PathBuf)>,
    ) -> Result<FileSystems> {
        let mut seen: Vec<u64> = Vec::new();
        let mut opened = Vec::new();
        for (device, path) in dirs {
            if cfg!(target_os = "linux") {
                if seen.contains(&device) {
                    continue;
                }
                seen.push(device);
            }
            let dir = std::fs::File::open(&path)
                .with_context(|| format!("cannot open {} to sync it", path.display()))?;
            opened.push((dir, path));
        }
        Ok(FileSystems { dirs: opened })
    }

    /// Makes everything written so far on them durable.
    pub fn sync(&self) -> Result<()> {
        for (dir, path) in &self.dirs {
            #[cfg(target_os = "linux")]
            rustix::fs::syncfs(dir)
                .map_err(std::io::Error::from)
                .with_context(|| format!("cannot sync the file system of {}", path.display()))?;
            #[cfg(not(target_os = "linux"))]
            dir.sync_all()
                .with_context(|| format!("cannot sync {}", path.display()))?;
        }
        Ok(())
    }
}
