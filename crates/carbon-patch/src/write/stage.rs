//! Staging, in the worker threads, node by node: each new file written into
//! `CARBON_HOME/.carbon-patch/` with its original's mode, owner, group
//! and extended attributes, beside a fingerprint of the bytes it was
//! planned from. Nothing a reader of the home sees changes here.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{Fingerprint, StagedFile, StagedNode, STAGE_DIR};
use crate::lock::HomeLock;
use crate::plan::NodePlan;

/// Stages a node's changes; `lock` is its home's lock (so the plan was made
/// under it, after any interrupted apply was finished).
pub fn stage(plan: &NodePlan, lock: HomeLock) -> Result<StagedNode> {
    // The lock file is in the stage folder: its device is the folder's.
    let stage_dev = lock.device();
    let mut node = StagedNode {
        name: plan.name.clone(),
        home: plan.home.clone(),
        device: stage_dev,
        files: Vec::with_capacity(plan.changes.len()),
        cleaned: false,
        renamed: 0,
        lock: Some(lock),
    };
    let stage_dir = node.stage_dir();
    for change in &plan.changes {
        let cannot = || {
            format!(
                "node {}: cannot write {}",
                plan.name,
                plan.home.join(&change.path).display()
            )
        };
        let (rel, original) = replaced_file(&plan.home, &change.path).with_context(cannot)?;
        let target = plan.home.join(&rel);
        let (place, name, device) =
            stage_change(&target, original, &change.after, &stage_dir, stage_dev)
                .with_context(cannot)?;
        // Made from the folder and the name: the path the temporary file
        // reports is absolute, whatever the home's (a home given relative
        // to the working directory).
        let folder = match place {
            Place::StageDir => Path::new(STAGE_DIR),
            Place::BesideTarget => rel.parent().unwrap_or(Path::new("")),
        };
        node.files.push(StagedFile {
            shown: change.path.clone(),
            staged: folder.join(name),
            device,
            rel,
            before: change.before.as_deref().map(Fingerprint::of),
            original: None,
            identity: None,
        });
    }
    Ok(node)
}

/// The file that new bytes for `rel` replace, relative to `home`, and its
/// metadata if it exists: `rel` itself, or, when `rel` is a symbolic link,
/// the file it leads to, so that the link stays and its target changes
/// (renaming over the link would put a plain file in its place and leave
/// the target as it was). The plan read the file through the link and
/// checked that it stays in the home; this checks again.
fn replaced_file(home: &Path, rel: &Path) -> std::io::Result<(PathBuf, Option<std::fs::Metadata>)> {
    let path = home.join(rel);
    let meta = std::fs::symlink_metadata(&path).ok();
    if !meta.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
        return Ok((rel.to_path_buf(), meta));
    }
    let real = path.canonicalize()?;
    let home = home.canonicalize()?;
    match real.strip_prefix(&home) {
        Ok(inside) => Ok((inside.to_path_buf(), Some(std::fs::metadata(&real)?))),
        Err(_) => Err(std::io::Error::other(format!(
            "it is a symbolic link to {}, outside the home",
            real.display()
        ))),
    }
}

/// Which folder a file's new bytes were staged in.
enum Place {
    /// The home's stage folder, [`STAGE_DIR`].
    StageDir,
    /// The target's own folder: the stage folder is on another file system.
    BesideTarget,
}

/// Stages the new bytes of `target`: checks that they may be written, makes
/// the target's folders if need be, and writes them into `stage_dir` (on
/// device `stage_dev`), or beside the target when that is another file
/// system (a rename cannot cross them). `original` is the target's
/// metadata, if it exists. Returns where, the staged file's name, and the
/// device it is on.
fn stage_change(
    target: &Path,
    original: Option<std::fs::Metadata>,
    bytes: &[u8],
    stage_dir: &Path,
    stage_dev: u64,
) -> std::io::Result<(Place, std::ffi::OsString, u64)> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let dir_meta = match writable(target, original.is_some())? {
        Some(meta) => meta,
        None => {
            std::fs::create_dir_all(dir)?;
            std::fs::metadata(dir)?
        }
    };
    let device = std::os::unix::fs::MetadataExt::dev(&dir_meta);
    let (place, here) = if device == stage_dev {
        (Place::StageDir, stage_dir)
    } else {
        (Place::BesideTarget, dir)
    };
    let staged = stage_file(target, original.as_ref(), bytes, here)?;
    let name = staged
        .file_name()
        .expect("a temporary file has a name")
        .to_os_string();
    Ok((place, name, device))
}

