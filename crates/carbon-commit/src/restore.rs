//! Reading a backup back (`carbon-patch restore`): the originals one
//! commit kept under `CARBON_HOME/.carbon-patch/backups/<stamp>/`, paired
//! with what each of those files holds now, for the caller to stage and
//! commit like any other change.
//!
//! A backup is read from the stage folder as the lock trusts it (this
//! user's, writable by no one else): under the lock to restore it, without
//! it for a dry run. Each of its folders must be one a backup run made
//! (this user's, `0700`), each file this user's; no link, FIFO or device is
//! opened, each file is held to the caller's size limit, and a walk stops
//! past [`MOST_ENTRIES`] entries or 64 folders deep.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use beneath::{Dir, Kind, Meta, Root};

use crate::backup::{CreatedList, Listed, CREATED};
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::lock::{this_user, trust, Lock, STAGE_DIR};
use crate::stage::Planned;

/// The most entries a backup's walk reads: a commit backs up the few dozen
/// files it replaces, and a folder that holds more was not written by one.
pub const MOST_ENTRIES: usize = 10_000;

/// The most bytes of a backup's list of created files read: a few dozen
/// paths.
const CREATED_LIMIT: u64 = 1 << 20;

/// One file a backup puts back.
#[derive(Debug)]
pub struct Restoring {
    /// The file, relative to the home (where the commit wrote it: a link on
    /// the way was resolved then).
    pub path: PathBuf,
    /// What it holds now, and the file that holds it; `None` when it is
    /// gone, and restoring creates it again.
    pub current: Option<(Vec<u8>, Meta)>,
    /// What the backup holds: the bytes the commit replaced.
    pub original: Vec<u8>,
    /// The original's permissions, kept by the backup: a file gone since is
    /// made again with them ([`crate::Staged::add_with_mode`]).
    pub mode: u32,
}

impl Restoring {
    /// What [`crate::Staged::add`] is told the file held when planned.
    pub fn planned(&self) -> Option<Planned<'_>> {
        self.current.as_ref().map(|(bytes, meta)| Planned {
            bytes,
            read_from: meta,
        })
    }
}

/// What the commit of a backup created that is still in the home.
#[derive(Debug, Default)]
pub struct Created {
    /// Its files, in the order of their paths.
    pub files: Vec<CreatedFile>,
    /// The folders it made for them that removing the files it still holds
    /// as made would leave empty, innermost first (relative to the home).
    pub folders: Vec<PathBuf>,
}

impl Created {
    /// Stages, on `staged` (the home's, under its lock), the removal of each
    /// file that still holds what the commit made it with, and of the
    /// folders that leaves empty.
    ///
    /// # Errors
    /// As [`crate::Staged::remove`].
    pub fn stage_removals(&self, staged: &mut crate::Staged) -> Result<()> {
        for file in &self.files {
            if let (None, Some((bytes, meta))) = (&file.left, &file.current) {
                let planned = Planned {
                    bytes,
                    read_from: meta,
                };
                staged.remove(&file.path, planned)?;
            }
        }
        for folder in &self.folders {
            staged.remove_folder_if_empty(folder);
        }
        Ok(())
    }
}

/// A file the commit of a backup created, still in the home.
#[derive(Debug)]
pub struct CreatedFile {
    /// The file, relative to the home.
    pub path: PathBuf,
    /// What it holds now, and the file that holds it, when it was read.
    current: Option<(Vec<u8>, Meta)>,
    /// Why a restore leaves it; `None`: it still holds what the commit made
    /// it with, and a restore removes it.
    pub left: Option<Left>,
}

/// Why a restore leaves a file the commit of its backup created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Left {
    /// It holds something else than the commit made it with.
    #[error("it was changed since")]
    Changed,
    /// Its path now passes through a symbolic link: removing it would take
    /// the file the link leads to.
    #[error("it is now reached through a symbolic link")]
    ThroughALink,
    /// Something other than a file is there now.
    #[error("it was replaced by something that is not a file")]
    NotAFile,
    /// It could not be read: the reason.
    #[error("it cannot be read ({0})")]
    Unreadable(String),
    /// The backup does not say what the commit made it with (an older
    /// list: paths only).
    #[error("the backup does not record what the apply wrote to it")]
    Unrecorded,
}

