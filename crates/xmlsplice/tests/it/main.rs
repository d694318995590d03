//! The engine's integration tests: one test binary, a module per concern.

mod commented;
mod edits;
mod errors;
mod fuzz_corpus;
mod names;
mod paths;
mod properties;
#[path = "../support/mod.rs"]
mod support;
mod values;
