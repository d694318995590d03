//! Staging, tree by tree (the caller's worker threads): each new file
//! written into the home's stage folder with its original's mode, owner,
//! group and extended attributes, beside fingerprints of what it was
//! planned from and of what it holds. Nothing a reader of the home sees
//! changes here.

use std::collections::hash_map::RandomState;
use std::ffi::{OsStr, OsString};
use std::hash::BuildHasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use beneath::{Dir, Meta};

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::lock::{Lock, KEPT_PREFIX, STAGED_PREFIX};

/// What the plan read of a file it changes: its bytes, and the file they
/// were read from. The commit writes only over that very file: its owner,
/// mode and extended attributes go to the new bytes, and it is the file
/// checked again before the swap and after.
#[derive(Clone, Copy, Debug)]
pub struct Planned<'a> {
    /// The bytes read.
    pub bytes: &'a [u8],
    /// What the file they were read from was (device and inode are what
    /// count).
    pub read_from: &'a Meta,
}

/// One staged file.
#[derive(Debug)]
pub(crate) struct StagedFile {
    /// The file as the caller named it, relative to the home.
    pub shown: PathBuf,
    /// The file the new bytes replace, relative to the home: `shown`, or
    /// where it leads when a link is on the way (the link stays).
    pub target: PathBuf,
    /// The target's folder, and its name there.
    pub dir: Dir,
    pub name: OsString,
    /// The folder the new bytes are staged in (the home's stage folder, or
    /// `dir` when that is another file system), and their name there.
    pub stage: Dir,
    pub staged: OsString,
    /// What the target held when planned; `None` for a file the commit
    /// creates.
    pub before: Option<Fingerprint>,
    /// What the staged file holds; `None` for a file the commit removes
    /// (nothing is staged, and `staged` is where the file waits once
    /// taken out).
    pub after: Option<Fingerprint>,
    /// The staged file, open until the commit makes it durable.
    pub open: Option<std::fs::File>,
    /// The original, opened when the commit checked it: checked again once
    /// swapped out, and copied for its backup.
    pub checked: Option<(std::fs::File, Meta)>,
    /// Where the original waits once replaced, in `stage` (set while
    /// committing): the staged name, or a kept hard link.
    pub original: Option<OsString>,
}

/// One home's staged files, holding its lock until the commit is done or
/// it is dropped. Dropping it before the commit removes what it staged.
#[derive(Debug)]
pub struct Staged {
    pub(crate) label: String,
    pub(crate) files: Vec<StagedFile>,
    /// Whether what was staged has been removed.
    pub(crate) cleaned: bool,
    /// How many of `files`, from the first, the commit has replaced.
    pub(crate) renamed: usize,
    /// Released by the commit's last step.
    pub(crate) lock: Option<Lock>,
    /// The backup this commit writes, once started.
    pub(crate) backup: Option<crate::journal::Backup>,
    /// What must be durable before the commit's first replacement.
    pub(crate) durable: Vec<crate::durable::Durable>,
    /// The folders made for new files, outermost first: their names are made
    /// durable with the staged files, and they go again with them when the
    /// run stops before its commit or is rolled back.
    pub(crate) made: Vec<beneath::Made>,
    /// Folders to remove once the commit is done, if empty then, in order;
    /// and those removed.
    emptied: Vec<PathBuf>,
    removed_folders: Vec<PathBuf>,
    /// The mount of the home's stage folder, and whether each folder staged
    /// for so far (by its path in the home) is on it.
    stage_mount: Option<(u64, u64)>,
    mounts: Vec<(PathBuf, bool)>,
}

/// Where a file is written ([`Staged::place`]).
struct Place {
    dir: Dir,
    name: OsString,
    /// `dir` and `name` as a path in the home.
    target: PathBuf,
    /// The original the plan read, opened, and what it is.
    original: Option<(std::fs::File, Meta)>,
    /// The folder its new bytes are staged in, or where it waits once
    /// taken out for a removal.
    stage: Dir,
}

