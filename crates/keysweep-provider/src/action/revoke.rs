//! Revocation: plan, then (with `--yes`) act, journal and confirm.
//!
//! The plan is always printed. Without `--yes` nothing else happens: no revoking endpoint is called
//! and no journal is written. With `--yes` each revocation is journaled before and after it is
//! attempted, then the secret is verified again to confirm. Every way in (`revoke -`, `revoke
//! --report`, `scan --revoke`) plans with the same rules, in [`plan_one`].

use std::io::Write;
use std::path::Path;

use keysweep_core::finding::{Status, Verification, redact};
use keysweep_core::secret::Secret;

use super::journal::{self, Action, Entry, Journal, Outcome, Phase, State};
use crate::adapter::{Credential, Provider, Revoked};
use crate::registry::{self, Resolved};
use crate::{Context, verify};

pub struct Options<'a> {
    pub yes: bool,
    pub journal: &'a Path,
    /// `[revoke] rules` from the config: when set, only these rules are ever revoked.
    pub allowed_rules: Option<&'a [String]>,
    /// Leave out the lines about secrets that are skipped.
    pub quiet: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Planned but not done (dry run).
    pub pending: usize,
    pub revoked: usize,
    pub failed: usize,
    pub manual: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Revoke,
    Manual(String),
    Skip(String),
}

fn credential(s: &Secret) -> Credential<'_> {
    Credential {
        rule_id: &s.rule_id,
        secret: &s.secret,
        pair: s.pair.as_deref(),
    }
}

/// What to do with one secret, given what verifying it said and what the journal holds.
pub fn plan_one(s: &Secret, opts: &Options, done: &journal::History) -> Step {
    let cred = credential(s);
    let Some(p) = registry::for_credential(&cred) else {
        return Step::Manual(format!(
            "keysweep cannot revoke `{}` secrets: {}",
            s.rule_id,
            registry::manual_revocation(&s.provider)
        ));
    };
    let caps = p.capabilities(&cred);
    let v = s
        .verification
        .clone()
        .unwrap_or_else(|| Verification::new(Status::NotChecked));
    match v.status {
        st if st.is_dead() => return Step::Skip(format!("already dead ({})", st.as_str())),
        Status::Live => {}
        // A secret that cannot be checked without consuming it (a refresh token) is revoked on
        // the strength of its shape; one that could be checked but was not is left alone.
        Status::NotChecked if !caps.verify => {}
        st => {
            return Step::Skip(format!(
                "could not be verified ({}{}); rerun when the provider answers",
                st.as_str(),
                v.detail.map(|d| format!(": {d}")).unwrap_or_default()
            ));
        }
    }
    if !caps.revoke {
        return Step::Manual(
            p.manual_step(&cred)
                .unwrap_or_else(|| registry::manual_revocation(&s.provider)),
        );
    }
    if let Some(allowed) = opts.allowed_rules
        && !allowed.iter().any(|r| r == &s.rule_id)
    {
        return Step::Skip("not in the config's [revoke] rules".to_string());
    }
    match done.get(&(Action::Revoke, s.sha256.clone())) {
        Some(State::Done { outcome, ts })
            if matches!(
                outcome,
                Outcome::Revoked | Outcome::Requested | Outcome::AlreadyDead
            ) =>
        {
            Step::Skip(format!("already {} on {ts} (journal)", outcome.as_str()))
        }
        _ => Step::Revoke,
    }
}

fn label(s: &Secret) -> String {
    let at = match s.locations.as_slice() {
        [] => String::new(),
        [one] => format!(" at {}", keysweep_core::text::escape(&one.to_string())),
        [first, rest @ ..] => format!(
            " at {} (+{} more)",
            keysweep_core::text::escape(&first.to_string()),
            rest.len()
        ),
    };
    format!(
        "{} {} sha256:{}{at}",
        s.rule_id,
        redact(&s.secret),
        &s.sha256[..s.sha256.len().min(12)]
    )
}

fn outcome(r: &Revoked) -> (Outcome, Option<String>) {
    match r {
        Revoked::Revoked => (Outcome::Revoked, None),
        Revoked::Requested => (Outcome::Requested, None),
        Revoked::AlreadyDead(d) => (Outcome::AlreadyDead, Some(d.clone())),
        Revoked::Failed(d) => (Outcome::Failed, Some(d.clone())),
    }
}

