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
        Some(State::Interrupted { ts }) => writeln!(
            out,
            "note: an earlier rotation of this {provider} secret started on {ts} and did not finish; \
             trying again (the provider refuses a secret that was already used)"
        )?,
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
    let recovery =
        sink::write_recovery(&sink::recovery_dir(journal_path), provider, &minted.payload);
    let delivered = sink.deliver(&minted.payload);
    let mut end = Entry::new("rotate", "finished", provider, rule_id, &sha);
    end.new_secret_sha256 = new_hashes;
    match delivered {
        Ok(()) => {
            if let Ok(p) = &recovery {
                let _ = std::fs::remove_file(p);
            }
            end.outcome = Some("delivered".to_string());
            journal.record(&end)?;
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
