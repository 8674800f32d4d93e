//! The append-only journal of revocations and rotations: one JSON object per line, written and
//! synced to disk before an action is attempted and again when it ends. Secrets appear only as
//! SHA-256 hashes. Reading it back tells a rerun what is already done (never revoke twice) and what
//! was interrupted (a `started` line with no end: verify again before acting).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use keysweep_core::finding::Status;
use serde::{Deserialize, Serialize};

use super::files;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Revoke,
    Rotate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Started,
    Finished,
    /// The re-verification after a revocation.
    Confirmed,
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Revocation: the provider confirmed it.
    Revoked,
    /// Revocation: accepted, to be processed by the provider.
    Requested,
    /// Revocation: the provider said the secret was already dead.
    AlreadyDead,
    /// Nothing was done (refused, or could not be sent).
    Failed,
    /// Rotation: the new secret reached its sink.
    Delivered,
    /// Rotation: the new secret was minted but did not reach its sink (see `recovery_file`).
    DeliveryFailed,
    /// The request may have reached the provider and its answer was lost: the old secret may be
    /// retired and a new one minted. Never retried automatically.
    Unknown,
    /// Written by a newer keysweep.
    #[serde(other)]
    Other,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Revoked => "revoked",
            Outcome::Requested => "requested",
            Outcome::AlreadyDead => "already_dead",
            Outcome::Failed => "failed",
            Outcome::Delivered => "delivered",
            Outcome::DeliveryFailed => "delivery_failed",
            Outcome::Unknown => "unknown",
            Outcome::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub ts: String,
    pub action: Action,
    pub phase: Phase,
    pub provider: String,
    pub rule_id: String,
    pub secret_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// For `confirmed`: what verifying again said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Hashes of the secrets a rotation minted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_secret_sha256: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_file: Option<String>,
}

impl Entry {
    pub fn new(action: Action, phase: Phase, provider: &str, rule_id: &str, sha: &str) -> Entry {
        Entry {
            ts: crate::now(),
            action,
            phase,
            provider: provider.to_string(),
            rule_id: rule_id.to_string(),
            secret_sha256: sha.to_string(),
            outcome: None,
            status: None,
            detail: None,
            new_secret_sha256: Vec::new(),
            recovery_file: None,
        }
    }

    pub fn finished(
        action: Action,
        provider: &str,
        rule_id: &str,
        sha: &str,
        outcome: Outcome,
    ) -> Entry {
        Entry {
            outcome: Some(outcome),
            ..Entry::new(action, Phase::Finished, provider, rule_id, sha)
        }
    }
}

/// The default journal: `<state dir>/keysweep/journal.jsonl` (`~/.local/state` on Linux).
pub fn default_path() -> Result<PathBuf, String> {
    let base = dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .ok_or("no state directory for the journal; pass --journal FILE")?;
    Ok(base.join("keysweep").join("journal.jsonl"))
}

pub fn path_or_default(explicit: Option<&Path>) -> Result<PathBuf, String> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => default_path(),
    }
}

/// What the journal says about one secret and action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Finished with this outcome at this time.
    Done { outcome: Outcome, ts: String },
    /// Started and never finished: the run was interrupted.
    Interrupted { ts: String },
}

pub type History = HashMap<(Action, String), State>;

/// The last word on each `(action, secret hash)`. A missing journal is an empty one; unreadable
/// lines are skipped (a crash may leave half a line at the end).
pub fn load(path: &Path) -> Result<History, String> {
    let mut out = HashMap::new();
    let file = match files::open_existing_regular(path) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(out),
        Err(e) => return Err(format!("cannot read journal {}: {e}", path.display())),
    };
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("cannot read journal {}: {e}", path.display()))?;
        let Ok(e) = serde_json::from_str::<Entry>(&line) else {
            continue;
        };
        let key = (e.action, e.secret_sha256.clone());
        match e.phase {
            Phase::Started => {
                out.insert(key, State::Interrupted { ts: e.ts });
            }
            Phase::Finished => {
                out.insert(
                    key,
                    State::Done {
                        outcome: e.outcome.unwrap_or(Outcome::Other),
                        ts: e.ts,
                    },
                );
            }
            Phase::Confirmed => {}
        }
    }
    Ok(out)
}

pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens for appending, creating the file (0600) and its directory (0700) if needed. The journal
    /// must be a regular file: a symlink or a FIFO planted at its path is refused.
    pub fn open(path: &Path) -> Result<Journal, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::create_private_dir(dir)?;
        }
        let file = files::open_append_regular(path)
            .map_err(|e| format!("cannot open journal {}: {e}", path.display()))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and syncs it to disk before returning.
    pub fn record(&mut self, entry: &Entry) -> Result<(), String> {
        let mut line = serde_json::to_vec(entry).map_err(|e| e.to_string())?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|_| self.file.sync_data())
            .map_err(|e| format!("cannot write journal {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_word_wins_and_torn_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j").join("journal.jsonl");
        let mut j = Journal::open(&p).unwrap();
        j.record(&Entry::new(
            Action::Revoke,
            Phase::Started,
            "slack",
            "r",
            "aa",
        ))
        .unwrap();
        j.record(&Entry::finished(
            Action::Revoke,
            "slack",
            "r",
            "aa",
            Outcome::Revoked,
        ))
        .unwrap();
        j.record(&Entry::new(
            Action::Revoke,
            Phase::Started,
            "slack",
            "r",
            "bb",
        ))
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
            st.get(&(Action::Revoke, "aa".into())),
            Some(State::Done {
                outcome: Outcome::Revoked,
                ..
            })
        ));
        assert!(matches!(
            st.get(&(Action::Revoke, "bb".into())),
            Some(State::Interrupted { .. })
        ));
        assert!(load(&dir.path().join("none")).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_or_special_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "").unwrap();
        let link = dir.path().join("journal.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(Journal::open(&link).is_err());
        assert!(load(&link).is_err());
        let fifo = dir.path().join("fifo.jsonl");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        // Refused at once, not blocked waiting for a reader.
        assert!(Journal::open(&fifo).is_err());
    }
}
