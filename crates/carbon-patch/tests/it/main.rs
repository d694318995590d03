//! The built binary, end to end: one test binary, a module per concern.

mod attacks;
mod cli;
mod common;
mod crash;
mod faults;
mod fleet;
mod terminal;
