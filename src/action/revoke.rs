//! Revocation: plan, then (with `--yes`) act, journal and confirm.
//!
//! The plan is always printed. Without `--yes` nothing else happens: no revoking endpoint is called
//! and no journal is written. With `--yes` each revocation is journaled before and after it is
//! attempted, then the secret is verified again to confirm.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::journal::{self, Entry, Journal, State};
use crate::finding::{Status, Verification, redact};
use crate::provider::{self, Context, Provider, Revoked};

/// One distinct secret to consider, with what a fresh verification said about it.
#[derive(Debug, Clone)]
pub struct Target {
    pub rule_id: String,
    pub secret: String,
    pub sha: String,
    pub verification: Verification,
    /// Where it was found (`file:line`), for the plan.
    pub locations: Vec<String>,
}

pub struct Options<'a> {
    pub yes: bool,
    pub journal: &'a Path,
    /// `[revoke] rules` from the config: when set, only these rules are ever revoked.
    pub allowed_rules: Option<&'a [String]>,
    /// Revoke only secrets verified live (scan, report); otherwise anything not known dead (stdin).
    pub require_live: bool,
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

enum Step {
    Revoke(&'static dyn Provider),
    Manual(String),
    Skip(String),
}

fn plan_one(
    t: &Target,
    opts: &Options,
    done: &std::collections::HashMap<(String, String), State>,
) -> Step {
    let Some(p) = provider::for_secret(&t.rule_id, &t.secret) else {
        return Step::Manual(format!(
            "keysweep cannot revoke `{}` secrets: revoke it in the provider's console",
            t.rule_id
        ));
    };
    let status = t.verification.status;
    if opts.require_live && status != Status::Live {
        return Step::Skip(format!("not live ({})", status.as_str()));
    }
    if status == Status::Dead {
        return Step::Skip("already dead".to_string());
    }
    if !p.capabilities(&t.secret).revoke {
        return Step::Manual(p.manual_step(&t.secret).unwrap_or_else(|| {
            "this secret cannot be revoked by API: revoke it in the provider's console".into()
        }));
    }
    if let Some(allowed) = opts.allowed_rules
        && !allowed.iter().any(|r| r == &t.rule_id)
    {
        return Step::Skip("not in the config's [revoke] rules".to_string());
    }
    match done.get(&("revoke".to_string(), t.sha.clone())) {
        Some(State::Done { outcome, ts })
            if matches!(outcome.as_str(), "revoked" | "requested" | "already_dead") =>
        {
            Step::Skip(format!("already {outcome} on {ts} (journal)"))
        }
        _ => Step::Revoke(p),
    }
}

fn label(t: &Target) -> String {
    let at = match t.locations.as_slice() {
        [] => String::new(),
        [one] => format!(" at {one}"),
        [first, rest @ ..] => format!(" at {first} (+{} more)", rest.len()),
    };
    format!(
        "{} {} sha256:{}{at}",
        t.rule_id,
        redact(&t.secret),
        &t.sha[..t.sha.len().min(12)]
    )
}

pub fn run(cx: &Context, targets: &[Target], opts: &Options, out: &mut dyn Write) -> Result<Tally> {
    let done = journal::load(opts.journal)?;
    let mut tally = Tally::default();
    let mut todo: Vec<(&Target, &'static dyn Provider)> = Vec::new();
    writeln!(out, "revocation plan:")?;
    for t in targets {
        match plan_one(t, opts, &done) {
            Step::Revoke(adapter) => {
                if let Some(State::Interrupted { ts }) =
                    done.get(&("revoke".to_string(), t.sha.clone()))
                {
                    writeln!(
                        out,
                        "  note    {}: an earlier run started revoking it on {ts} and did not finish; verified again: {}",
                        label(t),
                        t.verification.status.as_str()
                    )?;
                }
                let who = t
                    .verification
                    .identity
                    .as_deref()
                    .map(|i| format!(" ({i})"))
                    .unwrap_or_default();
                writeln!(out, "  revoke  {}{who}", label(t))?;
                todo.push((t, adapter));
            }
            Step::Manual(step) => {
                tally.manual += 1;
                writeln!(out, "  manual  {}: {step}", label(t))?;
            }
            Step::Skip(_) if opts.quiet => {}
            Step::Skip(why) => writeln!(out, "  skip    {}: {why}", label(t))?,
        }
    }
    if todo.is_empty() {
        writeln!(out, "nothing to revoke")?;
        return Ok(tally);
    }
    if !opts.yes {
        tally.pending = todo.len();
        writeln!(
            out,
            "dry run: nothing was revoked; rerun with --yes to revoke {} secret{}",
            todo.len(),
            if todo.len() == 1 { "" } else { "s" }
        )?;
        return Ok(tally);
    }

    let mut journal = Journal::open(opts.journal)?;
    // Group by provider so batch endpoints (GitHub's) get whole batches.
    let mut providers: Vec<&'static dyn Provider> = Vec::new();
    for (_, adapter) in &todo {
        if !providers.iter().any(|p| p.name() == adapter.name()) {
            providers.push(*adapter);
        }
    }
    for adapter in providers {
        let name = adapter.name();
        let batch: Vec<&Target> = todo
            .iter()
            .filter(|(_, p)| p.name() == name)
            .map(|(t, _)| *t)
            .collect();
        for t in &batch {
            journal.record(&Entry::new("revoke", "started", name, &t.rule_id, &t.sha))?;
        }
        let secrets: Vec<&str> = batch.iter().map(|t| t.secret.as_str()).collect();
        let answers = adapter.revoke(cx, &secrets);
        for (t, answer) in batch.iter().zip(&answers) {
            let mut e = Entry::new("revoke", "finished", name, &t.rule_id, &t.sha);
            e.outcome = Some(answer.outcome().to_string());
            e.detail = answer.detail().map(str::to_string);
            journal.record(&e)?;
        }
        for (t, answer) in batch.iter().zip(answers) {
            if let Revoked::Failed(why) = &answer {
                tally.failed += 1;
                writeln!(out, "  FAILED  {}: {why}", label(t))?;
                continue;
            }
            if let Revoked::AlreadyDead(code) = &answer {
                tally.revoked += 1;
                writeln!(out, "  dead    {}: already dead ({code})", label(t))?;
                continue;
            }
            let after = adapter.verify(cx, &t.secret);
            let mut e = Entry::new("revoke", "confirmed", name, &t.rule_id, &t.sha);
            e.outcome = Some(after.status.as_str().to_string());
            e.detail = after.detail.clone();
            journal.record(&e)?;
            tally.revoked += 1;
            let verb = if answer == Revoked::Revoked {
                "revoked"
            } else {
                "requested"
            };
            match after.status {
                Status::Dead => writeln!(out, "  {verb:<7} {}: confirmed dead", label(t))?,
                Status::Live => writeln!(
                    out,
                    "  {verb:<7} {}: the provider still answers live (revocation may take a moment); verify again later",
                    label(t)
                )?,
                s => writeln!(
                    out,
                    "  {verb:<7} {}: could not confirm ({})",
                    label(t),
                    s.as_str()
                )?,
            }
        }
    }
    writeln!(
        out,
        "{} revoked or requested, {} failed; journal: {}",
        tally.revoked,
        tally.failed,
        journal.path().display()
    )?;
    Ok(tally)
}
