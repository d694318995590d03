//! Resolving a path from the root one component at a time.
//!
//! Folders are opened without following links; a link met on the way is
//! read and its target walked in its place (from the folder it is in, or,
//! for an absolute target under the root's real path, from the root).
//! `..` goes to the folder the walk came from, by real path, never by the
//! kernel's `..` of a folder that may have moved. Nothing is resolved by
//! the kernel but one name in an open folder.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::{Dir, Root};

/// How many links one walk follows at most, as Linux (`MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// What a walk's last step found.
pub(crate) enum Step<T> {
    /// What was asked for.
    Done(T),
    /// A symbolic link with this target, to be walked in its place.
    Link(PathBuf),
}

impl<T> Step<T> {
    /// A link as a step of another walk; what was found is dropped.
    pub(crate) fn map_done<U>(self) -> Step<U> {
        match self {
            Step::Done(_) => unreachable!("only a link is carried over"),
            Step::Link(target) => Step::Link(target),
        }
    }
}

/// How a walk makes the folders it misses: with `mode` (less the umask),
/// each one made noted in `made`, in the order made.
#[derive(Clone, Copy)]
pub(crate) struct Create<'a> {
    pub(crate) mode: u32,
    pub(crate) made: &'a std::cell::RefCell<Vec<crate::Made>>,
}

/// One part of a path still to walk.
enum Part {
    Name(OsString),
    Up,
}

/// Where a walk ended.
enum End<T> {
    /// On a name, with what the last step made of it.
    Name(T),
    /// On a folder (the path was empty, or ended in `..`).
    Folder(Dir),
}

