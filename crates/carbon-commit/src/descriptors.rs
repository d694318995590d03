//! Room for the descriptors a commit holds.
//!
//! From staging to the commit, every staged home holds its lock and handles
//! on the folders its files are replaced in (so that no link planted
//! meanwhile can redirect a write): a few descriptors a home, which a fleet
//! of a thousand homes takes past the usual soft limit. A caller that
//! stages many homes calls [`raise_limit`] first, and [`reserve_for`]
//! while it still has one thread.

/// Raises the soft limit on open files to the hard limit, which is the
/// administrator's: nothing is raised past it.
pub fn raise_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(maximum)) = (limit.current, limit.maximum) {
        if current < maximum {
            let raised = rustix::process::Rlimit {
                current: Some(maximum),
                maximum: Some(maximum),
            };
            // Where it cannot be raised, a fleet that needs more says so
            // when a file cannot be opened.
            let _ = setrlimit(Resource::Nofile, raised);
        }
    }
}

/// How many descriptors a staged home holds until the commit, about: its
/// lock file, its home's and stage folder's handles, the folders its files
/// are replaced in, and the folders on their way.
const DESCRIPTORS_PER_HOME: usize = 10;

/// Grows this process's descriptor table, while it still has one thread,
/// to what `homes` staged homes hold. The kernel grows the table by
/// doubling as descriptors are opened, and once other threads share it,
/// each growth waits for an RCU grace period (tens of milliseconds, with
/// every thread that opens a file stalled behind it). Grown now, it never
/// has to grow while the homes are planned and staged.
pub fn reserve_for(homes: usize) {
    use std::os::fd::AsFd;
    let wanted = (homes * DESCRIPTORS_PER_HOME + 64).min(i32::MAX as usize) as i32;
    // A descriptor that high grows the table to hold it; closed at once.
    // Where the limit is lower, nothing is reserved, and the table grows
    // as descriptors are opened.
    let _ = rustix::io::fcntl_dupfd_cloexec(std::io::stdin().as_fd(), wanted);
}
