//! `keysweep scan --format jsonl` of files: each finding is written as soon as it is confirmed,
//! suppressed, verified and gated, so an audit of a large tree never holds its findings in memory.
//! Lines come in the order files are read (which varies with threads); every other format sorts.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use std::time::Instant;

use anyhow::Result;
use keysweep_core::finding::{Finding, Status, Verification};
use keysweep_core::policy::{self, Violation};
use keysweep_core::report::{self, Format, ReportOptions};
use keysweep_core::scan as core_scan;
use keysweep_core::secret::{Location, Secret};
use keysweep_core::stats::Stats;
use keysweep_core::suppress::Suppressor;
use keysweep_provider::{Context, Credential, verify};

use super::Prepared;
use super::scan::{exit_code, provider_for, summary_line};
use crate::cli::ScanArgs;
use crate::ui::Ui;

type Key = (String, String);

impl State<'_> {
    /// Writes one file's findings and keeps what the summary and the actions need.
    fn take(&mut self, batch: Vec<Finding>, failed: Vec<Violation>) -> std::io::Result<()> {
        for f in &batch {
            self.printer.finding(f)?;
            self.findings += 1;
            self.shas.insert(f.secret_sha256.clone());
            let key = (f.rule_id.clone(), f.secret_sha256.clone());
            let at = Location {
                file: f.file.clone(),
                line: f.line,
                commit: None,
            };
            match self.index.get(&key) {
                Some(&i) => self.secrets[i].locations.push(at),
                None => {
                    self.index.insert(key, self.secrets.len());
                    self.secrets.push(Secret {
                        rule_id: f.rule_id.clone(),
                        provider: f.provider.clone(),
                        secret: f.secret.clone(),
                        pair: f.pair.clone(),
                        sha256: f.secret_sha256.clone(),
                        locations: vec![at],
                        verification: f.verification.clone(),
                    });
                }
            }
        }
        for v in failed {
            let seen = self.failed.iter().any(|w| {
                w.gate == v.gate && w.secret_sha256 == v.secret_sha256 && w.rule_id == v.rule_id
            });
            if !seen {
                self.failed.push(v);
            }
        }
        Ok(())
    }
}

/// What the stream has seen, with the printer.
struct State<'a> {
    printer: Box<dyn report::Printer + 'a>,
    secrets: Vec<Secret>,
    index: HashMap<Key, usize>,
    shas: HashSet<String>,
    findings: u64,
    failed: Vec<Violation>,
}

pub fn run(args: &ScanArgs) -> Result<u8> {
    let started = Instant::now();
    let ui = Ui::new(args.output.quiet);
    let prepared = Prepared::new(&args.paths, &args.input, &args.git)?;
    let suppressor = Suppressor::load(args.baseline.as_deref(), prepared.roots.config.as_deref())?;
    let floor = keysweep_core::rules::Confidence::from(args.min_confidence);
    let gates = args.policy.policy(prepared.config.policy.as_ref());
    let cx = provider_for(args)?;
    // One verification per distinct secret, whichever thread meets it first.
    let verdicts: Mutex<HashMap<Key, Arc<OnceLock<Verification>>>> = Mutex::default();
    let stats = Stats::default();
    let suppressed = std::sync::atomic::AtomicU64::new(0);
    let opts = ReportOptions {
        show_secrets: args.output.show_secrets,
        color: false,
        root: Some(prepared.roots.report.clone()),
    };
    let mut summary = None;
    let mut write = |out: &mut dyn Write| -> std::io::Result<()> {
        let mut st = State {
            printer: report::printer(Format::Jsonl, &opts, Box::new(out)),
            secrets: Vec::new(),
            index: HashMap::new(),
            shas: HashSet::new(),
            findings: 0,
            failed: Vec::new(),
        };
        // The walk's threads confirm, suppress, verify and gate each file's findings; this thread
        // writes them, in the order they arrive.
        let (tx, rx) = std::sync::mpsc::channel::<(Vec<Finding>, Vec<Violation>)>();
        let (suppressor, cx, verdicts, gates, stats, ui, suppressed, prepared) = (
            &suppressor,
            &cx,
            &verdicts,
            &gates,
            &stats,
            &ui,
            &suppressed,
            &prepared,
        );
        let scanned = std::thread::scope(|scope| {
            let walker = scope.spawn(move || {
                let on_batch = |batch: Vec<Finding>| {
                    let mut batch: Vec<Finding> = batch
                        .into_iter()
                        .filter(|f| f.confidence >= floor)
                        .collect();
                    let before = batch.len();
                    batch.retain(|f| !suppressor.suppresses(f));
                    suppressed.fetch_add(
                        (before - batch.len()) as u64,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    if let Some(cx) = cx {
                        for f in &mut batch {
                            f.verification = Some(verdict(cx, verdicts, f));
                        }
                        if args.verify.only_live {
                            batch.retain(|f| {
                                f.verification
                                    .as_ref()
                                    .is_some_and(|v| v.status == Status::Live)
                            });
                        }
                    }
                    // A batch is one file: the gates that pair findings look within one file.
                    let failed = policy::check(gates, &batch, time::OffsetDateTime::now_utc());
                    let _ = tx.send((batch, failed));
                };
                core_scan::paths(
                    &prepared.scanner,
                    &args.paths,
                    &prepared.opts,
                    stats,
                    ui,
                    &on_batch,
                )
            });
            for (batch, failed) in rx {
                st.take(batch, failed)?;
            }
            Ok::<_, std::io::Error>(walker.join().expect("the walk does not panic"))
        })?;
        ui.finish();
        let mut s = core_scan::summary(
            stats,
            &[],
            suppressed.load(std::sync::atomic::Ordering::Relaxed),
            started,
        );
        s.findings = st.findings;
        s.secrets = st.shas.len() as u64;
        if *gates != policy::Policy::default_gate() {
            s.policy_failures = st.failed.clone();
        }
        st.printer.finish(&s)?;
        summary = Some((s, st.secrets, st.failed, scanned));
        Ok(())
    };
    match &args.output.output {
        Some(path) => {
            keysweep_core::atomic::write(path, keysweep_core::atomic::Access::Default, &mut write)?
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            if let Err(e) = write(&mut lock)
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    let Some((summary, secrets, failed, scanned)) = summary else {
        anyhow::bail!("the scan did not finish");
    };
    scanned?;
    if !args.output.quiet {
        eprintln!(
            "{}",
            summary_line(&summary, "files", args.input.max_file_size)
        );
    }
    if let Some(cx) = &cx {
        super::actions::after_scan(args, cx, &prepared.config, &secrets)?;
    }
    Ok(exit_code(
        &summary,
        !failed.is_empty(),
        args.input.allow_partial,
    ))
}

fn verdict(
    cx: &Context,
    verdicts: &Mutex<HashMap<Key, Arc<OnceLock<Verification>>>>,
    f: &Finding,
) -> Verification {
    let cell = verdicts
        .lock()
        .unwrap()
        .entry((f.rule_id.clone(), f.secret_sha256.clone()))
        .or_default()
        .clone();
    cell.get_or_init(|| {
        verify::verify_one(
            cx,
            &Credential {
                rule_id: &f.rule_id,
                secret: &f.secret,
                pair: f.pair.as_deref(),
            },
        )
    })
    .clone()
}
