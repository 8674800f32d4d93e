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
    /// Audit the whole history of many repositories: one JSON Lines file each, sharded, resumable.
    Audit(AuditArgs),
    /// Combine JSON Lines results (of `audit` or `scan -f jsonl`) into one report.
    Merge(MergeArgs),
    /// List the providers keysweep knows: what it detects, verifies, revokes and rotates.
    Providers(ProvidersArgs),
}

#[derive(Args, Debug)]
pub struct ProvidersArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ProvidersFormat::Human)]
    pub format: ProvidersFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvidersFormat {
    Human,
    Json,
    /// The README's capability tables.
    Markdown,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Human,
    Json,
    Jsonl,
    Sarif,
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Html => Format::Html,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfidenceArg {
    Low,
    Medium,
    High,
}

impl From<ConfidenceArg> for keysweep_core::rules::Confidence {
    fn from(c: ConfidenceArg) -> Self {
        match c {
            ConfidenceArg::Low => Self::Low,
            ConfidenceArg::Medium => Self::Medium,
            ConfidenceArg::High => Self::High,
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
    /// Report only findings at or above this confidence.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = ConfidenceArg::Low)]
    pub min_confidence: ConfidenceArg,
    #[command(flatten)]
    pub policy: PolicyArgs,
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
        alias = "since-commit",
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

/// What makes the scan fail (exit 1); added to keysweep.toml's `[policy]`.
#[derive(Args, Debug, Clone, Default)]
pub struct PolicyArgs {
    /// Fail on: `findings` (any), `live`, `live-never-expiring`, `refresh-with-access` (a refresh
    /// token in the same file as an access token it renews). Repeatable. Without a policy, any
    /// finding fails.
    #[arg(long = "fail-on", value_enum, value_name = "GATE")]
    pub fail_on: Vec<GateArg>,
    /// Fail on a secret exposed in the history for more than N days (history scans).
    #[arg(long, value_name = "N")]
    pub max_exposure_days: Option<u32>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateArg {
    Findings,
    Live,
    LiveNeverExpiring,
    RefreshWithAccess,
}

impl PolicyArgs {
    /// The policy in force: the config's, with the flags' gates turned on too; any finding fails
    /// when neither sets a gate.
    pub fn policy(
        &self,
        config: Option<&keysweep_core::policy::Policy>,
    ) -> keysweep_core::policy::Policy {
        let mut p = config.cloned().unwrap_or_default();
        for g in &self.fail_on {
            match g {
                GateArg::Findings => p.fail_on_findings = true,
                GateArg::Live => p.fail_on_live = true,
                GateArg::LiveNeverExpiring => p.fail_on_live_never_expiring = true,
                GateArg::RefreshWithAccess => p.fail_on_refresh_with_access = true,
            }
        }
        if self.max_exposure_days.is_some() {
            p.max_exposure_days = self.max_exposure_days;
        }
        if p.is_set() {
            p
        } else {
            keysweep_core::policy::Policy::default_gate()
        }
    }
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

    /// Never send keys of this AWS account to AWS (a canary-token account), on top of the built-in
    /// list. Repeatable; also a comma-separated KEYSWEEP_CANARY_ACCOUNTS.
    #[arg(
        long = "canary-account",
        value_name = "ACCOUNT_ID",
        env = "KEYSWEEP_CANARY_ACCOUNTS",
        value_delimiter = ','
    )]
    pub canary_accounts: Vec<String>,

    /// Verify AWS keys of known canary-token accounts too (which alerts their owners).
    #[arg(long)]
    pub verify_canaries: bool,
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

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// File listing the repositories, one per line: clone URLs or local paths (`-` reads stdin).
    #[arg(value_name = "LIST")]
    pub list: PathBuf,
    /// Directory for the results: one `<name>-<hash>.jsonl` per repository.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Audit only shard K of N (counting from 0); a repository's shard follows from its line.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Audit shard JOB_COMPLETION_INDEX of N (the index Kubernetes sets in Indexed Jobs).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// Skip repositories whose results file is already complete.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Only errors on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// JSON Lines files, or directories holding them.
    #[arg(value_name = "PATH", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Json)]
    pub format: FormatArg,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep secrets that the inputs hold in full (they are redacted otherwise).
    #[arg(long)]
    pub show_secrets: bool,
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
    /// Slack: refresh an expiring token (oauth.v2.access), an app configuration token
    /// (tooling.tokens.rotate) with --config-token, or turn a long-lived bot or user token into an
    /// expiring one with a refresh token (oauth.v2.exchange) with --token-env.
    Slack {
        /// Environment variable holding the refresh token (`xoxe-1-...`); `-` reads stdin.
        #[arg(
            long,
            value_name = "VAR",
            required_unless_present = "token_env",
            conflicts_with = "token_env"
        )]
        refresh_token_env: Option<String>,
        /// Environment variable holding a long-lived bot or user token (`xoxb-`, `xoxp-`) to
        /// exchange for an expiring token and a refresh token (once per token; the app must have
        /// token rotation turned on); `-` reads stdin.
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
        /// Rotate an app configuration token (tooling.tokens.rotate; no client credentials).
        #[arg(long, conflicts_with = "token_env")]
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
    /// GitHub: a new GitHub App user token and refresh token from the refresh token (`ghr_`),
    /// which GitHub then retires.
    Github {
        /// Environment variable holding the refresh token (`ghr_...`); `-` reads stdin.
        #[arg(long, value_name = "VAR")]
        refresh_token_env: String,
        /// The GitHub App's client id (not its app id).
        #[arg(long, value_name = "ID", env = "KEYSWEEP_CLIENT_ID")]
        client_id: String,
        /// Environment variable holding the app's client secret (apps using the device flow have
        /// none: leave it out).
        #[arg(long, value_name = "VAR")]
        client_secret_env: Option<String>,
        #[command(flatten)]
        common: RotateCommon,
    },
    /// Google OAuth: a new access token from a refresh token (`1//...`) and the OAuth client's
    /// credentials. The refresh token stays valid, so every run mints a fresh access token.
    Google {
        /// Environment variable holding the refresh token; `-` reads stdin.
        #[arg(long, value_name = "VAR")]
        refresh_token_env: String,
        #[arg(long, value_name = "ID", env = "KEYSWEEP_CLIENT_ID")]
        client_id: String,
        #[arg(long, value_name = "VAR")]
        client_secret_env: String,
        #[command(flatten)]
        common: RotateCommon,
    },
    /// AWS: create a new access key with the old one (IAM CreateAccessKey), deliver it, deactivate
    /// the old key, and delete it once --delete-after has passed (in a later run given the new
    /// key).
    Aws {
        /// Environment variable holding the access key id (`AKIA...`).
        #[arg(long, value_name = "VAR", default_value = "AWS_ACCESS_KEY_ID")]
        key_id_env: String,
        /// Environment variable holding the secret access key; `-` reads stdin.
        #[arg(long, value_name = "VAR", default_value = "AWS_SECRET_ACCESS_KEY")]
        secret_key_env: String,
        /// How long the old key stays deactivated (and can be turned back on in the IAM console)
        /// before a run deletes it: `0` deletes it as soon as the new key is delivered; `7d`,
        /// `12h`, `30m`.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, required = true)]
        delete_after: std::time::Duration,
        #[command(flatten)]
        common: RotateCommon,
    },
    /// Twilio: create a new API key with a Main key, deliver it, then delete the old key (at once,
    /// or after --delete-after in a later run given the new key).
    Twilio {
        /// The account SID (`AC...`).
        #[arg(long, value_name = "SID", env = "TWILIO_ACCOUNT_SID")]
        account_sid: String,
        /// The SID of the API key to rotate (`SK...`).
        #[arg(long, value_name = "SID", env = "TWILIO_API_KEY")]
        key_sid: String,
        /// Environment variable holding that key's secret; `-` reads stdin.
        #[arg(long, value_name = "VAR", default_value = "TWILIO_API_SECRET")]
        key_secret_env: String,
        /// A Main key that creates and deletes keys (or the account SID, to use the auth token).
        /// Without it, the key rotates itself, which Twilio allows only for Main keys.
        #[arg(long, value_name = "SID", requires = "main_secret_env")]
        main_key_sid: Option<String>,
        /// Environment variable holding the Main key's secret (or the auth token).
        #[arg(long, value_name = "VAR", requires = "main_key_sid")]
        main_secret_env: Option<String>,
        /// How long both keys work before a run deletes the old one (`0`, the default: at once).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0")]
        delete_after: std::time::Duration,
        /// The new key's friendly name.
        #[arg(long, value_name = "NAME")]
        friendly_name: Option<String>,
        #[command(flatten)]
        common: RotateCommon,
    },
}

#[derive(Args, Debug)]
pub struct RotateCommon {
    /// Where the new secret goes: `file:PATH`, `exec:COMMAND` or `stdout`.
    #[arg(long, value_name = "SINK")]
    pub sink: String,
    /// Actually rotate (without it, only the plan is printed and nothing is sent).
    #[arg(long)]
    pub yes: bool,
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    #[arg(long = "endpoint", value_name = "PROVIDER=URL")]
    pub endpoints: Vec<String>,
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// How long to wait for another run holding the journal's lock.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub lock_wait: u64,
    /// Only errors (with --yes, no plan and no success line).
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

/// Parses `7d`, `12h`, `30m`, `90s`, `2w` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let mult: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(format!("unknown unit in {s:?} (use s, m, h, d or w)")),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (e.g. 7d, 12h, 30m, 0)"))?;
    n.checked_mul(mult)
        .filter(|&secs| secs <= 10 * 365 * 86_400)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("duration too long: {s:?} (at most ten years)"))
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
    fn durations() {
        assert_eq!(parse_duration("7d").unwrap().as_secs(), 7 * 86_400);
        assert_eq!(parse_duration("12h").unwrap().as_secs(), 12 * 3_600);
        assert_eq!(parse_duration("0").unwrap().as_secs(), 0);
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert!(parse_duration("7x").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("99999999w").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
