//! What can go wrong in a tree, each naming the path it is about as a
//! person would (the root as given, then the path in it).

use std::path::PathBuf;

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path leads out of the tree: through a symbolic link, or by `..`.
    #[error("{}: {how}", path.display())]
    LeadsOut {
        /// The path asked for.
        path: PathBuf,
        /// How it leads out: "the symbolic link X leads to Y, outside Z".
        how: String,
    },
    /// A path that leads into a folder hidden from walks
    /// ([`crate::Root::open_hiding`]).
    #[error("{}: leads into {}, which no path of this tree may name", path.display(), folder.display())]
    Hidden {
        /// The path asked for.
        path: PathBuf,
        /// The hidden folder, as a person would name it.
        folder: PathBuf,
    },
    /// A path given as absolute, or empty where a file was asked for.
    #[error("{}: not a path inside the tree", path.display())]
    NotInside {
        /// The path as given.
        path: PathBuf,
    },
    /// More links followed than any real tree needs: a loop.
    #[error("{}: too many symbolic links (a loop?)", path.display())]
    TooManyLinks {
        /// The path asked for.
        path: PathBuf,
    },
    /// Something that is not a regular file where one was to be read.
    #[error("{}: a {}, not a regular file", path.display(), kind.describe())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What is there.
        kind: crate::Kind,
    },
    /// A file larger than its reader takes.
    #[error("{}: over {limit} bytes, more than such a file may hold", path.display())]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The most it may hold.
        limit: u64,
    },
    /// A file with other names that someone other than its owner could
    /// have linked in: possibly a file from outside the tree.
    #[error(
        "{}: has {links} names, belongs to uid {owner}, and its folder (uid {folder_owner}'s) may \
         be written by another user: it may be a file from outside linked in; refusing to read it",
        path.display()
    )]
    LinkedIn {
        /// The path.
        path: PathBuf,
        /// How many names it has.
        links: u64,
        /// Its owner.
        owner: u32,
        /// Its folder's owner.
        folder_owner: u32,
    },
    /// A folder just made was replaced by another before it was used.
    #[error(
        "{}: another folder was put in its place as it was made; refusing to write into it",
        path.display()
    )]
    Replaced {
        /// The path.
        path: PathBuf,
    },
    /// Something that is not a folder where one was to be walked through.
    #[error("{}: not a folder", path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// The file system refused.
    // Not a `source`: the message says it, and error chains (anyhow's
    // `{:#}`) would print it twice.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: impl Into<std::io::Error>) -> Error {
        Error::Io {
            path: path.into(),
            source: source.into(),
        }
    }

    /// The I/O error behind an [`Error::Io`], to tell a missing file from
    /// another failure.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether this is a file or folder that does not exist.
    pub fn is_not_found(&self) -> bool {
        self.io_error()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    }

    /// The path the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Error::LeadsOut { path, .. }
            | Error::Hidden { path, .. }
            | Error::NotInside { path }
            | Error::TooManyLinks { path }
            | Error::NotAFile { path, .. }
            | Error::NotAFolder { path }
            | Error::TooLarge { path, .. }
            | Error::LinkedIn { path, .. }
            | Error::Replaced { path }
            | Error::Io { path, .. } => path,
        }
    }
}