/// A home's finished backups: read under its lock to restore one, or
/// without it to show what restoring would change (nothing is written
/// either way).
#[derive(Debug)]
pub struct Backups {
    root: Root,
    /// `backups/` in the stage folder, when there is one.
    folder: Option<Dir>,
}

impl Backups {
    /// The backups of the home at `root`, without its lock: for a dry run,
    /// which writes nothing (taking the lock may finish an interrupted
    /// commit). The stage folder is trusted as the lock trusts it.
    ///
    /// # Errors
    /// [`Error::Untrusted`] for a stage folder another user could have
    /// written; [`Error::InTheWay`] for a link or file where it goes.
    pub fn read_only(root: &Root) -> Result<Backups> {
        Backups::refuse_anothers(root)?;
        let path = root.top().shown(STAGE_DIR);
        let stage = match root.top().stat(STAGE_DIR)?.map(|meta| meta.kind) {
            None => None,
            Some(Kind::Folder) => Some(root.top().open_dir(STAGE_DIR)?),
            Some(kind) => {
                return Err(Error::InTheWay {
                    path,
                    what: format!("a {}, not carbon-patch's folder", kind.describe()),
                })
            }
        };
        if let Some(stage) = &stage {
            trust(&path, &stage.meta()?, stage)?;
        }
        Ok(Backups {
            root: root.detached(),
            folder: stage.as_ref().and_then(crate::backup::folder),
        })
    }

    /// Refuses a home whose stage folder another user owns, saying whose
    /// its backups are: the lock's own refusal would advise removing the
    /// folder, backups and all. Call it before taking the lock to restore.
    ///
    /// # Errors
    /// [`Error::Untrusted`].
    pub fn refuse_anothers(root: &Root) -> Result<()> {
        let Some(meta) = root.top().stat(STAGE_DIR)? else {
            return Ok(());
        };
        let user = this_user();
        if meta.kind == Kind::Folder && meta.uid != user {
            return Err(Error::Untrusted {
                path: root.top().shown(STAGE_DIR),
                reason: format!("owned by uid {}, not by this user (uid {user})", meta.uid),
                remedy: format!(
                    "Its backups are that user's: run restore as uid {}. carbon-patch trusts a \
                     backup only where no other user could have written it",
                    meta.uid
                ),
            });
        }
        Ok(())
    }

    /// The stamps of the finished backups, oldest first (a stamp is a UTC
    /// time, so its text sorts by time).
    ///
    /// # Errors
    /// The backups' folder unreadable.
    pub fn stamps(&self) -> Result<Vec<String>> {
        let Some(backups) = &self.folder else {
            return Ok(Vec::new());
        };
        let mut stamps: Vec<String> = backups
            .list()?
            .into_iter()
            .filter(|entry| entry.is_dir && !entry.name.to_string_lossy().starts_with('.'))
            .filter_map(|entry| entry.name.into_string().ok())
            .collect();
        stamps.sort();
        Ok(stamps)
    }

    /// What restoring the backup `stamp` would change: each file it holds
    /// that differs from the file in the home now, in the order of their
    /// paths. Files the commit created had no original, and are not in it.
    ///
    /// # Errors
    /// [`Error::NoBackup`] when the home has no finished backup `stamp`;
    /// [`Error::InTheWay`] for more than [`MOST_ENTRIES`] entries in it; a
    /// link, or anything but a file or folder, in it; a file over `limit`
    /// bytes in the backup or the home; a path in the home that leads out
    /// of it or is no regular file.
    pub fn restoring(&self, stamp: &str, limit: u64) -> Result<Vec<Restoring>> {
        let folder = self.stamp_folder(stamp)?;
        let mut found = walk(&folder, limit)?;
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let mut restoring = Vec::new();
        for (path, original, mode) in found {
            let current = read_current(&self.root, &path, limit)?;
            if current
                .as_ref()
                .is_some_and(|(bytes, _)| *bytes == original)
            {
                continue;
            }
            restoring.push(Restoring {
                path,
                current,
                original,
                mode,
            });
        }
        Ok(restoring)
    }

