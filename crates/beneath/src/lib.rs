//! A directory tree that whoever may write in it cannot lead you out of.
//!
//! A process that works on a folder another user owns (root applying a
//! configuration to a service account's install) must not be led to a file
//! outside it: a symbolic link planted in the tree, or a folder swapped for
//! one while the process works, would make a path-based `open`, `rename`
//! or `unlink` act on whatever the link names. So this crate never hands a
//! path with more than one component to the kernel. A [`Root`] holds a
//! handle on the tree's top folder; every path is resolved from it one
//! component at a time, each folder opened without following a link, and
//! each symbolic link read and followed here, only while it stays inside:
//!
//! - a relative link is followed from the folder it is in, `..` included,
//!   as long as it never climbs above the root;
//! - an absolute link is followed when it names a place under the root's
//!   real path (resolved once, when the root is opened); the rest of it is
//!   walked from the root's handle, never from `/`;
//! - anything else is [`Error::LeadsOut`], at the moment of use.
//!
//! What a walk finds is a [`Dir`]: an open folder and its real path
//! relative to the root. Its operations ([`Dir::rename`],
//! [`Dir::exchange`], [`Dir::create_new`], ...) take single names and never
//! follow a link in them. A folder once opened stays the folder acted on,
//! even if it is renamed or replaced by a link afterwards: the file system
//! object found inside the tree, not whatever the path names later.
//!
//! Files are opened to read without blocking and checked to be regular
//! files ([`Error::NotAFile`]): a FIFO planted where a file is read would
//! otherwise wait forever for a writer. They are opened with `O_NOATIME`
//! where the kernel allows it, so reading leaves access times alone.
//!
//! Linux only in what it was tested on; it uses nothing beyond POSIX `*at`
//! calls but `renameat2` for [`Dir::exchange`] and `O_NOATIME`.

mod dir;
mod error;
mod walk;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use dir::{has_acl, Dir, Entry, Kind, Meta};
pub use error::{Error, Result};

/// A folder [`Root::create_dirs`] made: the folder it was made in, and its
/// name there.
#[derive(Clone, Debug)]
pub struct Made {
    /// The folder it was made in.
    pub parent: Dir,
    /// Its name in `parent`.
    pub name: std::ffi::OsString,
}

/// Gives `made` (a file or folder just made in `folder`) the owner and group
/// of `folder`, when they differ and this process may (root): what root
/// makes in a tree its owner owns stays the owner's, as what is around it
/// is. Without root, nothing changes.
///
/// # Errors
/// What `fstat(2)` or `fchown(2)` says.
pub fn owned_like(folder: &Dir, made: &impl std::os::fd::AsFd) -> std::io::Result<()> {
    walk::give_like(folder, made).map_err(Into::into)
}

/// The whole content of `file`, open and described by `meta`, which may hold
/// at most `limit` bytes; `shown` names it in errors.
///
/// # Errors
/// [`Error::TooLarge`] for a file over `limit` bytes, told by its size
/// before anything is read, or by what it holds when it grows meanwhile;
/// [`Error::Io`].
pub fn read_whole(file: File, meta: &Meta, limit: u64, shown: &Path) -> Result<Vec<u8>> {
    let too_large = || Error::TooLarge {
        path: shown.to_path_buf(),
        limit,
    };
    if meta.len > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, limit + 1), &mut bytes)
        .map_err(|source| Error::io(shown, source))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Where a path leads: see [`Root::locate`].
#[derive(Debug)]
pub struct Located {
    /// The folder it is in.
    pub dir: Dir,
    /// Its name there.
    pub name: std::ffi::OsString,
    /// What is there (never a link), if anything.
    pub meta: Option<Meta>,
}

/// A handle on the top folder of a tree, from which every path in it is
/// resolved. Cheap to clone: clones share the handle and the folders
/// opened so far.
#[derive(Clone, Debug)]
pub struct Root {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The root as given, for messages.
    path: PathBuf,
    /// Its real path when it was opened: what absolute links may lead into.
    real: PathBuf,
    /// The root folder itself.
    top: Dir,
    /// Folders opened so far, by their real path relative to the root, so a
    /// second file in a folder costs one call, not a walk.
    folders: Mutex<HashMap<PathBuf, Dir>>,
    /// Names at the root that no walk enters ([`Root::open_hiding`]).
    hidden: Vec<std::ffi::OsString>,
}

