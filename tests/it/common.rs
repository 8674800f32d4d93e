//! Shared by the integration tests: the fake provider server (keysweep-testkit), generators of fake
//! tokens of real shape (random at run time), and helpers to run the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

pub use keysweep_testkit::{Fake, Reply, Req};

// ---- fake tokens -------------------------------------------------------------------------------

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Random picks from `alphabet`.
pub fn pick(alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[fastrand::usize(..alphabet.len())] as char)
        .collect()
}

/// True when `s` avoids the engine's placeholder filters (so a random token is reported).
fn clean(s: &str) -> bool {
    !keysweep_core::engine::filters::is_placeholder(s)
}

fn fresh(f: impl Fn() -> String) -> String {
    loop {
        let s = f();
        if clean(&s) {
            return s;
        }
    }
}

pub fn slack_bot() -> String {
    fresh(|| {
        format!(
            "xoxb-{}-{}-{}",
            pick(b"123456789", 1) + &pick(b"0123456789", 10),
            pick(b"123456789", 1) + &pick(b"0123456789", 12),
            pick(ALNUM, 24)
        )
    })
}

/// `xoxe-1-` + base64url of `3-1-<id>-<id>-<id>-<64 hex>`, the layout of real refresh tokens.
pub fn slack_refresh() -> String {
    fresh(|| {
        use base64::Engine as _;
        let id = || pick(b"123456789", 1) + &pick(b"0123456789", 12);
        let inner = format!(
            "3-1-{}-{}-{}-{}",
            id(),
            id(),
            id(),
            pick(b"0123456789abcdef", 64)
        );
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(inner);
        format!("xoxe-1-{body}")
    })
}

pub fn slack_webhook() -> String {
    fresh(|| {
        format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            pick(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 10),
            pick(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 10),
            pick(ALNUM, 24)
        )
    })
}

/// `<prefix>_` + 30 random base62 + base62 CRC-32 of them (GitHub's checksum).
pub fn github(prefix: &str) -> String {
    fresh(|| {
        let random = pick(ALNUM, 30);
        let check = keysweep_core::rules::validate::base62(
            u64::from(crc32fast::hash(random.as_bytes())),
            6,
        );
        format!("{prefix}_{random}{}", String::from_utf8(check).unwrap())
    })
}

pub fn gitlab() -> String {
    fresh(|| format!("glpat-{}", pick(ALNUM, 20)))
}

// ---- config and invocation ---------------------------------------------------------------------

/// A config with only the rules these tests need (so the tests do not depend on the default pack
/// as it evolves), each rule's example built from a fresh fake token.
pub fn test_config(dir: &Path) -> PathBuf {
    let rules = [
        (
            "slack-bot-token",
            "slack",
            r"\b(xoxb-[0-9]{8,14}-(?:[0-9]{10,14}-)?[A-Za-z0-9]{18,34})\b",
            "xoxb-",
            None,
            slack_bot(),
        ),
        (
            "slack-refresh-token",
            "slack",
            r"\b(xoxe-1-[A-Za-z0-9_-]{140,160})(?:[^A-Za-z0-9_-]|$)",
            "xoxe-1-",
            None,
            slack_refresh(),
        ),
        (
            "slack-webhook-url",
            "slack",
            r"(https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{23,25})\b",
            "hooks.slack.com",
            None,
            slack_webhook(),
        ),
        (
            "github-pat",
            "github",
            r"\b(ghp_[A-Za-z0-9]{36})\b",
            "ghp_",
            Some("github-checksum"),
            github("ghp"),
        ),
        (
            "github-installation-token",
            "github",
            r"\b(ghs_[A-Za-z0-9]{36})\b",
            "ghs_",
            Some("github-checksum"),
            github("ghs"),
        ),
        (
            "gitlab-pat",
            "gitlab",
            r"\b(glpat-[A-Za-z0-9_-]{20})\b",
            "glpat-",
            None,
            gitlab(),
        ),
        (
            "acme-key",
            "acme",
            r"\b(acme_[A-Za-z0-9]{32})\b",
            "acme_",
            None,
            format!("acme_{}", fresh(|| pick(ALNUM, 32))),
        ),
    ];
    let mut toml = String::from("extend_default = false\n");
    for (id, provider, regex, kw, validator, example) in rules {
        toml.push_str(&format!(
            "[[rules]]\nid = {id:?}\nprovider = {provider:?}\ndescription = \"test {id}\"\nregex = '''{regex}'''\nkeywords = [{kw:?}]\nexamples = [\"token = {example}\"]\n"
        ));
        if let Some(v) = validator {
            toml.push_str(&format!("validator = {v:?}\n"));
        }
    }
    let p = dir.join("rules-config.toml");
    std::fs::write(&p, toml).unwrap();
    p
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub tree: PathBuf,
    pub config: PathBuf,
    pub journal: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir(&tree).unwrap();
        let config = test_config(dir.path());
        let journal = dir.path().join("state").join("journal.jsonl");
        Env {
            dir,
            tree,
            config,
            journal,
        }
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.tree.join(name), text).unwrap();
    }

    /// `keysweep` with a clean environment for endpoints and state.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("keysweep").unwrap();
        c.env_remove("KEYSWEEP_ENDPOINT_SLACK")
            .env_remove("KEYSWEEP_ENDPOINT_GITHUB")
            .env_remove("KEYSWEEP_ENDPOINT_GITLAB")
            .env_remove("KEYSWEEP_CLIENT_ID")
            .env("XDG_STATE_HOME", self.dir.path().join("xdg-state"))
            .env("HOME", self.dir.path().join("home"))
            .current_dir(self.dir.path())
            .timeout(Duration::from_secs(60));
        c
    }

    /// `keysweep scan --verify` of the tree against the fake endpoints, JSON output.
    pub fn scan(&self, endpoints: &[(&str, &Fake)], extra: &[&str]) -> assert_cmd::Command {
        let mut c = self.cmd();
        c.args([
            "scan",
            "--format",
            "json",
            "--verify",
            "--verify-timeout",
            "1",
            "-c",
        ])
        .arg(&self.config)
        .arg("--journal")
        .arg(&self.journal);
        for (p, f) in endpoints {
            c.arg("--endpoint").arg(format!("{p}={}", f.url));
        }
        c.args(extra).arg(&self.tree);
        c
    }
}