    /// What the commit of backup `stamp` created (files had no original to
    /// keep) that the home still has, each file read (up to `limit` bytes):
    /// a restore removes those that still hold what the commit made them
    /// with, and leaves and names the others; then the folders made for
    /// them that this leaves empty.
    ///
    /// # Errors
    /// As [`Backups::restoring`]; a list that is not one a commit wrote.
    pub fn created(&self, stamp: &str, limit: u64) -> Result<Created> {
        let folder = self.stamp_folder(stamp)?;
        private(&folder)?;
        let Ok(listed) = folder.open_dir(CREATED[0]) else {
            return Ok(Created::default());
        };
        private(&listed)?;
        let shown = listed.shown(CREATED[1]);
        let Some((file, meta)) = listed.open_read(CREATED[1])? else {
            return Ok(Created::default());
        };
        if meta.uid != this_user() {
            return Err(not_ours(&shown, meta.uid));
        }
        let bytes = beneath::read_whole(file, &meta, CREATED_LIMIT, &shown)?;
        let unreadable = || Error::InTheWay {
            path: shown.clone(),
            what: "is not a list of files a commit created; carbon-patch wrote none such".into(),
        };
        let listed = match serde_json::from_slice::<CreatedList>(&bytes) {
            Ok(listed) => listed,
            // The list of an earlier build: paths, with nothing to tell
            // the files' bytes by.
            Err(_) => CreatedList {
                files: serde_json::from_slice::<Vec<PathBuf>>(&bytes)
                    .map_err(|_| unreadable())?
                    .into_iter()
                    .map(|path| Listed { path, made: None })
                    .collect(),
                folders: Vec::new(),
            },
        };
        // Each part a name: a list a commit wrote holds targets as the
        // journal names them, with no `.` either.
        let inside = |path: &Path| {
            path.components().next().is_some()
                && path
                    .components()
                    .all(|part| matches!(part, std::path::Component::Normal(_)))
        };
        let paths = listed.files.iter().map(|file| file.path.as_path());
        if !paths
            .chain(listed.folders.iter().map(PathBuf::as_path))
            .all(inside)
        {
            return Err(unreadable());
        }
        let mut created: Vec<CreatedFile> = Vec::new();
        for Listed { path, made } in listed.files {
            // Named unless it is known to be gone: one that cannot be read
            // (a path that now leads out of the home, a file grown past the
            // limit) is for the person to look at, not to stop the restore
            // of the files the backup has. A link, even one that leads
            // nowhere, is named: it is not the file the commit made.
            let (current, left) = match self.read_own(&path, limit) {
                Ok(Own::Gone) => continue,
                Ok(Own::ThroughALink) => (None, Some(Left::ThroughALink)),
                Ok(Own::Holds((bytes, meta))) => {
                    let left = match made {
                        None => Some(Left::Unrecorded),
                        Some(made) if made == Fingerprint::of(&bytes) => None,
                        Some(_) => Some(Left::Changed),
                    };
                    (Some((bytes, meta)), left)
                }
                Err(Error::Tree(beneath::Error::NotAFile { .. })) => (None, Some(Left::NotAFile)),
                Err(e) => {
                    // The reason, without the path the caller names anyway.
                    let (message, shown) = (e.to_string(), self.root.display_path(&path));
                    let reason = message.strip_prefix(&format!("{}: ", shown.display()));
                    let reason = reason.map_or(message.clone(), str::to_string);
                    (None, Some(Left::Unreadable(reason)))
                }
            };
            created.push(CreatedFile {
                path,
                current,
                left,
            });
        }
        created.sort_by(|a, b| a.path.cmp(&b.path));
        created.dedup_by(|a, b| a.path == b.path);
        let folders = self.emptied(&created, &listed.folders);
        Ok(Created {
            files: created,
            folders,
        })
    }

    /// What the file at `path` holds, read through no link, by one walk: what
    /// is checked is what is read.
    fn read_own(&self, path: &Path, limit: u64) -> Result<Own> {
        let found = match self.root.locate(path) {
            Err(e) if e.is_not_found() => return Ok(Own::Gone),
            found => found?,
        };
        if found.dir.rel().join(&found.name) != path {
            return Ok(Own::ThroughALink);
        }
        let Some((file, meta)) = found.dir.open_read(&found.name)? else {
            return Ok(Own::Gone);
        };
        let shown = found.dir.shown(&found.name);
        let bytes = beneath::read_whole(file, &meta, limit, &shown)?;
        Ok(Own::Holds((bytes, meta)))
    }

