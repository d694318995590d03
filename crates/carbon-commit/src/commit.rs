//! Committing every staged home together, once all are staged.
//!
//! 1. Each file still holds the bytes it was planned from.
//! 2. Backups (when asked) and each home's journal are written.
//! 3. All of that is made durable: the staged files, their folders, the
//!    journals, the backups.
//! 4. Each staged file is swapped with its target, or, where the file
//!    system cannot swap, a hard link keeps the original and the staged
//!    file is renamed over it. Right after each swap, what was swapped out
//!    is checked to be the very bytes the plan read: an edit that landed
//!    between the check of step 1 and the swap is put back, and the run
//!    stops with every file put back as it was.
//! 5. Every folder a replacement touched is made durable; then the
//!    journals, the originals and the locks go.
//!
//! A reader sees each file old or new, never a mix. If a replacement fails,
//! the files replaced so far are put back from where their originals wait.
//! If the process dies, the next holder of a home's lock finishes it from
//! its journal (`journal.rs`). Files that do not change are never opened
//! for writing (their mtime stays).

use crate::timings::Timings;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::durable::Durable;
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::journal;
use crate::parallel::par_each;
use crate::stage::{Staged, StagedFile};
use crate::swap::{self, Expected};

/// How a commit runs.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// With a stamp, the originals are first copied to
    /// `CARBON_HOME/.carbon-patch/backups/<stamp>/`.
    pub backup: Option<&'a str>,
    /// How many homes are worked on at once.
    pub jobs: usize,
}

/// What a commit did.
#[derive(Debug)]
pub struct Report {
    /// How many files it wrote.
    pub written: usize,
    /// How long each step took, in order.
    pub steps: Timings,
}

/// Commits staged homes (see the module documentation). Returns how many
/// files were written.
///
/// # Errors
/// Each error says whether anything was written ([`Error::wrote_nothing`]):
/// a file changed since it was planned, a backup that exists, a journal or
/// a sync that failed stop the commit before its first replacement; a
/// replacement that fails, or an edit that landed meanwhile, puts back
/// every file replaced ([`Error::RolledBack`]).
pub fn commit(trees: &mut [Staged], options: Options) -> Result<Report> {
    let mut steps = Timings::start();
    let jobs = options.jobs;
    // The staged files and their folders are made durable while the
    // originals are checked and the journals written.
    let staged = trees.iter_mut().flat_map(Staged::staged_files).collect();
    let staged = crate::durable::start(staged);
    par_each(trees, jobs, |tree| {
        tree.verify().map_err(|e| e.on(&tree.label))
    })?;
    steps.lap("check the files are unchanged");
    let prepared = par_each(trees, jobs, |tree| {
        tree.prepare(options.backup).map_err(|e| e.on(&tree.label))
    });
    if let Err(err) = prepared {
        return Err(unprepare(trees, err));
    }
    steps.lap("write the journals");
    let before: Vec<Durable> = trees
        .iter_mut()
        .flat_map(|t| std::mem::take(&mut t.durable))
        .collect();
    let synced = staged.wait().and_then(|()| crate::durable::sync(before));
    if let Err(err) = synced {
        return Err(unprepare(trees, err));
    }
    steps.lap("sync (staged files, journals)");
    #[cfg(test)]
    for tree in trees.iter_mut() {
        crate::pause::at_path(crate::pause::Point::Journalled, tree.lock().root().path());
    }
    // The replacements: each home's files in order, the homes side by side.
    // A failure stops the other threads at their next file, and every file
    // replaced by then is put back.
    let failed = AtomicBool::new(false);
    let started = AtomicUsize::new(0);
    let replaced = par_each(trees, jobs, |tree| {
        tree.replace_all(&failed, &started).map_err(|e| {
            failed.store(true, Ordering::Relaxed);
            e.on(&tree.label)
        })
    });
    if let Err(err) = replaced {
        return Err(roll_back(trees, err));
    }
    let written = files_replaced(trees);
    steps.lap("rename the staged files");
    let after = |err: Error| Error::AfterWriting {
        written,
        error: Box::new(err),
    };
    let touched: Vec<Durable> = trees.iter().flat_map(Staged::touched).collect();
    crate::durable::sync(touched).map_err(after)?;
    steps.lap("sync (renames)");
    par_each(trees, jobs, |tree| {
        tree.lock().clear_journal()?;
        tree.clean_up(true);
        tree.lock = None;
        Ok(())
    })
    .map_err(after)?;
    steps.lap("remove the journals, kept originals and locks");
    Ok(Report { written, steps })
}

