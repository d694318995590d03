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
    #[error("{} problem(s) found in the files as the plan would write them:\n{}", .0.len(), crate::error::lines(.0))]
    Validation(Vec<crate::validate::Finding>),
    /// Two paths the plan edits are one file: a link leads from one to the
    /// other, and writing both would lose one's edits.
    #[error(
        "{} and {} are one file (a link leads from one to the other); edit it by one path",
        first.display(),
        second.display()
    )]
    SameFile {
        /// One path, relative to the home.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A value an operation cannot accept.
    #[error("{}: {message}", file.display())]
    Invalid {
        /// The file the value was for.
        file: PathBuf,
        /// What is wrong with the value.
        message: String,
    },
}

/// A file of the home that cannot be reached or read as it stands: a link
/// that leads out is [`Error::OutsideHome`], a FIFO or a folder where a
/// file is read [`Error::Invalid`], the rest [`Error::Io`].
impl From<beneath::Error> for Error {
    fn from(e: beneath::Error) -> Error {
        match e {
            beneath::Error::LeadsOut { path, how } => Error::OutsideHome { path, reason: how },
            beneath::Error::Hidden { path, folder } => Error::OutsideHome {
                path,
                reason: format!(
                    "it leads into {}, carbon-patch's own folder",
                    folder.display()
                ),
            },
            beneath::Error::NotInside { path } => Error::OutsideHome {
                path,
                reason: "not a path inside the home".into(),
            },
            beneath::Error::Io { path, source } => Error::Io {
                path,
                error: source,
            },
            other => Error::Invalid {
                file: other.path().to_path_buf(),
                message: other
                    .to_string()
                    .trim_start_matches(&format!("{}: ", other.path().display()))
                    .to_string(),
            },
        }
    }
}

impl Error {
    /// Whether this is about a home or a file as it stands, whichever
    /// operation came upon it first: not a home, a file that cannot be read
    /// (for a reason other than being missing), or one that is not
    /// well-formed in its encoding. The other errors come from what an
    /// operation was asked to do (a path that matches nothing, a value the
    /// file cannot take, a file the home does not have), so a caller may
    /// show what asked for it.
    pub fn is_about_the_home_as_it_is(&self) -> bool {
        use xmlsplice::ErrorKind;
        match self {
            Error::NotCarbonHome { .. }
            | Error::RegeneratedConfig { .. }
            | Error::SameFile { .. } => true,
            Error::Io { error, .. } => error.kind() != std::io::ErrorKind::NotFound,
            Error::Xml(e) => matches!(
                e.kind(),
                ErrorKind::Malformed(_)
                    | ErrorKind::UnsupportedEncoding(_)
                    | ErrorKind::InvalidEncoding { .. }
            ),
            _ => false,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding is one line: a file name or a value from a home (a
    /// datasource's name, say) holding a line break or an escape sequence
    /// shows it escaped, in a failed validation's list too.
    #[test]
    fn each_finding_is_one_line_with_control_characters_escaped() {
        let finding = crate::validate::Finding {
            severity: crate::validate::Severity::Error,
            file: "repository/conf/datasources/a\u{1b}[31m-datasources.xml".into(),
            at: None,
            message: "datasource X\nwrote node1: y is not referenced".into(),
        };
        assert_eq!(
            Error::Validation(vec![finding]).to_string(),
            "1 problem(s) found in the files as the plan would write them:\n  \
             error: repository/conf/datasources/a\\u{1b}[31m-datasources.xml: \
             datasource X\\nwrote node1: y is not referenced"
        );
    }

    #[test]
    fn a_missing_file_is_what_was_asked_for_and_a_broken_one_the_homes() {
        let io = |kind: std::io::ErrorKind| Error::Io {
            path: "repository/conf/event-processor.xml".into(),
            error: kind.into(),
        };
        assert!(!io(std::io::ErrorKind::NotFound).is_about_the_home_as_it_is());
        assert!(io(std::io::ErrorKind::PermissionDenied).is_about_the_home_as_it_is());
        let malformed = xmlsplice::Document::parse(b"<a><b></a>").unwrap_err();
        assert!(Error::Xml(malformed).is_about_the_home_as_it_is());
        let doc = xmlsplice::Document::parse(b"<a/>").unwrap();
        let not_found = doc.select_one("b").unwrap_err();
        assert!(!Error::Xml(not_found).is_about_the_home_as_it_is());
        let invalid = Error::Invalid {
            file: "carbon.xml".into(),
            message: "a host name".into(),
        };
        assert!(!invalid.is_about_the_home_as_it_is());
    }
}
