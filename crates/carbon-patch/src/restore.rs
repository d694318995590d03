//! `restore`: puts back the originals an `apply --backup` kept, in every
//! home given, all of them or none (the carbon-commit crate's commit, as
//! `apply` writes), or, with `--dry-run`, shows what that would change.
//!
//! A backup holds the files its apply replaced, as they were, and a list of
//! the files it created with what it made each with: restoring removes
//! those that still hold it (in the same commit), and leaves and names any
//! changed since, as an edit is never lost. One apply gives the homes it wrote to one
//! stamp and the others none; but a home without the stamp may also be one
//! whose backup is gone, so it is an error, unless `--skip-missing` says to
//! skip such homes (each is named).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use carbon_commit::{Backups, Restoring};
use carbon_config::diff::FileDiff;
use carbon_config::secrets::Secrets;
use carbon_config::{CarbonHome, FileChange};
use carbon_recipe::plan::fleet;

use crate::cli::Format;
use crate::finished::Noted;

/// What `--from` takes to mean the newest backup of any home given.
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
    /// Skip a home that has no such backup, rather than refuse the run.
    pub skip_missing: bool,
    pub color: bool,
    /// Text, or JSON (docs/json.md).
    pub format: Format,
    pub max_file_size: u64,
    pub jobs: usize,
    /// How long to wait for a home another run holds.
    pub wait: std::time::Duration,
}

impl Options {
    fn json(&self) -> bool {
        matches!(self.format, Format::Json)
    }
}

/// One home given, opened, with its backups (read without its lock).
struct Given<'a> {
    path: &'a Path,
    home: CarbonHome,
    backups: Backups,
    stamps: Vec<String>,
}

impl Given<'_> {
    /// Its backups, as a message names them: their stamps, or "none".
    fn backups(&self) -> String {
        if self.stamps.is_empty() {
            return "none".to_string();
        }
        visible::line(&self.stamps.join(", ")).into_owned()
    }
}

/// One home, read (and, unless a dry run, locked and staged).
struct Home {
    shown: String,
    /// Whether it has the backup; a home without it is skipped.
    has_backup: bool,
    diffs: Vec<FileDiff>,
    staged: Option<carbon_commit::Staged>,
    /// The files that finishing an interrupted apply wrote when the lock
    /// was taken.
    finished: Vec<PathBuf>,
    /// Whether an interrupted apply waits there (a dry run takes no lock).
    interrupted: bool,
    /// Files the backup's apply created that still hold what it made them
    /// with: removed.
    removed: Vec<PathBuf>,
    /// Files the backup's apply created, changed since or unreadable: left,
    /// and named, with why.
    left: Vec<(PathBuf, String)>,
    /// The folders the apply made for the files removed, which that leaves
    /// empty, innermost first: to remove; once committed, those removed.
    folders: Vec<PathBuf>,
}

impl Home {
    fn write_finished(&self, out: &mut dyn Write) -> std::io::Result<()> {
        crate::finished::write_lines(out, &[(self.shown.clone(), self.finished.clone())])
    }

    /// A line for each file the backup's apply created: removed (or, in a
    /// dry run, to remove), or left.
    fn write_created(&self, out: &mut dyn Write, dry_run: bool) -> std::io::Result<()> {
        let shown = visible::line(&self.shown);
        let removed = if dry_run { "would remove" } else { "removed" };
        for path in &self.removed {
            writeln!(
                out,
                "{removed} {shown}: {} (the apply created it)",
                visible::path(path)
            )?;
        }
        for folder in &self.folders {
            writeln!(
                out,
                "{removed} {shown}: {}/ (the apply made it for the files removed)",
                visible::path(folder)
            )?;
        }
        for (path, why) in &self.left {
            writeln!(
                out,
                "left {shown}: {} (the apply created it, but {})",
                visible::path(path),
                visible::line(why)
            )?;
        }
        Ok(())
    }

    /// How many files restoring it writes: each restored or removed.
    fn files(&self) -> usize {
        self.diffs.len() + self.removed.len()
    }

