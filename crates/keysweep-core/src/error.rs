//! The library's errors. Messages name the file, line and field at fault, never a value read from
//! the input: a config or a rule file may hold a secret (an allowlisted literal, an example).

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration, rule, baseline, ignore or report file that does not say what it must.
    #[error("{file}{}: {msg}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        file: String,
        line: Option<usize>,
        msg: String,
    },
    /// A rule that cannot be used; `field` names the offending field of the rule.
    #[error("{origin}: rule `{id}`: {}{msg}", field.map(|f| format!("field `{f}` ")).unwrap_or_default())]
    Rule {
        origin: String,
        id: String,
        field: Option<&'static str>,
        msg: String,
    },
    // The I/O error is part of the message and not a `source`, so that a chain printed whole
    // (`{:#}`) does not say it twice.
    #[error("cannot read {path}: {why}")]
    Read { path: String, why: std::io::Error },
    #[error("cannot write {path}: {why}")]
    Write { path: String, why: std::io::Error },
    /// A repository that cannot be opened or walked, or a revision that names nothing.
    #[error("{0}")]
    Git(String),
    /// Options that contradict each other or name something that does not exist.
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn read(path: &Path, source: std::io::Error) -> Error {
        Error::Read {
            path: path.display().to_string(),
            why: source,
        }
    }

    pub fn write(path: &Path, source: std::io::Error) -> Error {
        Error::Write {
            path: path.display().to_string(),
            why: source,
        }
    }

    pub fn invalid(file: impl Into<String>, line: Option<usize>, msg: impl Into<String>) -> Error {
        Error::Invalid {
            file: file.into(),
            line,
            msg: msg.into(),
        }
    }

    /// libgit2's message without its class and code numbers.
    pub fn git(context: impl std::fmt::Display, e: &git2::Error) -> Error {
        Error::Git(format!("{context}: {}", e.message()))
    }
}
