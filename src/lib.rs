//! keysweep's library: the binary in `main.rs` is a thin shell over these modules, and benchmarks and
//! tests reach the engine through them.

pub mod action;
pub mod atomic;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod engine;
pub mod finding;
pub mod hook;
pub mod provider;
pub mod report;
pub mod rules;
pub mod rules_cmd;
pub mod scan;
pub mod source;
pub mod ui;
