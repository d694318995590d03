//! Recipes end to end: one test binary, a module per concern.

mod fuzz_corpus;
mod recipes;
