//! Durability of exactly what a commit wrote.
//!
//! A commit makes its own files and folders durable, each with `fsync(2)`,
//! not the whole file system with `syncfs(2)`: a `syncfs` also waits for
//! every other process's unwritten data on that file system, so an apply
//! beside a busy writer would wait for all of it. One `fsync` after another
//! would wait for the disk once per
//! file, so they are issued together from a pool of threads: the file
//! system commits the ones in flight at once (one journal commit for many
//! files, on ext4 and XFS). And each staged file's writing-out is started
//! as soon as it is staged (`sync_file_range`), so by the time the commit
//! syncs it, most of its data is on its way.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};

use beneath::Dir;

use crate::error::{Error, Result};

/// How many syncs are in flight at once, at most: enough for the file
/// system to batch them, few enough that the threads cost little.
const IN_FLIGHT: usize = 32;

/// Something a commit made, to make durable.
#[derive(Debug)]
pub(crate) enum Durable {
    /// A folder: the names made, renamed or removed in it.
    Folder(Dir),
    /// An open file, and its path for messages.
    File(std::fs::File, std::path::PathBuf),
}

impl Durable {
    fn sync(&self) -> Result<()> {
        match self {
            Durable::Folder(dir) => {
                #[cfg(test)]
                crate::pause::synced(dir.path());
                dir.sync().map_err(Error::from)
            }
            Durable::File(file, path) => {
                #[cfg(test)]
                crate::pause::synced(path);
                rustix::fs::fsync(file).map_err(|e| Error::io("cannot sync", path, e))
            }
        }
    }
}

/// Makes every one of `items` durable, all in flight at once; the first
/// error.
pub(crate) fn sync(items: Vec<Durable>) -> Result<()> {
    start(items).wait()
}

/// Syncs under way, started by [`start`].
#[must_use = "a sync is durable only once waited for"]
pub(crate) struct Syncing(Arc<Pending>);

impl Syncing {
    /// Waits until every one is done; the first error.
    pub(crate) fn wait(self) -> Result<()> {
        self.0.wait()
    }
}

/// Starts making every one of `items` durable, all in flight at once, and
/// returns at once.
pub(crate) fn start(items: Vec<Durable>) -> Syncing {
    let pending = Arc::new(Pending::default());
    pending.state.lock().unwrap().0 = items.len();
    let jobs = POOL.grown_to(items.len().min(IN_FLIGHT));
    for item in items {
        if let Err(std::sync::mpsc::SendError((item, _))) = jobs.send((item, pending.clone())) {
            // No thread to take it (they never stop): synced here.
            pending.finish(item.sync());
        }
    }
    Syncing(pending)
}

/// Syncs handed to the pool: how many are not done yet, and the first
/// error among them.
#[derive(Debug, Default)]
struct Pending {
    state: Mutex<(usize, Option<Error>)>,
    done: Condvar,
}

impl Pending {
    fn wait(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        while state.0 > 0 {
            state = self.done.wait(state).unwrap();
        }
        match state.1.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn finish(&self, synced: Result<()>) {
        let mut state = self.state.lock().unwrap();
        state.0 -= 1;
        if let Err(e) = synced {
            state.1.get_or_insert(e);
        }
        if state.0 == 0 {
            self.done.notify_all();
        }
    }
}

type Job = (Durable, Arc<Pending>);
type Queue = Arc<Mutex<Receiver<Job>>>;

/// The syncing threads: as many as the largest batch so far needed (at most
/// [`IN_FLIGHT`]), started as needed (a commit syncs twice, and starting a
/// thread costs more than syncing a small file), each waiting for work for
/// as long as the process lives.
struct Pool {
    state: Mutex<Option<(Sender<Job>, Queue, usize)>>,
}

static POOL: Pool = Pool {
    state: Mutex::new(None),
};

impl Pool {
    /// The queue of a pool of at least `threads` threads. The threads it
    /// lacks are started by one new thread, so the caller goes on at once,
    /// and work queued meanwhile is taken as they come up.
    fn grown_to(&self, threads: usize) -> Sender<Job> {
        let mut state = self.state.lock().unwrap();
        let (jobs, queue, running) = state.get_or_insert_with(|| {
            let (jobs, queue) = channel();
            (jobs, Arc::new(Mutex::new(queue)), 0)
        });
        if threads > *running {
            let (queue, more) = (queue.clone(), threads - *running);
            *running = threads;
            std::thread::spawn(move || {
                for _ in 1..more {
                    let queue = queue.clone();
                    std::thread::spawn(move || work(&queue));
                }
                work(&queue)
            });
        }
        jobs.clone()
    }
}

/// What a syncing thread does: take the next item, sync it, count it done.
fn work(queue: &Queue) {
    loop {
        let job = queue.lock().unwrap().recv();
        let Ok((item, pending)) = job else { return };
        let synced = item.sync();
        drop(item); // its descriptor closed before it counts as done
        pending.finish(synced);
    }
}

/// Starts writing out what was written to `file`, without waiting: the
/// sync that comes later then finds most of it written.
pub(crate) fn start_writing(file: &std::fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only schedules
        // write-back and touches no memory of this process. Its result is
        // a hint's: a failure leaves the later fsync to do all the work.
        #[allow(unsafe_code)] // rustix has no sync_file_range: libc it is
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}