/// Refuses a target that this user may not write, or whose directory it may
/// not write (a rename needs that), before anything is written: a read-only
/// file is a decision someone made, even though a rename could replace it.
/// Also catches a read-only mount, for root too. `exists`: whether the
/// target does. Returns its directory's metadata, if that exists (a new
/// file's folders may not yet).
fn writable(target: &Path, exists: bool) -> std::io::Result<Option<std::fs::Metadata>> {
    let dir = target.parent().unwrap_or(Path::new("."));
    // The nearest existing directory is the one whose permission counts.
    let Some((nearest, meta)) = dir
        .ancestors()
        .find_map(|d| std::fs::metadata(d).ok().map(|meta| (d, meta)))
    else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use rustix::fs::{access, Access};
        let denied = |what: &str, path: &Path, e: rustix::io::Errno| {
            std::io::Error::new(
                std::io::Error::from(e).kind(),
                format!("{what} {} is not writable ({e})", path.display()),
            )
        };
        if exists {
            access(target, Access::WRITE_OK).map_err(|e| denied("the file", target, e))?;
        }
        access(nearest, Access::WRITE_OK).map_err(|e| denied("its directory", nearest, e))?;
    }
    #[cfg(not(unix))]
    let _ = exists;
    Ok((nearest == dir).then_some(meta))
}

/// Writes `bytes` to a new file in `stage_dir` (on the file system of
/// `target`), with the permissions, owner, group and extended attributes of
/// the `original` target; returns its path.
fn stage_file(
    target: &Path,
    original: Option<&std::fs::Metadata>,
    bytes: &[u8],
    stage_dir: &Path,
) -> std::io::Result<PathBuf> {
    // Errors name the folder, not the temporary file: tempfile's own
    // constructors would append its random name, absolute and quoted.
    let staging = |e: std::io::Error| {
        std::io::Error::new(
            e.kind(),
            format!("staging its new bytes in {}: {e}", stage_dir.display()),
        )
    };
    let mut temp = tempfile::Builder::new()
        .prefix(crate::lock::STAGED_PREFIX)
        .make_in(stage_dir, |path| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                // A new file (a copied driver, a new datasources file) gets
                // what any new file gets, 0666 less the umask: a server
                // running as another user must be able to read it. A
                // replaced file is created with its original's permissions
                // less the umask, so its new bytes are never more readable
                // than its old ones were (`keep_metadata` then restores
                // what the umask took, if anything).
                use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
                options.mode(original.map_or(0o666, |meta| meta.mode() & 0o777));
            }
            options.open(path)
        })
        .map_err(staging)?;
    temp.as_file_mut().write_all(bytes).map_err(staging)?;
    if let Some(meta) = original {
        keep_metadata(target, meta, temp.as_file())?;
    }
    if !cfg!(target_os = "linux") {
        // Elsewhere there is no syncfs to batch with (durable.rs).
        temp.as_file().sync_all().map_err(staging)?;
    }
    let (_, path) = temp.keep().map_err(|e| staging(e.error))?;
    Ok(path)
}

/// Gives `file` the mode, owner, group and extended attributes of
/// `original`. Where that is not allowed (another user's file, without
/// root), the write fails rather than change them.
fn keep_metadata(
    original: &Path,
    meta: &std::fs::Metadata,
    file: &std::fs::File,
) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let new = file.metadata()?;
    // The owner first: giving a file away clears its set-user-ID bit.
    let given = (new.uid(), new.gid()) != (meta.uid(), meta.gid());
    if given {
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))?;
    }
    // Created with the original's permissions less the umask, the file has
    // its mode already unless the umask took a bit (or it held special
    // bits): most often, no call and no inode update.
    if given || new.mode() & 0o7777 != meta.mode() & 0o7777 {
        file.set_permissions(meta.permissions())?;
    }
    #[cfg(target_os = "linux")]
    copy_xattrs(original, file)?;
    let _ = original;
    Ok(())
}

/// Copies every extended attribute of `from` (SELinux labels, ACLs, user
/// attributes) to `to`. A file system without them has none to copy.
#[cfg(target_os = "linux")]
fn copy_xattrs(from: &Path, to: &std::fs::File) -> std::io::Result<()> {
    use rustix::io::Errno;
    let size = match rustix::fs::listxattr_query(from) {
        Ok(0) | Err(Errno::NOTSUP) => return Ok(()),
        Ok(size) => size,
        Err(e) => return Err(e.into()),
    };
    let mut names = vec![0u8; size];
    let len = rustix::fs::listxattr(from, &mut names[..])?;
    for name in names[..len.min(size)]
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
    {
        let name = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name);
        let size = rustix::fs::getxattr_query(from, name)?;
        let mut value = vec![0u8; size];
        let len = rustix::fs::getxattr(from, name, &mut value[..])?;
        rustix::fs::fsetxattr(to, name, &value[..len], rustix::fs::XattrFlags::empty())?;
    }
    Ok(())
}
