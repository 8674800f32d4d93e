//! Helpers shared by the CI-integration tests (SARIF, baselines, ignore files, config): fake tokens
//! from a random source, scratch trees, and the binary.
#![allow(dead_code)]

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use assert_cmd::Command;
use keysweep::engine::filters::is_placeholder;

const DIGITS: &[u8] = b"23456789";
const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/// Letters for the custom `acme` rule used by these tests.
pub const ACME_ALPHABET: &[u8] = b"bcdfghjkmnpqrstvwxz2345678";

fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub fn pick(alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[(random_u64() % alphabet.len() as u64) as usize] as char)
        .collect()
}

fn fresh(make: impl Fn() -> String) -> String {
    loop {
        let t = make();
        if !is_placeholder(&t) {
            return t;
        }
    }
}

/// A random Slack bot token of real shape (matched by the default `slack-bot-token` rule).
pub fn slack_token() -> String {
    fresh(|| {
        format!(
            "xoxb-{}-{}-{}",
            pick(DIGITS, 11),
            pick(DIGITS, 13),
            pick(ALNUM, 24)
        )
    })
}

/// A Slack bot token whose random part contains `word` (for stopword tests).
pub fn slack_token_with(word: &str) -> String {
    fresh(|| {
        format!(
            "xoxb-{}-{}-{}{word}{}",
            pick(DIGITS, 11),
            pick(DIGITS, 13),
            pick(ALNUM, 8),
            pick(ALNUM, 8)
        )
    })
}

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

pub fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, content).unwrap();
}

pub fn keysweep() -> Command {
    let mut c = Command::cargo_bin("keysweep").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// Runs `keysweep scan <args> --format json` and returns (exit code, parsed report).
pub fn scan_json(args: &[&str]) -> (i32, serde_json::Value) {
    let out = keysweep()
        .arg("scan")
        .args(args)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code != 2,
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

/// `(file, rule_id)` of every finding in a JSON report.
pub fn reported(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
