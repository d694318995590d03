//! `--backup`: the originals of a commit's files, copied into
//! `CARBON_HOME/.carbon-patch/backups/<stamp>/` before any is replaced.
//!
//! A backup is written whole before it counts: into
//! `backups/.<stamp>.partial/`, each copy created with its original's
//! permissions (never wider) from its first byte, and renamed to
//! `backups/<stamp>` as the first of the commit's replacements, which the
//! journal names, so a crash after the replacements began still finishes
//! it. A folder left `.partial` was never finished (a crash before any
//! replacement): the next run removes it, and no original was touched.
//! Everything is under the stage folder, which only this run's user can
//! enter, and every copy is a file this run creates (`O_EXCL`, never
//! through a link).

use std::ffi::OsStr;
use std::io::{Read, Seek};
use std::path::{Component, Path, PathBuf};

use beneath::{Dir, Meta};

use serde::{Deserialize, Serialize};

use crate::durable::Durable;
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::journal::Backup;

/// The backups' folder in the stage folder.
pub(crate) const BACKUPS: &str = "backups";

/// Where a backup lists the files its commit created (which had no
/// original to keep), in the backup's folder: under the name of the stage
/// folder, which no path of a home may lead into, so that it is never taken
/// for a file of the home.
pub(crate) const CREATED: [&str; 2] = [crate::lock::STAGE_DIR, "created.json"];

/// Whether a folder in [`BACKUPS`] is a backup never finished.
pub(crate) fn is_partial(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') && name.ends_with(".partial")
}

/// The backups' folder, when there is one.
pub(crate) fn folder(stage: &Dir) -> Option<Dir> {
    stage.open_dir(BACKUPS).ok()
}

/// A backup being written.
pub(crate) struct Writer {
    /// Its `.partial` folder.
    partial: Dir,
    /// What the journal says of it.
    pub names: Backup,
    /// What must be durable before the commit's replacements.
    pub durable: Vec<Durable>,
}

/// Starts the backup `stamp` of a home whose stage folder is `stage`.
///
/// # Errors
/// [`Error::BackupExists`] when `backups/<stamp>` is there already (a
/// backup is never overwritten); [`Error::InTheWay`] when `backups` is a
/// link or not a folder.
pub(crate) fn start(stage: &Dir, stamp: &str) -> Result<Writer> {
    let (backups, _) = crate::lock::own_folder(stage, BACKUPS, "its backups")?;
    if backups.stat(stamp)?.is_some() {
        return Err(Error::BackupExists {
            path: backups.shown(stamp),
        });
    }
    let partial_name = format!(".{stamp}.partial");
    let partial = backups.create_dir(&partial_name, 0o700)?;
    Ok(Writer {
        durable: vec![Durable::Folder(backups), Durable::Folder(partial.clone())],
        partial,
        names: Backup {
            partial: Path::new(BACKUPS).join(partial_name),
            done: Path::new(BACKUPS).join(stamp),
        },
    })
}

impl Writer {
    /// Copies `original` (open, of file `rel` of the home, described by
    /// `meta`) into the backup, at `rel`.
    pub(crate) fn copy(&mut self, rel: &Path, original: &std::fs::File, meta: &Meta) -> Result<()> {
        let mut dir = self.partial.clone();
        let parts: Vec<&OsStr> = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect();
        let Some((name, folders)) = parts.split_last() else {
            return Ok(());
        };
        for folder in folders {
            dir = match dir.open_dir(folder) {
                Ok(found) => found,
                Err(e) if e.is_not_found() => {
                    let made = dir.create_dir(folder, 0o700)?;
                    self.durable.push(Durable::Folder(made.clone()));
                    made
                }
                Err(e) => return Err(e.into()),
            };
        }
        // The original's permissions from the first byte: never readable by
        // more people than the original was, even for an instant.
        let mut copy = dir.create_new(name, meta.mode & 0o777)?;
        let path = dir.shown(name);
        // Then exactly its mode, what the umask took included: a restore
        // makes a file gone since with it.
        rustix::fs::fchmod(&copy, rustix::fs::Mode::from_raw_mode(meta.mode & 0o777))
            .map_err(|e| Error::io("cannot back up to", &path, e))?;
        // Read from its start whatever the descriptor's position (the check
        // read it through): `&File` reads and seeks too.
        let mut from = original;
        from.rewind()
            .and_then(|()| std::io::copy(&mut from.take(meta.len), &mut copy))
            .map_err(|e| Error::io("cannot back up to", &path, e))?;
        #[cfg(test)]
        crate::pause::at_path(crate::pause::Point::BackedUp, &path);
        self.durable.push(Durable::File(copy, path));
        Ok(())
    }
}

impl Writer {
    /// Lists the files the commit creates (relative to the home), each
    /// with a fingerprint of what it is made with, and the folders made for
    /// them (outermost first), for a restore to remove those that still
    /// hold it: JSON, `{"files": [{"path", "made": {"len", "xxh3"}}],
    /// "folders": [path, ...]}`.
    pub(crate) fn created(
        &mut self,
        created: &[(&Path, Fingerprint)],
        folders: Vec<PathBuf>,
    ) -> Result<()> {
        if created.is_empty() && folders.is_empty() {
            return Ok(());
        }
        let dir = self.partial.create_dir(CREATED[0], 0o700)?;
        self.durable.push(Durable::Folder(dir.clone()));
        let files = created
            .iter()
            .map(|(path, made)| Listed {
                path: path.to_path_buf(),
                made: Some(*made),
            })
            .collect();
        let json = serde_json::to_vec(&CreatedList { files, folders }).expect("paths serialise");
        let mut file = dir.create_new(CREATED[1], 0o600)?;
        let path = dir.shown(CREATED[1]);
        std::io::Write::write_all(&mut file, &json)
            .map_err(|e| Error::io("cannot back up to", &path, e))?;
        self.durable.push(Durable::File(file, path));
        Ok(())
    }
}

/// What a commit created, as its backup lists it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatedList {
    pub files: Vec<Listed>,
    /// The folders made for them, relative to the home, outermost first.
    pub folders: Vec<PathBuf>,
}

/// A file a commit created, as its backup lists it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Listed {
    /// Relative to the home, as the journal names it.
    pub path: PathBuf,
    /// What the commit made it with (`None` in the lists of earlier
    /// builds, which give paths only).
    pub made: Option<Fingerprint>,
}

/// Renames a backup's `.partial` folder to its stamp, when it is there.
pub(crate) fn finish(stage: &Dir, backup: &Backup) -> Result<()> {
    let name = |path: &PathBuf| path.file_name().map(OsStr::to_os_string);
    let (Some(partial), Some(done)) = (name(&backup.partial), name(&backup.done)) else {
        return Ok(());
    };
    let Some(backups) = folder(stage) else {
        return Ok(());
    };
    if backups.stat(&partial)?.is_some() {
        backups.rename(&partial, &backups, &done)?;
    }
    Ok(())
}
