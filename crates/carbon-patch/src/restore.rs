//! `restore`: puts back the originals an `apply --backup` kept, in every
//! home given, all of them or none (the carbon-commit crate's commit, as
//! `apply` writes), or, with `--dry-run`, shows what that would change.
//!
//! A backup holds the files its apply replaced, as they were, and a list of
//! the files it created: those had no original, and restoring leaves them,
//! naming each one still there.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use carbon_commit::{Backups, Restoring};
use carbon_config::diff::FileDiff;
use carbon_config::secrets::Secrets;
use carbon_config::{CarbonHome, FileChange};
use carbon_recipe::plan::fleet;

/// What `--from` takes to mean each home's newest backup.
pub const LATEST: &str = "latest";

/// How a restore runs.
#[derive(Debug)]
pub struct Options {
    /// The backup's stamp, or [`LATEST`].
    pub from: String,
    /// Show the diffs and write nothing.
    pub dry_run: bool,
    /// Keep the files it replaces as a backup of their own, under this stamp.
    pub backup: Option<String>,
    pub color: bool,
    pub max_file_size: u64,
    pub jobs: usize,
}

/// One home, read (and, unless a dry run, locked and staged).
struct Home {
    shown: String,
    stamp: String,
    diffs: Vec<FileDiff>,
    staged: Option<carbon_commit::Staged>,
    finished: Vec<PathBuf>,
    /// Files the backup's apply created, still there: left, and named.
    created: Vec<PathBuf>,
}

impl Home {
    /// A line for each file left, as created by the backup's apply.
    fn write_left(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for path in &self.created {
            writeln!(
                out,
                "left {}: {} (the apply created it: there is no original to put back)",
                visible::line(&self.shown),
                visible::path(path)
            )?;
        }
        Ok(())
    }
}

/// Restores (or, with `--dry-run`, shows) `options.from` in every home of
/// `homes`, reporting to `out`.
pub fn restore(out: &mut dyn Write, homes: &[PathBuf], options: &Options) -> Result<()> {
    refuse_repeated(homes)?;
    let mut read = Vec::new();
    fleet::ordered_parallel(
        homes,
        options.jobs,
        |path| open(path, options),
        |home| {
            read.push(home);
            Ok::<_, anyhow::Error>(())
        },
    )
    .map_err(|err| err.context("nothing was written"))?;
    let stamp = one_stamp(&read)?;
    let mut out = std::io::BufWriter::new(out);
    let files: usize = read.iter().map(|home| home.diffs.len()).sum();
    if options.dry_run {
        for home in &read {
            writeln!(
                out,
                "== {} (backup {})",
                visible::line(&home.shown),
                visible::line(&home.stamp)
            )?;
            if home.diffs.is_empty() {
                writeln!(out, "   no changes: every file holds what the backup kept")?;
            }
            for diff in &home.diffs {
                crate::render::write_diff(&mut out, &diff.diff, options.color)?;
            }
            home.write_left(&mut out)?;
        }
        writeln!(
            out,
            "Restore would write {files} file(s) in {} home(s) from backup {}; nothing was written",
            read.len(),
            visible::line(&stamp)
        )?;
        return Ok(out.flush()?);
    }
    let mut staged: Vec<carbon_commit::Staged> = read
        .iter_mut()
        .filter_map(|home| home.staged.take())
        .collect();
    let commit = carbon_commit::Options {
        backup: options.backup.as_deref(),
        jobs: options.jobs,
    };
    let written = match carbon_commit::commit(&mut staged, commit) {
        Ok(report) => report.written,
        Err(err) if err.wrote_nothing() => {
            return Err(anyhow::Error::from(err).context("nothing was written"))
        }
        Err(err) => return Err(err.into()),
    };
    let report = |out: &mut dyn Write| -> std::io::Result<()> {
        for home in &read {
            let shown = visible::line(&home.shown);
            for path in &home.finished {
                writeln!(
                    out,
                    "finished {shown}: {} (left by an interrupted apply)",
                    visible::path(path)
                )?;
            }
            for diff in &home.diffs {
                writeln!(out, "restored {shown}: {}", visible::line(&diff.path))?;
            }
            home.write_left(out)?;
        }
        if let Some(kept) = &options.backup {
            writeln!(
                out,
                "the files replaced are kept under CARBON_HOME/.carbon-patch/backups/{kept}/"
            )?;
        }
        writeln!(
            out,
            "Restored: {written} file(s) in {} home(s) from backup {}",
            read.len(),
            visible::line(&stamp)
        )?;
        out.flush()
    };
    report(&mut out)
        .with_context(|| format!("restored: {written} file(s) were written, but not reported"))
}

