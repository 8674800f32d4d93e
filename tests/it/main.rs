//! The integration tests, one binary: each module drives the built `keysweep` binary (fake provider
//! servers on 127.0.0.1, repositories built by the tests). One binary links once instead of once per
//! file, which was most of a clean `cargo test`.

mod common;
mod gitfix;

mod audit;
mod baseline;
mod config;
mod detection;
mod history;
mod hostile_actions;
mod hostile_cli;
mod hostile_files;
mod hostile_git;
mod hygiene;
mod provider_fixtures;
mod provider_huggingface;
mod provider_matrix;
mod provider_revoke;
mod provider_rotate;
mod provider_verify;
mod rule_pack;
mod sarif;
mod scan_files;
mod staged;
mod wild;
