//! Open, edit and render throughput (`cargo bench -p xmlsplice`).
//!
//! Inputs are built from fixtures/xml/axis2-crlf.xml: its clustering section,
//! behind as many copies of typical axis2.xml content (transports, message
//! receivers, phases, comments) as it takes to reach 40 KB (a real axis2.xml)
//! and 10 MB (the engine's throughput target). The edits are the five a
//! clustering change makes; the "spread" variant adds one outside
//! <clustering>, which makes the render check re-parse the whole document.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use xmlsplice::{Document, Place};

#[path = "support/axis2_like.rs"]
mod axis2_like;

use axis2_like::{axis2_like, five_edits, DENSE, SHIPPED_MIX};

fn bench(c: &mut Criterion) {
    let inputs = [
        ("shipped-mix-40KB", SHIPPED_MIX, 40_000, false),
        ("shipped-mix-10MB", SHIPPED_MIX, 10_000_000, false),
        // roxmltree normalises CRLF in every text node, which costs it about
        // 40%: the same file with LF endings shows the engine without that.
        ("shipped-mix-LF-10MB", SHIPPED_MIX, 10_000_000, true),
        ("dense-markup-10MB", DENSE, 10_000_000, false),
        // The fleet target: 50 MB (memory: examples/throughput.rs).
        ("shipped-mix-50MB", SHIPPED_MIX, 50_000_000, false),
    ];
    for (label, filler, size, lf) in inputs {
        let mut input = axis2_like(filler, size);
        if lf {
            input = String::from_utf8(input)
                .unwrap()
                .replace("\r\n", "\n")
                .into_bytes();
        }
        let mut group = c.benchmark_group(label);
        group.throughput(Throughput::Bytes(input.len() as u64));
        if size > 1_000_000 {
            group.sample_size(10);
        }
        // The floor: roxmltree parsing the same text, with nothing else.
        let text = std::str::from_utf8(&input).unwrap();
        group.bench_function("roxmltree parse (baseline)", |b| {
            b.iter(|| roxmltree::Document::parse(text).unwrap().root().id())
        });
        group.bench_function("open", |b| b.iter(|| Document::parse(&input).unwrap()));
        group.bench_function("open+5 edits+render", |b| {
            b.iter(|| {
                let mut doc = Document::parse(&input).unwrap();
                five_edits(&mut doc);
                doc.render().unwrap()
            })
        });
        group.bench_function("open+6 spread edits+render", |b| {
            b.iter(|| {
                let mut doc = Document::parse(&input).unwrap();
                five_edits(&mut doc);
                let first = doc.select_one("parameter[@name='hotdeployment']").unwrap();
                doc.insert(
                    Place::After(first),
                    "<parameter name=\"extra\">1</parameter>",
                )
                .unwrap();
                doc.render().unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