impl Root {
    /// Opens the folder at `path` as a tree's root. The path itself is the
    /// caller's to trust: links in it are followed, as any path given on a
    /// command line.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be opened as a folder.
    pub fn open(path: impl AsRef<Path>) -> Result<Root> {
        Root::open_hiding(path, &[])
    }

    /// [`Root::open`], with names at the root that no path may lead into,
    /// whether it names them or a link in it leads there ([`Error::Hidden`]):
    /// a folder the tree's owner may not make a path of carbon-patch's read or
    /// write, such as the one holding its own lock and journal.
    ///
    /// # Errors
    /// As [`Root::open`].
    pub fn open_hiding(path: impl AsRef<Path>, hidden: &[&str]) -> Result<Root> {
        let path = path.as_ref();
        let top = Dir::open_top(path)?;
        let real = top.real_path().map_err(|source| Error::io(path, source))?;
        Ok(Root {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                real,
                top,
                folders: Mutex::new(HashMap::new()),
                hidden: hidden.iter().map(std::ffi::OsString::from).collect(),
            }),
        })
    }

    /// A root on the same folder that shares none of the folders opened so
    /// far: what a long-lived holder keeps, so that the folders its maker
    /// opened are closed once the maker is done with them.
    pub fn detached(&self) -> Root {
        Root {
            inner: Arc::new(Inner {
                path: self.inner.path.clone(),
                real: self.inner.real.clone(),
                top: self.inner.top.clone(),
                folders: Mutex::new(HashMap::new()),
                hidden: self.inner.hidden.clone(),
            }),
        }
    }

    /// The root as given to [`Root::open`].
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The root's real path (no links, absolute), as it was when opened.
    pub fn real_path(&self) -> &Path {
        &self.inner.real
    }

    /// The root folder itself.
    pub fn top(&self) -> &Dir {
        &self.inner.top
    }

    /// Whether `dir`, a folder a walk of this root found, is still where it
    /// was found: going up from it as many folders as its path in the tree
    /// has parts lands on the root. A folder moved since (out of the tree,
    /// or elsewhere in it) does not.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn still_holds(&self, dir: &Dir) -> Result<bool> {
        let mut here: std::os::fd::OwnedFd = match dir.rel().components().count() {
            0 => return Ok(dir.meta()?.same_object(&self.top().meta()?)),
            _ => dir.up()?,
        };
        for _ in 1..dir.rel().components().count() {
            here = Dir::up_from(&here).map_err(|e| Error::io(dir.path(), e))?;
        }
        let landed = Meta::of(&here).map_err(|e| Error::io(dir.path(), e))?;
        Ok(landed.same_object(&self.top().meta()?))
    }

    /// The full path of `rel` as a person would name it: the root as given,
    /// then `rel`. For messages; never opened.
    pub fn display_path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.inner.path.join(rel)
    }

    /// Opens the file at `rel` to read it, following links that stay in the
    /// tree; `None` when it does not exist (nor the folder it would be in).
    ///
    /// # Errors
    /// [`Error::LeadsOut`], [`Error::NotAFile`] (a folder, a FIFO, a
    /// device, a socket), [`Error::Io`].
    pub fn open_file(&self, rel: impl AsRef<Path>) -> Result<Option<(File, Meta)>> {
        let rel = rel.as_ref();
        match self.walk(rel, |dir, name| dir.open_read_step(name)) {
            Err(Error::Io { source, .. }) if is_not_found(&source) => Ok(None),
            Ok(opened) => Ok(Some(opened)),
            Err(e) => Err(e),
        }
    }

    /// The whole content of the regular file at `rel`, which may hold at
    /// most `limit` bytes; `None` when it does not exist. As
    /// [`Root::open_file`] for the rest.
    ///
    /// # Errors
    /// As [`Root::open_file`]; [`Error::TooLarge`] for a file over `limit`
    /// bytes (a sparse terabyte where a line of text was expected), told by
    /// its size before anything is read, or by what it holds when it grows
    /// meanwhile.
    pub fn read(&self, rel: impl AsRef<Path>, limit: u64) -> Result<Option<Vec<u8>>> {
        let rel = rel.as_ref();
        let Some((file, meta)) = self.open_file(rel)? else {
            return Ok(None);
        };
        read_whole(file, &meta, limit, &self.display_path(rel)).map(Some)
    }

    /// What is at `rel`, following links that stay in the tree; `None` when
    /// nothing is.
    ///
    /// # Errors
    /// [`Error::LeadsOut`], [`Error::Io`].
    pub fn metadata(&self, rel: impl AsRef<Path>) -> Result<Option<Meta>> {
        let rel = rel.as_ref();
        if rel.as_os_str().is_empty() {
            return self.top().meta().map(Some);
        }
        match self.walk(rel, |dir, name| dir.stat_step(name)) {
            Err(Error::Io { source, .. }) if is_not_found(&source) => Ok(None),
            other => other.map(Some),
        }
    }

    /// The folder at `rel` (the root for an empty path), following links
    /// that stay in the tree.
    ///
    /// # Errors
    /// [`Error::LeadsOut`], [`Error::NotAFolder`], [`Error::Io`] (not found
    /// among them).
    pub fn dir(&self, rel: impl AsRef<Path>) -> Result<Dir> {
        self.folder(rel.as_ref(), None)
    }

    /// The folder at `rel`, made with `mode` (less the umask) where it and
    /// the folders above it do not exist yet, as `mkdir -p` would, but
    /// beneath the root. Run as root, each folder made takes the owner and
    /// group of the folder it is made in: the tree stays its owner's.
    /// Each folder this call made is added to `made`, outermost first, even
    /// when a later step fails: the caller can make their names durable,
    /// or remove them again.
    ///
    /// # Errors
    /// As [`Root::dir`].
    pub fn create_dirs(
        &self,
        rel: impl AsRef<Path>,
        mode: u32,
        made: &mut Vec<Made>,
    ) -> Result<Dir> {
        let noted = std::cell::RefCell::new(Vec::new());
        let found = self.folder(rel.as_ref(), Some(walk::Create { mode, made: &noted }));
        made.append(&mut noted.into_inner());
        found
    }

    /// Where a file written "at `rel`" is written: the folder it is in and
    /// its name there, following every link that stays in the tree, the
    /// last one too (a link to a file stays, and the file it leads to
    /// changes), and what is there now. The folder must exist; the name
    /// need not.
    ///
    /// # Errors
    /// [`Error::LeadsOut`], [`Error::Io`] (the folder not found among them).
    pub fn locate(&self, rel: impl AsRef<Path>) -> Result<Located> {
        self.walk(rel.as_ref(), |dir, name| dir.locate_step(name))
    }

    /// The entries of the folder at `rel` (without `.` and `..`), in the
    /// order the file system gives them; `None` when it does not exist.
    ///
    /// # Errors
    /// As [`Root::dir`], then [`Dir::list`].
    pub fn read_dir(&self, rel: impl AsRef<Path>) -> Result<Option<Vec<Entry>>> {
        match self.dir(rel) {
            Ok(dir) => dir.list().map(Some),
            Err(Error::Io { source, .. }) if is_not_found(&source) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A folder opened before by its real path, or `None`.
    fn known(&self, rel: &Path) -> Option<Dir> {
        if rel.as_os_str().is_empty() {
            return Some(self.inner.top.clone());
        }
        self.inner.folders.lock().unwrap().get(rel).cloned()
    }

    fn remember(&self, dir: &Dir) {
        self.inner
            .folders
            .lock()
            .unwrap()
            .insert(dir.rel().to_path_buf(), dir.clone());
    }

    /// The name of `rel`'s last part, if it is a plain name.
    fn file_name(rel: &Path) -> Option<&OsStr> {
        match rel.components().next_back()? {
            std::path::Component::Normal(name) => Some(name),
            _ => None,
        }
    }
}

fn is_not_found(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
}

#[cfg(test)]
mod tests;