    /// Of `made` (folders, outermost first), those removing the removable
    /// `files` would leave empty, innermost first: each holding nothing
    /// else than such files and such folders, and reached through no link.
    fn emptied(&self, files: &[CreatedFile], made: &[PathBuf]) -> Vec<PathBuf> {
        let mut gone: std::collections::HashSet<PathBuf> = files
            .iter()
            .filter(|file| file.left.is_none())
            .map(|file| file.path.clone())
            .collect();
        let mut emptied = Vec::new();
        for folder in made.iter().rev() {
            // Through no link: the folder itself, or it is not one made.
            let Ok(dir) = self.root.dir(folder) else {
                continue;
            };
            let Ok(entries) = dir.list() else { continue };
            if dir.rel() != folder.as_path() {
                continue;
            }
            if entries.iter().all(|e| gone.contains(&folder.join(&e.name))) {
                gone.insert(folder.clone());
                emptied.push(folder.clone());
            }
        }
        emptied
    }

    /// The folder of the finished backup `stamp`.
    fn stamp_folder(&self, stamp: &str) -> Result<Dir> {
        let no_backup = || Error::NoBackup {
            home: self.root.path().to_path_buf(),
            stamp: stamp.to_string(),
            found: self.stamps().unwrap_or_default(),
        };
        // A stamp names a finished backup: one name, not a `.partial` one.
        if stamp.is_empty() || stamp.starts_with('.') || stamp.contains('/') {
            return Err(no_backup());
        }
        let backups = self.folder.as_ref().ok_or_else(no_backup)?;
        private(backups)?;
        backups.open_dir(stamp).map_err(|_| no_backup())
    }
}

impl Lock {
    /// The home's backups, read under its lock.
    pub fn backups(&self) -> Backups {
        Backups {
            root: self.root().detached(),
            folder: crate::backup::folder(self.stage()),
        }
    }
}

/// How deep a backup's folders may go: deeper than any home's files.
const MOST_DEPTH: usize = 64;

/// Reads every file under `top` (a backup's folder) with its path in the
/// backup and its permissions, each folder checked to be one a backup run
/// made.
fn walk(top: &Dir, limit: u64) -> Result<Vec<(PathBuf, Vec<u8>, u32)>> {
    let too_many = |dir: &Dir, what: String| Error::InTheWay {
        path: dir.path().to_path_buf(),
        what: format!("{what}; no backup carbon-patch wrote does"),
    };
    let mut found = Vec::new();
    let mut entries = 0;
    // Folders still to read, with their path in the backup: no recursion,
    // so a deep tree cannot overflow a worker's stack.
    let mut pending = vec![(top.clone(), PathBuf::new())];
    while let Some((dir, rel)) = pending.pop() {
        private(&dir)?;
        if rel.components().count() > MOST_DEPTH {
            return Err(too_many(
                &dir,
                format!("lies more than {MOST_DEPTH} folders deep"),
            ));
        }
        let mut listed: Vec<(OsString, bool)> = dir
            .list()?
            .into_iter()
            .map(|entry| (entry.name, entry.is_dir))
            .collect();
        // The list of created files, beside the files themselves (see
        // `backup::CREATED`): no file of the home can be there.
        if rel.as_os_str().is_empty() {
            listed.retain(|(name, _)| name != CREATED[0]);
        }
        entries += listed.len();
        if entries > MOST_ENTRIES {
            return Err(too_many(
                top,
                format!("holds more than {MOST_ENTRIES} entries"),
            ));
        }
        for (name, is_dir) in listed {
            if is_dir {
                pending.push((dir.open_dir(&name)?, rel.join(&name)));
                continue;
            }
            let shown = dir.shown(&name);
            let Some((file, meta)) = dir.open_read(&name)? else {
                continue; // Gone since it was listed.
            };
            if meta.uid != this_user() {
                return Err(not_ours(&shown, meta.uid));
            }
            let bytes = beneath::read_whole(file, &meta, limit, &shown)?;
            found.push((rel.join(&name), bytes, meta.mode & 0o777));
        }
    }
    Ok(found)
}