impl Staged {
    /// Checks that every file still holds the bytes it was planned from,
    /// and keeps each original open: to check it again once swapped out,
    /// and to back it up.
    pub(crate) fn verify(&mut self) -> Result<()> {
        for file in &mut self.files {
            let changed = match file.dir.open_read(&file.name) {
                Ok(Some((mut opened, meta))) => {
                    let read = Fingerprint::of_file_like(&mut opened, meta.len, &[file.before])
                        .map_err(|e| Error::io("cannot read", file.dir.shown(&file.name), e))?;
                    // A length other than its stat's: someone is writing it.
                    let changed = read.len != meta.len || file.before != Some(read);
                    if !changed {
                        file.checked = Some((opened, meta));
                    }
                    changed
                }
                // Gone: changed, unless the commit creates it.
                Ok(None) => file.before.is_some(),
                // A link or a folder where the file was.
                Err(beneath::Error::NotAFile { .. }) => true,
                Err(e) => return Err(e.into()),
            };
            if changed {
                return Err(Error::Changed {
                    path: file.dir.shown(&file.name),
                });
            }
        }
        #[cfg(test)]
        crate::pause::at_path(crate::pause::Point::Verified, self.lock().root().path());
        Ok(())
    }

    /// Backs up (when asked), writes the journal, and lists what must be
    /// durable before the first replacement.
    pub(crate) fn prepare(&mut self, backup_stamp: Option<&str>) -> Result<()> {
        let mut durable = Vec::new();
        if let Some(stamp) = backup_stamp {
            let mut writer = crate::backup::start(self.lock().stage(), stamp)?;
            for file in &mut self.files {
                if let Some((original, meta)) = &file.checked {
                    writer.copy(&file.target, original, meta)?;
                }
            }
            let created: Vec<_> = self
                .files
                .iter()
                .filter_map(|file| match (file.before, file.after) {
                    (None, Some(made)) => Some((file.target.as_path(), made)),
                    _ => None,
                })
                .collect();
            let folders = self.made.iter().map(|m| m.parent.rel().join(&m.name));
            writer.created(&created, folders.collect())?;
            durable.append(&mut writer.durable);
            self.backup = Some(writer.names);
        }
        let entries: Vec<journal::Entry> = self
            .files
            .iter()
            .map(|f| journal::Entry {
                target: f.target.clone(),
                staged: f.stage.rel().join(&f.staged),
                before: f.before,
                after: f.after,
            })
            .collect();
        let bytes = journal::encode(self.backup.as_ref(), &entries);
        self.lock().write_journal(&bytes)?;
        durable.push(self.lock().journal_file()?);
        self.durable = durable;
        Ok(())
    }

    /// The staged files, the folders they were made in and those the
    /// folders made for new files were made in, to make durable (each file
    /// once: it is closed once synced).
    fn staged_files(&mut self) -> Vec<Durable> {
        let mut durable = Vec::with_capacity(self.files.len() + self.made.len() + 1);
        let made = self.made.iter().map(|made| &made.parent);
        durable.extend(made.map(|parent| Durable::Folder(parent.clone())));
        durable.extend(
            self.lock
                .as_ref()
                .map(|lock| Durable::Folder(lock.stage().clone())),
        );
        for file in &mut self.files {
            let path = file.stage.shown(&file.staged);
            durable.extend(file.open.take().map(|open| Durable::File(open, path)));
            if file.stage.rel() != std::path::Path::new(crate::lock::STAGE_DIR) {
                durable.push(Durable::Folder(file.stage.clone()));
            }
        }
        durable
    }

