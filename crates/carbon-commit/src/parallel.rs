//! Homes side by side, on several threads.

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
}