/// The parts of `path` in reverse order (the next one last), or `None` for
/// an absolute path.
fn parts(path: &Path, into: &mut Vec<Part>) -> Option<()> {
    let start = into.len();
    for component in path.components() {
        match component {
            Component::Normal(name) => into.push(Part::Name(name.to_os_string())),
            Component::ParentDir => into.push(Part::Up),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    into[start..].reverse();
    Some(())
}

impl Root {
    /// Walks `rel` and hands its last name, in the folder it is in, to
    /// `last`, which may send the walk on through a link.
    pub(crate) fn walk<T>(
        &self,
        rel: &Path,
        last: impl FnMut(&Dir, &OsStr) -> Result<Step<T>>,
    ) -> Result<T> {
        match self.walk_to(rel, last, None)? {
            End::Name(found) => Ok(found),
            End::Folder(dir) => Err(Error::NotInside {
                path: dir.path().to_path_buf(),
            }),
        }
    }

    /// The folder at `rel`; made (with `mode`, less the umask) where it is
    /// missing when `create` is given.
    pub(crate) fn folder(&self, rel: &Path, create: Option<Create<'_>>) -> Result<Dir> {
        let end = self.walk_to(rel, |dir, name| self.child(dir, name, create), create)?;
        Ok(match end {
            End::Name(dir) | End::Folder(dir) => dir,
        })
    }

    fn walk_to<T>(
        &self,
        rel: &Path,
        mut last: impl FnMut(&Dir, &OsStr) -> Result<Step<T>>,
        create: Option<Create<'_>>,
    ) -> Result<End<T>> {
        let shown = || self.display_path(rel);
        // Most paths name a file in a folder already opened: one call, and
        // nothing to allocate. A link there is walked the long way.
        if let (Some(parent), Some(name)) = (rel.parent(), Root::file_name(rel)) {
            let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
            if plain && !parent.as_os_str().is_empty() {
                if let Some(dir) = self.known(parent) {
                    if let Step::Done(found) = last(&dir, name)? {
                        return Ok(End::Name(found));
                    }
                }
            }
        }
        let mut todo = Vec::new();
        if parts(rel, &mut todo).is_none() {
            return Err(Error::NotInside { path: shown() });
        }
        let mut here = self.top().clone();
        let mut links = 0;
        // The last link followed, to name when a `..` in it climbs out.
        let mut followed: Option<(PathBuf, PathBuf)> = None;
        while let Some(part) = todo.pop() {
            let name = match part {
                Part::Up => {
                    here = self.up(&here, &shown, followed.as_ref())?;
                    continue;
                }
                Part::Name(name) => name,
            };
            if here.rel().as_os_str().is_empty() && self.inner.hidden.contains(&name) {
                return Err(Error::Hidden {
                    path: shown(),
                    folder: self.display_path(&name),
                });
            }
            let step = if todo.is_empty() {
                match last(&here, &name)? {
                    Step::Done(found) => return Ok(End::Name(found)),
                    Step::Link(target) => target,
                }
            } else {
                match self.child(&here, &name, create)? {
                    Step::Done(dir) => {
                        here = dir;
                        continue;
                    }
                    Step::Link(target) => target,
                }
            };
            links += 1;
            if links > MAX_LINKS {
                return Err(Error::TooManyLinks { path: shown() });
            }
            let link = here.shown(&name);
            if step.is_absolute() {
                let Ok(inside) = step.strip_prefix(self.real_path()) else {
                    return Err(self.leads_out(&shown(), &(link, step)));
                };
                here = self.top().clone();
                parts(inside, &mut todo);
            } else {
                parts(&step, &mut todo);
            }
            followed = Some((link, step));
        }
        Ok(End::Folder(here))
    }

    fn leads_out(&self, path: &Path, (link, target): &(PathBuf, PathBuf)) -> Error {
        Error::LeadsOut {
            path: path.to_path_buf(),
            how: format!(
                "the symbolic link {} leads to {}, outside {}",
                link.display(),
                target.display(),
                self.real_path().display()
            ),
        }
    }

    /// The folder `dir` is in, by its real path; `followed` is the last
    /// link the walk followed, which the `..` may come from.
    fn up(
        &self,
        dir: &Dir,
        shown: &dyn Fn() -> PathBuf,
        followed: Option<&(PathBuf, PathBuf)>,
    ) -> Result<Dir> {
        let Some(parent) = dir.rel().parent() else {
            return Err(match followed {
                Some(link) => self.leads_out(&shown(), link),
                None => Error::LeadsOut {
                    path: shown(),
                    how: format!("'..' climbs above {}", self.path().display()),
                },
            });
        };
        match self.known(parent) {
            Some(dir) => Ok(dir),
            None => self.folder(parent, None),
        }
    }

    /// The folder `name` in `dir`, or the target of the link `name` is;
    /// made with `create`'s mode when missing.
    fn child(&self, dir: &Dir, name: &OsStr, create: Option<Create<'_>>) -> Result<Step<Dir>> {
        let rel = dir.rel().join(name);
        if let Some(known) = self.known(&rel) {
            return Ok(Step::Done(known));
        }
        let fail = |e: Errno| Error::io(dir.shown(name), e);
        let opened = match (dir.open_dir_raw(name), create) {
            (Err(Errno::NOENT), Some(create)) => {
                let mode = rustix::fs::Mode::from_raw_mode(create.mode);
                match rustix::fs::mkdirat(dir, name, mode) {
                    Ok(()) => match dir.open_dir_raw(name) {
                        // Opened by name again: the folder made, unless the
                        // owner of `dir` put another in its place meanwhile.
                        // Only an empty one of ours is given away.
                        Ok(made) if !is_empty_and_ours(&made)? => {
                            return Err(Error::Replaced {
                                path: dir.shown(name),
                            })
                        }
                        Ok(made) => {
                            create.made.borrow_mut().push(crate::Made {
                                parent: dir.clone(),
                                name: name.to_os_string(),
                            });
                            give_like(dir, &made).map(|()| made)
                        }
                        Err(e) => Err(e),
                    },
                    Err(Errno::EXIST) => dir.open_dir_raw(name),
                    Err(e) => return Err(fail(e)),
                }
            }
            (opened, _) => opened,
        };
        match opened {
            Ok(found) => {
                self.remember(&found);
                Ok(Step::Done(found))
            }
            // A link opened without following is refused with one of these.
            Err(e @ (Errno::LOOP | Errno::NOTDIR)) => match dir.read_link(name) {
                Ok(Some(target)) => Ok(Step::Link(target)),
                Ok(None) if e == Errno::NOTDIR => Err(Error::NotAFolder {
                    path: dir.shown(name),
                }),
                Ok(None) => Err(fail(e)),
                Err(e) => Err(fail(e)),
            },
            Err(e) => Err(fail(e)),
        }
    }
}

/// Whether the folder `dir` is empty and this process's: the folder it has
/// just made, as far as anyone can tell (a folder swapped in by its parent's
/// owner is theirs, or one of root's that holds something).
fn is_empty_and_ours(dir: &Dir) -> Result<bool> {
    // Not by its link count: btrfs gives every folder one.
    Ok(dir.meta()?.uid == rustix::process::geteuid().as_raw() && dir.list()?.is_empty())
}

/// Gives `made`, just made in `parent`, the owner and group of `parent`
/// when they differ and this process may (root): a folder root makes in a
/// tree its owner owns stays the owner's, as the folders around it are,
/// and is never one of root's that the owner could pass off as root's own.
pub(crate) fn give_like(parent: &Dir, made: &impl std::os::fd::AsFd) -> rustix::io::Result<()> {
    if !rustix::process::geteuid().is_root() {
        return Ok(());
    }
    let (of_parent, of_made) = (rustix::fs::fstat(parent)?, rustix::fs::fstat(made)?);
    if (of_parent.st_uid, of_parent.st_gid) != (of_made.st_uid, of_made.st_gid) {
        rustix::fs::fchown(
            made,
            Some(rustix::fs::Uid::from_raw(of_parent.st_uid)),
            Some(rustix::fs::Gid::from_raw(of_parent.st_gid)),
        )?;
    }
    Ok(())
}