/// Two paths to one home would take its lock twice.
fn refuse_repeated(homes: &[PathBuf]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashMap::new();
    for home in homes {
        let Ok(meta) = std::fs::metadata(home) else {
            continue; // Its own error comes when it is opened.
        };
        if let Some(first) = seen.insert((meta.dev(), meta.ino()), home) {
            bail!(
                "{} and {} are one home; name it once",
                visible::path(first),
                visible::path(home)
            );
        }
    }
    Ok(())
}

/// Reads one home's backup, and, unless a dry run, takes its lock and
/// stages the originals.
fn open(path: &Path, options: &Options) -> Result<Home> {
    let shown = path.display().to_string();
    let home = CarbonHome::open(path).with_context(|| format!("home {shown}"))?;
    let (lock, backups) = if options.dry_run {
        (None, Backups::read_only(home.root())?)
    } else {
        Backups::refuse_anothers(home.root())?;
        let lock =
            carbon_commit::Lock::acquire(home.root()).with_context(|| format!("home {shown}"))?;
        let backups = lock.backups();
        (Some(lock), backups)
    };
    let stamp = if options.from == LATEST {
        match backups.stamps()?.pop() {
            Some(newest) => newest,
            None => bail!(
                "{} has no backup (`apply --backup` keeps one)",
                visible::path(path)
            ),
        }
    } else {
        options.from.clone()
    };
    let restoring = backups.restoring(&stamp, options.max_file_size)?;
    let created = backups.created(&stamp)?;
    let secrets = Secrets::new(&[]);
    let diffs = restoring
        .iter()
        .map(|file| FileDiff::of(&change(file), &shown, &secrets))
        .collect();
    let finished = lock
        .as_ref()
        .map(|l| l.finished().to_vec())
        .unwrap_or_default();
    let staged = match lock {
        Some(lock) if !restoring.is_empty() => {
            let mut staged = carbon_commit::Staged::new(format!("home {shown}"), lock);
            for file in &restoring {
                staged.add_with_mode(&file.path, file.planned(), &file.original, file.mode)?;
            }
            Some(staged)
        }
        _ => None,
    };
    Ok(Home {
        shown,
        stamp,
        diffs,
        staged,
        finished,
        created,
    })
}

/// A restored file as a plan's change, to show its diff as `plan` does.
fn change(file: &Restoring) -> FileChange {
    FileChange {
        path: file.path.clone(),
        before: file.current.as_ref().map(|(bytes, _)| bytes.clone()),
        read_from: file.current.as_ref().map(|(_, meta)| *meta),
        after: file.original.clone(),
    }
}

/// With `--from latest`, every home's newest backup must be the same one:
/// a fleet's apply gives all its homes one stamp.
fn one_stamp(read: &[Home]) -> Result<String> {
    let Some(first) = read.first() else {
        bail!("restore needs a home");
    };
    if read.iter().all(|home| home.stamp == first.stamp) {
        return Ok(first.stamp.clone());
    }
    let each: Vec<String> = read
        .iter()
        .map(|home| {
            format!(
                "{}: {}",
                visible::line(&home.shown),
                visible::line(&home.stamp)
            )
        })
        .collect();
    bail!(
        "nothing was written: the homes' newest backups differ ({}); name one with --from STAMP",
        each.join(", ")
    )
}
