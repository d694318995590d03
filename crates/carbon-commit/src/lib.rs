//! Writing a set of files into one Carbon home all-or-nothing, crash-safe,
//! under the home's lock, trusting nothing the home's owner could have
//! planted.
//!
//! carbon-patch is run by root on homes owned by the account the server
//! runs as, an account a server flaw may have handed to someone else. So
//! everything here works relative to handles opened beneath the home
//! ([`beneath`]): no link the owner plants, before or during a run, leads a
//! read, a write, a rename or a removal out of it. The lock and journal
//! (`.carbon-patch/lock`) are trusted only when no other user could have
//! written them. Each replaced file's original is checked, after the swap,
//! to be the very bytes the plan read, so an edit that lands meanwhile is
//! put back, never lost. Durability is `fsync` of exactly the files and
//! folders a run wrote, never a whole file system's.
//!
//! The steps, for a caller that plans its trees in parallel:
//!
//! ```no_run
//! use carbon_commit::{commit, Lock, Options, Staged};
//!
//! let root = beneath::Root::open("/opt/wso2/node1")?;
//! let lock = Lock::acquire(&root)?; // finishes an interrupted commit first
//! // ... plan, under the lock ...
//! let mut staged = Staged::new("node node1", lock);
//! // A file the plan creates; one it changes names what it read (`Planned`).
//! staged.add("repository/conf/new.xml".as_ref(), None, b"<new/>")?;
//! let report = commit(&mut [staged], Options { backup: None, jobs: 2 })?;
//! assert_eq!(report.written, 1);
//! # Ok::<(), carbon_commit::Error>(())
//! ```
//!
//! A backup (`Options::backup`) is read back by [`Backups`]: its files,
//! staged and committed like any others, put a home back as it was.
//!
//! Unix only: the lock is `flock(2)`, the swap `renameat2(2)` where the
//! file system has it.

mod backup;
mod commit;
pub mod descriptors;
mod durable;
mod error;
mod fingerprint;
mod journal;
mod lock;
mod parallel;
#[cfg(test)]
mod pause;
mod restore;
mod stage;
mod swap;
mod timings;

pub use commit::{commit, Options, Report};
pub use error::{Error, Result};
pub use lock::{pending, Lock, STAGE_DIR};
pub use restore::{Backups, Created, CreatedFile, Left, Restoring, MOST_ENTRIES};
pub use stage::{Planned, Staged, NEW_FILE_MODE};
pub use timings::Timings;

#[cfg(test)]
mod tests;
