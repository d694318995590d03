//! Where the wall-clock time of a commit went, step by step, and of the run
//! around it (carbon-patch's `apply --timings`).
//!
//! A fleet's commit is mostly waiting for the disk (its syncs). When it is
//! slower than expected, on a network file system or a busy disk, the steps
//! say which part grew; bench/README.md breaks down a 50-node apply.
//! Recording costs a clock read per step, so it is always on.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, Instant};

/// Phase durations, in the order the phases ran.
#[derive(Clone, Debug)]
pub struct Timings {
    last: Instant,
    phases: Vec<(Cow<'static, str>, Duration)>,
}

impl Timings {
    /// Starts the clock.
    pub fn start() -> Timings {
        Timings {
            last: Instant::now(),
            phases: Vec::new(),
        }
    }

    /// Ends `phase`: the time since the previous phase ended (or the start).
    pub fn lap(&mut self, phase: &'static str) {
        self.lap_at(phase, Instant::now());
    }

    fn lap_at(&mut self, phase: &'static str, now: Instant) {
        self.phases.push((phase.into(), now - self.last));
        self.last = now;
    }

    /// Adds the phases something timed itself (`steps`, each under
    /// `prefix`), which end now.
    pub fn extend(&mut self, prefix: &str, steps: &Timings) {
        for (step, took) in &steps.phases {
            self.phases.push((format!("{prefix}{step}").into(), *took));
        }
        self.last = Instant::now();
    }

    /// Each phase's name and duration, in order.
    pub fn phases(&self) -> impl Iterator<Item = (&str, Duration)> {
        self.phases
            .iter()
            .map(|(phase, took)| (phase.as_ref(), *took))
    }
}

/// One line a phase, milliseconds aligned, then the total.
impl fmt::Display for Timings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.phases.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        writeln!(f, "timings (wall clock):")?;
        for (phase, took) in &self.phases {
            writeln!(f, "  {phase:<width$}  {:>9.1} ms", ms(*took))?;
        }
        let total: Duration = self.phases.iter().map(|(_, d)| *d).sum();
        writeln!(f, "  {:<width$}  {:>9.1} ms", "total", ms(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_listed_in_order_with_their_total() {
        let mut timings = Timings::start();
        timings.lap_at(
            "plan and stage",
            timings.last + Duration::from_micros(71_140),
        );
        let mut commit = Timings::start();
        commit.lap_at("sync", commit.last + Duration::from_micros(16_300));
        commit.lap_at("rename", commit.last + Duration::from_micros(4_500));
        timings.extend("commit: ", &commit);
        assert_eq!(
            timings.to_string(),
            "timings (wall clock):\n\
             \x20 plan and stage       71.1 ms\n\
             \x20 commit: sync         16.3 ms\n\
             \x20 commit: rename        4.5 ms\n\
             \x20 total                91.9 ms\n"
        );
    }

    #[test]
    fn a_lap_measures_from_the_end_of_the_previous_one() {
        let mut timings = Timings::start();
        let start = timings.last;
        timings.lap_at("first", start + Duration::from_millis(5));
        timings.lap_at("second", start + Duration::from_millis(7));
        let phases: Vec<(&str, Duration)> = timings.phases().collect();
        assert_eq!(
            phases,
            [
                ("first", Duration::from_millis(5)),
                ("second", Duration::from_millis(2))
            ]
        );
    }
}
