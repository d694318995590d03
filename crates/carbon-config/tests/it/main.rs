//! Carbon operations on the sample homes: one test binary, a module per
//! concern.

mod compare;
mod deployment;
mod errors;
mod operations;
mod validation;
