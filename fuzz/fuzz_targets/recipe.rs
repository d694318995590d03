//! The recipe parser on arbitrary text: never a panic; errors render; what
//! parses resolves every node (see crates/carbon-recipe/tests/support/fuzz.rs).
#![no_main]

#[path = "../../crates/carbon-recipe/tests/support/fuzz.rs"]
mod fuzz;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::check_fuzz_input(data));
