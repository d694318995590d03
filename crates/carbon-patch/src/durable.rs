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
    let mut seen: Vec<u64> = Vec::new();
    for path in paths {
        let path = path.as_ref();
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::MetadataExt;
            // A stat per path, an open and a sync per file system.
            let dev = std::fs::metadata(path)
                .with_context(|| format!("cannot sync {}", path.display()))?
                .dev();
            if seen.contains(&dev) {
                continue;
            }
            seen.push(dev);
            let dir = std::fs::File::open(path)
                .with_context(|| format!("cannot open {} to sync it", path.display()))?;
            rustix::fs::syncfs(&dir)
                .map_err(std::io::Error::from)
                .with_context(|| format!("cannot sync the file system of {}", path.display()))?;
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = &mut seen;
            let dir = std::fs::File::open(path)
                .with_context(|| format!("cannot open {} to sync it", path.display()))?;
            dir.sync_all()
                .with_context(|| format!("cannot sync {}", path.display()))?;
        }
    }
    Ok(())
}
