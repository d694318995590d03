//! An open folder of a tree, and what may be done in it by name.
//!
//! Every name given to a [`Dir`] is one component (no `/`, not `.` or `..`)
//! and is never followed when it is a symbolic link: the call acts on the
//! link itself, or refuses it. That is what keeps a walk's result inside
//! the tree until the moment it is used.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, Stat};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::walk::Step;

/// An open folder of a tree. Cheap to clone: clones share the handle.
#[derive(Clone)]
pub struct Dir {
    inner: Arc<Inner>,
}

struct Inner {
    fd: OwnedFd,
    /// Its real path relative to the root ("" for the root).
    rel: PathBuf,
    /// As a person would name it: the root as given, then `rel`.
    shown: PathBuf,
}

impl std::fmt::Debug for Dir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Dir").field(&self.inner.shown).finish()
    }
}

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }
}

/// Whether someone other than `file`'s owner could have given it the name
/// it has in `folder` (with an ACL when `folder_acl`), where anyone may link
/// anyone's files: it has other names, and the folder has writers besides
/// its owner, or its owner is neither the file's nor `me`.
pub(crate) fn may_be_linked_in(file: &Meta, folder: &Meta, folder_acl: bool, me: u32) -> bool {
    let sole_writer = folder.mode & 0o022 == 0 && !folder_acl;
    file.nlink > 1 && !(sole_writer && (file.uid == folder.uid || folder.uid == me))
}

/// Whether `opened` has a POSIX access control list of either kind (its own,
/// or the default a folder gives what is made in it), which may let others
/// write it. A file system without them has none.
pub fn has_acl(opened: &impl AsFd) -> bool {
    ["system.posix_acl_access", "system.posix_acl_default"]
        .iter()
        .any(|name| {
            #[cfg(target_os = "linux")]
            return rustix::fs::fgetxattr_query(opened, *name).is_ok();
            #[cfg(not(target_os = "linux"))]
            {
                let _ = (opened, name);
                false
            }
        })
}

/// What kind of file system object something is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A folder.
    Folder,
    /// A symbolic link.
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Something the system did not say.
    Unknown,
}

impl Kind {
    fn of(file_type: FileType) -> Kind {
        match file_type {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Folder,
            FileType::Symlink => Kind::Symlink,
            FileType::Fifo => Kind::Fifo,
            FileType::Socket => Kind::Socket,
            FileType::CharacterDevice => Kind::CharDevice,
            FileType::BlockDevice => Kind::BlockDevice,
            _ => Kind::Unknown,
        }
    }

    /// How a message names it: "FIFO", "folder", ...
    pub fn describe(self) -> &'static str {
        match self {
            Kind::File => "regular file",
            Kind::Folder => "folder",
            Kind::Symlink => "symbolic link",
            Kind::Fifo => "FIFO",
            Kind::Socket => "socket",
            Kind::CharDevice => "character device",
            Kind::BlockDevice => "block device",
            Kind::Unknown => "file of unknown kind",
        }
    }
}

/// What `stat` says of something, in the terms the callers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Its kind.
    pub kind: Kind,
    /// Its permission bits, set-user-ID, set-group-ID and sticky included.
    pub mode: u32,
    /// Its owner.
    pub uid: u32,
    /// Its group.
    pub gid: u32,
    /// How many names it has.
    pub nlink: u64,
    /// Its length in bytes.
    pub len: u64,
    /// The device (file system) it is on.
    pub dev: u64,
    /// Its inode on that device.
    pub ino: u64,
}

impl Meta {
    pub(crate) fn of_stat(stat: &Stat) -> Meta {
        Meta {
            kind: Kind::of(FileType::from_raw_mode(stat.st_mode)),
            mode: stat.st_mode & 0o7777,
            uid: stat.st_uid,
            gid: stat.st_gid,
            nlink: stat.st_nlink,
            len: stat.st_size as u64,
            dev: stat.st_dev,
            ino: stat.st_ino,
        }
    }

    /// What `stat` says of an open file.
    ///
    /// # Errors
    /// As `fstat(2)`.
    pub fn of(file: &impl AsFd) -> std::io::Result<Meta> {
        Ok(Meta::of_stat(&rustix::fs::fstat(file)?))
    }