    fn write_skipped(&self, out: &mut dyn Write, stamp: &str) -> std::io::Result<()> {
        if !self.has_backup {
            writeln!(
                out,
                "skipped {}: it has no backup {} (--skip-missing)",
                visible::line(&self.shown),
                visible::line(stamp)
            )?;
        }
        Ok(())
    }
}

/// Restores (or, with `--dry-run`, shows) `options.from` in every home of
/// `homes`, reporting to `out`.
pub fn restore(out: &mut dyn Write, homes: &[PathBuf], options: &Options) -> Result<()> {
    refuse_repeated(homes)?;
    let given = homes
        .iter()
        .map(|path| given(path))
        .collect::<Result<Vec<_>>>()
        .context("nothing was written")?;
    let stamp = the_stamp(&given, &options.from).context("nothing was written")?;
    if !options.skip_missing {
        refuse_missing(&given, &stamp).context("nothing was written")?;
    }
    let mut read: Vec<Home> = Vec::new();
    let noted = Noted::default();
    let opened = locked_in_order(&given, &stamp, options, &noted).and_then(|locked| {
        let locked = std::sync::Mutex::new(locked);
        fleet::ordered_parallel(
            &given,
            options.jobs,
            |home| {
                let lock = locked.lock().unwrap().remove(home.path);
                open(home, &stamp, options, &noted, lock)
            },
            |home| {
                read.push(home);
                Ok::<_, anyhow::Error>(())
            },
        )
    });
    let mut out = std::io::BufWriter::new(out);
    if let Err(err) = opened {
        let order: Vec<String> = homes.iter().map(|h| h.display().to_string()).collect();
        let noted = noted.take(&order);
        let out = crate::text_out(&mut out, options.format);
        return Err(crate::finished::stopped(out, &noted, err, "restored"));
    }
    let files: usize = read.iter().map(Home::files).sum();
    let restored = read.iter().filter(|home| home.has_backup).count();
    if options.dry_run && options.json() {
        writeln!(out, "{:#}", json(&read, &stamp, options, None))?;
        return Ok(out.flush()?);
    }
    if options.dry_run {
        for home in &read {
            if !home.has_backup {
                home.write_skipped(&mut out, &stamp)?;
                continue;
            }
            writeln!(out, "== {}", visible::line(&home.shown))?;
            if home.interrupted {
                writeln!(
                    out,
                    "   note: an apply or restore on this home was interrupted; restore finishes it before \
                     anything else"
                )?;
            }
            if home.files() == 0 && home.folders.is_empty() && home.left.is_empty() {
                writeln!(out, "   no changes: every file holds what the backup kept")?;
            }
            for diff in &home.diffs {
                crate::render::write_diff(&mut out, &diff.diff, options.color)?;
            }
            home.write_created(&mut out, true)?;
        }
        writeln!(
            out,
            "Restore would write {files} file(s) in {restored} home(s) from backup {}; nothing \
             was written",
            visible::line(&stamp)
        )?;
        return Ok(out.flush()?);
    }
    let (mut staged, mut staged_in) = (Vec::new(), Vec::new());
    for (i, home) in read.iter_mut().enumerate() {
        staged.extend(home.staged.take());
        if staged.len() > staged_in.len() {
            staged_in.push(i);
        }
    }
    let commit = carbon_commit::Options {
        backup: options.backup.as_deref(),
        jobs: options.jobs,
    };
    let written = match carbon_commit::commit(&mut staged, commit) {
        Ok(report) => {
            for (tree, i) in staged.iter().zip(staged_in) {
                read[i].folders = tree.removed_folders().to_vec();
            }
            report.written
        }
        Err(err) if err.wrote_nothing() => {
            let out = crate::text_out(&mut out, options.format);
            return Err(crate::finished::stopped(
                out,
                &finished_in(&read),
                err.into(),
                "restored",
            ));
        }
        Err(err) => {
            let finished = finished_in(&read);
            let out = crate::text_out(&mut out, options.format);
            return Err(crate::finished::after_writing(out, &finished, err.into()));
        }
    };
    let report = |out: &mut dyn Write| -> std::io::Result<()> {
        if options.json() {
            writeln!(out, "{:#}", json(&read, &stamp, options, Some(written)))?;
            return out.flush();
        }
        for home in &read {
            home.write_finished(out)?;
            home.write_skipped(out, &stamp)?;
            for diff in &home.diffs {
                let shown = visible::line(&home.shown);
                writeln!(out, "restored {shown}: {}", visible::line(&diff.path))?;
            }
            home.write_created(out, false)?;
        }
        if let (Some(kept), true) = (&options.backup, written > 0) {
            writeln!(
                out,
                "the files replaced are kept under CARBON_HOME/.carbon-patch/backups/{kept}/ \
                 of each home written to"
            )?;
        }
        writeln!(
            out,
            "Restored: {written} file(s) in {restored} home(s) from backup {}",
            visible::line(&stamp)
        )?;
        out.flush()
    };
    report(&mut out)
        .with_context(|| format!("restored: {written} file(s) were written, but not reported"))
}

