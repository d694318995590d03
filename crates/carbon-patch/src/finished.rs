//! An error that stops `apply` or `restore` before its first write, said as
//! it is: taking a home's lock finishes an interrupted apply there first,
//! and a run stopped after that did write, so it never says "nothing was
//! written"; it lists what was finished instead.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// What the locks taken so far finished, noted by each worker as soon as
/// it takes its home's lock: the homes a fleet's workers handled after the
/// one that failed count too.
#[derive(Debug, Default)]
pub struct Noted(Mutex<Vec<(String, Vec<PathBuf>)>>);

impl Noted {
    /// Notes that taking `place`'s lock wrote `files` (none: nothing noted).
    pub fn note(&self, place: &str, files: &[PathBuf]) {
        if !files.is_empty() {
            let mut noted = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            noted.push((place.to_string(), files.to_vec()));
        }
    }

    /// Everything noted, in home order when `order` names them.
    pub fn take(self, order: &[String]) -> Vec<(String, Vec<PathBuf>)> {
        let mut noted = self
            .0
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        noted.sort_by_key(|(place, _)| order.iter().position(|p| p == place));
        noted
    }
}

/// The error that stopped a run (`verb`: "applied", "restored") before
/// its first write, a node's or the commit's: in a fleet, the first
/// question after an error is whether the homes before it were written.
/// `finished` holds each home whose lock finished an interrupted apply,
/// with those files: listed on `out` (text output), else in the message.
pub fn stopped(
    out: Option<&mut dyn Write>,
    finished: &[(String, Vec<PathBuf>)],
    err: anyhow::Error,
    verb: &str,
) -> anyhow::Error {
    if finished.iter().all(|(_, files)| files.is_empty()) {
        // An error that says itself what it wrote (a recovery that put an
        // edit back, or finished files before it stopped) stands alone.
        let wrote = err
            .chain()
            .filter_map(|cause| cause.downcast_ref::<carbon_commit::Error>())
            .any(|e| !e.wrote_nothing());
        return if wrote {
            err
        } else {
            err.context("nothing was written")
        };
    }
    let listed = list(out, finished);
    err.context(format!(
        "nothing was {verb}; only interrupted applies were finished{listed}"
    ))
}

/// A commit's error after it began writing (it says itself what it wrote
/// and put back), with what the locks finished before it, as
/// [`stopped`] lists them.
pub fn after_writing(
    out: Option<&mut dyn Write>,
    finished: &[(String, Vec<PathBuf>)],
    err: anyhow::Error,
) -> anyhow::Error {
    if finished.iter().all(|(_, files)| files.is_empty()) {
        return err;
    }
    let listed = list(out, finished);
    err.context(format!("interrupted applies were finished first{listed}"))
}

/// `finished` written on `out` as lines (text output); else, with no
/// `out`, as the text that ends a message.
fn list(out: Option<&mut dyn Write>, finished: &[(String, Vec<PathBuf>)]) -> String {
    match out {
        Some(out) => {
            // Best effort: the error is what matters, and it comes whatever.
            let _ = write_lines(out, finished).and_then(|()| out.flush());
            String::new()
        }
        None => finished
            .iter()
            .map(|(place, files)| {
                let files: Vec<String> = files.iter().map(|p| visible::path(p)).collect();
                format!(" ({}: {})", visible::line(place), files.join(", "))
            })
            .collect(),
    }
}

/// A `finished NAME: PATH` line for each file each home's lock finished.
pub fn write_lines(
    out: &mut dyn Write,
    finished: &[(String, Vec<PathBuf>)],
) -> std::io::Result<()> {
    for (name, files) in finished {
        for path in files {
            writeln!(
                out,
                "finished {}: {} (left by an interrupted apply or restore)",
                visible::line(name),
                visible::path(path)
            )?;
        }
    }
    Ok(())
}
