//! keysweep: find leaked credentials in files and git history, verify, revoke and rotate them.
//!
//! `main` only parses the command line, runs the command and maps the outcome to an exit code:
//! 0 nothing found, 1 findings, 2 error.

use std::process::ExitCode;

use clap::Parser;

use keysweep::cli::{Cli, Command};
use keysweep::{action, baseline, hook, rules_cmd, scan};

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(true) => ExitCode::from(1),
        Ok(false) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keysweep: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Ok(true) when something was reported (exit 1).
fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Baseline(args) => baseline::run(&args),
        Command::Rules(cmd) => rules_cmd::run(cmd),
        Command::Revoke(args) => action::revoke_command(&args),
        Command::Rotate(args) => action::rotate_command(&args),
        Command::InstallHook(args) => hook::install(&args).map(|()| false),
    }
}

/// A panic message can carry whatever value was being handled, and that may be a secret: print where
/// it happened, never the payload.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "keysweep: internal error{at} (details withheld because they may contain secrets); \
             please report it"
        );
    }));
}
