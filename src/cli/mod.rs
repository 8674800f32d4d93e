//! Command-line definitions, in flattened groups so each command takes only the flags that mean
//! something to it. Every group turns into the option types of the library crates in `commands/`;
//! nothing below it sees clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use keysweep_core::report::Format;

/// Shown under `--help` of every command.
const EXIT_CODES: &str = "Exit codes: 0 nothing reported; 1 findings reported (revoke: work left); \
2 error, or a partial scan (something could not be read; --allow-partial exits by the findings)";

#[derive(Parser, Debug)]
#[command(
    name = "keysweep",
    version,
    about = "Find leaked credentials in files and git history, verify them, revoke and rotate them",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan files, directories, stdin (`-`), git history or the staged index for secrets.
    Scan(ScanArgs),
    /// Record the current findings in a baseline file so later scans report only new ones.
    Baseline(BaselineArgs),
    /// List or check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Revoke secrets read from stdin or from a JSON report that holds them.
    Revoke(RevokeArgs),
    /// Mint a replacement credential, deliver it to a sink, then retire the old one.
    Rotate(RotateArgs),
    /// Install a plain git pre-commit hook that runs `keysweep scan --staged`.
    InstallHook(InstallHookArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Human,
    Json,
    Jsonl,
    Sarif,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Sarif => Format::Sarif,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = EXIT_CODES)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads stdin. With --history or --staged: the repository.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub git: GitArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Suppress findings recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub verify: VerifyArgs,
    #[command(flatten)]
    pub action: ActionArgs,
}

/// What is read and how.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Configuration file (default: keysweep.toml or .keysweep.toml at the scanned root).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Do not honour .gitignore, .ignore and other ignore files.
    #[arg(long)]
    pub no_ignore: bool,

    /// Follow symbolic links.
    #[arg(long, short = 'L')]
    pub follow: bool,

    /// Skip files (and blobs) larger than this; accepts K, M, G suffixes.
    #[arg(long, value_name = "SIZE", default_value = "10M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Worker threads (default: number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Show paths relative to DIR (default: the current directory; git scans show the
    /// repository's paths).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Exit 0 or 1 by the findings even when something could not be read (by default a partial
    /// scan exits 2, so CI fails closed).
    #[arg(long)]
    pub allow_partial: bool,
}

impl InputArgs {
    pub fn threads(&self) -> usize {
        self.threads
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// Git sources.
#[derive(Args, Debug, Clone, Default)]
pub struct GitArgs {
    /// Scan every blob reachable from the repository's refs (each distinct blob once).
    #[arg(long, conflicts_with = "staged")]
    pub history: bool,

    /// With --history: only refs matching this name (repeatable), e.g. `main` or `refs/tags/v1`.
    #[arg(long = "branch", value_name = "REF", requires = "history")]
    pub branches: Vec<String>,

    /// With --history: only blobs introduced by commits after COMMIT (COMMIT..refs).
    #[arg(
        long,
        value_name = "COMMIT",
        requires = "history",
        conflicts_with = "range"
    )]
    pub since: Option<String>,

    /// With --history: only blobs introduced by the commits in A..B.
    #[arg(long, value_name = "A..B", requires = "history")]
    pub range: Option<String>,

    /// With --history: also scan the working tree and merge locations of the same secret.
    #[arg(long, requires = "history")]
    pub include_worktree: bool,

    /// Scan the staged index: only lines the staged change adds or modifies relative to HEAD.
    #[arg(long)]
    pub staged: bool,
}

/// How the report is written.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Show secrets in full instead of redacted (in every format but SARIF).
    #[arg(long)]
    pub show_secrets: bool,

    /// No progress bar and no summary on stderr; errors are still printed.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Asking providers.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// Ask each secret's provider whether it is live (read-only calls).
    #[arg(long)]
    pub verify: bool,

    /// Report only findings verified live (implies --verify).
    #[arg(long)]
    pub only_live: bool,

    /// Seconds one provider request may take; one secret's check, retries and rate-limit waits
    /// included, at most three times that.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub verify_timeout: u64,

    /// Seconds all provider calls of the run may take together; secrets left unchecked are
    /// reported as out of time.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub verify_budget: u64,

    /// Override a provider's endpoint: PROVIDER=URL (https, or http to loopback only). Repeatable.
    #[arg(long = "endpoint", value_name = "PROVIDER=URL")]
    pub endpoints: Vec<String>,
}

impl VerifyArgs {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.verify_timeout.max(1))
    }

    pub fn budget(&self) -> Duration {
        Duration::from_secs(self.verify_budget.max(1))
    }
}

/// Acting on what a scan found.
#[derive(Args, Debug, Clone)]
pub struct ActionArgs {
    /// Plan revocation of every live finding (dry run unless --yes). Implies --verify.
    #[arg(long)]
    pub revoke: bool,

