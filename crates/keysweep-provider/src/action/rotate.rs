//! Rotation: mint the replacement, save it to a recovery file, deliver it to its sink, then retire
//! the old secret where the provider leaves that to keysweep (AWS, Twilio), with each step journaled
//! before the next begins, all under the journal's lock.
//!
//! A run reads the journal and carries on from the last step recorded, so a crash or a failure at
//! any point is finished by the next run of the same command, without minting twice and without
//! losing the new secret:
//!
//! - minted, not delivered (the sink failed, or the run died): the secret waits in its recovery
//!   file, and the next run delivers it from there;
//! - delivered, old secret not yet retired: the next run retires it (a step whose answer was lost is
//!   simply done again: deactivating or deleting twice is harmless);
//! - a retirement step with a grace period (`--delete-after`): a run after it is due does it. A run
//!   may be given the old credential or its replacement; with the replacement it finishes the
//!   rotation that minted it before anything else;
//! - minting interrupted with no trace of a new secret: the provider may or may not have minted.
//!   Never retried automatically, since presenting a retired secret again can make the provider
//!   revoke its replacement (GitLab); the message says what to check.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use keysweep_core::finding::sha256_hex;
use time::OffsetDateTime;

use super::files;
use super::journal::{
    self, Action, Entry, Journal, Outcome, Phase, Planned, RotState, RotationRecord, Rotations,
    Step,
};
use super::lock::JournalLock;
use super::sink::{self, Sink};
use crate::Context;
use crate::adapter::{
    Minted, Provider, RetireRequest, RetireStep, Retired, Retirement, RotateError, RotateRequest,
};

/// One rotation to do.
pub struct Job<'a> {
    pub provider: &'a str,
    pub rule_id: &'a str,
    /// The credential this run was given: the one to rotate, or the replacement an earlier run
    /// delivered (that rotation is then finished first).
    pub secret: &'a str,
    /// Environment variables the `exec:` sink must not see (they held the old secret or the client
    /// secret).
    pub hide_env: &'a [&'a str],
    pub retirement: Retirement,
}

/// Where the journal and the new secret go, and the time the run decides by.
pub struct Options<'a> {
    pub journal: &'a Path,
    pub sink: &'a Sink,
    pub now: OffsetDateTime,
    /// How long to wait for another run holding the journal's lock.
    pub lock_wait: Duration,
}

/// A retirement step as the engine asks for it.
#[derive(Debug, Clone, Copy)]
pub struct RetireCall<'a> {
    pub step: RetireStep,
    pub given_is_old: bool,
    pub old_id_sha256: Option<&'a str>,
    pub done: &'a [RetireStep],
}

/// What the engine needs from a provider.
pub trait Rotator {
    fn mint(&self) -> Result<Minted, RotateError>;
    fn retire(&self, call: &RetireCall) -> Retired;
}

/// A provider adapter as a [`Rotator`].
pub struct Adapter<'a> {
    pub provider: &'a dyn Provider,
    pub cx: &'a Context,
    pub req: RotateRequest<'a>,
}

impl Rotator for Adapter<'_> {
    fn mint(&self) -> Result<Minted, RotateError> {
        self.provider.rotate(self.cx, &self.req)
    }

    fn retire(&self, call: &RetireCall) -> Retired {
        self.provider.retire(
            self.cx,
            &RetireRequest {
                step: call.step,
                given: self.req.credential,
                given_is_old: call.given_is_old,
                old_id_sha256: call.old_id_sha256,
                done: call.done,
                manager: self.req.manager,
                account: self.req.account,
            },
        )
    }
}

/// A rotation the provider completes in the minting call (`scan --rotate`, tests).
pub struct MintOnly<F>(pub F);

impl<F: Fn() -> Result<Minted, RotateError>> Rotator for MintOnly<F> {
    fn mint(&self) -> Result<Minted, RotateError> {
        (self.0)()
    }

    fn retire(&self, call: &RetireCall) -> Retired {
        Retired::Failed(format!("no {} step for this rotation", call.step.as_str()))
    }
}

