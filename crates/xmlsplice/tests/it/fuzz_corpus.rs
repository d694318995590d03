//! The engine fuzz target in the bounded form CI affords: every input in
//! `fuzz/corpus/engine/` and `fuzz/regressions/engine/` (crashes the fuzzer
//! found, kept once fixed), then a few thousand deterministic mutations of
//! them, all through the same check the fuzzer runs
//! (`crate::support::invariants::check_fuzz_input`). The long runs are
//! `cargo fuzz run engine` (fuzz/README.md; numbers in docs/security.md).

use crate::support::invariants::check_fuzz_input;
use crate::support::Rng;

fn inputs(kind: &str) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for dir in ["corpus", "regressions"] {
        let dir = crate::support::workspace_root()
            .join("fuzz")
            .join(dir)
            .join(kind);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            found.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    found.sort();
    found
}

#[test]
fn every_corpus_input_keeps_the_invariants() {
    let inputs = inputs("engine");
    assert!(
        inputs.len() >= 20,
        "the seed corpus is in fuzz/corpus/engine"
    );
    for (name, data) in &inputs {
        eprintln!("{name}");
        check_fuzz_input(data);
    }
}

/// Byte-level mutations like a fuzzer's: flip, insert a token, delete a
/// span, duplicate a span.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    const TOKENS: &[&[u8]] = &[
        b"<",
        b">",
        b"/>",
        b"<!--",
        b"-->",
        b"&amp;",
        b"&#x0;",
        b"\r\n",
        b"\"",
        b"<![CDATA[",
        b"]]>",
        b"<!DOCTYPE a [<!ENTITY e \"x\">]>",
        b"&e;",
        b"\xC3",
        b"\0",
        b"xmlns:p=\"u\"",
    ];
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(4) {
            0 if at < data.len() => data[at] ^= 1 << rng.below(8),
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at..end);
            }
            _ => {
                let end = (at + rng.below(256)).min(data.len());
                let span = data[at..end].to_vec();
                data.splice(at..at, span);
            }
        }
    }
}

#[test]
fn mutated_corpus_inputs_keep_the_invariants() {
    // FUZZ_MUTATIONS=100000 for a longer run without cargo-fuzz.
    let rounds: usize = std::env::var("FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let inputs = inputs("engine");
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for round in 0..rounds {
        let (name, seed) = &inputs[rng.below(inputs.len())];
        let mut data = seed.clone();
        mutate(&mut rng, &mut data);
        let outcome = std::panic::catch_unwind(|| check_fuzz_input(&data));
        if outcome.is_err() {
            let kept = std::env::temp_dir().join(format!("engine-mutation-{round}"));
            std::fs::write(&kept, &data).unwrap();
            panic!(
                "mutation {round} of {name} broke an invariant; input kept in {}",
                kept.display()
            );
        }
    }
}
