//! Open, edit and render one large axis2.xml-like file, for throughput and
//! peak memory (which criterion does not report):
//!
//!   cargo build --release -p xmlsplice --example throughput
//!   /usr/bin/time -f '%M KiB' target/release/examples/throughput 50
//!
//! Writes SIZE_MB megabytes of the engine bench's shipped mix to a
//! temporary file, then, over a few runs, reads it as a caller would and
//! times `Document::parse_owned + five clustering edits + into_rendered`,
//! and prints the median in MB/s. The file's bytes become the document's
//! text, and the tree is gone before the edited text is built, so the peak
//! is the text and the tree at once, or the text and its edited copy.
//!
//! With `borrowed` as the third argument, the input stays in memory and is
//! opened with `Document::parse` and written with `render`, as a caller that
//! keeps the document after writing it would: the input, the document's
//! copy of it, the tree and the output are then held at once.

#[path = "../benches/support/axis2_like.rs"]
mod axis2_like;

use std::time::Instant;

use xmlsplice::Document;

fn main() {
    let arg = |i: usize| std::env::args().nth(i);
    let mb: usize = arg(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let runs: usize = arg(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    let borrowed = arg(3).as_deref() == Some("borrowed");
    let input = axis2_like::axis2_like(axis2_like::SHIPPED_MIX, mb * 1_000_000);
    let size = input.len();
    let (mut times, mode) = if borrowed {
        (
            time_runs(runs, size, || render_borrowed(&input)),
            "parse+5 edits+render",
        )
    } else {
        let path =
            std::env::temp_dir().join(format!("xmlsplice-throughput-{}.xml", std::process::id()));
        std::fs::write(&path, &input).expect("writes the input");
        drop(input);
        let times = time_runs(runs, size, || {
            let bytes = std::fs::read(&path).expect("reads the input");
            let started = Instant::now();
            let mut doc = Document::parse_owned(bytes).expect("parses");
            axis2_like::five_edits(&mut doc);
            let out = doc.into_rendered().expect("renders");
            (started.elapsed().as_secs_f64(), out.len())
        });
        std::fs::remove_file(&path).expect("removes the input");
        (times, "parse_owned+5 edits+into_rendered")
    };
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{:.1} MB: {mode} median {median:.3} s = {:.0} MB/s (runs: {runs})",
        size as f64 / 1e6,
        size as f64 / 1e6 / median
    );
}

/// Runs `run` `runs` times; each returns its time and its output's length,
/// which must be about the input's `size`.
fn time_runs(runs: usize, size: usize, mut run: impl FnMut() -> (f64, usize)) -> Vec<f64> {
    (0..runs)
        .map(|_| {
            let (secs, len) = run();
            assert!(len > size / 2, "the output is {len} bytes");
            secs
        })
        .collect()
}

fn render_borrowed(input: &[u8]) -> (f64, usize) {
    let started = Instant::now();
    let mut doc = Document::parse(input).expect("parses");
    axis2_like::five_edits(&mut doc);
    let out = doc.render().expect("renders");
    (started.elapsed().as_secs_f64(), out.len())
}