    /// Finishes the backup, then replaces every file in order, stopping
    /// at the first failure or when another home's replacements failed.
    fn replace_all(&mut self, failed: &AtomicBool, started: &AtomicUsize) -> Result<()> {
        if let (Some(backup), Some(lock)) = (&self.backup, &self.lock) {
            crate::backup::finish(lock.stage(), backup)?;
        }
        let mut exchange = true;
        for i in 0..self.files.len() {
            if failed.load(Ordering::Relaxed) {
                return Ok(()); // the thread that failed reports it
            }
            let file = &self.files[i];
            let replaced = injected_failure(started.fetch_add(1, Ordering::Relaxed))
                .and_then(|()| replace(file, &mut exchange));
            let err = match replaced {
                Ok(kept) => {
                    self.files[i].original = kept;
                    self.renamed += 1;
                    continue;
                }
                Err(e @ Error::EditedMeanwhile { .. }) => e,
                Err(e) => Error::In {
                    label: format!(
                        "cannot {} {}",
                        file.change().verb(),
                        file.dir.shown(&file.name).display()
                    ),
                    error: Box::new(e),
                },
            };
            // A swap or move whose undoing failed left what it took out
            // under a name in the stage folder: counted as replaced, the
            // roll back puts it back, or keeps the journal; never removes it.
            if let Some(waits) = self.files[i].left_out() {
                self.files[i].original = Some(waits);
                self.renamed += 1;
            }
            return Err(err);
        }
        self.check_still_in_place()
    }

    /// Checks that every folder this home's files were written into (and
    /// its stage folder) is still where it was in the home: the home's
    /// owner may move a folder out of it while it is written into, and a
    /// file written there would be outside the home.
    fn check_still_in_place(&self) -> Result<()> {
        let Some(lock) = &self.lock else {
            return Ok(());
        };
        for dir in self.folders_written() {
            if !lock.root().still_holds(dir)? {
                return Err(Error::Moved {
                    path: dir.path().to_path_buf(),
                });
            }
        }
        Ok(())
    }

    /// Every folder the replacements write names in, once each: the
    /// targets' folders and the stage folders (originals moved in, staged
    /// files moved out), the home's among them.
    fn folders_written(&self) -> Vec<&beneath::Dir> {
        let stage = self.lock.as_ref().map(|lock| lock.stage());
        let mut folders: Vec<&beneath::Dir> = Vec::new();
        for dir in self
            .files
            .iter()
            .flat_map(|f| [&f.dir, &f.stage])
            .chain(stage)
        {
            if !folders.iter().any(|seen| seen.rel() == dir.rel()) {
                folders.push(dir);
            }
        }
        folders
    }

    /// Every folder the replacements touched, once each: those they wrote
    /// names in ([`Staged::folders_written`]), and the backups' folder.
    fn touched(&self) -> Vec<Durable> {
        let mut touched: Vec<Durable> = self
            .folders_written()
            .into_iter()
            .map(|dir| Durable::Folder(dir.clone()))
            .collect();
        if self.backup.is_some() {
            let stage = self.lock.as_ref().map(|lock| lock.stage());
            touched.extend(stage.and_then(crate::backup::folder).map(Durable::Folder));
        }
        touched
    }
}

