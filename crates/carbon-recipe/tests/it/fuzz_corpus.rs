//! The recipe fuzz target in the bounded form CI affords: every input in
//! `fuzz/corpus/recipe/` and `fuzz/regressions/recipe/` through the check the
//! fuzzer runs (`tests/support/fuzz.rs`). The long runs are
//! `cargo fuzz run recipe` (fuzz/README.md; numbers in docs/security.md).

#[path = "../support/fuzz.rs"]
mod fuzz;

#[test]
fn every_corpus_input_is_handled_without_a_panic() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join("fuzz").join(dir).join("recipe")) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            eprintln!("{}", path.display());
            fuzz::check_fuzz_input(&std::fs::read(&path).unwrap());
            count += 1;
        }
    }
    assert!(count >= 6, "the seed corpus is in fuzz/corpus/recipe");
}