/// Output of a finished command as (stdout, stderr, exit code).
pub fn run(mut c: assert_cmd::Command) -> (String, String, i32) {
    let out = c.output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// Runs the commands at once (they mostly wait on fakes' retries and back-offs) and returns
/// `run`'s result for each, in order.
pub fn run_all(cmds: Vec<assert_cmd::Command>) -> Vec<(String, String, i32)> {
    std::thread::scope(|s| {
        let running: Vec<_> = cmds.into_iter().map(|c| s.spawn(move || run(c))).collect();
        running.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Verification status per rule id from a JSON report.
pub fn statuses(stdout: &str) -> Vec<(String, String, serde_json::Value)> {
    let v: serde_json::Value = serde_json::from_str(stdout).expect("a JSON report");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["verification"]["status"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                f["verification"].clone(),
            )
        })
        .collect()
}

/// Asserts none of `secrets` appears in any of `texts`.
pub fn assert_no_secrets(secrets: &[&str], texts: &[&str]) {
    for s in secrets {
        for t in texts {
            assert!(
                !t.contains(s),
                "a secret leaked into output: {}",
                &t[..t.len().min(2000)]
            );
        }
    }
}

/// A key for the test-only `acme-key` rule, which no adapter serves.
pub fn acme() -> String {
    fresh(|| format!("acme_{}", pick(ALNUM, 32)))
}

// ---- tree scans --------------------------------------------------------------------------------

pub fn keysweep() -> Command {
    let mut c = Command::cargo_bin("keysweep").unwrap();
    // Tests must never depend on the developer's environment.
    c.env_remove("NO_COLOR");
    c
}

/// A Slack bot token of real shape: `xoxb-<team digits>-<bot digits>-<24 alnum>`.
pub fn slack_bot_token() -> String {
    slack_bot()
}

pub fn tree() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn write(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, contents).unwrap();
    p
}

/// Runs a JSON scan and returns (exit code, parsed report, stderr). When the first argument is a
/// directory (the tests' temporary trees), paths are reported relative to it (`--root`), as they
/// would be for a user scanning it from inside.
pub fn scan_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut c = keysweep();
    c.arg("scan").args(args).args(["--format", "json"]);
    if let Some(first) = args.first()
        && Path::new(first).is_dir()
        && !args.contains(&"--root")
    {
        c.args(["--root", first]);
    }
    let out = c.output().unwrap();
    let code = out.status.code().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); status {code}; stderr: {stderr}; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (code, json, stderr)
}

/// (file, line, rule_id) of every finding in a JSON report.
pub fn locations(report: &serde_json::Value) -> Vec<(String, u64, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

// ---- CI-integration helpers (SARIF, baselines, ignore files, config) ---------------------------

/// A random Slack bot token of real shape (matched by the default `slack-bot-token` rule).
pub fn slack_token() -> String {
    slack_bot()
}

/// A Slack bot token whose random part contains `word` (for stopword tests).
pub fn slack_token_with(word: &str) -> String {
    fresh(|| {
        format!(
            "xoxb-{}-{}-{}{word}{}",
            pick(b"23456789", 11),
            pick(b"23456789", 13),
            pick(ALNUM, 8),
            pick(ALNUM, 8)
        )
    })
}

/// Letters for the custom `acme` rule used by the config tests.
pub const ACME_ALPHABET: &[u8] = b"bcdfghjkmnpqrstvwxz2345678";

pub fn acme_token() -> String {
    fresh(|| format!("acme_live_{}", pick(ACME_ALPHABET, 28)))
}

/// A config with one custom medium-severity rule for `acme_live_` keys, plus `extra` lines on top.
pub fn acme_config(extra: &str) -> String {
    format!(
        r#"{extra}
[[rules]]
id = "acme-live-key"
provider = "acme"
description = "Acme live API key"
severity = "medium"
regex = '''\b(acme_live_[b-z2-8]{{28}})\b'''
keywords = ["acme_live_"]
examples = ["key = {}"]
negative_examples = ["acme_live_short"]
"#,
        acme_token()
    )
}

/// Runs `keysweep scan <args> --format json --quiet`, insists it did not fail (exit 2), and returns
/// (exit code, parsed report).
pub fn scan_report(args: &[&str]) -> (i32, serde_json::Value) {
    let (code, report, stderr) = scan_json(&[args, &["--quiet"]].concat());
    assert!(code != 2, "scan failed: {stderr}");
    (code, report)
}

/// `(file, rule_id)` of every finding in a JSON report.
pub fn reported(report: &serde_json::Value) -> Vec<(String, String)> {
    locations(report)
        .into_iter()
        .map(|(f, _, r)| (f, r))
        .collect()
}
