//! Errors of Carbon homes and operations, each naming the file it is about.

use std::path::PathBuf;

/// What went wrong with a home or an operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The directory is not a Carbon 4.x product home.
    #[error("{}: not a WSO2 Carbon home: {reason}", path.display())]
    NotCarbonHome {
        /// The directory given.
        path: PathBuf,
        /// What was expected and not found.
        reason: String,
    },
    /// The home uses the Carbon 4.5+ model, which regenerates its XML.
    #[error(
        "{}: this product is configured through repository/conf/deployment.toml (Carbon 4.5+): \
         its XML files are regenerated from templates at every start, so editing them would be lost; \
         change deployment.toml instead",
        home.display()
    )]
    RegeneratedConfig {
        /// The home.
        home: PathBuf,
    },
    /// A path that would leave the home (`..`, absolute, or through a symlink).
    #[error("{}: refused: {reason}", path.display())]
    OutsideHome {
        /// The path as given.
        path: PathBuf,
        /// Why it leaves the home.
        reason: String,
    },
    /// Reading a file failed.
    // Not a `source` field: the message already says it, and error chains
    // (anyhow's `{:#}`) would print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The XML engine refused (its message names file, line and column).
    // Transparent, not `"{0}"` with a source: error chains (anyhow's `{:#}`)
    // printed the engine's message twice.
    #[error(transparent)]
    Xml(#[from] xmlsplice::Error),
    /// Cross-file validation found errors: nothing may be written.
    #[error("{} problem(s) found, nothing written:\n{}", .0.len(), crate::error::lines(.0))]
    Validation(Vec<crate::validate::Finding>),
    /// A value an operation cannot accept.
    #[error("{}: {message}", file.display())]
    Invalid {
        /// The file the value was for.
        file: PathBuf,
        /// What is wrong with the value.
        message: String,
    },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn lines(findings: &[crate::validate::Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("  {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}
