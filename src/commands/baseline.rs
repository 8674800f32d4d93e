//! `keysweep baseline`: scans as `keysweep scan` would (honouring `.keysweepignore`, but not an old
//! baseline, so the new file records everything still present) and writes the baseline.

use anyhow::{Result, bail};
use keysweep_core::atomic;
use keysweep_core::suppress::{Baseline, Suppressor};

use keysweep_core::stats::Stats;

use super::find;
use crate::cli::BaselineArgs;
use crate::ui::Ui;

pub fn run(args: &BaselineArgs) -> Result<u8> {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        bail!(
            "a baseline records findings by path; stdin (`-`) has none: name the files or \
             directories to scan"
        );
    }
    let ui = Ui::new(args.quiet);
    let found = find(&args.paths, &args.input, &args.git, &ui)?;
    ui.finish();
    let mut findings = found.findings;
    Suppressor::load(None, found.roots.config.as_deref())?.retain(&mut findings);
    let errors = Stats::get(&found.stats.errors);
    if errors > 0 && !args.input.allow_partial {
        bail!(
            "{errors} entr{} could not be read (see above): a baseline of a partial scan would \
             let their secrets through later; fix the cause or pass --allow-partial. The baseline \
             was not written",
            if errors == 1 { "y" } else { "ies" }
        );
    }
    let baseline = Baseline::from_findings(&findings);
    let json = baseline.to_json();
    atomic::write(&args.output, atomic::Access::Default, |out| {
        out.write_all(json.as_bytes())
    })?;
    if !args.quiet {
        let n = baseline.entries.len();
        eprintln!(
            "keysweep: baseline {}: {n} entr{} recorded",
            args.output.display(),
            if n == 1 { "y" } else { "ies" },
        );
    }
    Ok(0)
}
