//! The XML engine on arbitrary bytes: never a panic; what parses renders
//! back byte for byte, and one edit on it keeps the edit invariants (see
//! crates/xmlsplice/tests/support/invariants.rs).
#![no_main]

#[path = "../../crates/xmlsplice/tests/support/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| invariants::check_fuzz_input(data));
