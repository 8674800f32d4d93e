//! keysweep: find leaked credentials in files and git history, verify, revoke and rotate them.
//!
//! `main` only parses the command line, runs the command and maps the outcome to an exit code:
//! 0 nothing found, 1 findings, 2 error or partial scan (see README, "Exit codes").

mod cli;
mod commands;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

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
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!(
                "keysweep: error: {}",
                keysweep_core::text::escape(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

/// The exit code: 0 nothing reported, 1 findings reported (or work left), 2 a partial scan.
fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Scan(args) => commands::scan::run(&args),
        Command::Baseline(args) => commands::baseline::run(&args),
        Command::Rules(cmd) => commands::rules::run(cmd).map(u8::from),
        Command::Revoke(args) => commands::revoke::run(&args).map(u8::from),
        Command::Rotate(args) => commands::rotate::run(&args).map(u8::from),
        Command::InstallHook(args) => commands::install_hook::run(&args).map(|()| 0),
        Command::Audit(args) => commands::audit::run(&args).map(u8::from),
        Command::Merge(args) => commands::merge::run(&args).map(u8::from),
        Command::Providers(args) => commands::providers::run(&args).map(|()| 0),
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
