//! Rotation: mint the replacement, deliver it to its sink, journal every step. Providers whose
//! rotation is one call (Slack's refresh exchange, GitLab's `self/rotate`) retire the old secret as
//! part of minting; what keysweep guarantees is that the new secret reaches the sink or a recovery
//! file, and that a journaled rotation is never replayed.

use std::io::Write;
use std::path::Path;

use keysweep_core::finding::sha256_hex;

use super::journal::{self, Action, Entry, Journal, Outcome, Phase, State};
use super::sink::{self, Sink};
use crate::adapter::{Minted, RotateError};

/// One rotation to do.
pub struct Rotation<'a> {
    pub provider: &'a str,
    pub rule_id: &'a str,
    pub old_secret: &'a str,
    /// Environment variables the `exec:` sink must not see (they held the old secret or the client
    /// secret).
    pub hide_env: &'a [&'a str],
}

/// Rotates one secret: journal `started`, `mint`, save to a recovery file, deliver, remove the
/// recovery file, journal `finished`. Returns an error when minting or delivery failed (the message
/// names the recovery file when there is one, and what to check when the outcome is unknown).
pub fn rotate_one(
    journal_path: &Path,
    sink: &Sink,
    r: &Rotation,
    mint: impl FnOnce() -> Result<Minted, RotateError>,
    out: &mut dyn Write,
) -> Result<(), String> {
    let provider = r.provider;
    let sha = sha256_hex(r.old_secret.as_bytes());
    let recovery_dir = sink::recovery_dir(journal_path);
    // Recovery files are named after the old secret, so that a rerun finds what an interrupted
    // rotation minted instead of presenting the retired secret again (GitLab answers a reused token
    // by revoking the new one as well).
    let tag = format!("{provider}-{}", &sha[..12]);
    let finished = |outcome| Entry::finished(Action::Rotate, provider, r.rule_id, &sha, outcome);
    match journal::load(journal_path)?.get(&(Action::Rotate, sha.clone())) {
        Some(State::Done {
            outcome: Outcome::Failed,
            ..
        })
        | None => {}
        Some(State::Done {
            outcome: Outcome::Unknown,
            ts,
        }) => {
            return Err(format!(
                "an earlier rotation of this {provider} secret on {ts} reached the provider but its \
                 answer was lost: the old secret may be retired and a new one minted that nobody \
                 received. It is not tried again (a retired secret presented again can make the \
                 provider revoke its replacement). Check the provider's console: if the old secret \
                 still works, remove its line from the journal {} and rerun; if not, issue a new \
                 credential there.",
                journal_path.display()
            ));
        }
        Some(State::Done { outcome, ts }) => {
            return Err(format!(
                "the journal shows this {provider} secret was already rotated on {ts} ({}); it has \
                 been retired, so it is not used again (the new one went to the sink{})",
                outcome.as_str(),
                if *outcome == Outcome::DeliveryFailed {
                    " or a recovery file, see the journal"
                } else {
                    ""
                }
            ));
        }
        Some(State::Interrupted { ts }) => {
            if let Some(saved) = sink::find_recovery(&recovery_dir, &tag) {
                let mut end = finished(Outcome::DeliveryFailed);
                end.detail = Some("interrupted after minting".to_string());
                end.recovery_file = Some(saved.display().to_string());
                Journal::open(journal_path)?.record(&end)?;
                return Err(format!(
                    "an earlier rotation of this {provider} secret, started on {ts}, was interrupted \
                     after the new secret was minted; it is saved in the recovery file {} (mode \
                     0600): deliver it yourself unless it already reached the sink, then delete \
                     that file. The old secret is retired and was not used again.",
                    saved.display()
                ));
            }
            // No recovery file: the run may have died before the provider answered, or after it
            // answered and before the file was written. Only the provider can tell.
            let mut end = finished(Outcome::Unknown);
            end.detail = Some("interrupted; no recovery file".to_string());
            Journal::open(journal_path)?.record(&end)?;
            return Err(format!(
                "an earlier rotation of this {provider} secret, started on {ts}, was interrupted \
                 and left no recovery file: the provider may or may not have minted a new secret. \
                 It is not tried again automatically. Check the provider's console: if the old \
                 secret still works, remove its lines from the journal {} and rerun.",
                journal_path.display()
            ));
        }
    }
    // Where the new secret will wait must be writable before anything is minted.
    sink::check_recovery_dir(&recovery_dir)?;
    let mut journal = Journal::open(journal_path)?;
    journal.record(&Entry::new(
        Action::Rotate,
        Phase::Started,
        provider,
        r.rule_id,
        &sha,
    ))?;
    let minted = match mint() {
        Ok(m) => m,
        Err(e) => {
            let (outcome, advice) = match &e {
                RotateError::Unknown(_) => (
                    Outcome::Unknown,
                    " The request may have reached the provider: check its console before \
                     anything else; keysweep will not retry this rotation.",
                ),
                _ => (Outcome::Failed, ""),
            };
            let mut end = finished(outcome);
            end.detail = Some(crate::short(&e.to_string(), 160));
            journal.record(&end)?;
            return Err(format!("{e}.{advice}"));
        }
    };
    let new_hashes: Vec<String> = minted
        .secrets
        .iter()
        .map(|s| sha256_hex(s.as_bytes()))
        .collect();
    let recovery = sink::write_recovery(&recovery_dir, &tag, &minted.payload);
    let delivered = sink.deliver(&minted.payload, r.hide_env);
    let mut end = finished(Outcome::Delivered);
    end.new_secret_sha256 = new_hashes;
    match delivered {
        Ok(()) => {
            // Journaled first: a crash in between leaves a file a rerun reports, not a rotation
            // it would retry.
            journal.record(&end)?;
            if let Ok(p) = &recovery {
                let _ = std::fs::remove_file(p);
            }
            // The summary quotes the provider's answer (a team id): escaped for the terminal.
            let _ = writeln!(
                out,
                "rotated: {}; delivered to {}",
                keysweep_core::text::escape(&minted.summary),
                keysweep_core::text::escape(&sink.describe())
            );
            Ok(())
        }
        Err(e) => {
            end.outcome = Some(Outcome::DeliveryFailed);
            end.detail = Some(crate::short(&e, 160));
            end.recovery_file = recovery.as_ref().ok().map(|p| p.display().to_string());
            journal.record(&end)?;
            match recovery {
                Ok(p) => Err(format!(
                    "{e}; the new secret was NOT delivered and is saved in the recovery file {} \
                     (mode 0600): deliver it yourself, then delete that file. Nothing else was done.",
                    p.display()
                )),
                Err(re) => Err(format!(
                    "{e}; the new secret could not be delivered nor saved ({re}); the old one has \
                     been retired by the provider"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted() -> Result<Minted, RotateError> {
        let new = ["glpat-", "Vq8sLm2Xr7TbZk4NwPc9"].concat();
        Ok(Minted {
            payload: serde_json::json!({ "token": new }),
            secrets: vec![new],
            summary: "new token".to_string(),
        })
    }

    fn started(journal: &Path, sha: &str) {
        Journal::open(journal)
            .unwrap()
            .record(&Entry::new(
                Action::Rotate,
                Phase::Started,
                "gitlab",
                "gitlab-pat",
                sha,
            ))
            .unwrap();
    }

    fn rotation(old: &str) -> Rotation<'_> {
        Rotation {
            provider: "gitlab",
            rule_id: "gitlab-pat",
            old_secret: old,
            hide_env: &[],
        }
    }

    #[test]
    fn an_interrupted_rotation_is_never_retried() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let sink = Sink::File(dir.path().join("out.json"));
        let never =
            || -> Result<Minted, RotateError> { panic!("the retired secret was presented again") };

        // Minted, saved to the recovery file, died before delivering: the file is reported.
        let old = ["glpat-", "Hd3kWq7ZpL2vRx9TcMb4"].concat();
        let sha = sha256_hex(old.as_bytes());
        started(&journal_path, &sha);
        let saved = sink::write_recovery(
            &sink::recovery_dir(&journal_path),
            &format!("gitlab-{}", &sha[..12]),
            &minted().unwrap().payload,
        )
        .unwrap();
        let err = rotate_one(
            &journal_path,
            &sink,
            &rotation(&old),
            never,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.contains(&saved.display().to_string()), "{err}");
        std::fs::remove_file(&saved).unwrap();
        let err = rotate_one(
            &journal_path,
            &sink,
            &rotation(&old),
            never,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.contains("already rotated"), "{err}");

        // Interrupted with no recovery file: unknown, not retried, and it says what to check.
        let other = ["glpat-", "Nf6rTy2KsW8pQz3LxVb7"].concat();
        started(&journal_path, &sha256_hex(other.as_bytes()));
        let err = rotate_one(
            &journal_path,
            &sink,
            &rotation(&other),
            never,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.contains("console"), "{err}");
        let err = rotate_one(
            &journal_path,
            &sink,
            &rotation(&other),
            never,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.contains("answer was lost"), "{err}");
    }

    #[test]
    fn a_lost_answer_is_journaled_unknown_and_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let sink = Sink::File(dir.path().join("out.json"));
        let old = ["glpat-", "Qw4eRt6YuI8oPa2SdF3g"].concat();
        let err = rotate_one(
            &journal_path,
            &sink,
            &rotation(&old),
            || Err(RotateError::Unknown("GitLab rotate: timed out".into())),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.contains("check its console"), "{err}");
        let again = rotate_one(
            &journal_path,
            &sink,
            &rotation(&old),
            minted,
            &mut Vec::new(),
        );
        assert!(again.is_err());
        assert!(!dir.path().join("out.json").exists());
        // A refusal (nothing minted) may be retried.
        let refused = ["glpat-", "Zx5cVb7NmL9kJh2GfD4s"].concat();
        let _ = rotate_one(
            &journal_path,
            &sink,
            &rotation(&refused),
            || Err(RotateError::Refused("HTTP 401".into())),
            &mut Vec::new(),
        );
        rotate_one(
            &journal_path,
            &sink,
            &rotation(&refused),
            minted,
            &mut Vec::new(),
        )
        .unwrap();
    }

    #[test]
    fn nothing_is_minted_when_the_recovery_directory_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        // A file where the recovery directory should be: not writable, even for root.
        std::fs::write(dir.path().join("recovery"), "").unwrap();
        let old = ["glpat-", "Lk8jHg6FdS4aQw2ErT5y"].concat();
        let err = rotate_one(
            &journal_path,
            &Sink::Stdout,
            &rotation(&old),
            || panic!("minted without a place to save the new secret"),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.contains("recovery"), "{err}");
    }
}
