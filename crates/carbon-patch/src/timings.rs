//! `apply --timings`: where the wall-clock time of an apply went, phase by phase.
//!
//! A fleet apply is a few tenths of a second split between planning on every
//! core and waiting for the disk (two `syncfs` calls, docs/design.md). When
//! it is slower than expected, on a network file system or a busy disk, the
//! phases say which part grew; docs/performance.md reads them for a 50-node
//! apply. Recording costs a clock read per phase, so it is always on and the
//! flag only decides whether the report is printed.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, Instant};

/// Phase durations, in the order the phases ran.
#[derive(Debug)]
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

    /// Adds the phases a step timed itself (`steps`, each under `prefix`),
    /// which end now.
    pub fn extend(&mut self, prefix: &str, steps: &[(&'static str, Duration)]) {
        for (step, took) in steps {
            self.phases.push((format!("{prefix}{step}").into(), *took));
        }
        self.last = Instant::now();
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
        timings.extend(
            "commit: ",
            &[
                ("sync", Duration::from_micros(16_300)),
                ("rename", Duration::from_micros(4_500)),
            ],
        );
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
        let phases: Vec<(&str, Duration)> = timings
            .phases
            .iter()
            .map(|(p, d)| (p.as_ref(), *d))
            .collect();
        assert_eq!(
            phases,
            [
                ("first", Duration::from_millis(5)),
                ("second", Duration::from_millis(2))
            ]
        );
    }
}
