//! Who decides which folder a home's path names.
//!
//! A home is named by a path, and whoever may rename a folder on that path,
//! or owns a symbolic link it follows, decides which folder the path leads
//! to: the home's owner, through a link of its own, could have root apply a
//! recipe to another account's home. So a path is accepted only when every
//! folder it passes through and every link it follows belongs to root, to
//! the home's owner or to the user running carbon-patch, and no folder it
//! passes through may be written by anyone else (but a sticky folder such as
//! `/tmp`, where only an entry's owner may rename it). The home itself is
//! its owner's to arrange.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// How many links a path may follow, as Linux (`MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Checks who controls the path `given` names the home by (its folder
/// owned by `home_owner`). A path that cannot be walked is left to the
/// opening of the home to report.
///
/// # Errors
/// [`Error::OutsideHome`], naming the folder or link and its owner.
pub(crate) fn check(given: &Path, home_owner: u32) -> Result<()> {
    let Ok(cwd) = std::env::current_dir() else {
        return Ok(());
    };
    let runner = rustix::process::geteuid().as_raw();
    let trusted = |uid: u32| uid == 0 || uid == home_owner || uid == runner;
    let refuse = |what: &Path, why: String| Error::OutsideHome {
        path: given.to_path_buf(),
        reason: format!(
            "{} {why}, so it can make this path lead to another folder than the home; name the \
             home by a path that only root and the home's owner (uid {home_owner}) control",
            what.display()
        ),
    };
    let mut todo: Vec<PathBuf> = Vec::new();
    push_parts(&cwd.join(given), &mut todo);
    let mut at = PathBuf::from("/");
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part == Path::new("..") {
            at.pop();
            continue;
        }
        let next = at.join(&part);
        let Ok(meta) = std::fs::symlink_metadata(&next) else {
            return Ok(());
        };
        if meta.file_type().is_symlink() {
            if !trusted(meta.uid()) {
                return Err(refuse(
                    &next,
                    format!("is a link owned by uid {}", meta.uid()),
                ));
            }
            links += 1;
            let Ok(target) = std::fs::read_link(&next) else {
                return Ok(());
            };
            if links > MAX_LINKS {
                return Ok(());
            }
            if target.is_absolute() {
                at = PathBuf::from("/");
            }
            push_parts(&target, &mut todo);
            continue;
        }
        // A folder the path passes through on its way to the home.
        if !todo.is_empty() {
            if !trusted(meta.uid()) {
                return Err(refuse(&next, format!("is owned by uid {}", meta.uid())));
            }
            let sticky = meta.mode() & 0o1000 != 0;
            if meta.mode() & 0o022 != 0 && !sticky {
                return Err(refuse(
                    &next,
                    format!(
                        "may be written by others (mode {:04o})",
                        meta.mode() & 0o7777
                    ),
                ));
            }
        }
        at = next;
    }
    Ok(())
}

/// Pushes the parts of `path` on `todo`, the first last (a stack).
fn push_parts(path: &Path, todo: &mut Vec<PathBuf>) {
    let start = todo.len();
    for component in path.components() {
        match component {
            Component::Normal(name) => todo.push(PathBuf::from(name)),
            Component::ParentDir => todo.push(PathBuf::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    todo[start..].reverse();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_through_folders_and_links_of_root_and_the_owner_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("opt/node1");
        std::fs::create_dir_all(&home).unwrap();
        std::os::unix::fs::symlink("opt/node1", dir.path().join("current")).unwrap();
        let owner = std::fs::metadata(&home).unwrap().uid();
        check(&dir.path().join("current"), owner).unwrap();
        check(&dir.path().join("opt/../opt/node1"), owner).unwrap();
    }

    #[test]
    fn a_folder_others_may_write_on_the_way_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir_all(shared.join("node1")).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let owner = std::fs::metadata(shared.join("node1")).unwrap().uid();
        let err = check(&shared.join("node1"), owner).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "{} may be written by others (mode 0777), so it can make this path lead to \
                 another folder than the home",
                shared.display()
            )),
            "{err}"
        );
        // Sticky, as /tmp is: only an entry's owner may rename it.
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        check(&shared.join("node1"), owner).unwrap();
    }

    /// A link owned by another user on the way: refused, naming it. Needs
    /// root, to give the link away.
    #[test]
    fn a_link_another_user_owns_on_the_way_is_refused() {
        if !rustix::process::geteuid().is_root() {
            assert_eq!(
                std::env::var("CARBON_PATCH_ROOT_TESTS").as_deref(),
                Ok("skip"),
                "this test needs root (CI runs as root); CARBON_PATCH_ROOT_TESTS=skip skips it"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("node1")).unwrap();
        let link = dir.path().join("current");
        std::os::unix::fs::symlink("node1", &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).unwrap();
        let err = check(&link, 0).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "{} is a link owned by uid 65534, so it can make this path lead to another folder",
                link.display()
            )),
            "{err}"
        );
    }
}
