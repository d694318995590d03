//! Files copied into the home: the JDBC driver every guide says to put in
//! repository/components/lib.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::home::files::LIB_DIR;
use crate::session::{Outcome, Session};

/// Ensures `repository/components/lib/<name of source>` holds the bytes of
/// `source` (a path outside the home, given by the operator), read only
/// through folders and links that root, the running user or `chosen_by`
/// (the owner of the recipe that names it, who chose it) control, and only
/// if it is a regular file within the session's size limit.
///
/// # Errors
/// An unreadable source, one another user could redirect, one that is not
/// a regular file or is too large, or a file name that is not a plain name.
pub fn ensure_lib_file(
    session: &mut Session,
    source: &Path,
    chosen_by: Option<u32>,
) -> Result<Outcome> {
    let name = source
        .file_name()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::Invalid {
            file: source.to_path_buf(),
            message: "names no file".into(),
        })?;
    let (mut file, len) =
        crate::controlled::open_source(source, chosen_by, session.max_file_size())?;
    let mut bytes = Vec::with_capacity(len as usize);
    // No more than was measured: a file that grows meanwhile is cut there,
    // and the next run copies it whole.
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, len), &mut bytes).map_err(
        |e| Error::Io {
            path: source.to_path_buf(),
            error: e,
        },
    )?;
    let rel: PathBuf = Path::new(LIB_DIR).join(name);
    session.home().resolve(&rel)?;
    let changed = session.current_bytes(&rel)?.as_deref() != Some(bytes.as_slice());
    if changed {
        session.put_bytes(&rel, bytes)?;
    }
    Ok(Outcome {
        what: format!("{} copied from {}", rel.display(), source.display()),
        file: rel,
        changed,
    })
}