/// Refuses a folder of the backups that a backup run did not make: one
/// this user does not own, or that others may enter (a run makes each
/// `0700`), or with an ACL.
fn private(dir: &Dir) -> Result<()> {
    let meta = dir.meta()?;
    if meta.uid != this_user() {
        return Err(not_ours(dir.path(), meta.uid));
    }
    let acl = beneath::has_acl(dir);
    if meta.mode & 0o077 != 0 || acl {
        return Err(Error::Untrusted {
            path: dir.path().to_path_buf(),
            reason: format!(
                "open to others (mode {:04o}{}), where a backup run makes its folders 0700",
                meta.mode & 0o7777,
                if acl { ", an ACL" } else { "" }
            ),
            remedy: BACKUP_REMEDY.to_string(),
        });
    }
    Ok(())
}

fn not_ours(path: &Path, uid: u32) -> Error {
    Error::Untrusted {
        path: path.to_path_buf(),
        reason: format!("owned by uid {uid}, not by this user (uid {})", this_user()),
        remedy: BACKUP_REMEDY.to_string(),
    }
}

/// How a person recovers from a backup carbon-patch does not trust.
const BACKUP_REMEDY: &str = "carbon-patch restores only a backup no other user could have \
     written; this one was not written by a backup run of this user. Restore its files by hand, \
     once you have checked them";

/// What the home's file at `path` holds now, when it is there.
fn read_current(root: &Root, path: &Path, limit: u64) -> Result<Option<(Vec<u8>, Meta)>> {
    let Some((file, meta)) = root.open_file(path)? else {
        return Ok(None);
    };
    let bytes = beneath::read_whole(file, &meta, limit, &root.display_path(path))?;
    Ok(Some((bytes, meta)))
}

/// What a created file's path holds now ([`Backups::created`]).
enum Own {
    Gone,
    /// A symbolic link, or a folder on the way is one.
    ThroughALink,
    Holds((Vec<u8>, Meta)),
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::tests::{commit_one, home, read};
    use crate::{commit, Options, Staged};

    fn lock(home: &Path) -> Lock {
        Lock::acquire(&beneath::Root::open(home).unwrap()).unwrap()
    }

    /// Restores `stamp` on `home` as `carbon-patch restore` does.
    fn restore(home: &Path, stamp: &str) -> Result<usize> {
        let lock = lock(home);
        let restoring = lock.backups().restoring(stamp, 1 << 20)?;
        let created = lock.backups().created(stamp, 1 << 20)?;
        let mut staged = Staged::new("home", lock);
        for file in &restoring {
            staged.add_with_mode(&file.path, file.planned(), &file.original, file.mode)?;
        }
        created.stage_removals(&mut staged)?;
        Ok(commit(
            &mut [staged],
            Options {
                backup: None,
                jobs: 2,
            },
        )?
        .written)
    }

    #[test]
    fn a_backup_puts_back_what_its_commit_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>"), ("conf/b.xml", "<b/>")]);
        let changes = [
            ("a.xml", Some("<a/>"), "<a x='1'/>"),
            ("conf/b.xml", Some("<b/>"), "<b x='1'/>"),
            ("conf/new.xml", None, "<new/>"),
        ];
        commit_one(&home, &changes, Some("2026-12-07T100000.000Z")).unwrap();
        let restoring = lock(&home)
            .backups()
            .restoring("2026-12-07T100000.000Z", 1 << 20)
            .unwrap();
        let listed: Vec<_> = restoring
            .iter()
            .map(|r| (r.path.to_str().unwrap(), r.original.as_slice()))
            .collect();
        // The created file had no original: it is not in the backup.
        assert_eq!(listed, [("a.xml", &b"<a/>"[..]), ("conf/b.xml", b"<b/>")]);
        assert_eq!(restoring[0].current.as_ref().unwrap().0, b"<a x='1'/>");

        let created = |home: &Path| -> Vec<(PathBuf, bool)> {
            let created = lock(home)
                .backups()
                .created("2026-12-07T100000.000Z", 1 << 20);
            let removable = |c: &CreatedFile| c.left.is_none();
            created
                .unwrap()
                .files
                .iter()
                .map(|c| (c.path.clone(), removable(c)))
                .collect()
        };
        assert_eq!(created(&home), [(PathBuf::from("conf/new.xml"), true)]);
        // Changed since the commit made it: left.
        std::fs::write(home.join("conf/new.xml"), "<new edited='yes'/>").unwrap();
        assert_eq!(created(&home), [(PathBuf::from("conf/new.xml"), false)]);
        std::fs::write(home.join("conf/new.xml"), "<new/>").unwrap();