/// Puts `file`'s staged bytes in place of its target (see [`swap::put_in_place`]),
/// the target expected to be the original the commit checked, or nothing
/// for a file the commit creates. Returns where the original waits.
pub(crate) fn replace(
    file: &StagedFile,
    exchange: &mut bool,
) -> Result<Option<std::ffi::OsString>> {
    let expected = match file.before {
        None => Expected::Nothing,
        Some(_) => Expected::Checked(file),
    };
    if file.after.is_none() {
        return swap::take_out(&file.dir, &file.name, &file.stage, &file.staged, &expected);
    }
    swap::put_in_place(
        &file.stage,
        &file.staged,
        &file.dir,
        &file.name,
        &expected,
        exchange,
    )
}

/// After a failure before any replacement: removes the journals and
/// unfinished backups of the homes that got that far (dropping the homes
/// then removes what they staged). A journal whose removal a crash undoes
/// names no file replaced, and the next run discards it.
fn unprepare(trees: &mut [Staged], err: Error) -> Error {
    for tree in trees.iter_mut() {
        if let Some(lock) = tree.lock.as_mut().filter(|lock| lock.has_journal()) {
            let _ = lock.clear_journal();
        }
        if let (Some(backup), Some(lock)) = (tree.backup.take(), tree.lock.as_ref()) {
            if let (Some(backups), Some(partial)) = (
                crate::backup::folder(lock.stage()),
                backup.partial.file_name(),
            ) {
                let _ = crate::lock::remove_tree(&backups, partial);
            }
        }
    }
    err
}

/// Puts back the originals of the files replaced before a failure.
pub(crate) fn roll_back(trees: &mut [Staged], err: Error) -> Error {
    let mut unrestored = Vec::new();
    for tree in trees.iter() {
        for file in &tree.files[..tree.renamed] {
            if swap::put_back(file).is_err() {
                unrestored.push(file.dir.shown(&file.name));
            }
        }
    }
    if !unrestored.is_empty() {
        // The journals stay: the next apply finishes the change.
        return Error::NotRestored {
            files: unrestored,
            error: Box::new(err),
        };
    }
    // The journals go only once the restored files are durable.
    let touched: Vec<Durable> = trees.iter().flat_map(Staged::touched).collect();
    if crate::durable::sync(touched).is_ok() {
        for tree in trees.iter_mut() {
            let _ = tree.lock().clear_journal();
        }
    }
    Error::RolledBack {
        restored: files_replaced(trees),
        error: Box::new(err),
    }
}

/// How many files the commit has replaced, over all homes.
fn files_replaced(trees: &[Staged]) -> usize {
    trees.iter().map(|tree| tree.renamed).sum()
}

/// Test hooks for the built binary, given each replacement's number (0, 1,
/// ... in the order they start, over all homes), compiled in only with the
/// `test-hooks` feature (carbon-patch's tests turn it on) and debug
/// assertions, so that no release-profile binary reads such a variable,
/// however it was built: `CARBON_PATCH_FAIL_AFTER_WRITES=N` makes every
/// replacement from the (N+1)-th on fail, so exactly N are written and
/// tests can prove that a failure midway restores every file (a read-only
/// file cannot do that for root, who may write anything);
/// `CARBON_PATCH_ABORT_AFTER_WRITES=N` kills the process there instead, as
/// a crash would, so tests can prove the journal finishes the commit (a
/// replacement under way on another thread may or may not land, as in a
/// real crash).
#[cfg(all(feature = "test-hooks", debug_assertions))]
fn injected_failure(written: usize) -> Result<()> {
    let at = |var: &str| {
        std::env::var(var)
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| written >= n)
    };
    if at("CARBON_PATCH_ABORT_AFTER_WRITES") {
        std::process::abort();
    }
    if at("CARBON_PATCH_FAIL_AFTER_WRITES") {
        return Err(Error::InTheWay {
            path: "(test hook)".into(),
            what: "injected write failure (CARBON_PATCH_FAIL_AFTER_WRITES)".into(),
        });
    }
    Ok(())
}

/// Without the test hooks, no replacement fails on purpose.
#[cfg(not(all(feature = "test-hooks", debug_assertions)))]
fn injected_failure(_: usize) -> Result<()> {
    Ok(())
}