/// What a run does next, decided from the journal alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Nothing recorded stands in the way: mint a replacement.
    Mint,
    /// A minted secret waits in its recovery file: deliver it.
    Deliver {
        old_sha: String,
        recovery: PathBuf,
        minted_ts: String,
    },
    /// The credential given is a replacement not recorded as delivered: holding it shows it was.
    ShownDelivered { old_sha: String },
    /// A retirement step is due.
    Retire {
        old_sha: String,
        step: RetireStep,
        given_is_old: bool,
        due: String,
    },
    /// Every step is done; the end is not recorded yet.
    Finish { old_sha: String },
    /// The next retirement step is not due yet.
    Wait {
        step: RetireStep,
        not_before: String,
        given_is_old: bool,
    },
    /// Nothing to do.
    Done { ts: String, outcome: Outcome },
    /// Minting started and left no trace of a new secret.
    Interrupted { ts: String },
    /// A person must look first.
    Blocked(String),
}

impl Next {
    /// What the plan says about it.
    pub fn describe(&self, provider: &str) -> String {
        match self {
            Next::Mint => "mint a new secret and deliver it, as the calls above say".into(),
            Next::Deliver {
                recovery,
                minted_ts,
                ..
            } => format!(
                "deliver the secret minted on {minted_ts}, waiting in the recovery file {} \
                 (nothing new is minted), then carry on",
                recovery.display()
            ),
            Next::ShownDelivered { .. } => "record that this credential, minted by an earlier \
                 rotation, was delivered (it was given to this run); retire the secret it \
                 replaced when due; then rotate this credential"
                .into(),
            Next::Retire {
                step,
                due,
                given_is_old: true,
                ..
            } => format!(
                "{} this {provider} credential, which an earlier run replaced (due since {due})",
                step.as_str()
            ),
            Next::Retire { step, due, .. } => format!(
                "{} the old {provider} secret this credential replaced (due since {due}), then \
                 rotate this credential",
                step.as_str()
            ),
            Next::Finish { .. } => "record that the rotation is complete".into(),
            Next::Wait {
                step, not_before, ..
            } => format!(
                "nothing yet: the old secret's {} step is due at {not_before}; a run after that \
                 does it",
                step.as_str()
            ),
            Next::Done { ts, outcome } => {
                format!("nothing: already rotated on {ts} ({})", outcome.as_str())
            }
            Next::Interrupted { ts } => format!(
                "nothing: a rotation started on {ts} was interrupted before a new secret was \
                 recorded; see the error"
            ),
            Next::Blocked(why) => format!("nothing: {why}"),
        }
    }

    /// Whether a run with `--yes` would send or deliver anything.
    pub fn is_work(&self) -> bool {
        matches!(
            self,
            Next::Mint
                | Next::Deliver { .. }
                | Next::ShownDelivered { .. }
                | Next::Retire { .. }
                | Next::Finish { .. }
        )
    }
}

/// How a run ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Something was minted, delivered or retired (the lines printed say what).
    Acted,
    /// Nothing was due.
    NothingDue,
    /// A step is due that this run could not do with the credential it was given.
    NeedsReplacement,
}

fn recovery_tag(provider: &str, sha: &str) -> String {
    format!("{provider}-{}", &sha[..sha.len().min(12)])
}

