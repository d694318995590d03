//! Nodes in parallel, results in order, memory bounded.
//!
//! Nodes are independent: each has its own home, its own files and its own
//! lock. So a recipe's nodes are planned (and, for apply, staged) on every
//! core, while what they produce is handed on in the recipe's order, so
//! output is the same whatever the number of threads. At most a small
//! window of results waits at any time: a worker does not start a node more
//! than `WINDOW_PER_JOB * jobs` ahead of the oldest one not yet handed on,
//! which keeps memory flat for a recipe of 10,000 nodes.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Condvar, Mutex};

const WINDOW_PER_JOB: usize = 4;

struct State<R, E> {
    /// The next item to start.
    next: usize,
    /// Items handed on so far.
    delivered: usize,
    /// Finished items not yet handed on.
    done: BTreeMap<usize, Result<R, E>>,
    /// Set when the consumer stops early (an error): workers start nothing more.
    stop: bool,
}

/// A worker panicked on an item; the panic's message went to stderr.
#[derive(Debug, thiserror::Error)]
#[error("internal error (a panic, reported above)")]
pub struct Panicked;

/// The number of threads to use when none is asked for: one per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` on each item on up to `jobs` threads and passes each result
/// to `sink` in the items' order. Stops at the first error (of `work` or of
/// `sink`, in the items' order) and returns it; results not handed on by
/// then are dropped.
pub fn ordered_parallel<T, R, E>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> Result<R, E> + Sync,
    mut sink: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
    E: Send + From<Panicked>,
{
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        for item in items {
            sink(work(item)?)?;
        }
        return Ok(());
    }
    let window = WINDOW_PER_JOB * jobs;
    let state = Mutex::new(State {
        next: 0,
        delivered: 0,
        done: BTreeMap::new(),
        stop: false,
    });
    let changed = Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let index = {
                    let mut s = state.lock().unwrap();
                    loop {
                        if s.stop || s.next >= items.len() {
                            return;
                        }
                        if s.next < s.delivered + window {
                            s.next += 1;
                            break s.next - 1;
                        }
                        s = changed.wait(s).unwrap();
                    }
                };
                // A panic becomes that item's error, so the consumer (waiting
                // for it in order) is never left waiting.
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(&items[index])))
                    .unwrap_or_else(|_| Err(Panicked.into()));
                state.lock().unwrap().done.insert(index, result);
                changed.notify_all();
            });
        }
        let mut outcome = Ok(());
        for index in 0..items.len() {
            let result = {
                let mut s = state.lock().unwrap();
                loop {
                    if let Some(result) = s.done.remove(&index) {
                        s.delivered = index + 1;
                        break result;
                    }
                    s = changed.wait(s).unwrap();
                }
            };
            changed.notify_all();
            if let Err(err) = result.and_then(&mut sink) {
                outcome = Err(err);
                break;
            }
        }
        state.lock().unwrap().stop = true;
        changed.notify_all();
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_arrive_in_order_whatever_the_threads() {
        let items: Vec<u64> = (0..200).collect();
        for jobs in [1, 2, 7] {
            let mut seen = Vec::new();
            ordered_parallel(
                &items,
                jobs,
                |&i| {
                    // Uneven work, so threads finish out of order.
                    std::thread::sleep(std::time::Duration::from_micros((i * 37) % 300));
                    Ok::<_, anyhow::Error>(i * 2)
                },
                |r| {
                    seen.push(r);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(seen, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn the_first_error_in_order_is_returned_and_work_stops() {
        let items: Vec<usize> = (0..10_000).collect();
        let started = AtomicUsize::new(0);
        let err = ordered_parallel(
            &items,
            2,
            |&i| {
                started.fetch_add(1, Ordering::SeqCst);
                if i == 5 || i == 7 {
                    anyhow::bail!("item {i} failed")
                }
                Ok(i)
            },
            |_| Ok::<_, anyhow::Error>(()),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "item 5 failed");
        // The window bounds how far the workers ran ahead.
        assert!(started.load(Ordering::SeqCst) <= 6 + WINDOW_PER_JOB * 2 + 2);
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let err = ordered_parallel(
            &[1, 2, 3],
            2,
            |&i| {
                if i == 2 {
                    panic!("boom");
                }
                Ok(i)
            },
            |_| Ok::<_, anyhow::Error>(()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("internal error"));
    }
}
