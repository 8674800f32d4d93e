//! Where bytes come from: files and directories, stdin, git history, the staged index.

pub mod files;
pub mod history;
pub mod staged;
pub mod stdin;
