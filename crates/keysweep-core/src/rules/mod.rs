//! The rule model: rule files, their checks, and compiled rules for the engine.
//!
//! A rule file is TOML: a top-level `provider`, an optional `[api]` table (embedded pack only) and one
//! `[[rule]]` table per rule. `rules/README.md` documents the schema. The default pack (`rules/*.toml`)
//! is embedded at build time by `build.rs`.

mod load;
mod model;
pub mod request;
pub mod validate;

pub(crate) use load::toml_error;
pub use load::{
    check_unique, default_rules, embedded_api, embedded_apis, embedded_rule, embedded_rules,
    load_rule_file, parse_rule_file,
};
pub use model::*;