/// What is done to a file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Write,
    Remove,
}

impl Change {
    /// What a message says could not be done.
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Change::Write => "write",
            Change::Remove => "remove",
        }
    }
}

impl StagedFile {
    /// What the commit does to the file.
    pub(crate) fn change(&self) -> Change {
        match self.after {
            Some(_) => Change::Write,
            None => Change::Remove,
        }
    }
}

impl Place {
    /// The file staged at this place, `path` as the caller named it, its
    /// new bytes (none for a removal) under `staged`.
    fn into_staged_file(
        self,
        path: &Path,
        staged: OsString,
        before: Option<Fingerprint>,
        after: Option<Fingerprint>,
    ) -> StagedFile {
        StagedFile {
            shown: path.to_path_buf(),
            target: self.target,
            dir: self.dir,
            name: self.name,
            stage: self.stage,
            staged,
            before,
            after,
            open: None,
            checked: None,
            original: None,
        }
    }
}

impl StagedFile {
    /// Where something taken out of the target waits after a replacement
    /// that failed and could not be undone, if anything does: a removal's
    /// staged name holding anything, a kept name, or a staged name holding
    /// other bytes than the staged ones (an edit swapped out).
    pub(crate) fn left_out(&self) -> Option<OsString> {
        let kept = kept_name(&self.staged);
        if matches!(self.stage.stat(&kept), Ok(Some(_))) {
            return Some(kept);
        }
        let holds = Fingerprint::of_name_like(&self.stage, &self.staged, &[self.after]);
        match holds {
            Ok(None) => None,
            Ok(Some(holds)) if Some(holds) == self.after => None,
            _ => Some(self.staged.clone()),
        }
    }
}

/// The name an original kept by a hard link gets beside `staged`.
pub(crate) fn kept_name(staged: &OsStr) -> OsString {
    let staged = staged.to_string_lossy();
    let tail = staged.strip_prefix(STAGED_PREFIX).unwrap_or(&staged);
    format!("{KEPT_PREFIX}{tail}").into()
}

/// Which file system a folder is on, as far as a rename can tell: its mount
/// (a bind mount of the same device is another place for `rename(2)`), or
/// its device where the kernel does not say.
fn mount_of(dir: &Dir) -> Result<(u64, u64)> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{statx, AtFlags, StatxFlags};
        if let Ok(found) = statx(dir, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID) {
            if found.stx_mask & StatxFlags::MNT_ID.bits() != 0 {
                return Ok((0, found.stx_mnt_id));
            }
        }
    }
    Ok((1, dir.meta()?.dev))
}

impl Staged {
    /// Stages nothing yet, for the home `lock` holds; `label` names the home
    /// in errors ("node node1").
    pub fn new(label: impl Into<String>, lock: Lock) -> Staged {
        Staged {
            label: label.into(),
            files: Vec::new(),
            cleaned: false,
            renamed: 0,
            lock: Some(lock),
            backup: None,
            durable: Vec::new(),
            made: Vec::new(),
            emptied: Vec::new(),
            removed_folders: Vec::new(),
            stage_mount: None,
            mounts: Vec::new(),
        }
    }

