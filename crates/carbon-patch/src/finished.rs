//! An error that stops `apply` or `restore` before its first write, said as
//! it is: taking a home's lock finishes an interrupted apply there first,
//! and a run stopped after that did write, so it never says "nothing was
//! written"; it lists what was finished instead.

use std::io::Write;
use std::path::PathBuf;

/// The context of an error on a home whose lock had just finished an
/// interrupted apply: those files were written all the same.
#[derive(Debug)]
pub struct FinishedFirst {
    /// The home, as shown ("node node1", a path).
    pub place: String,
    /// The files written, relative to the home.
    pub files: Vec<PathBuf>,
}

impl std::fmt::Display for FinishedFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: Vec<String> = self.files.iter().map(|p| visible::path(p)).collect();
        write!(
            f,
            "taking the lock of {} finished an interrupted apply there first ({})",
            visible::line(&self.place),
            files.join(", ")
        )
    }
}

/// `err` with `files` (those a home's lock finished), when there are any.
pub fn on(err: anyhow::Error, place: &str, files: &[PathBuf]) -> anyhow::Error {
    if files.is_empty() {
        return err;
    }
    err.context(FinishedFirst {
        place: place.to_string(),
        files: files.to_vec(),
    })
}

/// The error that stopped a run (`verb`: "applied", "restored") before
/// its first write, a node's or the commit's: in a fleet, the first
/// question after an error is whether the homes before it were written.
/// `finished` holds, for the homes handled before it, each one's name and
/// the files its lock finished; they are listed on `out` (text output).
pub fn stopped(
    out: Option<&mut dyn Write>,
    finished: &[(String, Vec<PathBuf>)],
    err: anyhow::Error,
    verb: &str,
) -> anyhow::Error {
    let here = err.downcast_ref::<FinishedFirst>().is_some();
    if !here && finished.iter().all(|(_, files)| files.is_empty()) {
        return err.context("nothing was written");
    }
    if let Some(out) = out {
        // Best effort: the error is what matters, and it comes whatever.
        let _ = write_lines(out, finished).and_then(|()| out.flush());
    }
    err.context(format!(
        "nothing was {verb}; only interrupted applies were finished"
    ))
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
                "finished {}: {} (left by an interrupted apply)",
                visible::line(name),
                visible::path(path)
            )?;
        }
    }
    Ok(())
}
