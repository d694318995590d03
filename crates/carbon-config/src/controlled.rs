//! Who decides which folder a home's path names, and which file a `lib`
//! source's path names.
//!
//! A home is named by a path, and whoever may rename a folder on that path,
//! or owns a symbolic link it follows, decides which folder the path leads
//! to: the home's owner, through a link of its own, could have root apply a
//! recipe to another account's home. So a path is accepted only when every
//! folder it passes through and every link it follows belongs to root, to
//! the home's owner or to the user running carbon-patch, and no folder it
//! passes through may be written by anyone else (but a sticky folder such as
//! `/tmp`, where only an entry's owner may rename it). The home itself is
//! its owner's to arrange.
//!
//! The home is opened first and the path walked after, so the walk must end
//! at the very folder that was opened: an owner who may rename the home's
//! entry (its own, in a sticky `/tmp`) could otherwise swap it for a link to
//! another account's home while it is opened, and back before the walk.
//!
//! A `lib` source (a jar root copies into the home) is walked the same way,
//! but trusting only root, the user running carbon-patch and the owner of
//! the recipe that names it (who chose it, and could name any file): in a
//! folder the home's owner controls (a path `capture` read from a home,
//! say), a link put there would have root copy a file of its own into the
//! home.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// How many links a path may follow, as Linux (`MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Why a walk stopped.
enum Stop {
    /// Someone not trusted controls `what` (`why` says how).
    Untrusted { what: PathBuf, why: String },
    /// The path could not be walked to its end.
    Unwalkable,
}

/// Walks `given` as the kernel resolves it, with `lstat` at each step,
/// requiring every link it follows and every folder it passes through to
/// belong to a `trusted` user, and no folder on the way to be written by
/// others (but a sticky one). Returns where it ends and what is there.
fn walk(
    given: &Path,
    trusted: &dyn Fn(u32) -> bool,
) -> std::result::Result<(PathBuf, std::fs::Metadata), Stop> {
    let absolute = if given.is_absolute() {
        given.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|_| Stop::Unwalkable)?
            .join(given)
    };
    let lstat = |path: &Path| std::fs::symlink_metadata(path).map_err(|_| Stop::Unwalkable);
    let mut todo: Vec<PathBuf> = Vec::new();
    push_parts(&absolute, &mut todo);
    let mut at = PathBuf::from("/");
    let mut reached = lstat(&at)?;
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part == Path::new("..") {
            at.pop();
            reached = lstat(&at)?;
            continue;
        }
        let next = at.join(&part);
        let meta = lstat(&next)?;
        if meta.file_type().is_symlink() {
            if !trusted(meta.uid()) {
                let why = format!("is a link owned by uid {}", meta.uid());
                return Err(Stop::Untrusted { what: next, why });
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(Stop::Unwalkable);
            }
            let target = std::fs::read_link(&next).map_err(|_| Stop::Unwalkable)?;
            if target.is_absolute() {
                at = PathBuf::from("/");
            }
            push_parts(&target, &mut todo);
            continue;
        }
        // A folder the path passes through on its way to its end.
        if !todo.is_empty() {
            if !meta.is_dir() {
                return Err(Stop::Unwalkable); // as the kernel: not a folder
            }
            if !trusted(meta.uid()) {
                let why = format!("is owned by uid {}", meta.uid());
                return Err(Stop::Untrusted { what: next, why });
            }
            let sticky = meta.mode() & 0o1000 != 0;
            if meta.mode() & 0o022 != 0 && !sticky {
                let why = format!(
                    "may be written by others (mode {:04o})",
                    meta.mode() & 0o7777
                );
                return Err(Stop::Untrusted { what: next, why });
            }
        }
        at = next;
        reached = meta;
    }
    Ok((at, reached))
}

/// Checks who controls the path `given` names the home by, and that it
/// still leads to `opened`, the folder the home was opened as (owned by its
/// owner).
///
/// # Errors
/// [`Error::OutsideHome`], naming the folder or link and its owner, or
/// saying that the path no longer leads to the folder opened.
pub(crate) fn check(given: &Path, opened: &beneath::Meta) -> Result<()> {
    let home_owner = opened.uid;
    let runner = rustix::process::geteuid().as_raw();
    let trusted = |uid: u32| uid == 0 || uid == home_owner || uid == runner;
    let refuse = |reason: String| Error::OutsideHome {
        path: given.to_path_buf(),
        reason,
    };
    // The opening followed this path a moment ago: one that cannot be
    // walked now, or that leads elsewhere, has changed since.
    let moved = || {
        refuse(
            "led to another folder while the home was opened (was it renamed, or made a \
             link?); nothing was read or written there"
                .to_string(),
        )
    };
    match walk(given, &trusted) {
        Ok((_, reached)) if (reached.dev(), reached.ino()) == (opened.dev, opened.ino) => Ok(()),
        Ok(_) | Err(Stop::Unwalkable) => Err(moved()),
        Err(Stop::Untrusted { what, why }) => Err(refuse(format!(
            "{} {why}, so it can make this path lead to another folder than the home; name the \
             home by a path that only root and the home's owner (uid {home_owner}) control",
            what.display()
        ))),
    }
}

/// What a refused `lib` source's message says to do.
const KEEP_IT: &str =
    "keep the file where only root, the user running carbon-patch or the recipe's owner can \
     change it";

