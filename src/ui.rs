//! Progress and diagnostics on stderr. Progress shows only on a terminal and never with `--quiet`;
//! warnings always show, printed around the progress bar so neither garbles the other, and escaped:
//! they carry file names and other text from the scanned repository.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use keysweep_core::stats::{Diagnostics, Stats};
use keysweep_core::text::escape;

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

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Diagnostics for Ui {
    fn warn(&self, msg: &str) {
        self.bar.suspend(|| eprintln!("keysweep: {}", escape(msg)));
    }

    /// Cheap enough to call per file: the bar redraws at its own pace.
    fn tick(&self, stats: &Stats, unit: &str) {
        if self.bar.is_hidden() {
            return;
        }
        self.bar.set_message(format!(
            "{} {unit}, {}",
            Stats::get(&stats.files),
            HumanBytes(Stats::get(&stats.bytes)),
        ));
    }

    fn status(&self, msg: &str) {
        if !self.bar.is_hidden() {
            self.bar.set_message(escape(msg).into_owned());
        }
    }
}
