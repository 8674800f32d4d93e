//! The append-only journal of revocations and rotations: one JSON object per line, written and
//! synced to disk before an action is attempted and again when it ends. Secrets appear only as
//! SHA-256 hashes. Reading it back tells a rerun what is already done (never revoke twice) and what
//! was interrupted (a `started` line with no end: verify again before acting).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub ts: String,
    /// `revoke` or `rotate`.
    pub action: String,
    /// `started`, `finished` or `confirmed` (the re-verification after a revocation).
    pub phase: String,
    pub provider: String,
    pub rule_id: String,
    pub secret_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Hashes of the secrets a rotation minted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_secret_sha256: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_file: Option<String>,
}

impl Entry {
    pub fn new(action: &str, phase: &str, provider: &str, rule_id: &str, sha: &str) -> Entry {
        Entry {
            ts: now(),
            action: action.to_string(),
            phase: phase.to_string(),
            provider: provider.to_string(),
            rule_id: rule_id.to_string(),
            secret_sha256: sha.to_string(),
            outcome: None,
            detail: None,
            new_secret_sha256: Vec::new(),
            recovery_file: None,
        }
    }
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The default journal: `<state dir>/keysweep/journal.jsonl` (`~/.local/state` on Linux).
pub fn default_path() -> Result<PathBuf> {
    let base = dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .context("no state directory for the journal; pass --journal FILE")?;
    Ok(base.join("keysweep").join("journal.jsonl"))
}

pub fn path_or_default(explicit: Option<&Path>) -> Result<PathBuf> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => default_path(),
    }
}

/// What the journal says about one secret and action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Finished with this outcome at this time.
    Done { outcome: String, ts: String },
    /// Started and never finished: the run was interrupted.
    Interrupted { ts: String },
}

/// The last word on each `(action, secret hash)`. A missing journal is an empty one; unreadable
/// lines are skipped (a crash may leave half a line at the end).
pub fn load(path: &Path) -> Result<HashMap<(String, String), State>> {
    let mut out = HashMap::new();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read journal {}", path.display()));
        }
    };
    for line in BufReader::new(file).lines() {
        let line = line.with_context(|| format!("cannot read journal {}", path.display()))?;
        let Ok(e) = serde_json::from_str::<Entry>(&line) else {
            continue;
        };
        let key = (e.action.clone(), e.secret_sha256.clone());
        match e.phase.as_str() {
            "started" => {
                out.insert(key, State::Interrupted { ts: e.ts });
            }
            "finished" => {
                out.insert(
                    key,
                    State::Done {
                        outcome: e.outcome.unwrap_or_default(),
                        ts: e.ts,
                    },
                );
            }
            _ => {}
        }
    }
    Ok(out)
}

pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens for appending, creating the file (0600) and its directory (0700) if needed.
    pub fn open(path: &Path) -> Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts
            .open(path)
            .with_context(|| format!("cannot open journal {}", path.display()))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and syncs it to disk before returning.
    pub fn record(&mut self, entry: &Entry) -> Result<()> {
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("cannot write journal {}", self.path.display()))
    }
}

pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_word_wins_and_torn_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j").join("journal.jsonl");
        let mut j = Journal::open(&p).unwrap();
        j.record(&Entry::new("revoke", "started", "slack", "r", "aa"))
            .unwrap();
        let mut done = Entry::new("revoke", "finished", "slack", "r", "aa");
        done.outcome = Some("revoked".into());
        j.record(&done).unwrap();
        j.record(&Entry::new("revoke", "started", "slack", "r", "bb"))
            .unwrap();
        drop(j);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"{\"ts\":\"x\",\"act")
            .unwrap();
        let st = load(&p).unwrap();
        assert!(matches!(
            st.get(&("revoke".into(), "aa".into())),
            Some(State::Done { outcome, .. }) if outcome == "revoked"
        ));
        assert!(matches!(
            st.get(&("revoke".into(), "bb".into())),
            Some(State::Interrupted { .. })
        ));
        assert!(load(&dir.path().join("none")).unwrap().is_empty());
    }
}