/// Opens `source`, a file the recipe names for root to copy into a home,
/// once its path is walked through nothing but what root, the user running
/// carbon-patch or `chosen_by` (the recipe's owner) control; it must be a
/// regular file one of them owns (opened without waiting, so a FIFO cannot
/// hold the run) of at most `max` bytes. Returns the file and its length.
///
/// # Errors
/// [`Error::Invalid`] naming the source and why.
pub(crate) fn open_source(
    source: &Path,
    chosen_by: Option<u32>,
    max: u64,
) -> Result<(std::fs::File, u64)> {
    let runner = rustix::process::geteuid().as_raw();
    let trusted = |uid: u32| uid == 0 || uid == runner || Some(uid) == chosen_by;
    let refuse = |message: String| Error::Invalid {
        file: source.to_path_buf(),
        message,
    };
    let (end, reached) = match walk(source, &trusted) {
        Ok(found) => found,
        Err(Stop::Unwalkable) => {
            // Let the opening say what is wrong (no such file, mostly).
            let error = std::fs::metadata(source)
                .err()
                .unwrap_or_else(|| std::io::Error::other("it changed while it was read"));
            return Err(Error::Io {
                path: source.to_path_buf(),
                error,
            });
        }
        Err(Stop::Untrusted { what, why }) => {
            return Err(refuse(format!(
                "{} {why}, so it could make this path lead to another file for root to copy \
                 into the home; {KEEP_IT}",
                what.display()
            )))
        }
    };
    if !reached.file_type().is_file() {
        return Err(refuse("is not a regular file".into()));
    }
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let file = rustix::fs::open(&end, flags, Mode::empty())
        .map(std::fs::File::from)
        .map_err(|e| Error::Io {
            path: source.to_path_buf(),
            error: e.into(),
        })?;
    let meta = file.metadata().map_err(|error| Error::Io {
        path: source.to_path_buf(),
        error,
    })?;
    if (meta.dev(), meta.ino()) != (reached.dev(), reached.ino()) || !meta.file_type().is_file() {
        return Err(refuse("changed while it was opened".into()));
    }
    // In a sticky folder anyone may leave a file, or a hard link to one of
    // root's where the kernel allows it.
    if !trusted(meta.uid()) {
        return Err(refuse(format!(
            "is owned by uid {}, who could make it any file; {KEEP_IT}",
            meta.uid()
        )));
    }
    if meta.len() > max {
        return Err(refuse(format!(
            "{} bytes is over the {max}-byte limit for a file (raise it with --max-file-size)",
            meta.len()
        )));
    }
    Ok((file, meta.len()))
}

/// Pushes the parts of `path` on `todo`, the first last (a stack).
fn push_parts(path: &Path, todo: &mut Vec<PathBuf>) {
    let start = todo.len();
    for component in path.components() {
        match component {
            Component::Normal(name) => todo.push(PathBuf::from(name)),
            Component::ParentDir => todo.push(PathBuf::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    todo[start..].reverse();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What opening the home at `path` finds there (links followed).
    fn opened(path: &Path) -> beneath::Meta {
        let meta = std::fs::metadata(path).unwrap();
        beneath::Meta {
            kind: beneath::Kind::Folder,
            mode: meta.mode(),
            uid: meta.uid(),
            gid: meta.gid(),
            nlink: meta.nlink(),
            len: meta.len(),
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    #[test]
    fn a_path_through_folders_and_links_of_root_and_the_owner_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("opt/node1");
        std::fs::create_dir_all(&home).unwrap();
        std::os::unix::fs::symlink("opt/node1", dir.path().join("current")).unwrap();
        check(&dir.path().join("current"), &opened(&home)).unwrap();
        check(&dir.path().join("opt/../opt/node1"), &opened(&home)).unwrap();
    }

    #[test]
    fn a_folder_others_may_write_on_the_way_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir_all(shared.join("node1")).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let home = opened(&shared.join("node1"));
        let err = check(&shared.join("node1"), &home).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "{} may be written by others (mode 0777), so it can make this path lead to \
                 another folder than the home",
                shared.display()
            )),
            "{err}"
        );
        // Sticky, as /tmp is: only an entry's owner may rename it.
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        check(&shared.join("node1"), &home).unwrap();
    }

    /// A link owned by another user on the way: refused, naming it. Needs
    /// root, to give the link away.
    #[test]
    fn a_link_another_user_owns_on_the_way_is_refused() {
        if !rustix::process::geteuid().is_root() {
            assert_eq!(
                std::env::var("CARBON_PATCH_ROOT_TESTS").as_deref(),
                Ok("skip"),
                "this test needs root (CI runs as root); CARBON_PATCH_ROOT_TESTS=skip skips it"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("node1")).unwrap();
        let link = dir.path().join("current");
        std::os::unix::fs::symlink("node1", &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).unwrap();
        let err = check(&link, &opened(&link)).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "{} is a link owned by uid 65534, so it can make this path lead to another folder",
                link.display()
            )),
            "{err}"
        );
    }

    /// The home's entry swapped between the opening and the walk (its
    /// owner may rename it, even in a sticky /tmp): the path now leads to
    /// another folder, or nowhere, than the one opened.
    #[test]
    fn a_path_that_no_longer_leads_to_the_folder_opened_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (home, other) = (dir.path().join("node1"), dir.path().join("victim"));
        std::fs::create_dir(&home).unwrap();
        std::fs::create_dir(&other).unwrap();
        let victim = opened(&other);
        let err = check(&home, &victim).unwrap_err().to_string();
        assert!(
            err.contains("led to another folder while the home was opened"),
            "{err}"
        );
        std::fs::remove_dir(&other).unwrap();
        let err = check(&other, &victim).unwrap_err().to_string();
        assert!(
            err.contains("led to another folder while the home was opened"),
            "{err}"
        );
        check(&home, &opened(&home)).unwrap();
    }
}