    /// The label given to [`Staged::new`].
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The files staged, as their callers named them (relative to the home).
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.shown.as_path())
    }

    pub(crate) fn lock(&mut self) -> &mut Lock {
        self.lock
            .as_mut()
            .expect("a tree holds its lock until the commit is done")
    }

    /// Stages `after` as the new bytes of the file at `path` (relative to
    /// the home), which held `before` when planned (`None`: it does not
    /// exist, and the commit creates it, and the folders it needs).
    ///
    /// # Errors
    /// The file or its folder not writable by this user (a read-only file
    /// is a decision someone made, even though a rename could replace it;
    /// this also catches a read-only mount), a path that leads out of the
    /// home, a file already staged by another path, the stage folder's
    /// file system full. Each labelled.
    pub fn add(&mut self, path: &Path, before: Option<Planned<'_>>, after: &[u8]) -> Result<()> {
        self.stage_file(path, before, after, None)
            .map_err(|e| self.labelled(Change::Write, path, e))
    }

    /// [`Staged::add`], a file it creates made with exactly `mode` (the
    /// umask aside) rather than [`NEW_FILE_MODE`] less the umask: a file put
    /// back as it was.
    ///
    /// # Errors
    /// As [`Staged::add`].
    pub fn add_with_mode(
        &mut self,
        path: &Path,
        before: Option<Planned<'_>>,
        after: &[u8],
        mode: u32,
    ) -> Result<()> {
        self.stage_file(path, before, after, Some(mode))
            .map_err(|e| self.labelled(Change::Write, path, e))
    }

    /// Stages the removal of the file at `path` (relative to the home),
    /// which held `before` when planned: the commit takes it out of the home
    /// as it replaces the others, and keeps it until every file is done, to
    /// put back should the commit fail.
    ///
    /// # Errors
    /// As [`Staged::add`]; the file gone or changed since it was planned.
    pub fn remove(&mut self, path: &Path, before: Planned<'_>) -> Result<()> {
        self.stage_removal(path, before)
            .map_err(|e| self.labelled(Change::Remove, path, e))
    }

    /// Removes the folder at `path` (relative to the home) once the commit
    /// is done, if it is empty then and reached through no link: a folder
    /// an apply made for files this commit removes. Folders go in the order
    /// given (innermost first); [`Staged::removed_folders`] says which went.
    /// One left behind by a crash is only an empty folder.
    pub fn remove_folder_if_empty(&mut self, path: &Path) {
        self.emptied.push(path.to_path_buf());
    }

    /// The folders [`Staged::remove_folder_if_empty`] removed.
    pub fn removed_folders(&self) -> &[PathBuf] {
        &self.removed_folders
    }

    /// `e`, on the file at `path` that `change` was for, labelled with the
    /// tree.
    fn labelled(&mut self, change: Change, path: &Path, e: Error) -> Error {
        let shown = self.lock().root().display_path(path);
        Error::In {
            label: format!(
                "{}: cannot {} {}",
                self.label,
                change.verb(),
                shown.display()
            ),
            error: Box::new(e),
        }
    }

    fn stage_file(
        &mut self,
        path: &Path,
        before: Option<Planned<'_>>,
        after: &[u8],
        new_mode: Option<u32>,
    ) -> Result<()> {
        let place = self.place(path, before, Change::Write)?;
        // A folder of the home may carry a default ACL, which a file made in
        // it takes; the home's stage folder never does (lock.rs).
        let inherits = place.stage.rel() != Path::new(crate::lock::STAGE_DIR);
        let new = NewFile {
            mode: new_mode.unwrap_or(NEW_FILE_MODE) & 0o777,
            exact: new_mode.is_some(),
            folder: &place.dir,
        };
        let original = place.original.as_ref();
        let (staged, open) = stage_bytes(&place.stage, inherits, original, &new, after)?;
        let before = before.map(|planned| Fingerprint::of(planned.bytes));
        let file = place.into_staged_file(path, staged, before, Some(Fingerprint::of(after)));
        self.files.push(StagedFile {
            open: Some(open),
            ..file
        });
        Ok(())
    }

    fn stage_removal(&mut self, path: &Path, before: Planned<'_>) -> Result<()> {
        let place = self.place(path, Some(before), Change::Remove)?;
        // A link is written through, but a removal through one would take
        // another file than the one named: the path must be the file's own.
        if place.target != path {
            return Err(Error::InTheWay {
                path: place.dir.shown(&place.name),
                what: format!(
                    "is what {} leads to through a symbolic link; a removal follows none",
                    path.display()
                ),
            });
        }
        // Where the file waits once taken out: a name no one can guess,
        // taken only if still free.
        let staged = fresh_name(0);
        let file = place.into_staged_file(path, staged, Some(Fingerprint::of(before.bytes)), None);
        self.files.push(file);
        Ok(())
    }

    /// Where the file at `path` is written or removed (`change`), checked:
    /// its folder (made, with the folders above it, for a new file), its
    /// name, the original the plan read (`before`), opened, and the folder
    /// to stage in.
    fn place(&mut self, path: &Path, before: Option<Planned<'_>>, change: Change) -> Result<Place> {
        let root = self.lock().root().clone();
        let beneath::Located { dir, name, meta } = match root.locate(path) {
            Ok(found) => found,
            Err(e) if e.is_not_found() && before.is_none() => {
                // A new file in a new folder (a driver's lib folder, say).
                nearest_folder_writable(&root, path)?;
                let folder = path.parent().unwrap_or(Path::new(""));
                root.create_dirs(folder, 0o777, &mut self.made)?;
                root.locate(path)?
            }
            Err(e) if e.is_not_found() => {
                return Err(Error::Changed {
                    path: root.display_path(path),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let target = dir.rel().join(&name);
        if let Some(other) = self.files.iter().find(|f| f.target == target) {
            return Err(Error::InTheWay {
                path: root.display_path(&target),
                what: format!(
                    "staged already, as {}; a file is written by one path",
                    other.shown.display()
                ),
            });
        }
        // The original is opened once: its owner, mode and extended
        // attributes are taken from that very file, which must be the one
        // the plan read (the commit then checks it again, and swaps it out).
        let changed = || Error::Changed {
            path: dir.shown(&name),
        };
        let original = match (before, meta) {
            (None, None) => None,
            (None, Some(_)) => return Err(changed()),
            (Some(planned), _) => {
                let (file, meta) = dir.open_read(&name)?.ok_or_else(changed)?;
                if !meta.same_object(planned.read_from) {
                    return Err(changed());
                }
                Some((file, meta))
            }
        };
        // A removal, as `unlink`, needs only the folder to be writable.
        let rewritten = original.is_some() && change == Change::Write;
        writable(&dir, &name, rewritten)?;
        let stage = if self.same_mount_as_stage(&dir)? {
            self.lock().stage().clone()
        } else {
            dir.clone()
        };
        Ok(Place {
            dir,
            name,
            target,
            original,
            stage,
        })
    }

    /// Whether `dir` is where the home's stage folder is, for a rename:
    /// asked once a folder.
    fn same_mount_as_stage(&mut self, dir: &Dir) -> Result<bool> {
        if let Some((_, same)) = self.mounts.iter().find(|(rel, _)| rel == dir.rel()) {
            return Ok(*same);
        }
        let stage = match self.stage_mount {
            Some(mount) => mount,
            None => {
                let mount = mount_of(self.lock().stage())?;
                *self.stage_mount.insert(mount)
            }
        };
        let same = mount_of(dir)? == stage;
        self.mounts.push((dir.rel().to_path_buf(), same));
        Ok(same)
    }

    /// Removes what is left of the staging: the staged files and the
    /// folders made for new files, unless the commit `renamed` them all, and
    /// the kept originals; once it did, the folders
    /// [`Staged::remove_folder_if_empty`] names. Never while a journal needs
    /// them (the caller checks).
    pub(crate) fn clean_up(&mut self, renamed: bool) {
        self.cleaned = true;
        for file in &mut self.files {
            file.checked = None;
            if !renamed {
                let _ = file.stage.remove_file(&file.staged);
            }
            if let Some(original) = file.original.take() {
                let _ = file.stage.remove_file(original);
            }
        }
        let made = std::mem::take(&mut self.made);
        let Some(root) = self.lock.as_ref().map(|lock| lock.root()) else {
            return;
        };
        if !renamed {
            // Innermost first; one that holds anything now is not ours to
            // empty, and stays, as does one moved out of the home.
            for folder in made.iter().rev() {
                if root.still_holds(&folder.parent).unwrap_or(false) {
                    let _ = folder.parent.remove_dir(&folder.name);
                }
            }
            return;
        }
        for path in std::mem::take(&mut self.emptied) {
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                continue;
            };
            // Through no link: `rmdir` takes no link as a folder either.
            let Ok(dir) = root.dir(parent) else { continue };
            if dir.rel() == parent && dir.remove_dir(name).is_ok() {
                self.removed_folders.push(path);
            }
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // A run that stopped before committing leaves nothing behind.
        if !self.cleaned && !self.lock.as_ref().is_some_and(Lock::has_journal) {
            self.clean_up(false);
        }
    }
}

/// Refuses a target this user may not write, or whose folder it may not
/// write (a rename needs that), before anything is written.
fn writable(dir: &Dir, name: &OsStr, exists: bool) -> Result<()> {
    use rustix::fs::{accessat, Access, AtFlags};
    if exists {
        accessat(dir, name, Access::WRITE_OK, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| not_writable("the file", dir.shown(name), e))?;
    }
    folder_writable(dir)
}

/// Refuses a folder this user may not write names in.
fn folder_writable(dir: &Dir) -> Result<()> {
    use rustix::fs::{accessat, Access, AtFlags};
    accessat(dir, ".", Access::WRITE_OK, AtFlags::empty())
        .map_err(|e| not_writable("its directory", dir.path().to_path_buf(), e))
}

fn not_writable(what: &str, path: PathBuf, e: rustix::io::Errno) -> Error {
    Error::NotWritable {
        reason: format!("{what} {} is not writable ({e})", path.display()),
        path,
    }
}

/// For a file whose folder does not exist yet: the nearest folder above it
/// that does must be writable.
fn nearest_folder_writable(root: &beneath::Root, path: &Path) -> Result<()> {
    let nearest = path
        .ancestors()
        .skip(1)
        .find_map(|folder| root.dir(folder).ok())
        .unwrap_or_else(|| root.top().clone());
    folder_writable(&nearest)
}

/// A name for a staged file no one can guess ahead (std's hasher keys are
/// random per process), so a name planted beforehand beside a target
/// cannot be the one used.
fn fresh_name(attempt: u32) -> OsString {
    // Each `RandomState` has keys of its own (the thread's random keys,
    // moved on by one for each), so each name differs too.
    let key = RandomState::new().hash_one(attempt);
    format!("{STAGED_PREFIX}{key:016x}").into()
}

/// Writes `bytes` to a new file in `stage`, with the permissions, owner,
/// group and extended attributes of the `original` (open, and described by
/// its stat), and starts writing it out; without the ACL it `inherits` from
/// the folder, if it may. Returns its name, and the file, still open.
fn stage_bytes(
    stage: &Dir,
    inherits: bool,
    original: Option<&(std::fs::File, Meta)>,
    new: &NewFile<'_>,
    bytes: &[u8],
) -> Result<(OsString, std::fs::File)> {
    // A replaced file is created with its original's permissions less the
    // umask, so its new bytes are never more readable than its old ones
    // were (`keep_metadata` then restores what the umask took, if
    // anything). A new one with the mode asked for (`NEW_FILE_MODE`).
    let mode = original.map_or(new.mode, |(_, meta)| meta.mode & 0o777);
    let staging = |e: std::io::Error| Error::Io {
        action: "staging its new bytes in",
        path: stage.path().to_path_buf(),
        source: e,
    };
    let mut attempt = 0;
    let (staged, mut file) = loop {
        let staged = fresh_name(attempt);
        match stage.create_new(&staged, mode) {
            Ok(file) => break (staged, file),
            Err(e)
                if attempt < 16
                    && e.io_error()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::AlreadyExists) =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| match original {
            Some((from, meta)) => keep_metadata(from, meta, &file, inherits),
            None => beneath::owned_like(new.folder, &file).and_then(|()| {
                if new.exact {
                    rustix::fs::fchmod(&file, rustix::fs::Mode::from_raw_mode(new.mode))?;
                }
                if inherits {
                    drop_inherited_acl(&file)
                } else {
                    Ok(())
                }
            }),
        })
        .map_err(staging);
    if let Err(e) = written {
        let _ = stage.remove_file(&staged);
        return Err(e);
    }
    crate::durable::start_writing(&file);
    Ok((staged, file))
}

/// What a file the commit creates is made with, where it has no original.
struct NewFile<'a> {
    /// Its permissions, less the umask unless `exact`.
    mode: u32,
    /// Whether `mode` is the file's to the bit (a file put back as it was).
    exact: bool,
    /// The folder it goes into, whose owner and group it takes (root only).
    folder: &'a Dir,
}

/// The permissions a new file (a copied driver, a new datasources file) is
/// made with, less the umask, as any new file is: a server running as
/// another user must be able to read it.
pub const NEW_FILE_MODE: u32 = 0o666;

/// Gives `file` the mode, owner, group and extended attributes of the
/// original (`from`, described by `meta`). Where that is not allowed
/// (another user's file, without root), the staging fails rather than
/// change them.
fn keep_metadata(
    from: &std::fs::File,
    meta: &Meta,
    file: &std::fs::File,
    inherits: bool,
) -> std::io::Result<()> {
    let new = Meta::of(file)?;
    // The owner first: giving a file away clears its set-user-ID bit.
    let given = (new.uid, new.gid) != (meta.uid, meta.gid);
    if given {
        std::os::unix::fs::fchown(file, Some(meta.uid), Some(meta.gid))?;
    }
    // Created with the original's permissions less the umask, the file has
    // its mode already unless the umask took a bit (or it held special
    // bits): most often, no call and no inode update.
    if given || new.mode != meta.mode {
        rustix::fs::fchmod(file, rustix::fs::Mode::from_raw_mode(meta.mode))?;
    }
    #[cfg(target_os = "linux")]
    copy_xattrs(from, file, inherits)?;
    #[cfg(not(target_os = "linux"))]
    let _ = (from, inherits);
    Ok(())
}

/// Removes from `file` the access ACL a new file takes from its folder's
/// default ACL (which the home's owner may have set on any folder of the
/// home): a staged file gets the ACL its original had, or none.
fn drop_inherited_acl(file: &std::fs::File) -> std::io::Result<()> {
    crate::lock::acl::remove(file, crate::lock::acl::ACCESS)
}

/// Makes the extended attributes of `to` those of `from` (SELinux labels,
/// ACLs, user attributes): each of `from`'s copied, and, where `to` may
/// have `inherits` one, an access ACL that `from` does not have removed. A
/// file system without them has none to copy.
#[cfg(target_os = "linux")]
fn copy_xattrs(from: &std::fs::File, to: &std::fs::File, inherits: bool) -> std::io::Result<()> {
    use rustix::io::Errno;
    let size = match rustix::fs::flistxattr_query(from) {
        Ok(0) | Err(Errno::NOTSUP) if inherits => return drop_inherited_acl(to),
        Ok(0) | Err(Errno::NOTSUP) => return Ok(()),
        Ok(size) => size,
        Err(e) => return Err(e.into()),
    };
    let mut names = vec![0u8; size];
    let len = rustix::fs::flistxattr(from, &mut names[..])?;
    let mut acl = false;
    for attr in names[..len.min(size)]
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
    {
        let attr = <OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(attr);
        acl |= attr == crate::lock::acl::ACCESS;
        let size = rustix::fs::fgetxattr_query(from, attr)?;
        let mut value = vec![0u8; size];
        let len = rustix::fs::fgetxattr(from, attr, &mut value[..])?;
        rustix::fs::fsetxattr(to, attr, &value[..len], rustix::fs::XattrFlags::empty())?;
    }
    if !acl && inherits {
        drop_inherited_acl(to)?;
    }
    Ok(())
}