        assert_eq!(restore(&home, "2026-12-07T100000.000Z").unwrap(), 3);
        assert_eq!(read(&home, "a.xml"), "<a/>");
        assert_eq!(read(&home, "conf/b.xml"), "<b/>");
        assert!(!home.join("conf/new.xml").exists(), "removed");
        assert!(created(&home).is_empty(), "named only while it is there");
        // Once restored, there is nothing left to restore.
        assert!(lock(&home)
            .backups()
            .restoring("2026-12-07T100000.000Z", 1 << 20)
            .unwrap()
            .is_empty());
    }

    /// A created file is left, with the reason, when it is no longer the
    /// file the commit made as it made it.
    #[test]
    fn a_created_file_is_left_when_it_is_not_as_made() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        commit_one(&home, &[("new.xml", None, "<new/>")], Some("S")).unwrap();
        let left = |home: &Path| {
            let created = lock(home).backups().created("S", 1 << 20).unwrap();
            created
                .files
                .into_iter()
                .map(|f| f.left)
                .collect::<Vec<_>>()
        };
        assert_eq!(left(&home), [None]);
        let new = home.join("new.xml");
        std::fs::remove_file(&new).unwrap();
        std::os::unix::fs::symlink("nowhere", &new).unwrap();
        assert_eq!(
            left(&home),
            [Some(Left::ThroughALink)],
            "a link, even dangling"
        );
        std::fs::remove_file(&new).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &new,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        assert_eq!(left(&home), [Some(Left::NotAFile)]);
        std::fs::remove_file(&new).unwrap();
        std::fs::write(&new, "<new/>").unwrap();
        // Gone with its folder: not named at all (not taken for a link).
        commit_one(&home, &[("lib/d.jar", None, "jar")], Some("T")).unwrap();
        std::fs::remove_dir_all(home.join("lib")).unwrap();
        let created = lock(&home).backups().created("T", 1 << 20).unwrap();
        assert!(created.files.is_empty(), "{created:?}");
        let list = home.join(".carbon-patch/backups/S/.carbon-patch/created.json");
        // An earlier build's list: paths only.
        std::fs::write(&list, r#"["new.xml"]"#).unwrap();
        assert_eq!(left(&home), [Some(Left::Unrecorded)]);
        assert_eq!(
            Left::Unrecorded.to_string(),
            "the backup does not record what the apply wrote to it"
        );
    }

    /// The folders a commit made for its new files go with them, when that
    /// leaves them empty: only those, innermost first.
    #[test]
    fn the_folders_made_for_created_files_go_when_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        let changes = [
            ("a.xml", Some("<a/>"), "<a x='1'/>"),
            ("lib/new/d.jar", None, "jar"),
            ("lib/e.jar", None, "jar"),
        ];
        commit_one(&home, &changes, Some("S")).unwrap();
        let folders = |home: &Path| lock(home).backups().created("S", 1 << 20).unwrap().folders;
        assert_eq!(folders(&home), [Path::new("lib/new"), Path::new("lib")]);
        // Something else in lib: only lib/new goes.
        std::fs::write(home.join("lib/theirs.jar"), "theirs").unwrap();
        assert_eq!(folders(&home), [Path::new("lib/new")]);
        assert_eq!(restore(&home, "S").unwrap(), 3);
        assert_eq!(crate::tests::names(&home.join("lib")), ["theirs.jar"]);
        // Without it, lib goes too, once its files do.
        std::fs::remove_dir_all(home.join("lib")).unwrap();
        commit_one(&home, &changes[1..], Some("T")).unwrap();
        assert_eq!(restore(&home, "T").unwrap(), 2);
        assert!(!home.join("lib").exists());
        assert_eq!(read(&home, "a.xml"), "<a/>");
    }

    #[test]
    fn a_file_gone_since_is_made_again_and_one_back_as_it_was_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>"), ("b.xml", "<b/>")]);
        let changes = [
            ("a.xml", Some("<a/>"), "<a x='1'/>"),
            ("b.xml", Some("<b/>"), "<b x='1'/>"),
        ];
        commit_one(&home, &changes, Some("S")).unwrap();
        std::fs::remove_file(home.join("a.xml")).unwrap();
        std::fs::write(home.join("b.xml"), "<b/>").unwrap();
        let restoring = lock(&home).backups().restoring("S", 1 << 20).unwrap();
        assert_eq!(restoring.len(), 1, "{restoring:?}");
        assert_eq!(restoring[0].path, Path::new("a.xml"));
        assert!(restoring[0].current.is_none());
        assert_eq!(restore(&home, "S").unwrap(), 1);
        assert_eq!(read(&home, "a.xml"), "<a/>");
    }

    #[test]
    fn backups_are_listed_oldest_first_and_unfinished_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        commit_one(&home, &[("a.xml", Some("<a/>"), "<a x='1'/>")], Some("T2")).unwrap();
        commit_one(&home, &[("a.xml", Some("<a x='1'/>"), "<a/>")], Some("T1")).unwrap();
        std::fs::create_dir(home.join(".carbon-patch/backups/.T3.partial")).unwrap();
        let backups = lock(&home).backups();
        assert_eq!(backups.stamps().unwrap(), ["T1", "T2"]);
        for stamp in ["T3", ".T3.partial", "../backups/T1", "", "."] {
            let err = backups.restoring(stamp, 1 << 20).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "{} has no backup {stamp}; its backups: T1, T2",
                    home.display()
                )
            );
        }
    }

    #[test]
    fn a_home_without_backups_says_how_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        let err = lock(&home).backups().restoring("S", 1 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} has no backup S; it has none (`apply --backup` keeps one)",
                home.display()
            )
        );
        assert!(
            !home.join(".carbon-patch").exists(),
            "a lock taken for nothing leaves no folder"
        );
    }

    #[test]
    fn a_backup_is_read_through_no_link_and_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        commit_one(&home, &[("a.xml", Some("<a/>"), "<a x='1'/>")], Some("S")).unwrap();
        let stamp = home.join(".carbon-patch/backups/S");
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "outside").unwrap();
        std::os::unix::fs::symlink(&secret, stamp.join("b.xml")).unwrap();
        let err = lock(&home).backups().restoring("S", 1 << 20).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        std::fs::remove_file(stamp.join("b.xml")).unwrap();

        let err = lock(&home).backups().restoring("S", 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: over 3 bytes, more than such a file may hold",
                stamp.join("a.xml").display()
            )
        );
    }

    #[test]
    fn without_the_lock_a_backup_is_read_and_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        let root = beneath::Root::open(&home).unwrap();
        // A home never applied to: no backups, and no folder made.
        let err = Backups::read_only(&root)
            .unwrap()
            .restoring("S", 1 << 20)
            .unwrap_err();
        assert!(matches!(err, Error::NoBackup { .. }), "{err}");
        assert!(!home.join(".carbon-patch").exists());

        commit_one(&home, &[("a.xml", Some("<a/>"), "<a x='1'/>")], Some("S")).unwrap();
        let lock_file = home.join(".carbon-patch/lock");
        let before = std::fs::metadata(&lock_file).unwrap();
        let restoring = Backups::read_only(&root)
            .unwrap()
            .restoring("S", 1 << 20)
            .unwrap();
        assert_eq!(restoring.len(), 1);
        assert_eq!(restoring[0].original, b"<a/>");
        let after = std::fs::metadata(&lock_file).unwrap();
        assert_eq!(
            (before.len(), before.modified().unwrap()),
            (after.len(), after.modified().unwrap())
        );
    }

    #[test]
    fn a_stage_folder_others_may_write_is_not_read_even_without_the_lock() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        commit_one(&home, &[("a.xml", Some("<a/>"), "<a x='1'/>")], Some("S")).unwrap();
        let stage = home.join(".carbon-patch");
        std::fs::set_permissions(&stage, std::fs::Permissions::from_mode(0o777)).unwrap();
        let root = beneath::Root::open(&home).unwrap();
        let err = Backups::read_only(&root).unwrap_err();
        assert!(matches!(err, Error::Untrusted { .. }), "{err}");
        assert!(err.to_string().contains("writable by its group"), "{err}");
    }

    #[test]
    fn a_list_of_created_files_that_leads_out_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        let changes = [
            ("a.xml", Some("<a/>"), "<a x='1'/>"),
            ("b.xml", None, "<b/>"),
        ];
        commit_one(&home, &changes, Some("S")).unwrap();
        let list = home.join(".carbon-patch/backups/S/.carbon-patch/created.json");
        let made = serde_json::to_string(&Fingerprint::of(b"<b/>")).unwrap();
        let listing = |path: &str, folder: &str| {
            format!(r#"{{"files":[{{"path":"{path}","made":{made}}}],"folders":[{folder}]}}"#)
        };
        assert_eq!(
            std::fs::read_to_string(&list).unwrap(),
            listing("b.xml", "")
        );
        for planted in [
            listing("../x", ""),
            listing("/etc/passwd", ""),
            listing("", ""),
            listing("b.xml", r#""../lib""#),
            listing("b.xml", r#""/usr""#),
            r#"["../b.xml"]"#.into(),
            "not json".into(),
        ] {
            std::fs::write(&list, &planted).unwrap();
            let err = lock(&home).backups().created("S", 1 << 20).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "{}: is not a list of files a commit created; carbon-patch wrote none such",
                    list.display()
                ),
                "{planted}"
            );
        }
    }

    #[test]
    fn a_folder_of_the_backups_no_backup_run_made_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        commit_one(&home, &[("a.xml", Some("<a/>"), "<a x='1'/>")], Some("S")).unwrap();
        let backups = home.join(".carbon-patch/backups");
        // A folder made as root's runs never make one: open to others.
        let planted = backups.join("S/conf");
        std::fs::create_dir(&planted).unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(planted.join("b.xml"), "<planted/>").unwrap();
        let err = lock(&home).backups().restoring("S", 1 << 20).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "{}: open to others (mode 0755), where a backup run makes its folders 0700. \
                 carbon-patch restores only a backup no other user could have written",
                planted.display()
            )),
            "{err}"
        );
        std::fs::remove_dir_all(&planted).unwrap();
        // The backups' folder itself.
        std::fs::set_permissions(&backups, std::fs::Permissions::from_mode(0o711)).unwrap();
        let err = lock(&home).backups().restoring("S", 1 << 20).unwrap_err();
        assert!(
            err.to_string().contains("open to others (mode 0711)"),
            "{err}"
        );
        let err = lock(&home).backups().created("S", 1 << 20).unwrap_err();
        assert!(
            err.to_string().contains("open to others (mode 0711)"),
            "{err}"
        );
    }

    #[test]
    fn a_file_in_a_backup_another_user_owns_is_refused() {
        if !crate::tests::root_or_fail("a_file_in_a_backup_another_user_owns_is_refused") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        commit_one(&home, &[("a.xml", Some("<a/>"), "<a x='1'/>")], Some("S")).unwrap();
        let copy = home.join(".carbon-patch/backups/S/a.xml");
        std::os::unix::fs::chown(&copy, Some(crate::tests::NOBODY), None).unwrap();
        let err = lock(&home).backups().restoring("S", 1 << 20).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "{}: owned by uid {}, not by this user (uid 0)",
                copy.display(),
                crate::tests::NOBODY
            )),
            "{err}"
        );
    }

    #[test]
    fn a_backup_deeper_or_larger_than_any_run_writes_is_refused() {
        use std::os::unix::fs::DirBuilderExt;
        let dir = tempfile::tempdir().unwrap();
        let home = home(dir.path(), &[("a.xml", "<a/>")]);
        commit_one(&home, &[("a.xml", Some("<a/>"), "<a x='1'/>")], Some("S")).unwrap();
        let stamp = home.join(".carbon-patch/backups/S");
        let mut builder = std::fs::DirBuilder::new();
        builder.mode(0o700);
        let deep: PathBuf = std::iter::repeat_n("d", MOST_DEPTH + 1).collect();
        builder.recursive(true).create(stamp.join(&deep)).unwrap();
        let err = lock(&home).backups().restoring("S", 1 << 20).unwrap_err();
        assert!(
            err.to_string().ends_with(&format!(
                "lies more than {MOST_DEPTH} folders deep; no backup carbon-patch wrote does"
            )),
            "{err}"
        );
        std::fs::remove_dir_all(stamp.join("d")).unwrap();
        // Empty folders count too.
        builder.recursive(false);
        for i in 0..MOST_ENTRIES {
            builder.create(stamp.join(format!("f{i}"))).unwrap();
        }
        assert_eq!(
            lock(&home)
                .backups()
                .restoring("S", 1 << 20)
                .unwrap_err()
                .to_string(),
            format!(
                "{}: holds more than {MOST_ENTRIES} entries; no backup carbon-patch wrote does",
                stamp.display()
            )
        );
    }
}