    /// Whether it is the same object as `other` (device and inode).
    pub fn same_object(&self, other: &Meta) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
}

/// An entry of a folder listed by [`Dir::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name in the folder.
    pub name: OsString,
    /// Whether it is a folder itself: its own kind, so a link to a folder is
    /// not one (a walk that follows none never leaves the tree).
    pub is_dir: bool,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Opens with `O_NOATIME` added where the kernel allows it (the caller
/// owns the file, or is root), so reading leaves the access time alone.
fn open_quietly(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    match rustix::fs::openat(dir, name, flags | OFlags::NOATIME, Mode::empty()) {
        Err(Errno::PERM) => rustix::fs::openat(dir, name, flags, Mode::empty()),
        opened => opened,
    }
}

impl Dir {
    /// The root of a tree, opened through `path` (links in it followed).
    pub(crate) fn open_top(path: &Path) -> Result<Dir> {
        let fd = rustix::fs::open(path, DIR_FLAGS.difference(OFlags::NOFOLLOW), Mode::empty())
            .map_err(|e| Error::io(path, e))?;
        Ok(Dir::new(fd, PathBuf::new(), path.to_path_buf()))
    }

    fn new(fd: OwnedFd, rel: PathBuf, shown: PathBuf) -> Dir {
        Dir {
            inner: Arc::new(Inner { fd, rel, shown }),
        }
    }

    /// Its real path relative to the root ("" for the root).
    pub fn rel(&self) -> &Path {
        &self.inner.rel
    }

    /// Its path as a person would name it (the root as given, then
    /// [`Dir::rel`]).
    pub fn path(&self) -> &Path {
        &self.inner.shown
    }

    /// The path of `name` in it, as a person would name it.
    pub fn shown(&self, name: impl AsRef<Path>) -> PathBuf {
        self.inner.shown.join(name)
    }

    /// Its absolute path with no links, as the kernel knows the open folder.
    pub(crate) fn real_path(&self) -> std::io::Result<PathBuf> {
        let proc = format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&self.inner.fd)
        );
        std::fs::read_link(proc).or_else(|_| self.inner.shown.canonicalize())
    }

    fn name<'n>(&self, name: &'n OsStr) -> Result<&'n OsStr> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes == b"." || bytes == b".." || bytes.contains(&b'/') {
            return Err(Error::NotInside {
                path: self.shown(name),
            });
        }
        Ok(name)
    }

    fn fail(&self, name: &OsStr, e: impl Into<std::io::Error>) -> Error {
        Error::io(self.shown(name), e)
    }

    /// The folder `name` in it, which must not be a link.
    ///
    /// # Errors
    /// [`Error::Io`]: not found, a link (`ELOOP` or `ENOTDIR`), not a folder.
    pub fn open_dir(&self, name: impl AsRef<OsStr>) -> Result<Dir> {
        let name = self.name(name.as_ref())?;
        self.open_dir_raw(name).map_err(|e| self.fail(name, e))
    }

    pub(crate) fn open_dir_raw(&self, name: &OsStr) -> rustix::io::Result<Dir> {
        let fd = rustix::fs::openat(&self.inner.fd, name, DIR_FLAGS, Mode::empty())?;
        Ok(Dir::new(fd, self.inner.rel.join(name), self.shown(name)))
    }

    /// Makes the folder `name` in it with `mode` (less the umask), and opens it.
    ///
    /// # Errors
    /// [`Error::Io`], `AlreadyExists` when something is there.
    pub fn create_dir(&self, name: impl AsRef<OsStr>, mode: u32) -> Result<Dir> {
        let name = self.name(name.as_ref())?;
        rustix::fs::mkdirat(&self.inner.fd, name, Mode::from_raw_mode(mode))
            .map_err(|e| self.fail(name, e))?;
        self.open_dir(name)
    }

    /// The target of the link `name`; `None` when `name` is not a link.
    pub(crate) fn read_link(&self, name: &OsStr) -> rustix::io::Result<Option<PathBuf>> {
        match rustix::fs::readlinkat(&self.inner.fd, name, Vec::new()) {
            Ok(target) => Ok(Some(PathBuf::from(OsStr::from_bytes(target.as_bytes())))),
            Err(Errno::INVAL) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens the regular file `name` to read, without blocking and without
    /// following a link; `None` when it does not exist.
    ///
    /// # Errors
    /// [`Error::NotAFile`] for anything but a regular file (a link among
    /// them), [`Error::Io`].
    pub fn open_read(&self, name: impl AsRef<OsStr>) -> Result<Option<(File, Meta)>> {
        let name = self.name(name.as_ref())?;
        match self.open_read_step(name) {
            Ok(Step::Done(opened)) => Ok(Some(opened)),
            Ok(Step::Link(_)) => Err(Error::NotAFile {
                path: self.shown(name),
                kind: Kind::Symlink,
            }),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// [`Dir::open_read`] for a walk: a link is handed back to follow.
    pub(crate) fn open_read_step(&self, name: &OsStr) -> Result<Step<(File, Meta)>> {
        // Non-blocking: opening a FIFO to read otherwise waits for a writer.
        // The flag means nothing to a regular file, the only kind kept.
        // No controlling terminal either: a terminal device planted where a
        // file is read would otherwise become this process's.
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = match open_quietly(self.as_fd(), name, flags) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => match self.read_link(name) {
                Ok(Some(target)) => return Ok(Step::Link(target)),
                Ok(None) => return Err(self.fail(name, Errno::LOOP)),
                Err(e) => return Err(self.fail(name, e)),
            },
            // A socket cannot be opened: named as what it is.
            Err(e @ Errno::NXIO) => {
                return Err(match self.stat(name) {
                    Ok(Some(meta)) if meta.kind != Kind::File => Error::NotAFile {
                        path: self.shown(name),
                        kind: meta.kind,
                    },
                    _ => self.fail(name, e),
                })
            }
            Err(e) => return Err(self.fail(name, e)),
        };
        let (file, meta) = self.regular(fd, name)?;
        self.not_linked_in(&meta, name)?;
        Ok(Step::Done((file, meta)))
    }

    /// Refuses, to root, a file with more than one name that someone else
    /// could have linked into the folder it is read in: one whose folder
    /// others may write (group, others, an ACL), or whose owner is not the
    /// folder's sole writer. Where the kernel lets anyone link anyone's
    /// files (`fs.protected_hardlinks` off, now or when the link was made),
    /// a folder's writer can give a file of root's a name there, for root to
    /// read (and show, or copy) as theirs. A folder only this process writes
    /// (its own stage folder) passes, and so does a tree laid out with
    /// `cp -al` and chowned.
    fn not_linked_in(&self, meta: &Meta, name: &OsStr) -> Result<()> {
        if meta.nlink <= 1 || !rustix::process::geteuid().is_root() {
            return Ok(());
        }
        let folder = self.meta()?;
        let me = rustix::process::geteuid().as_raw();
        if !may_be_linked_in(meta, &folder, has_acl(self), me) {
            return Ok(());
        }
        Err(Error::LinkedIn {
            path: self.shown(name),
            links: meta.nlink,
            owner: meta.uid,
            folder_owner: folder.uid,
        })
    }

    /// The file `fd` opened as `name`, if it is a regular file.
    fn regular(&self, fd: OwnedFd, name: &OsStr) -> Result<(File, Meta)> {
        let meta = Meta::of(&fd).map_err(|e| self.fail(name, e))?;
        if meta.kind != Kind::File {
            return Err(Error::NotAFile {
                path: self.shown(name),
                kind: meta.kind,
            });
        }
        Ok((File::from(fd), meta))
    }

    /// Opens the regular file `name` to read and write, creating it with
    /// `mode` (less the umask) when it does not exist; never through a link,
    /// never blocking.
    ///
    /// # Errors
    /// [`Error::NotAFile`] for anything but a regular file, [`Error::Io`].
    pub fn open_or_create(&self, name: impl AsRef<OsStr>, mode: u32) -> Result<(File, Meta)> {
        let name = self.name(name.as_ref())?;
        let flags = OFlags::RDWR
            | OFlags::CREATE
            | OFlags::NOFOLLOW
            | OFlags::NONBLOCK
            | OFlags::NOCTTY
            | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.inner.fd, name, flags, Mode::from_raw_mode(mode)) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => {
                return Err(Error::NotAFile {
                    path: self.shown(name),
                    kind: Kind::Symlink,
                })
            }
            Err(e) => return Err(self.fail(name, e)),
        };
        self.regular(fd, name)
    }

    /// Creates the file `name`, which must not exist (not even as a
    /// dangling link), with `mode` (less the umask), open to write.
    ///
    /// # Errors
    /// [`Error::Io`], `AlreadyExists` when something is there.
    pub fn create_new(&self, name: impl AsRef<OsStr>, mode: u32) -> Result<File> {
        let name = self.name(name.as_ref())?;
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        rustix::fs::openat(&self.inner.fd, name, flags, Mode::from_raw_mode(mode))
            .map(File::from)
            .map_err(|e| self.fail(name, e))
    }

    /// What `name` is, the link itself when it is one; `None` when nothing
    /// is there.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn stat(&self, name: impl AsRef<OsStr>) -> Result<Option<Meta>> {
        let name = self.name(name.as_ref())?;
        match rustix::fs::statat(&self.inner.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(Meta::of_stat(&stat))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(self.fail(name, e)),
        }
    }

    /// [`Dir::stat`] for a walk: a link is handed back to follow.
    pub(crate) fn stat_step(&self, name: &OsStr) -> Result<Step<Meta>> {
        let stat = rustix::fs::statat(&self.inner.fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| self.fail(name, e))?;
        let meta = Meta::of_stat(&stat);
        if meta.kind == Kind::Symlink {
            if let Some(target) = self.read_link(name).map_err(|e| self.fail(name, e))? {
                return Ok(Step::Link(target));
            }
        }
        Ok(Step::Done(meta))
    }

    /// For [`crate::Root::locate`]: this folder, `name` and what is there,
    /// unless `name` is a link to follow.
    pub(crate) fn locate_step(&self, name: &OsStr) -> Result<Step<crate::Located>> {
        let found = |meta| {
            Step::Done(crate::Located {
                dir: self.clone(),
                name: name.to_os_string(),
                meta,
            })
        };
        match self.stat_step(name) {
            Ok(Step::Done(meta)) => Ok(found(Some(meta))),
            Ok(link) => Ok(link.map_done()),
            Err(e) if e.is_not_found() => Ok(found(None)),
            Err(e) => Err(e),
        }
    }

    /// The folder this one is in now (its `..`, as the kernel sees it),
    /// opened only to be looked at.
    pub(crate) fn up(&self) -> Result<OwnedFd> {
        Dir::up_from(&self.inner.fd).map_err(|e| Error::io(self.path(), e))
    }

    pub(crate) fn up_from(fd: &impl AsFd) -> std::io::Result<OwnedFd> {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(rustix::fs::openat(fd, "..", flags, Mode::empty())?)
    }

    /// What this folder is (owner, mode, device...).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn meta(&self) -> Result<Meta> {
        Meta::of(&self.inner.fd).map_err(|e| Error::io(self.path(), e))
    }

    /// Renames `name` to `to_name` in `to` (replacing what is there), on one
    /// file system.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn rename(
        &self,
        name: impl AsRef<OsStr>,
        to: &Dir,
        to_name: impl AsRef<OsStr>,
    ) -> Result<()> {
        let (name, to_name) = (self.name(name.as_ref())?, to.name(to_name.as_ref())?);
        rustix::fs::renameat(&self.inner.fd, name, &to.inner.fd, to_name)
            .map_err(|e| to.fail(to_name, e))
    }

    /// Renames `name` to `to_name` in `to`, which must not exist: nothing
    /// is replaced (`RENAME_NOREPLACE`; where the file system cannot, a hard
    /// link then the removal of `name`, which fails the same way).
    ///
    /// # Errors
    /// [`Error::Io`], `AlreadyExists` when something is at `to_name`.
    pub fn rename_new(
        &self,
        name: impl AsRef<OsStr>,
        to: &Dir,
        to_name: impl AsRef<OsStr>,
    ) -> Result<()> {
        let (name, to_name) = (self.name(name.as_ref())?, to.name(to_name.as_ref())?);
        if !self.rename_with(name, to, to_name, RenameFlags::NOREPLACE)? {
            self.hard_link(name, to, to_name)?;
            self.remove_file(name)?;
        }
        Ok(())
    }

    /// Swaps `name` with `to_name` in `to`, in one step: each then holds
    /// what the other held. `Ok(false)` where the file system cannot (NFS,
    /// some overlays; elsewhere than Linux), and nothing was done.
    ///
    /// # Errors
    /// [`Error::Io`] (either does not exist, among others).
    pub fn exchange(
        &self,
        name: impl AsRef<OsStr>,
        to: &Dir,
        to_name: impl AsRef<OsStr>,
    ) -> Result<bool> {
        let (name, to_name) = (self.name(name.as_ref())?, to.name(to_name.as_ref())?);
        self.rename_with(name, to, to_name, RenameFlags::EXCHANGE)
    }

    /// `renameat2(2)` with `flags`; `Ok(false)` where the file system (or
    /// the system) does not do them, and nothing was done.
    fn rename_with(
        &self,
        name: &OsStr,
        to: &Dir,
        to_name: &OsStr,
        flags: RenameFlags,
    ) -> Result<bool> {
        #[cfg(target_os = "linux")]
        match rustix::fs::renameat_with(&self.inner.fd, name, &to.inner.fd, to_name, flags) {
            Ok(()) => Ok(true),
            Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => Ok(false),
            Err(e) => Err(to.fail(to_name, e)),
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (name, to, to_name, flags);
            Ok(false)
        }
    }

    /// Gives the object `name` (the link itself, if it is one) the name
    /// `to_name` in `to` too.
    ///
    /// # Errors
    /// [`Error::Io`], `AlreadyExists` when something is there.
    pub fn hard_link(
        &self,
        name: impl AsRef<OsStr>,
        to: &Dir,
        to_name: impl AsRef<OsStr>,
    ) -> Result<()> {
        let (name, to_name) = (self.name(name.as_ref())?, to.name(to_name.as_ref())?);
        rustix::fs::linkat(
            &self.inner.fd,
            name,
            &to.inner.fd,
            to_name,
            AtFlags::empty(),
        )
        .map_err(|e| to.fail(to_name, e))
    }

    /// Removes the file (or link) `name`.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn remove_file(&self, name: impl AsRef<OsStr>) -> Result<()> {
        let name = self.name(name.as_ref())?;
        rustix::fs::unlinkat(&self.inner.fd, name, AtFlags::empty()).map_err(|e| self.fail(name, e))
    }

    /// Removes the empty folder `name`.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn remove_dir(&self, name: impl AsRef<OsStr>) -> Result<()> {
        let name = self.name(name.as_ref())?;
        rustix::fs::unlinkat(&self.inner.fd, name, AtFlags::REMOVEDIR)
            .map_err(|e| self.fail(name, e))
    }

    /// Its entries (without `.` and `..`), in the order the file system
    /// gives them, listed without marking the folder read where the kernel
    /// allows that.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn list(&self) -> Result<Vec<Entry>> {
        let fail = |e: Errno| Error::io(self.path(), e);
        let fd = open_quietly(self.as_fd(), OsStr::new("."), DIR_FLAGS).map_err(fail)?;
        let mut listing = rustix::fs::Dir::new(fd).map_err(fail)?;
        let mut entries = Vec::new();
        while let Some(entry) = listing.read() {
            let entry = entry.map_err(fail)?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let is_dir = match entry.file_type() {
                // Some file systems leave the kind out of the listing. An
                // entry gone since is no folder to walk into.
                FileType::Unknown => {
                    rustix::fs::statat(&self.inner.fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)
                        .is_ok_and(|stat| {
                            FileType::from_raw_mode(stat.st_mode) == FileType::Directory
                        })
                }
                kind => kind == FileType::Directory,
            };
            entries.push(Entry {
                name: OsStr::from_bytes(name).to_os_string(),
                is_dir,
            });
        }
        Ok(entries)
    }

    /// Makes what was written in the folder (names made, renamed, removed)
    /// durable: `fsync(2)` of the folder.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn sync(&self) -> Result<()> {
        rustix::fs::fsync(&self.inner.fd).map_err(|e| Error::io(self.path(), e))
    }
}
