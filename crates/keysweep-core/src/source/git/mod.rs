//! Git sources: the whole history (each distinct blob once) and the staged index.

pub mod exposure;
pub mod history;
pub mod objects;
pub mod odb;
pub mod pack;
pub mod staged;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use git2::{Repository, RepositoryOpenFlags};

use crate::error::{Error, Result};

/// Opens the repository containing `path`: a working tree, a linked worktree or a bare repository.
pub fn open(path: &Path) -> Result<Repository> {
    Repository::open_ext(path, RepositoryOpenFlags::empty(), &[] as &[&OsStr])
        .map_err(|e| Error::git(format!("{} is not in a git repository", path.display()), &e))
}

/// Configuration keys whose values git would run as commands, or that start processes, overridden on
/// every git invocation. `-c` outranks every config file, the repository's included: a cloned or
/// extracted repository's `.git/config` is written by whoever made it.
const NEUTRALISED: &[&str] = &[
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.editor=false",
    "core.sshCommand=false",
    "core.askPass=false",
    "core.gitProxy=false",
    "core.untrackedCache=false",
    "diff.external=",
    "credential.helper=",
    "protocol.allow=never",
    "submodule.recurse=false",
];

/// Environment variables that name commands for git to run: never passed on.
const COMMAND_VARS: &[&str] = &[
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_PROXY_COMMAND",
    "GIT_TRACE",
    "GIT_TRACE2",
    "GIT_TRACE2_EVENT",
    "GIT_TRACE2_PERF",
];

/// A `git` command in `workdir` that nothing in the repository can make run another command: every
/// command-valued setting overridden, no pager, no external diff or textconv (callers pass
/// `--no-ext-diff --no-textconv` to commands that diff), no index refresh or lock. Every keysweep
/// invocation of git goes through here.
pub fn command(workdir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(workdir);
    for var in COMMAND_VARS {
        c.env_remove(var);
    }
    // Never take an index lock or refresh the index: a scan must not change the repository, and a
    // refresh is what runs fsmonitor and index hooks.
    c.env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0")
        .arg("--no-pager");
    for setting in NEUTRALISED {
        c.args(["-c", setting]);
    }
    c.stdin(std::process::Stdio::null());
    c
}
