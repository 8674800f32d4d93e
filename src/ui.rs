//! Progress and diagnostics on stderr. Progress shows only on a terminal and never with `--quiet`;
//! warnings always show, printed around the progress bar so neither garbles the other.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Counters every source updates; the progress bar and the summary read them.
#[derive(Debug, Default)]
pub struct Stats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub findings: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    pub skipped_allowlisted: AtomicU64,
    pub errors: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

pub struct Ui {
    bar: ProgressBar,
}

impl Ui {
    pub fn new(quiet: bool) -> Ui {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        };
        Ui { bar }
    }

    /// Refreshes the progress line from the counters; cheap enough to call per file.
    pub fn tick(&self, stats: &Stats, unit: &str) {
        if self.bar.is_hidden() {
            return;
        }
        self.bar.set_message(format!(
            "{} {unit}, {}, {} findings",
            Stats::get(&stats.files),
            human_bytes(Stats::get(&stats.bytes)),
            Stats::get(&stats.findings)
        ));
    }

    pub fn set_message(&self, msg: impl Into<String>) {
        if !self.bar.is_hidden() {
            self.bar.set_message(msg.into());
        }
    }

    pub fn warn(&self, msg: impl std::fmt::Display) {
        self.bar.suspend(|| eprintln!("keysweep: {msg}"));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
