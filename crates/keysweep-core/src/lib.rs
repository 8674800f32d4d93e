//! keysweep's scanner, with no network and no command line: the rule model and the matching engine,
//! the sources that produce bytes (files, stdin, git history, the staged index), findings and secrets,
//! suppression (baselines, ignore files, allowlists), configuration, and the report printers.
//!
//! The pipeline is one way: a source hands `(Origin, bytes)` to a consumer, [`scan`] runs the engine
//! on them, suppression and reports read findings. Verification, revocation and rotation live in the
//! `keysweep-provider` crate, which is the only one with an HTTP client.

pub mod atomic;
pub mod config;
pub mod engine;
pub mod error;
pub mod finding;
pub mod path_class;
pub mod policy;
pub mod report;
pub mod rules;
pub mod scan;
pub mod secret;
pub mod source;
pub mod stats;
pub mod suppress;
pub mod text;

pub use error::{Error, Result};
