//! Open, edit and render one large axis2.xml-like document, for throughput
//! and peak memory (which criterion does not report):
//!
//!   cargo build --release -p xmlsplice --example throughput
//!   /usr/bin/time -f '%M KiB' target/release/examples/throughput 50
//!
//! Builds the input in memory (SIZE_MB megabytes, the engine bench's
//! shipped mix), then times `open + five clustering edits + render` over a
//! few runs and prints the median in MB/s. Peak memory minus the input and
//! its rendered copy (2 x SIZE) is what the engine itself holds.

#[path = "../benches/support/axis2_like.rs"]
mod axis2_like;

use std::time::Instant;

fn main() {
    let mb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let runs: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let input = axis2_like::axis2_like(axis2_like::SHIPPED_MIX, mb * 1_000_000);
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let mut doc = xmlsplice::Document::parse(&input).expect("parses");
        axis2_like::five_edits(&mut doc);
        let out = doc.render().expect("renders");
        times.push(started.elapsed().as_secs_f64());
        assert!(out.len() > input.len() / 2);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{:.1} MB: open+5 edits+render median {:.3} s = {:.0} MB/s (runs: {runs})",
        input.len() as f64 / 1e6,
        median,
        input.len() as f64 / 1e6 / median
    );
}
