//! Durability of exactly what a commit wrote.
//!
//! A commit makes its own files and folders durable, each with `fsync(2)`,
//! not the whole file system with `syncfs(2)`: a `syncfs` also waits for
//! every other process's unwritten data on that file system, which made an
//! apply of two nodes fifty times slower beside a process with 2 GB not yet
//! written. One `fsync` after another would wait for the disk once per
//! file, so they are issued all at once from a pool of threads: the file
//! system commits the ones in flight together (one journal commit for
//! many files, on ext4 and XFS). And each staged file's writing-out is
//! started as soon as it is staged (`sync_file_range`), so by the time the
//! commit syncs it, most of its data is on its way.

use std::ffi::OsString;

use beneath::Dir;

use crate::error::{Error, Result};
use crate::parallel::all_at_once;

/// How many syncs are in flight at once, at most: enough for the file
/// system to batch them, few enough that the threads cost little.
const IN_FLIGHT: usize = 32;

/// Something a commit made, to make durable.
#[derive(Debug)]
pub(crate) enum Durable {
    /// A folder: the names made, renamed or removed in it.
    Folder(Dir),
    /// The file with this name in a folder (opened again to sync it, so a
    /// fleet's staged files do not each hold a descriptor until then).
    File(Dir, OsString),
    /// An open file.
    Open(std::fs::File, std::path::PathBuf),
}

/// Makes every one of `items` durable, in parallel.
pub(crate) fn sync(items: &[Durable]) -> Result<()> {
    #[cfg(test)]
    crate::pause::synced(items);
    all_at_once(items, IN_FLIGHT, |item| match item {
        Durable::Folder(dir) => dir.sync().map_err(Error::from),
        Durable::File(dir, name) => {
            let path = || dir.shown(name);
            let (file, _) = dir
                .open_read(name)?
                .ok_or_else(|| Error::io("cannot sync", path(), std::io::ErrorKind::NotFound))?;
            rustix::fs::fsync(&file).map_err(|e| Error::io("cannot sync", path(), e))
        }
        Durable::Open(file, path) => {
            rustix::fs::fsync(file).map_err(|e| Error::io("cannot sync", path, e))
        }
    })
}

/// Starts writing out what was written to `file`, without waiting: the
/// sync that comes later then finds most of it written.
pub(crate) fn start_writing(file: &std::fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only schedules
        // write-back and touches no memory of this process. Its result is
        // a hint's: a failure leaves the later fsync to do all the work.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}
