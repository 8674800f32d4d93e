//! The append-only journal of revocations and rotations: one JSON object per line, written and
//! synced to disk before an action is attempted, after each of its steps, and when it ends. Secrets
//! appear only as SHA-256 hashes. Reading it back tells a rerun what is already done (never revoke
//! twice, never mint twice) and what was interrupted (a `started` line with no end: verify again
//! before revoking; for a rotation, carry on from the last step recorded).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use keysweep_core::finding::Status;
use serde::{Deserialize, Serialize};

use super::files;
use crate::adapter::RetireStep;

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
    /// Rotation: the new secret was minted and saved to its recovery file.
    Minted,
    /// Rotation: the new secret reached the sink; `retire` gives when each retirement step is due.
    Delivered,
    /// Rotation: one retirement step (`step`) was done.
    Retired,
    /// Rotation: a step (`step`) failed and will be tried again by a later run.
    StepFailed,
}

/// A step of a rotation, in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Deliver,
    Deactivate,
    Delete,
    /// Written by a newer keysweep.
    #[serde(other)]
    Other,
}

impl From<RetireStep> for Step {
    fn from(s: RetireStep) -> Step {
        match s {
            RetireStep::Deactivate => Step::Deactivate,
            RetireStep::Delete => Step::Delete,
        }
    }
}

impl Step {
    pub fn retire_step(self) -> Option<RetireStep> {
        match self {
            Step::Deactivate => Some(RetireStep::Deactivate),
            Step::Delete => Some(RetireStep::Delete),
            _ => None,
        }
    }
}

/// A retirement step of a rotation: on `started`, its delay after delivery; on `delivered`, when
/// it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    pub step: Step,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_secs: Option<u64>,
    /// RFC 3339, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
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
    /// Written by earlier versions; a rerun now delivers it again.
    DeliveryFailed,
    /// Rotation: delivered, and the old secret retired by keysweep's own steps (AWS, Twilio).
    Retired,
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
            Outcome::Retired => "retired",
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
    /// Rotation: which step a `retired` or `step_failed` line is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    /// Rotation: the retirement steps (see [`Planned`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retire: Vec<Planned>,
    /// Rotation: the hash of the old credential's public id (an AWS access key id, a Twilio key
    /// SID), by which a later run finds it in the provider's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_id_sha256: Option<String>,
    /// Rotation: minting leaves the old credential valid, so every run mints.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keeps_old: bool,
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
            step: None,
            retire: Vec::new(),
            old_id_sha256: None,
            keeps_old: false,
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

/// Every whole entry of the journal, in order. A missing journal has none; unreadable lines are
/// skipped (a crash may leave half a line at the end).
fn entries(path: &Path) -> Result<Vec<Entry>, String> {
    let file = match files::open_existing_regular(path) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read journal {}: {e}", path.display())),
    };
    let mut out = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("cannot read journal {}: {e}", path.display()))?;
        out.extend(serde_json::from_str::<Entry>(&line).ok());
    }
    Ok(out)
}

/// The last word on each `(action, secret hash)`. A missing journal is an empty one; unreadable
/// lines are skipped (a crash may leave half a line at the end).
pub fn load(path: &Path) -> Result<History, String> {
    let mut out = HashMap::new();
    for e in entries(path)? {
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
            // Rotations are read by [`rotations`].
            _ => {}
        }
    }
    Ok(out)
}

/// Where a rotation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotState {
    /// Minting was attempted and nothing after it was recorded.
    Started,
    /// Minted and saved to the recovery file; not delivered.
    Minted,
    /// Delivered; retirement steps may remain.
    Delivered,
    Finished(Outcome),
}

/// One rotation of one credential, as the journal tells it.
#[derive(Debug, Clone)]
pub struct RotationRecord {
    pub provider: String,
    pub rule_id: String,
    pub state: RotState,
    pub started_ts: String,
    /// The time of the last line about it.
    pub ts: String,
    pub new_secret_sha256: Vec<String>,
    pub recovery_file: Option<PathBuf>,
    /// The retirement steps as planned when it started (with their delays).
    pub plan: Vec<Planned>,
    /// The same steps with their due times, once delivered.
    pub schedule: Vec<Planned>,
    pub done: Vec<RetireStep>,
    pub old_id_sha256: Option<String>,
    pub keeps_old: bool,
    /// What the last failed step said.
    pub last_failure: Option<String>,
}

