//! Git sources: the whole history (each distinct blob once) and the staged index.

pub mod exposure;
pub mod history;
pub mod staged;

use std::ffi::OsStr;
use std::path::Path;

use git2::{Repository, RepositoryOpenFlags};

use crate::error::{Error, Result};

/// Opens the repository containing `path`: a working tree, a linked worktree or a bare repository.
pub fn open(path: &Path) -> Result<Repository> {
    Repository::open_ext(path, RepositoryOpenFlags::empty(), &[] as &[&OsStr])
        .map_err(|e| Error::git(format!("{} is not in a git repository", path.display()), &e))
}