fn due(not_before: Option<&str>, now: OffsetDateTime) -> bool {
    // A time that does not parse was edited by hand: treated as due rather than never.
    not_before
        .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .is_none_or(|t| t <= now)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The next step for `job`, from the journal. `minted_now` is true once this run minted.
pub fn decide(
    rot: &Rotations,
    job: &Job,
    recovery_dir: &Path,
    now: OffsetDateTime,
    minted_now: bool,
) -> Next {
    let sha = sha256_hex(job.secret.as_bytes());
    let own = rot
        .by_old
        .get(&sha)
        // A credential that stays valid is rotated afresh by every run.
        .filter(|r| !(job.retirement.keeps_old || r.keeps_old) || minted_now);
    if let Some(r) = own
        && let Some(next) = own_step(&sha, r, job, recovery_dir, now)
    {
        return next;
    }
    if let Some((old_sha, r)) = rot.replaced_by(&sha) {
        match r.state {
            RotState::Minted => {
                return Next::ShownDelivered {
                    old_sha: old_sha.to_string(),
                };
            }
            RotState::Delivered => {
                return after_delivery(old_sha, r, false, now);
            }
            _ => {}
        }
    }
    if minted_now {
        // Unreachable in practice: what this run minted is in the journal.
        return Next::Blocked("the rotation this run started is missing from the journal".into());
    }
    Next::Mint
}

/// The next step of the credential's own rotation, or `None` when it does not stand in the way of
/// a new one.
fn own_step(
    sha: &str,
    r: &RotationRecord,
    job: &Job,
    recovery_dir: &Path,
    now: OffsetDateTime,
) -> Option<Next> {
    let saved = || {
        r.recovery_file
            .clone()
            // Only keysweep's own recovery files are ever read back and delivered, whatever the
            // journal names.
            .filter(|p| p.parent() == Some(recovery_dir) && p.exists())
            .or_else(|| sink::find_recovery(recovery_dir, &recovery_tag(job.provider, sha)))
    };
    Some(match &r.state {
        RotState::Started => match saved() {
            // The run died after saving the new secret and before recording it.
            Some(p) => Next::Deliver {
                old_sha: sha.to_string(),
                recovery: p,
                minted_ts: r.started_ts.clone(),
            },
            None => Next::Interrupted {
                ts: r.started_ts.clone(),
            },
        },
        RotState::Minted => match saved() {
            Some(p) => Next::Deliver {
                old_sha: sha.to_string(),
                recovery: p,
                minted_ts: r.ts.clone(),
            },
            // Nothing is left to retire after delivery: the owner delivered it by hand and
            // removed the file, as the message of the failed delivery offered.
            None if r.plan.is_empty() => Next::Finish {
                old_sha: sha.to_string(),
            },
            None => Next::Blocked(format!(
                "the {} secret minted on {} is no longer in its recovery file and its delivery \
                 was not recorded, so the old one is not retired: run again with the new \
                 credential (which shows it was delivered) to finish",
                r.provider, r.ts
            )),
        },
        RotState::Delivered => after_delivery(sha, r, true, now),
        RotState::Finished(Outcome::Failed) => return None,
        RotState::Finished(Outcome::Unknown) => Next::Blocked(format!(
            "an earlier rotation of this {} secret, started on {}, reached the provider but its \
             answer was lost: the old secret may be retired and a new one minted that nobody \
             received. It is not tried again (a retired secret presented again can make the \
             provider revoke its replacement). Check the provider's console: if the old secret \
             still works, remove its lines from the journal and rerun; if not, issue a new \
             credential there",
            r.provider, r.started_ts
        )),
        RotState::Finished(o) => Next::Done {
            ts: r.ts.clone(),
            outcome: *o,
        },
    })
}

fn after_delivery(
    old_sha: &str,
    r: &RotationRecord,
    given_is_old: bool,
    now: OffsetDateTime,
) -> Next {
    match r.next_step() {
        None => Next::Finish {
            old_sha: old_sha.to_string(),
        },
        Some((step, not_before)) if due(not_before, now) => Next::Retire {
            old_sha: old_sha.to_string(),
            step,
            given_is_old,
            due: not_before.unwrap_or("now").to_string(),
        },
        Some((step, not_before)) => Next::Wait {
            step,
            not_before: not_before.unwrap_or_default().to_string(),
            given_is_old,
        },
    }
}

/// What the next run would do: the journal read without its lock, nothing written.
pub fn plan(opts: &Options, job: &Job) -> Result<Next, String> {
    let rot = journal::rotations(opts.journal)?;
    Ok(decide(
        &rot,
        job,
        &sink::recovery_dir(opts.journal),
        opts.now,
        false,
    ))
}

/// Carries the rotation as far as it can go now: mints (unless the journal shows it already was),
/// delivers, retires what is due. Returns an error when a step failed; the message says what
/// became of the new secret and what the next run will do.
pub fn run(
    opts: &Options,
    job: &Job,
    rotator: &dyn Rotator,
    out: &mut dyn Write,
) -> Result<Ended, String> {
    let _lock = JournalLock::acquire(opts.journal, opts.lock_wait, out)?;
    let recovery_dir = sink::recovery_dir(opts.journal);
    let mut run = Run {
        opts,
        job,
        rotator,
        out,
        recovery_dir,
        summary: None,
        acted: false,
    };
    let mut minted_now = false;
    // Each turn records a step; a rotation has at most a handful.
    for _ in 0..16 {
        let rot = journal::rotations(opts.journal)?;
        match decide(&rot, job, &run.recovery_dir, opts.now, minted_now) {
            Next::Mint => {
                run.mint()?;
                minted_now = true;
            }
            Next::Deliver {
                old_sha,
                recovery,
                minted_ts,
            } => run.deliver(&rot.by_old[&old_sha], &old_sha, &recovery, &minted_ts)?,
            Next::ShownDelivered { old_sha } => {
                run.shown_delivered(&rot.by_old[&old_sha], &old_sha)?
            }
            Next::Retire {
                old_sha,
                step,
                given_is_old,
                ..
            } => {
                if !run.retire(&rot.by_old[&old_sha], &old_sha, step, given_is_old)? {
                    return Ok(Ended::NeedsReplacement);
                }
            }
            Next::Finish { old_sha } => run.finish(&rot.by_old[&old_sha], &old_sha)?,
            Next::Wait {
                step, not_before, ..
            } => {
                let _ = writeln!(
                    run.out,
                    "the old {} secret's {} step is due at {not_before}: a run after that, given \
                     the new credential, does it",
                    job.provider,
                    step.as_str()
                );
                return Ok(run.ended());
            }
            Next::Done { ts, outcome } => {
                if !run.acted {
                    let _ = writeln!(
                        run.out,
                        "nothing to do: the journal shows this {} secret was rotated on {ts} \
                         ({})",
                        job.provider,
                        outcome.as_str()
                    );
                }
                return Ok(run.ended());
            }
            Next::Interrupted { ts } => return Err(run.interrupted(&ts)),
            Next::Blocked(why) => return Err(why),
        }
    }
    Err("the rotation did not settle (the journal changed under it); rerun".into())
}

struct Run<'a> {
    opts: &'a Options<'a>,
    job: &'a Job<'a>,
    rotator: &'a dyn Rotator,
    out: &'a mut dyn Write,
    recovery_dir: PathBuf,
    /// What this run minted, for the line that says it was delivered.
    summary: Option<String>,
    acted: bool,
}

