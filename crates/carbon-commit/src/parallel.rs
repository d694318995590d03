//! Work on several threads: trees side by side, and the syncs that make a
//! commit durable.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` on each item on up to `jobs` threads, each taking a run of
/// items in turn. Returns the first error, in the items' order; the rest of
/// a run stops at its error, other runs go on.
pub(crate) fn par_each<T: Send, E: Send>(
    items: &mut [T],
    jobs: usize,
    work: impl Fn(&mut T) -> Result<(), E> + Sync,
) -> Result<(), E> {
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        return items.iter_mut().try_for_each(work);
    }
    let run = items.len().div_ceil(jobs);
    let work = &work;
    std::thread::scope(|scope| {
        let runs: Vec<_> = items
            .chunks_mut(run)
            .map(|chunk| scope.spawn(move || chunk.iter_mut().try_for_each(work)))
            .collect();
        // The first error in order; the scope joins the other runs anyway.
        runs.into_iter().try_for_each(|run| {
            run.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })
}

/// Runs `work` on every item, on up to `threads` threads taking the next
/// item as they finish one: for calls that mostly wait (a sync waits for
/// the disk), where many in flight at once let the file system commit them
/// together. Every item is done; returns the first error in the items'
/// order.
pub(crate) fn all_at_once<T: Sync, E: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> Result<(), E> + Sync,
) -> Result<(), E> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        let mut first = Ok(());
        for item in items {
            if let (Ok(()), Err(e)) = (&first, work(item)) {
                first = Err(e);
            }
        }
        return first;
    }
    let next = AtomicUsize::new(0);
    let errors = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                if let Err(e) = work(item) {
                    errors.lock().unwrap().push((i, e));
                }
            });
        }
    });
    let mut errors = errors.into_inner().unwrap();
    errors.sort_by_key(|(i, _)| *i);
    match errors.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_each_visits_every_item_once_and_returns_the_first_error() {
        let mut items: Vec<u32> = (0..1000).collect();
        par_each(&mut items, 3, |i| {
            *i += 1;
            Ok::<(), String>(())
        })
        .unwrap();
        assert_eq!(items, (1..=1000).collect::<Vec<_>>());
        let err = par_each(&mut items, 3, |i| match *i {
            10 | 900 => Err(format!("item {i} failed")),
            _ => Ok(()),
        })
        .unwrap_err();
        assert_eq!(err, "item 10 failed");
    }

    #[test]
    fn all_at_once_does_every_item_and_returns_the_first_error() {
        let items: Vec<usize> = (0..500).collect();
        let done = AtomicUsize::new(0);
        for threads in [1, 4, 64] {
            done.store(0, Ordering::SeqCst);
            let err = all_at_once(&items, threads, |&i| {
                done.fetch_add(1, Ordering::SeqCst);
                match i {
                    7 | 300 => Err(i),
                    _ => Ok(()),
                }
            })
            .unwrap_err();
            assert_eq!((err, done.load(Ordering::SeqCst)), (7, 500), "{threads}");
        }
    }
}
