//! Rotation: mint the replacement, deliver it to its sink, journal every step. The provider retires
//! the old secret as part of minting (Slack's refresh exchange, GitLab's `self/rotate`), so keysweep
//! revokes nothing itself here; what it guarantees is that the new secret reaches the sink or a
//! recovery file, and that a journaled rotation is never replayed.

use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};

use super::journal::{self, Entry, Journal, State};
use super::sink::{self, Sink};
use crate::finding::sha256_hex;
use crate::provider::Minted;

/// Rotates one secret: journal `started`, `mint`, save to a recovery file, deliver, remove the
/// recovery file, journal `finished`. Returns an error when minting or delivery failed (the message
/// names the recovery file when there is one).
pub fn rotate_one(
    journal_path: &Path,
    sink: &Sink,
    provider: &str,
    rule_id: &str,
    old_secret: &str,
    mint: impl FnOnce() -> Result<Minted>,
    out: &mut dyn Write,
) -> Result<()> {
    let sha = sha256_hex(old_secret.as_bytes());
    let recovery_dir = sink::recovery_dir(journal_path);
    // Recovery files are named after the old secret, so that a rerun finds what an interrupted
    // rotation minted instead of presenting the retired secret again (GitLab answers a reused token
    // by revoking the new one as well).
    let tag = format!("{provider}-{}", &sha[..12]);
    match journal::load(journal_path)?.get(&("rotate".to_string(), sha.clone())) {
        Some(State::Done { outcome, ts }) if outcome != "failed" => bail!(
            "the journal shows this {provider} secret was already rotated on {ts} ({outcome}); \
             it has been retired, so it is not used again (the new one went to the sink{})",
            if outcome == "delivery_failed" {
                " or a recovery file, see the journal"
            } else {
                ""
            }
        ),
        Some(State::Interrupted { ts }) => {
            if let Some(saved) = sink::find_recovery(&recovery_dir, &tag) {
                let mut end = Entry::new("rotate", "finished", provider, rule_id, &sha);
                end.outcome = Some("delivery_failed".to_string());
                end.detail = Some("interrupted after minting".to_string());
                end.recovery_file = Some(saved.display().to_string());
                Journal::open(journal_path)?.record(&end)?;
                bail!(
                    "an earlier rotation of this {provider} secret, started on {ts}, was interrupted \
                     after the new secret was minted; it is saved in the recovery file {} (mode \
                     0600): deliver it yourself unless it already reached the sink, then delete that \
                     file. The old secret is retired and was not used again.",
                    saved.display()
                );
            }
            writeln!(
                out,
                "note: an earlier rotation of this {provider} secret started on {ts} and did not \
                 finish before minting; trying again"
            )?
        }
        _ => {}
    }
    let mut journal = Journal::open(journal_path)?;
    journal.record(&Entry::new("rotate", "started", provider, rule_id, &sha))?;
    let minted = match mint() {
        Ok(m) => m,
        Err(e) => {
            let mut end = Entry::new("rotate", "finished", provider, rule_id, &sha);
            end.outcome = Some("failed".to_string());
            end.detail = Some(crate::provider::short(&format!("{e:#}")));
            journal.record(&end)?;
            return Err(e);
        }
    };
    let new_hashes: Vec<String> = minted
        .secrets
        .iter()
        .map(|s| sha256_hex(s.as_bytes()))
        .collect();
    let recovery = sink::write_recovery(&recovery_dir, &tag, &minted.payload);
    let delivered = sink.deliver(&minted.payload);
    let mut end = Entry::new("rotate", "finished", provider, rule_id, &sha);
    end.new_secret_sha256 = new_hashes;
    match delivered {
        Ok(()) => {
            end.outcome = Some("delivered".to_string());
            // Journaled first: a crash in between leaves a file a rerun reports, not a rotation
            // it would retry.
            journal.record(&end)?;
            if let Ok(p) = &recovery {
                let _ = std::fs::remove_file(p);
            }
            writeln!(
                out,
                "rotated: {}; delivered to {}",
                minted.summary,
                describe(sink)
            )?;
            Ok(())
        }
        Err(e) => {
            end.outcome = Some("delivery_failed".to_string());
            end.detail = Some(crate::provider::short(&format!("{e:#}")));
            end.recovery_file = recovery.as_ref().ok().map(|p| p.display().to_string());
            journal.record(&end)?;
            match recovery {
                Ok(p) => bail!(
                    "{e:#}; the new secret was NOT delivered and is saved in the recovery file {} \
                     (mode 0600): deliver it yourself, then delete that file. Nothing else was done.",
                    p.display()
                ),
                Err(re) => bail!(
                    "{e:#}; the new secret could not be delivered nor saved ({re:#}); the old one \
                     has been retired by the provider"
                ),
            }
        }
    }
}

fn describe(sink: &Sink) -> String {
    match sink {
        Sink::Stdout => "stdout".to_string(),
        Sink::File(p) => format!("file {}", p.display()),
        Sink::Exec(_) => "the sink command".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted() -> Result<Minted> {
        let new = ["glpat-", "Vq8sLm2Xr7TbZk4NwPc9"].concat();
        Ok(Minted {
            payload: serde_json::json!({ "token": new }),
            secrets: vec![new],
            summary: "new token".to_string(),
        })
    }

    /// A `started` entry with no end: a run that died mid-rotation.
    fn journal_started(journal: &std::path::Path, sha: &str) {
        Journal::open(journal)
            .unwrap()
            .record(&Entry::new(
                "rotate",
                "started",
                "gitlab",
                "gitlab-pat",
                sha,
            ))
            .unwrap();
    }

    #[test]
    fn an_interrupted_rotation_with_a_saved_secret_is_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let old = ["glpat-", "Hd3kWq7ZpL2vRx9TcMb4"].concat();
        let sha = sha256_hex(old.as_bytes());
        let tag = format!("gitlab-{}", &sha[..12]);
        // A run that minted, saved the recovery file, and died before delivering.
        journal_started(&journal_path, &sha);
        let saved = sink::write_recovery(
            &sink::recovery_dir(&journal_path),
            &tag,
            &minted().unwrap().payload,
        )
        .unwrap();
        let sink = Sink::File(dir.path().join("out.json"));
        let rerun = |mint: &dyn Fn() -> Result<Minted>| {
            rotate_one(
                &journal_path,
                &sink,
                "gitlab",
                "gitlab-pat",
                &old,
                mint,
                &mut Vec::new(),
            )
        };
        let err = rerun(&|| panic!("the retired secret was presented again"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&saved.display().to_string()), "{err}");
        assert!(saved.exists());
        // Journaled as done: a later run refuses even once the file is gone.
        std::fs::remove_file(&saved).unwrap();
        let err = rerun(&|| panic!("the retired secret was presented again"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("already rotated"), "{err}");

        // Interrupted before anything was saved: the rotation is tried again.
        let other = ["glpat-", "Nf6rTy2KsW8pQz3LxVb7"].concat();
        journal_started(&journal_path, &sha256_hex(other.as_bytes()));
        let mut out = Vec::new();
        rotate_one(
            &journal_path,
            &sink,
            "gitlab",
            "gitlab-pat",
            &other,
            minted,
            &mut out,
        )
        .unwrap();
        assert!(String::from_utf8(out).unwrap().contains("trying again"));
    }
}
