//! Test builds only: a commit that pauses at chosen points, so a test can
//! act, as the home's owner would, in the middle of it; and a record of
//! what each commit synced.
//!
//! Hooks are keyed by a folder (a test's temporary folder): a point on a
//! path under it calls the hook, so tests running side by side do not see
//! each other's.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where a commit pauses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Point {
    /// A home's files checked unchanged (its root's path).
    Verified,
    /// Every journal durable, just before the first replacement (each
    /// home's root's path).
    Journalled,
    /// Just before a file is replaced, or put back (its path).
    BeforeSwap,
    /// A file the commit removes just moved out, not yet checked (its
    /// path in the home).
    TakenOut,
    /// A backup copy created and written (its path).
    BackedUp,
}

type Hook = Arc<dyn Fn(Point, &Path) + Send + Sync>;

static HOOKS: Mutex<Vec<(PathBuf, Hook)>> = Mutex::new(Vec::new());
static SYNCED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes its hook when dropped.
pub(crate) struct Hooked(PathBuf);

impl Drop for Hooked {
    fn drop(&mut self) {
        HOOKS.lock().unwrap().retain(|(under, _)| *under != self.0);
    }
}

/// Calls `hook` at every point a commit reaches on a path under `under`.
pub(crate) fn hook(under: &Path, hook: impl Fn(Point, &Path) + Send + Sync + 'static) -> Hooked {
    HOOKS
        .lock()
        .unwrap()
        .push((under.to_path_buf(), Arc::new(hook)));
    Hooked(under.to_path_buf())
}

pub(crate) fn at_path(point: Point, path: &Path) {
    let hooks: Vec<Hook> = HOOKS
        .lock()
        .unwrap()
        .iter()
        .filter(|(under, _)| path.starts_with(under))
        .map(|(_, hook)| hook.clone())
        .collect();
    for hook in hooks {
        hook(point, path);
    }
}

/// Notes `path` as synced.
pub(crate) fn synced(path: &Path) {
    SYNCED.lock().unwrap().push(path.to_path_buf());
}

/// What was synced under `under` so far, in order.
pub(crate) fn synced_under(under: &Path) -> Vec<PathBuf> {
    SYNCED
        .lock()
        .unwrap()
        .iter()
        .filter(|path| path.starts_with(under))
        .cloned()
        .collect()
}