/// The report as JSON (docs/json.md): `written` is `None` for a dry run.
fn json(
    read: &[Home],
    stamp: &str,
    options: &Options,
    written: Option<usize>,
) -> serde_json::Value {
    let paths = |paths: &[PathBuf]| -> Vec<String> {
        paths.iter().map(|p| p.display().to_string()).collect()
    };
    let homes: Vec<serde_json::Value> = read
        .iter()
        .map(|home| {
            serde_json::json!({
                "home": home.shown,
                "has_backup": home.has_backup,
                "interrupted": home.interrupted,
                "finished_interrupted": paths(&home.finished),
                "files": home.diffs.iter().map(crate::render::file_json).collect::<Vec<_>>(),
                "created": {
                    "removed": paths(&home.removed),
                    "removed_folders": paths(&home.folders),
                    "left": home.left.iter().map(|(path, why)| serde_json::json!({
                        "path": path.display().to_string(),
                        "why": why,
                    })).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    let files: usize = read.iter().map(Home::files).sum();
    serde_json::json!({
        "command": "restore",
        "backup": stamp,
        "dry_run": written.is_none(),
        "homes": homes,
        "kept": options.backup.as_deref().filter(|_| written.unwrap_or(0) > 0),
        "summary": {
            "homes": read.iter().filter(|home| home.has_backup).count(),
            "files": written.unwrap_or(files),
        },
    })
}

/// What each home's lock finished.
fn finished_in(read: &[Home]) -> Vec<(String, Vec<PathBuf>)> {
    read.iter()
        .map(|home| (home.shown.clone(), home.finished.clone()))
        .collect()
}

/// Two paths to one home would take its lock twice.
fn refuse_repeated(homes: &[PathBuf]) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for home in homes {
        if let Some(first) = seen.insert(carbon_recipe::plan::HomeId::of(home), home) {
            bail!(
                "{} and {} are one home; name it once",
                visible::path(first),
                visible::path(home)
            );
        }
    }
    Ok(())
}

/// A home given, with its backups' stamps, read without its lock.
fn given(path: &Path) -> Result<Given<'_>> {
    let home = CarbonHome::open(path).with_context(|| format!("home {}", path.display()))?;
    let backups = Backups::read_only(home.root())?;
    let stamps = backups.stamps()?;
    Ok(Given {
        path,
        home,
        backups,
        stamps,
    })
}

/// The stamp to restore: `from`, or with [`LATEST`] the newest any home
/// has. Some home must have it.
fn the_stamp(given: &[Given], from: &str) -> Result<String> {
    let stamp = if from == LATEST {
        given.iter().flat_map(|g| g.stamps.iter()).max().cloned()
    } else {
        Some(from.to_string())
    };
    if let Some(stamp) = stamp.filter(|s| given.iter().any(|g| g.stamps.contains(s))) {
        return Ok(stamp);
    }
    let each: Vec<String> = given
        .iter()
        .map(|g| format!("{} has {}", visible::path(g.path), g.backups()))
        .collect();
    let asked = if from == LATEST {
        "a backup".to_string()
    } else {
        format!("backup {}", visible::line(from))
    };
    bail!(
        "no home given has {asked} (`apply --backup` keeps one): {}",
        each.join("; ")
    )
}

/// Refuses homes that lack the backup `stamp`: the apply that made it may
/// have written nothing there, or their backup may be gone; the person
/// says which (`--skip-missing`).
fn refuse_missing(given: &[Given], stamp: &str) -> Result<()> {
    let missing: Vec<String> = given
        .iter()
        .filter(|g| !g.stamps.iter().any(|s| s == stamp))
        .map(|g| format!("{} (it has {})", visible::path(g.path), g.backups()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "backup {} is not in every home: {}. If the apply that made it wrote nothing there, \
         --skip-missing restores the others",
        visible::line(stamp),
        missing.join("; ")
    )
}

/// With `--wait` (and not a dry run), the lock of every home that has the
/// backup `stamp`, taken before any is read, one after another in
/// [`carbon_commit::Lock::order`], so that two waiting runs cannot each hold
/// a home the other waits for (see `apply`). Without one, none: each home
/// is locked as it is read, and one held is refused at once.
fn locked_in_order<'a>(
    given: &'a [Given],
    stamp: &str,
    options: &Options,
    noted: &Noted,
) -> Result<std::collections::HashMap<&'a Path, carbon_commit::Lock>> {
    let mut locked = std::collections::HashMap::new();
    if options.wait.is_zero() || options.dry_run {
        return Ok(locked);
    }
    let restored: Vec<&Given> = given
        .iter()
        .filter(|g| g.stamps.iter().any(|s| s == stamp))
        .collect();
    for i in carbon_commit::Lock::order(restored.iter().map(|g| g.home.root()))? {
        let (path, root) = (restored[i].path, restored[i].home.root());
        Backups::refuse_anothers(root)?;
        let lock = carbon_commit::Lock::acquire_waiting(root, options.wait)
            .with_context(|| format!("home {}", path.display()))?;
        noted.note(&path.display().to_string(), lock.finished());
        locked.insert(path, lock);
    }
    Ok(locked)
}

/// Reads one home's backup `stamp`, and, unless a dry run, takes its lock
/// (or uses the one `locked` took) and stages the originals. A home without
/// the backup is left alone.
fn open(
    given: &Given,
    stamp: &str,
    options: &Options,
    noted: &Noted,
    locked: Option<carbon_commit::Lock>,
) -> Result<Home> {
    let shown = given.path.display().to_string();
    let mut home = Home {
        shown: shown.clone(),
        has_backup: given.stamps.iter().any(|s| s == stamp),
        diffs: Vec::new(),
        staged: None,
        finished: Vec::new(),
        interrupted: false,
        removed: Vec::new(),
        left: Vec::new(),
        folders: Vec::new(),
    };
    if !home.has_backup {
        return Ok(home);
    }
    let root = given.home.root();
    // A dry run reads the backups as `given` found them; a restore, under
    // the lock it takes now.
    let (lock, locked) = if options.dry_run {
        home.interrupted = carbon_commit::pending(root);
        (None, None)
    } else {
        let lock = match locked {
            Some(lock) => lock,
            None => {
                Backups::refuse_anothers(root)?;
                let lock =
                    carbon_commit::Lock::acquire(root).with_context(|| format!("home {shown}"))?;
                noted.note(&shown, lock.finished());
                lock
            }
        };
        home.finished = lock.finished().to_vec();
        let backups = lock.backups();
        (Some(lock), Some(backups))
    };
    let backups = locked.as_ref().unwrap_or(&given.backups);
    let restoring = backups.restoring(stamp, options.max_file_size)?;
    let created = backups.created(stamp, options.max_file_size)?;
    home.folders.clone_from(&created.folders);
    for file in &created.files {
        match &file.left {
            None => home.removed.push(file.path.clone()),
            Some(why) => home.left.push((file.path.clone(), why.to_string())),
        }
    }
    let secrets = Secrets::new(&[]);
    home.diffs = restoring
        .iter()
        .map(|file| FileDiff::of(&change(file), &shown, &secrets))
        .collect();
    if let Some(lock) = lock.filter(|_| home.files() > 0 || !home.folders.is_empty()) {
        let mut staged = carbon_commit::Staged::new(format!("home {shown}"), lock);
        for file in &restoring {
            staged.add_with_mode(&file.path, file.planned(), &file.original, file.mode)?;
        }
        created.stage_removals(&mut staged)?;
        home.staged = Some(staged);
    }
    Ok(home)
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
