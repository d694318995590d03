//! Reading a home's files without marking them read.
//!
//! Reading a file can write to its file system: the kernel updates the
//! file's access time, under `relatime` (the default mount option) whenever
//! that time is not later than the last change, which is the case for every
//! file just unpacked by `cp`, for every file an apply wrote, and on the
//! next read a day later. Each update dirties the inode, which the journal
//! then writes back. `plan` and `check` only look at a home, and `apply`
//! rewrites just what it changes; none of them uses the files the way the
//! server does, so, like a backup tool, they ask the kernel (`O_NOATIME`,
//! Linux) to leave the access time alone, for the files they read and the
//! folders they list. Measured on a 50-node `apply` (a dozen files and four
//! folders a node): about 1 ms of its 32.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` to read it, leaving its access time as it is where the
/// kernel allows that: the caller owns the file, or may act as its owner
/// (root). Otherwise (another user's file: `EPERM`), and elsewhere than
/// Linux, a plain open, which marks it read as any reader does.
///
/// # Errors
/// As [`File::open`].
pub fn open(path: &Path) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let quiet = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOATIME.bits() as i32)
            .open(path);
        match quiet {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
            opened => return opened,
        }
    }
    File::open(path)
}

/// The bytes of the file at `path`, read as [`open`] opens it.
///
/// # Errors
/// As [`std::fs::read`].
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut open(path)?, &mut bytes)?;
    Ok(bytes)
}

/// An entry of a folder listed by [`read_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name in the folder.
    pub name: OsString,
    /// Whether it is a folder itself: its own type, so a symbolic link to a
    /// folder is not one (a walk that follows none never leaves the home).
    pub is_dir: bool,
}

/// The entries of the folder `path` (without `.` and `..`), in the order the
/// file system gives them, listed as [`open`] reads a file: without marking
/// the folder read where the kernel allows it.
///
/// # Errors
/// As [`std::fs::read_dir`].
pub fn read_dir(path: &Path) -> io::Result<Vec<Entry>> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags};
        use std::os::unix::ffi::OsStrExt;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = match rustix::fs::open(path, flags | OFlags::NOATIME, Mode::empty()) {
            Err(rustix::io::Errno::PERM) => rustix::fs::open(path, flags, Mode::empty())?,
            opened => opened?,
        };
        let mut dir = rustix::fs::Dir::new(fd)?;
        let mut entries = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let is_dir = match entry.file_type() {
                // Some file systems leave the type out of the listing. An
                // entry gone since is no folder to walk into.
                FileType::Unknown => {
                    rustix::fs::statat(dir.fd()?, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)
                        .is_ok_and(|stat| {
                            FileType::from_raw_mode(stat.st_mode) == FileType::Directory
                        })
                }
                file_type => file_type == FileType::Directory,
            };
            entries.push(Entry {
                name: std::ffi::OsStr::from_bytes(name).to_os_string(),
                is_dir,
            });
        }
        Ok(entries)
    }
    #[cfg(not(target_os = "linux"))]
    std::fs::read_dir(path)?
        .map(|entry| {
            let entry = entry?;
            Ok(Entry {
                name: entry.file_name(),
                is_dir: entry.file_type()?.is_dir(),
            })
        })
        .collect()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    /// Writes `path` with an access time older than its last change, which
    /// any `relatime` read moves to now; returns that time.
    fn long_unread(path: &Path) -> SystemTime {
        std::fs::write(path, "<Server/>").unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(3 * 86_400);
        let file = File::options().write(true).open(path).unwrap();
        file.set_times(std::fs::FileTimes::new().set_accessed(long_ago))
            .unwrap();
        long_ago
    }

    fn read_with(open: impl Fn(&Path) -> io::Result<File>, path: &Path) -> SystemTime {
        let mut text = String::new();
        io::Read::read_to_string(&mut open(path).unwrap(), &mut text).unwrap();
        assert_eq!(text, "<Server/>");
        std::fs::metadata(path).unwrap().accessed().unwrap()
    }

    #[test]
    fn a_listing_names_each_entry_with_its_own_type() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("axis2")).unwrap();
        std::fs::write(dir.path().join("carbon.xml"), "<Server/>").unwrap();
        std::os::unix::fs::symlink(dir.path().join("axis2"), dir.path().join("link")).unwrap();
        let mut entries = read_dir(dir.path()).unwrap();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let entry = |name: &str, is_dir| Entry {
            name: name.into(),
            is_dir,
        };
        assert_eq!(
            entries,
            [
                entry("axis2", true),
                entry("carbon.xml", false),
                entry("link", false)
            ]
        );
        assert_eq!(
            read_dir(&dir.path().join("none")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn listing_leaves_the_folders_access_time_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("conf");
        std::fs::create_dir(&folder).unwrap();
        let unread = || {
            std::fs::write(folder.join("carbon.xml"), "<Server/>").unwrap();
            let long_ago = SystemTime::now() - Duration::from_secs(3 * 86_400);
            let opened = File::open(&folder).unwrap();
            opened
                .set_times(std::fs::FileTimes::new().set_accessed(long_ago))
                .unwrap();
            long_ago
        };
        let accessed = || std::fs::metadata(&folder).unwrap().accessed().unwrap();
        let long_ago = unread();
        let _ = std::fs::read_dir(&folder).unwrap().count();
        if accessed() == long_ago {
            eprintln!("skipped: this file system does not update access times");
            return;
        }
        let long_ago = unread();
        assert_eq!(read_dir(&folder).unwrap().len(), 1);
        assert_eq!(accessed(), long_ago);
    }

    #[test]
    fn reading_leaves_the_access_time_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("carbon.xml");
        // Where the file system keeps no access times (mounted noatime),
        // a plain read does not move them either: nothing to show there.
        let long_ago = long_unread(&path);
        if read_with(|p| File::open(p), &path) == long_ago {
            eprintln!("skipped: this file system does not update access times");
            return;
        }
        let long_ago = long_unread(&path);
        assert_eq!(read_with(open, &path), long_ago);
        let long_ago = long_unread(&path);
        assert_eq!(read(&path).unwrap(), b"<Server/>");
        assert_eq!(
            std::fs::metadata(&path).unwrap().accessed().unwrap(),
            long_ago
        );
    }
}
