//! What stops a commit, each naming the file it is about and, where a
//! person has something to do, what.

use std::path::PathBuf;

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
// No `source` fields: each message says its cause, and error chains
// (anyhow's `{:#}`) would print it twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another run holds the home's lock.
    #[error(
        "another carbon-patch{} is writing to this home{}; run again when it has finished",
        match pid { Some(pid) => format!(" (pid {pid})"), None => String::new() },
        if waited.is_zero() {
            String::new()
        } else {
            format!(", and still was after {}", shown_duration(*waited))
        }
    )]
    Held {
        /// The pid the lock names, when it names one.
        pid: Option<u32>,
        /// How long this run waited for it ([`Lock::acquire_waiting`](crate::Lock::acquire_waiting)).
        waited: std::time::Duration,
    },
    /// A lock, stage folder or journal that this run cannot trust: another
    /// user could have written it.
    #[error("{}: {reason}. {remedy}", path.display())]
    Untrusted {
        /// The lock or folder.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// How a person recovers.
        remedy: String,
    },
    /// A file changed between its plan and its write.
    #[error("{} changed after it was planned; run again", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// A file changed while it was being replaced: an edit landed between
    /// the check and the swap. It was put back.
    #[error(
        "{} was edited while it was being written; the edit is kept and nothing of this node \
         was written; run again",
        path.display()
    )]
    EditedMeanwhile {
        /// The file.
        path: PathBuf,
    },
    /// A folder written into was moved while it was (out of the home, or
    /// elsewhere in it).
    #[error(
        "{} was moved while files were written into it (it is no longer where it was in the home)",
        path.display()
    )]
    Moved {
        /// The folder, where it was.
        path: PathBuf,
    },
    /// An interrupted commit that cannot be finished: a file it names
    /// changed since.
    #[error(
        "an interrupted apply cannot be finished: {} changed since it began{}{}{}. \
         Check the file, then remove {} to start afresh (the next apply plans again \
         from the files as they are)",
        path.display(),
        if *edit_kept { " (an edit made meanwhile was put back in place)" } else { "" },
        if written.is_empty() {
            String::new()
        } else {
            format!(
                "; finishing it wrote {} first",
                written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        },
        match waits {
            Some(waits) => format!(
                "; what the interrupted run took out of it waits as {}: move that back first \
                 if it is wanted, as starting afresh removes it",
                waits.display()
            ),
            None => String::new(),
        },
        lock.display()
    )]
    Unfinishable {
        /// The file.
        path: PathBuf,
        /// Whether an edit swapped out by the interrupted run was put back.
        edit_kept: bool,
        /// The files (relative to the home) finishing it wrote before it
        /// met the changed one.
        written: Vec<PathBuf>,
        /// Where what the interrupted run took out of the file waits, when
        /// it could not go back (its name was taken again).
        waits: Option<PathBuf>,
        /// The lock file holding the journal.
        lock: PathBuf,
    },
    /// A recovery that wrote files, then failed.
    #[error(
        "finishing an interrupted apply wrote {}, then: {error}",
        written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    PartlyRecovered {
        /// The files written (relative to the home).
        written: Vec<PathBuf>,
        /// The failure.
        error: Box<Error>,
    },
    /// A journal this version cannot read, or that names what no journal of
    /// it would.
    #[error("{}: {message}", path.display())]
    Journal {
        /// The lock file holding it.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A backup folder there already.
    #[error("the backup {} exists already; not overwriting it", path.display())]
    BackupExists {
        /// The folder.
        path: PathBuf,
    },
    /// No finished backup of that stamp in the home.
    #[error(
        "{} has no backup {stamp}; {}",
        home.display(),
        match found.as_slice() {
            [] => "it has none (`apply --backup` keeps one)".to_string(),
            found => format!("its backups: {}", found.join(", ")),
        }
    )]
    NoBackup {
        /// The home.
        home: PathBuf,
        /// The stamp asked for.
        stamp: String,
        /// The stamps it has, oldest first.
        found: Vec<String>,
    },
    /// Something where carbon-patch keeps its own files that it will not
    /// write through or into.
    #[error("{}: {what}", path.display())]
    InTheWay {
        /// The path.
        path: PathBuf,
        /// What is there, and what to do.
        what: String,
    },
    /// A file that may not be written by this user.
    #[error("{reason}")]
    NotWritable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file system refused.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("cannot write", "cannot sync", ...).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A path in the home that could not be reached or is not a file.
    #[error(transparent)]
    Tree(#[from] beneath::Error),
    /// An error on one tree of a commit, labelled as the caller named it
    /// ("node node1").
    #[error("{label}: {error}")]
    In {
        /// The tree's label.
        label: String,
        /// What went wrong there.
        error: Box<Error>,
    },
    /// A failure midway through the renames, after which every file
    /// renamed before it was put back.
    #[error(
        "nothing was changed: the {restored} file(s) written before the failure were restored: {error}"
    )]
    RolledBack {
        /// How many were put back.
        restored: usize,
        /// The failure.
        error: Box<Error>,
    },
    /// A failure midway through the renames, after which some files could
    /// not be put back (changed since they were written, or a rename that
    /// failed): their journals stay, for the next run to finish, or to name
    /// what stops it.
    #[error(
        "could not put back: {} (changed since it was written, or a rename failed); \
         the next apply finishes the change or names what stops it: {error}",
        files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotRestored {
        /// The files left new.
        files: Vec<PathBuf>,
        /// The failure.
        error: Box<Error>,
    },
    /// A failure once every file was written: they are in place, but the
    /// last steps (making that durable, clearing up) did not finish.
    #[error("{written} file(s) were written, but {error}")]
    AfterWriting {
        /// How many.
        written: usize,
        /// The failure.
        error: Box<Error>,
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: impl Into<std::io::Error>,
    ) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source: source.into(),
        }
    }

    /// `error`, after a recovery wrote `written` (itself when it wrote
    /// nothing).
    pub(crate) fn partly_recovered(written: Vec<PathBuf>, error: Error) -> Error {
        if written.is_empty() {
            return error;
        }
        Error::PartlyRecovered {
            written,
            error: Box::new(error),
        }
    }

    /// This error, labelled with the tree it happened on.
    pub(crate) fn on(self, label: &str) -> Error {
        Error::In {
            label: label.to_string(),
            error: Box::new(self),
        }
    }

    /// Whether the commit stopped before it wrote any file (everything
    /// staged removed, every home as it was). A commit that wrote some and
    /// put them back says so itself ([`Error::RolledBack`]).
    pub fn wrote_nothing(&self) -> bool {
        match self {
            Error::In { error, .. } => error.wrote_nothing(),
            Error::RolledBack { .. }
            | Error::NotRestored { .. }
            | Error::AfterWriting { .. }
            | Error::PartlyRecovered { .. } => false,
            // An edit swapped out just before a crash was put back in place,
            // or files were finished before the changed one was met.
            Error::Unfinishable {
                edit_kept, written, ..
            } => !edit_kept && written.is_empty(),
            _ => true,
        }
    }
}

/// A wait as a person writes it: `300ms`, `30s`, `5m`, `1m30s`.
fn shown_duration(wait: std::time::Duration) -> String {
    let seconds = wait.as_secs();
    match (seconds, seconds % 60) {
        (0, _) => format!("{}ms", wait.as_millis()),
        (1..=59, _) => format!("{wait:?}"),
        (_, 0) => format!("{}m", seconds / 60),
        (_, rest) => format!("{}m{rest}s", seconds / 60),
    }
}