    /// Exchange leaked Slack refresh tokens for a new pair delivered to --sink (needs client
    /// credentials from the environment). Implies --verify.
    #[arg(long)]
    pub rotate: bool,

    /// Where --rotate delivers new secrets: `file:PATH`, `exec:COMMAND` or `stdout`.
    #[arg(long, value_name = "SINK")]
    pub sink: Option<String>,

    /// OAuth client id for --rotate.
    #[arg(long, value_name = "ID", env = "KEYSWEEP_CLIENT_ID")]
    pub client_id: Option<String>,

    /// Environment variable holding the OAuth client secret for --rotate.
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,

    /// Actually revoke or rotate (without it, only the plan is printed).
    #[arg(long)]
    pub yes: bool,

    /// Append-only journal of revocations and rotations (default: under the user's state directory).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct BaselineArgs {
    /// Files or directories to scan. With --history or --staged: the repository.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub git: GitArgs,
    /// The baseline file to write.
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = ".keysweep-baseline.json"
    )]
    pub output: PathBuf,
    /// No summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List every rule: id, provider, severity, description.
    List {
        /// Include rules from this config's [[rules]] (and honour its `disable`).
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output format (human or json).
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Validate rule files and run their examples.
    Check {
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct RevokeArgs {
    /// Rule id of the token read from stdin (`-`).
    #[arg(long, value_name = "RULE_ID", requires = "stdin")]
    pub rule: Option<String>,

    /// Read one token from stdin (never from the command line).
    #[arg(value_name = "-", value_parser = parse_dash)]
    pub stdin: Option<String>,

    /// Revoke every live secret in a JSON report produced with --show-secrets.
    #[arg(long, value_name = "FILE", conflicts_with = "stdin")]
    pub report: Option<PathBuf>,

    /// Actually revoke (without it, only the plan is printed).
    #[arg(long)]
    pub yes: bool,

    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    #[arg(long = "endpoint", value_name = "PROVIDER=URL")]
    pub endpoints: Vec<String>,

    /// Seconds one provider request may take; one secret's check at most three times that.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub verify_timeout: u64,

    /// Seconds all provider calls of the run may take together.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub verify_budget: u64,

    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Configuration file for `[revoke] rules` (default: keysweep.toml or .keysweep.toml in the
    /// current directory).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RotateArgs {
    #[command(subcommand)]
    pub provider: RotateProvider,
}

#[derive(Subcommand, Debug)]
pub enum RotateProvider {
    /// Slack: refresh an expiring token (oauth.v2.access), or an app configuration token
    /// (tooling.tokens.rotate) with --config-token.
    Slack {
        /// Environment variable holding the refresh token (`xoxe-1-...`); `-` reads stdin.
        #[arg(long, value_name = "VAR")]
        refresh_token_env: String,
        /// Rotate an app configuration token (tooling.tokens.rotate; no client credentials).
        #[arg(long)]
        config_token: bool,
        #[arg(long, value_name = "ID", env = "KEYSWEEP_CLIENT_ID")]
        client_id: Option<String>,
        #[arg(long, value_name = "VAR")]
        client_secret_env: Option<String>,
        #[command(flatten)]
        common: RotateCommon,
    },
    /// GitLab: rotate a personal access token with its own `self/rotate` endpoint.
    Gitlab {
        /// Environment variable holding the token (`glpat-...`); `-` reads stdin.
        #[arg(long, value_name = "VAR")]
        token_env: String,
        /// Expiry date of the new token (YYYY-MM-DD); GitLab's default is one week.
        #[arg(long, value_name = "DATE")]
        expires_at: Option<String>,
        #[command(flatten)]
        common: RotateCommon,
    },
}

#[derive(Args, Debug)]
pub struct RotateCommon {
    /// Where the new secret goes: `file:PATH`, `exec:COMMAND` or `stdout`.
    #[arg(long, value_name = "SINK")]
    pub sink: String,
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    #[arg(long = "endpoint", value_name = "PROVIDER=URL")]
    pub endpoints: Vec<String>,
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct InstallHookArgs {
    /// Repository to install into.
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,
    /// Replace an existing pre-commit hook.
    #[arg(long)]
    pub force: bool,
}

fn parse_dash(s: &str) -> Result<String, String> {
    if s == "-" {
        Ok(s.to_string())
    } else {
        Err("secrets are read from stdin only: pass `-` and pipe the token in".to_string())
    }
}

/// Parses `10M`, `512K`, `1G` or a plain byte count.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("unknown size suffix in {s:?} (use K, M or G)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {s:?} (e.g. 10M, 512K, 1048576)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10M").unwrap(), 10 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert!(parse_size("10X").is_err());
        assert!(parse_size("abc").is_err());
        // The largest size is a limit like any other, never a wrap to 0.
        assert_eq!(parse_size("18446744073709551615").unwrap(), u64::MAX);
        assert!(parse_size("18446744073709551616").is_err());
        assert!(parse_size("99999999999G").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