pub fn run(
    cx: &Context,
    secrets: &[Secret],
    opts: &Options,
    out: &mut dyn Write,
) -> Result<Tally, String> {
    let io = |e: std::io::Error| e.to_string();
    let done = journal::load(opts.journal)?;
    let mut tally = Tally::default();
    let mut todo: Vec<(&Secret, Resolved)> = Vec::new();
    writeln!(out, "revocation plan:").map_err(io)?;
    for s in secrets {
        match plan_one(s, opts, &done) {
            Step::Revoke => {
                let Some(p) = registry::for_credential(&credential(s)) else {
                    continue;
                };
                if let Some(State::Interrupted { ts }) =
                    done.get(&(Action::Revoke, s.sha256.clone()))
                {
                    writeln!(
                        out,
                        "  note    {}: an earlier run started revoking it on {ts} and did not finish; verified again: {}",
                        label(s),
                        s.verification.as_ref().map_or("not_checked", |v| v.status.as_str())
                    )
                    .map_err(io)?;
                }
                let who = s
                    .verification
                    .as_ref()
                    .and_then(|v| v.identity.as_deref())
                    .map(|i| format!(" ({})", keysweep_core::text::escape(i)))
                    .unwrap_or_default();
                writeln!(out, "  revoke  {}{who}", label(s)).map_err(io)?;
                todo.push((s, p));
            }
            Step::Manual(step) => {
                tally.manual += 1;
                writeln!(out, "  manual  {}: {step}", label(s)).map_err(io)?;
            }
            Step::Skip(_) if opts.quiet => {}
            Step::Skip(why) => writeln!(out, "  skip    {}: {why}", label(s)).map_err(io)?,
        }
    }
    if todo.is_empty() {
        writeln!(out, "nothing to revoke").map_err(io)?;
        return Ok(tally);
    }
    if !opts.yes {
        tally.pending = todo.len();
        writeln!(
            out,
            "dry run: nothing was revoked; rerun with --yes to revoke {} secret{}",
            todo.len(),
            if todo.len() == 1 { "" } else { "s" }
        )
        .map_err(io)?;
        return Ok(tally);
    }

    let mut journal = Journal::open(opts.journal)?;
    // Group by provider so batch endpoints (GitHub's) get whole batches.
    let mut names: Vec<&'static str> = todo.iter().map(|(_, p)| p.name()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let mut batch: Vec<&(&Secret, Resolved)> =
            todo.iter().filter(|(_, p)| p.name() == name).collect();
        batch.sort_by(|a, b| a.0.rule_id.cmp(&b.0.rule_id));
        for (s, _) in &batch {
            journal.record(&Entry::new(
                Action::Revoke,
                Phase::Started,
                name,
                &s.rule_id,
                &s.sha256,
            ))?;
        }
        // One adapter call per rule (rules of one provider may revoke differently), batched.
        let mut answers: Vec<Revoked> = Vec::with_capacity(batch.len());
        let mut i = 0;
        while i < batch.len() {
            let rule = &batch[i].0.rule_id;
            let j = i + batch[i..]
                .iter()
                .take_while(|(s, _)| &s.rule_id == rule)
                .count();
            let creds: Vec<Credential> = batch[i..j].iter().map(|(s, _)| credential(s)).collect();
            answers.extend(batch[i].1.revoke(cx, &creds));
            i = j;
        }
        for ((s, _), answer) in batch.iter().zip(&answers) {
            let (o, detail) = outcome(answer);
            let mut e = Entry::finished(Action::Revoke, name, &s.rule_id, &s.sha256, o);
            e.detail = detail;
            journal.record(&e)?;
        }
        for ((s, _), answer) in batch.iter().zip(answers) {
            match &answer {
                Revoked::Failed(why) => {
                    tally.failed += 1;
                    writeln!(out, "  FAILED  {}: {why}", label(s)).map_err(io)?;
                    continue;
                }
                Revoked::AlreadyDead(code) => {
                    tally.revoked += 1;
                    writeln!(out, "  dead    {}: already dead ({code})", label(s)).map_err(io)?;
                    continue;
                }
                Revoked::Revoked | Revoked::Requested => {}
            }
            let after = verify::verify_one(cx, &credential(s));
            let mut e = Entry::new(
                Action::Revoke,
                Phase::Confirmed,
                name,
                &s.rule_id,
                &s.sha256,
            );
            e.status = Some(after.status);
            e.detail = after.detail.clone();
            journal.record(&e)?;
            tally.revoked += 1;
            let verb = if answer == Revoked::Revoked {
                "revoked"
            } else {
                "requested"
            };
            match after.status {
                st if st.is_dead() => {
                    writeln!(out, "  {verb:<7} {}: confirmed dead", label(s)).map_err(io)?
                }
                Status::Live => writeln!(
                    out,
                    "  {verb:<7} {}: the provider still answers live (revocation may take a moment); verify again later",
                    label(s)
                )
                .map_err(io)?,
                st => writeln!(
                    out,
                    "  {verb:<7} {}: could not confirm ({})",
                    label(s),
                    st.as_str()
                )
                .map_err(io)?,
            }
        }
    }
    writeln!(
        out,
        "{} revoked or requested, {} failed; journal: {}",
        tally.revoked,
        tally.failed,
        journal.path().display()
    )
    .map_err(io)?;
    Ok(tally)
}