impl RotationRecord {
    /// The first retirement step not done, with when it is due (`None` before delivery).
    pub fn next_step(&self) -> Option<(RetireStep, Option<&str>)> {
        let planned = if self.schedule.is_empty() {
            &self.plan
        } else {
            &self.schedule
        };
        planned.iter().find_map(|p| {
            let step = p.step.retire_step()?;
            (!self.done.contains(&step)).then_some((step, p.not_before.as_deref()))
        })
    }
}

/// Every rotation in the journal: by the hash of the credential rotated (its latest rotation), and
/// which rotation minted each new secret.
#[derive(Debug, Default)]
pub struct Rotations {
    pub by_old: HashMap<String, RotationRecord>,
    pub by_new: HashMap<String, String>,
}

impl Rotations {
    /// The unfinished rotation that minted the credential with hash `sha`, if any.
    pub fn replaced_by(&self, sha: &str) -> Option<(&str, &RotationRecord)> {
        let old = self.by_new.get(sha)?;
        let r = self.by_old.get(old)?;
        (!matches!(r.state, RotState::Finished(_)) && r.new_secret_sha256.iter().any(|h| h == sha))
            .then_some((old.as_str(), r))
    }
}

/// Reads every rotation. As with [`load`], a missing journal is empty and torn lines are skipped.
pub fn rotations(path: &Path) -> Result<Rotations, String> {
    let mut out = Rotations::default();
    for e in entries(path)? {
        if e.action != Action::Rotate {
            continue;
        }
        if e.phase == Phase::Started {
            out.by_old.insert(
                e.secret_sha256.clone(),
                RotationRecord {
                    provider: e.provider.clone(),
                    rule_id: e.rule_id.clone(),
                    state: RotState::Started,
                    started_ts: e.ts.clone(),
                    ts: e.ts.clone(),
                    new_secret_sha256: Vec::new(),
                    recovery_file: None,
                    plan: e.retire.clone(),
                    schedule: Vec::new(),
                    done: Vec::new(),
                    old_id_sha256: e.old_id_sha256.clone(),
                    keeps_old: e.keeps_old,
                    last_failure: None,
                },
            );
            continue;
        }
        let Some(r) = out.by_old.get_mut(&e.secret_sha256) else {
            continue;
        };
        r.ts = e.ts.clone();
        if !e.new_secret_sha256.is_empty() {
            r.new_secret_sha256 = e.new_secret_sha256.clone();
            for h in &e.new_secret_sha256 {
                out.by_new.insert(h.clone(), e.secret_sha256.clone());
            }
        }
        if let Some(f) = &e.recovery_file {
            r.recovery_file = Some(PathBuf::from(f));
        }
        match e.phase {
            Phase::Minted => r.state = RotState::Minted,
            Phase::Delivered => {
                r.state = RotState::Delivered;
                r.schedule = e.retire.clone();
                r.last_failure = None;
            }
            Phase::Retired => {
                if let Some(step) = e.step.and_then(Step::retire_step)
                    && !r.done.contains(&step)
                {
                    r.done.push(step);
                }
                r.last_failure = None;
            }
            Phase::StepFailed => r.last_failure = e.detail.clone(),
            Phase::Finished => {
                r.state = match e.outcome.unwrap_or(Outcome::Other) {
                    // Earlier versions ended a failed delivery here; the secret waits in its
                    // recovery file, so it is a minted secret to deliver.
                    Outcome::DeliveryFailed if r.recovery_file.is_some() => RotState::Minted,
                    o => RotState::Finished(o),
                };
                r.last_failure = e.detail.clone();
            }
            Phase::Started | Phase::Confirmed => {}
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