impl Run<'_> {
    fn ended(&self) -> Ended {
        if self.acted {
            Ended::Acted
        } else {
            Ended::NothingDue
        }
    }

    fn entry(&self, phase: Phase, r: &RotationRecord, old_sha: &str) -> Entry {
        Entry::new(Action::Rotate, phase, &r.provider, &r.rule_id, old_sha)
    }

    fn record(&self, e: &Entry) -> Result<(), String> {
        Journal::open(self.opts.journal)?.record(e)
    }

    fn mint(&mut self) -> Result<(), String> {
        let job = self.job;
        let sha = sha256_hex(job.secret.as_bytes());
        // Where the new secret will wait must be writable before anything is minted.
        sink::check_recovery_dir(&self.recovery_dir)?;
        let mut journal = Journal::open(self.opts.journal)?;
        let mut start = Entry::new(
            Action::Rotate,
            Phase::Started,
            job.provider,
            job.rule_id,
            &sha,
        );
        start.retire = job
            .retirement
            .steps
            .iter()
            .map(|(step, after)| Planned {
                step: (*step).into(),
                after_secs: Some(after.as_secs()),
                not_before: None,
            })
            .collect();
        start.old_id_sha256 = job
            .retirement
            .old_id
            .as_ref()
            .map(|id| sha256_hex(id.as_bytes()));
        start.keeps_old = job.retirement.keeps_old;
        journal.record(&start)?;
        self.acted = true;
        let finished =
            |outcome| Entry::finished(Action::Rotate, job.provider, job.rule_id, &sha, outcome);
        let minted = match self.rotator.mint() {
            Ok(m) => m,
            Err(e) => {
                let (outcome, advice) = match &e {
                    RotateError::Unknown(_) if job.retirement.keeps_old => (
                        Outcome::Failed,
                        " The old secret stays valid: the next run mints again.",
                    ),
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
        let recovery = sink::write_recovery(
            &self.recovery_dir,
            &recovery_tag(job.provider, &sha),
            &minted.payload,
        );
        let mut rec = Entry::new(
            Action::Rotate,
            Phase::Minted,
            job.provider,
            job.rule_id,
            &sha,
        );
        rec.new_secret_sha256 = minted
            .secrets
            .iter()
            .map(|s| sha256_hex(s.as_bytes()))
            .collect();
        rec.recovery_file = recovery.as_ref().ok().map(|p| p.display().to_string());
        journal.record(&rec)?;
        self.summary = Some(minted.summary.clone());
        if let Err(re) = recovery {
            // The directory was writable a moment ago; deliver from memory rather than lose it.
            let record = journal::rotations(self.opts.journal)?
                .by_old
                .remove(&sha)
                .ok_or("the rotation just started is missing from the journal")?;
            return self
                .deliver_payload(&record, &sha, &minted.payload, None)
                .map_err(|e| {
                    format!(
                        "{e}; the new secret could not be saved to a recovery file either ({re})"
                    )
                });
        }
        Ok(())
    }

    fn deliver(
        &mut self,
        r: &RotationRecord,
        old_sha: &str,
        recovery: &Path,
        minted_ts: &str,
    ) -> Result<(), String> {
        let unreadable = |e: String| {
            format!(
                "the recovery file {} cannot be read ({e}): deliver it by hand",
                recovery.display()
            )
        };
        let file = files::open_existing_regular(recovery)
            .map_err(|e| unreadable(e.to_string()))?
            .ok_or_else(|| unreadable("it is gone".into()))?;
        let payload: serde_json::Value =
            serde_json::from_reader(file).map_err(|e| unreadable(e.to_string()))?;
        if self.summary.is_none() {
            let _ = writeln!(
                self.out,
                "an earlier run minted a new {} secret on {minted_ts} and did not deliver it; \
                 delivering it from {} (nothing new is minted)",
                r.provider,
                recovery.display()
            );
        }
        self.deliver_payload(r, old_sha, &payload, Some(recovery))
    }

    fn deliver_payload(
        &mut self,
        r: &RotationRecord,
        old_sha: &str,
        payload: &serde_json::Value,
        recovery: Option<&Path>,
    ) -> Result<(), String> {
        self.acted = true;
        let sink = self.opts.sink;
        if let Err(e) = sink.deliver(payload, self.job.hide_env) {
            let mut fail = self.entry(Phase::StepFailed, r, old_sha);
            fail.step = Some(Step::Deliver);
            fail.detail = Some(crate::short(&e, 160));
            fail.recovery_file = recovery.map(|p| p.display().to_string());
            self.record(&fail)?;
            let then = if r.plan.is_empty() {
                ""
            } else {
                ", then run with the new credential to retire the old one"
            };
            return Err(match recovery {
                Some(p) => format!(
                    "{e}; the new secret was NOT delivered and is saved in the recovery file {} \
                     (mode 0600). Nothing else was done. Rerun the same command to deliver it \
                     again (nothing new is minted), or deliver it yourself and delete that \
                     file{then}.",
                    p.display()
                ),
                None => format!("{e}; the new secret was NOT delivered"),
            });
        }
        let mut done = self.entry(Phase::Delivered, r, old_sha);
        done.retire = self.schedule(r);
        self.record(&done)?;
        if let Some(p) = recovery {
            let _ = std::fs::remove_file(p);
        }
        let what = self
            .summary
            .clone()
            .unwrap_or_else(|| format!("the new {} secret", r.provider));
        // The summary quotes the provider's answer (a team id): escaped for the terminal.
        let _ = writeln!(
            self.out,
            "rotated: {}; delivered to {}",
            keysweep_core::text::escape(&what),
            keysweep_core::text::escape(&sink.describe())
        );
        Ok(())
    }

    /// The retirement steps with their due times, counted from now.
    fn schedule(&self, r: &RotationRecord) -> Vec<Planned> {
        r.plan
            .iter()
            .map(|p| Planned {
                step: p.step,
                after_secs: None,
                not_before: Some(rfc3339(
                    self.opts.now
                        + Duration::from_secs(p.after_secs.unwrap_or(0).min(10 * 365 * 86_400)),
                )),
            })
            .collect()
    }

    fn shown_delivered(&mut self, r: &RotationRecord, old_sha: &str) -> Result<(), String> {
        self.acted = true;
        let mut done = self.entry(Phase::Delivered, r, old_sha);
        done.detail = Some("the new secret was given to a later run".into());
        done.retire = self.schedule(r);
        self.record(&done)?;
        if let Some(p) = r.recovery_file.as_ref().filter(|p| p.exists()) {
            let _ = std::fs::remove_file(p);
        }
        let _ = writeln!(
            self.out,
            "the {} secret minted on {} is in use (this run was given it): recorded as delivered",
            r.provider, r.ts
        );
        Ok(())
    }

    /// One retirement step; `Ok(false)` when it needs the replacement credential.
    fn retire(
        &mut self,
        r: &RotationRecord,
        old_sha: &str,
        step: RetireStep,
        given_is_old: bool,
    ) -> Result<bool, String> {
        let answer = self.rotator.retire(&RetireCall {
            step,
            given_is_old,
            old_id_sha256: r.old_id_sha256.as_deref(),
            done: &r.done,
        });
        let verb = match step {
            RetireStep::Deactivate => "deactivated",
            RetireStep::Delete => "deleted",
        };
        match answer {
            Retired::Done | Retired::AlreadyDone(_) => {
                self.acted = true;
                let mut e = self.entry(Phase::Retired, r, old_sha);
                e.step = Some(step.into());
                if let Retired::AlreadyDone(d) = &answer {
                    e.detail = Some(crate::short(d, 160));
                }
                self.record(&e)?;
                let already = match &answer {
                    Retired::AlreadyDone(d) => format!(" (already so: {d})"),
                    _ => String::new(),
                };
                let _ = writeln!(self.out, "the old {} secret is {verb}{already}", r.provider);
                Ok(true)
            }
            Retired::Failed(why) => {
                let mut e = self.entry(Phase::StepFailed, r, old_sha);
                e.step = Some(step.into());
                e.detail = Some(crate::short(&why, 160));
                self.record(&e)?;
                Err(format!(
                    "{why}; the new secret was delivered and the old one is NOT {verb}: the next \
                     run tries again"
                ))
            }
            Retired::NeedsReplacement(why) => {
                let _ = writeln!(self.out, "{why}");
                Ok(false)
            }
        }
    }

    fn finish(&mut self, r: &RotationRecord, old_sha: &str) -> Result<(), String> {
        let outcome = if r.plan.is_empty() {
            Outcome::Delivered
        } else {
            Outcome::Retired
        };
        let mut e = self.entry(Phase::Finished, r, old_sha);
        e.outcome = Some(outcome);
        if r.state == RotState::Minted {
            e.detail = Some("recovery file removed: delivered by hand".into());
        }
        e.new_secret_sha256 = r.new_secret_sha256.clone();
        self.record(&e)?;
        self.acted = true;
        Ok(())
    }

    fn interrupted(&mut self, ts: &str) -> String {
        let job = self.job;
        let sha = sha256_hex(job.secret.as_bytes());
        // No recovery file: the run may have died before the provider answered, or after it
        // answered and before the file was written. Only the provider can tell.
        let mut end = Entry::finished(
            Action::Rotate,
            job.provider,
            job.rule_id,
            &sha,
            Outcome::Unknown,
        );
        end.detail = Some("interrupted; no recovery file".to_string());
        if let Err(e) = self.record(&end) {
            return e;
        }
        format!(
            "an earlier rotation of this {} secret, started on {ts}, was interrupted and left no \
             recovery file: the provider may or may not have minted a new secret. It is not \
             tried again automatically. Check the provider's console: if the old secret still \
             works, remove its lines from the journal {} and rerun.",
            job.provider,
            self.opts.journal.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;

    fn minted() -> Result<Minted, RotateError> {
        let new = ["glpat-", "Vq8sLm2Xr7TbZk4NwPc9"].concat();
        Ok(Minted {
            payload: serde_json::json!({ "token": new }),
            secrets: vec![new],
            summary: "new token".to_string(),
        })
    }

    fn job(old: &str) -> Job<'_> {
        Job {
            provider: "gitlab",
            rule_id: "gitlab-pat",
            secret: old,
            hide_env: &[],
            retirement: Retirement::default(),
        }
    }

    fn opts<'a>(journal: &'a Path, sink: &'a Sink) -> Options<'a> {
        Options {
            journal,
            sink,
            now: OffsetDateTime::now_utc(),
            lock_wait: Duration::ZERO,
        }
    }

    fn go(
        o: &Options,
        j: &Job,
        f: impl Fn() -> Result<Minted, RotateError>,
    ) -> Result<Ended, String> {
        run(o, j, &MintOnly(f), &mut Vec::new())
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

    fn never() -> Result<Minted, RotateError> {
        panic!("the retired secret was presented again")
    }

    #[test]
    fn a_secret_saved_before_a_crash_is_delivered_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let target = dir.path().join("out.json");
        let sink = Sink::File(target.clone());
        // Minted, saved to the recovery file, died before recording it or delivering.
        let old = ["glpat-", "Hd3kWq7ZpL2vRx9TcMb4"].concat();
        let sha = sha256_hex(old.as_bytes());
        started(&journal_path, &sha);
        let saved = sink::write_recovery(
            &sink::recovery_dir(&journal_path),
            &recovery_tag("gitlab", &sha),
            &minted().unwrap().payload,
        )
        .unwrap();
        let o = opts(&journal_path, &sink);
        assert!(matches!(
            plan(&o, &job(&old)).unwrap(),
            Next::Deliver { .. }
        ));
        assert_eq!(go(&o, &job(&old), never).unwrap(), Ended::Acted);
        assert!(
            std::fs::read_to_string(&target)
                .unwrap()
                .contains("Vq8sLm2Xr7TbZk4NwPc9")
        );
        assert!(
            !saved.exists(),
            "the recovery file is removed once delivered"
        );
        // Done: a retry does nothing and says so.
        let mut said = Vec::new();
        assert_eq!(
            run(&o, &job(&old), &MintOnly(never), &mut said).unwrap(),
            Ended::NothingDue
        );
        assert!(String::from_utf8(said).unwrap().contains("nothing to do"));

        // Interrupted with no recovery file: unknown, not retried, and it says what to check.
        let other = ["glpat-", "Nf6rTy2KsW8pQz3LxVb7"].concat();
        started(&journal_path, &sha256_hex(other.as_bytes()));
        let err = go(&o, &job(&other), never).unwrap_err();
        assert!(err.contains("console"), "{err}");
        let err = go(&o, &job(&other), never).unwrap_err();
        assert!(err.contains("answer was lost"), "{err}");
    }

    #[test]
    fn only_files_in_the_recovery_directory_are_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let target = dir.path().join("out.json");
        let sink = Sink::File(target.clone());
        let elsewhere = dir.path().join("not-a-recovery-file.json");
        std::fs::write(&elsewhere, "{\"private\": \"data\"}").unwrap();
        let old = ["glpat-", "Rt5yUi8oPa2sDf4gHj6k"].concat();
        let sha = sha256_hex(old.as_bytes());
        started(&journal_path, &sha);
        let mut minted_line =
            Entry::new(Action::Rotate, Phase::Minted, "gitlab", "gitlab-pat", &sha);
        minted_line.recovery_file = Some(elsewhere.display().to_string());
        Journal::open(&journal_path)
            .unwrap()
            .record(&minted_line)
            .unwrap();
        let o = opts(&journal_path, &sink);
        // Not delivered: with nothing to retire, the rotation is taken as delivered by hand.
        assert_eq!(go(&o, &job(&old), never).unwrap(), Ended::Acted);
        assert!(!target.exists());
        assert!(elsewhere.exists());
    }

    #[test]
    fn a_lost_answer_is_journaled_unknown_and_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let sink = Sink::File(dir.path().join("out.json"));
        let o = opts(&journal_path, &sink);
        let old = ["glpat-", "Qw4eRt6YuI8oPa2SdF3g"].concat();
        let err = go(&o, &job(&old), || {
            Err(RotateError::Unknown("GitLab rotate: timed out".into()))
        })
        .unwrap_err();
        assert!(err.contains("check its console"), "{err}");
        assert!(go(&o, &job(&old), minted).is_err());
        assert!(!dir.path().join("out.json").exists());
        // A refusal (nothing minted) may be retried.
        let refused = ["glpat-", "Zx5cVb7NmL9kJh2GfD4s"].concat();
        let _ = go(&o, &job(&refused), || {
            Err(RotateError::Refused("HTTP 401".into()))
        });
        assert_eq!(go(&o, &job(&refused), minted).unwrap(), Ended::Acted);
    }

    #[test]
    fn nothing_is_minted_when_the_recovery_directory_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        // A file where the recovery directory should be: not writable, even for root.
        std::fs::write(dir.path().join("recovery"), "").unwrap();
        let old = ["glpat-", "Lk8jHg6FdS4aQw2ErT5y"].concat();
        let err = go(&opts(&journal_path, &Sink::Stdout), &job(&old), || {
            panic!("minted without a place to save the new secret")
        })
        .unwrap_err();
        assert!(err.contains("recovery"), "{err}");
    }

    /// A two-step provider: retirement steps recorded in order, with a grace period.
    struct Steps {
        minted: Cell<usize>,
        calls: RefCell<Vec<(RetireStep, bool)>>,
        fail_next: Cell<bool>,
    }

    impl Rotator for Steps {
        fn mint(&self) -> Result<Minted, RotateError> {
            self.minted.set(self.minted.get() + 1);
            let n = self.minted.get();
            let (id, secret) = (format!("NEWKEYID{n:010}"), format!("new-secret-value-{n}"));
            Ok(Minted {
                payload: serde_json::json!({ "id": id, "secret": secret }),
                secrets: vec![id, secret],
                summary: "a new key".into(),
            })
        }
        fn retire(&self, call: &RetireCall) -> Retired {
            if self.fail_next.replace(false) {
                return Retired::Failed("connection failed".into());
            }
            self.calls.borrow_mut().push((call.step, call.given_is_old));
            Retired::Done
        }
    }

    #[test]
    fn retirement_steps_wait_for_their_grace_period_and_resume_after_failures() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let target = dir.path().join("out.json");
        let sink = Sink::File(target.clone());
        let old = "OLDKEYID0000000001";
        fn two_step(secret: &str) -> Job<'_> {
            Job {
                provider: "aws",
                rule_id: "aws-access-key",
                secret,
                hide_env: &[],
                retirement: Retirement {
                    steps: vec![
                        (RetireStep::Deactivate, Duration::ZERO),
                        (RetireStep::Delete, Duration::from_secs(7 * 86_400)),
                    ],
                    old_id: Some(secret.to_string()),
                    keeps_old: false,
                },
            }
        }
        let p = Steps {
            minted: Cell::new(0),
            calls: RefCell::new(Vec::new()),
            fail_next: Cell::new(true),
        };
        let now = OffsetDateTime::now_utc();
        let at = |t| Options {
            journal: &journal_path,
            sink: &sink,
            now: t,
            lock_wait: Duration::ZERO,
        };
        // Deactivating fails: the new key is delivered, the error says the next run tries again.
        let err = run(&at(now), &two_step(old), &p, &mut Vec::new()).unwrap_err();
        assert!(err.contains("next run tries again"), "{err}");
        assert!(target.exists());
        // The retry deactivates, and the deletion waits for its week.
        assert_eq!(
            run(&at(now), &two_step(old), &p, &mut Vec::new()).unwrap(),
            Ended::Acted
        );
        assert_eq!(*p.calls.borrow(), vec![(RetireStep::Deactivate, true)]);
        let mut said = Vec::new();
        assert_eq!(
            run(
                &at(now + Duration::from_secs(86_400)),
                &two_step(old),
                &p,
                &mut said
            )
            .unwrap(),
            Ended::NothingDue
        );
        assert!(String::from_utf8(said).unwrap().contains("due at"));
        // Eight days on, a run given the new key deletes the old one, then rotates the new key.
        let later = now + Duration::from_secs(8 * 86_400);
        let next = plan(&at(later), &two_step("NEWKEYID0000000001")).unwrap();
        assert!(
            matches!(
                next,
                Next::Retire {
                    step: RetireStep::Delete,
                    given_is_old: false,
                    ..
                }
            ),
            "{next:?}"
        );
        assert_eq!(
            run(
                &at(later),
                &two_step("NEWKEYID0000000001"),
                &p,
                &mut Vec::new()
            )
            .unwrap(),
            Ended::Acted
        );
        assert_eq!(p.minted.get(), 2, "the old key once, then the new key");
        assert_eq!(
            p.calls.borrow()[1..],
            [(RetireStep::Delete, false), (RetireStep::Deactivate, true)]
        );
        let rot = journal::rotations(&journal_path).unwrap();
        assert_eq!(
            rot.by_old[&sha256_hex(old.as_bytes())].state,
            RotState::Finished(Outcome::Retired)
        );
        assert_eq!(
            rot.by_old[&sha256_hex(old.as_bytes())]
                .old_id_sha256
                .as_deref(),
            Some(sha256_hex(old.as_bytes()).as_str())
        );
    }

    #[test]
    fn credentials_that_stay_valid_are_rotated_by_every_run() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let sink = Sink::File(dir.path().join("out.json"));
        let o = opts(&journal_path, &sink);
        let refresh = ["1//0", "refresh-token-that-stays-valid-1234567890"].concat();
        let keep = Job {
            retirement: Retirement {
                keeps_old: true,
                ..Retirement::default()
            },
            ..job(&refresh)
        };
        let n = Cell::new(0);
        let mint = || {
            n.set(n.get() + 1);
            minted()
        };
        assert_eq!(go(&o, &keep, mint).unwrap(), Ended::Acted);
        assert_eq!(go(&o, &keep, mint).unwrap(), Ended::Acted);
        // A lost answer costs nothing: the next run mints again.
        assert!(go(&o, &keep, || Err(RotateError::Unknown("timed out".into()))).is_err());
        assert_eq!(go(&o, &keep, mint).unwrap(), Ended::Acted);
        assert_eq!(n.get(), 3);
    }
}
