//! Helpers shared by the integration tests: the binary, temporary trees, and fake tokens made at run
//! time (so no token literal sits in the repository outside fixtures/).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use assert_cmd::Command;

pub fn keysweep() -> Command {
    let mut c = Command::cargo_bin("keysweep").unwrap();
    // Tests must never depend on the developer's environment.
    c.env_remove("NO_COLOR");
    c
}

/// A small deterministic PRNG (splitmix64) seeded per call site and per process, so tokens differ
/// between tests yet a failing run can be reproduced from the seed in its message.
pub struct Rng(u64);

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Rng {
    pub fn new() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        Rng(t ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32) ^ u64::from(std::process::id()))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

const DIGITS: &[u8] = b"0123456789";
const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// True when a random string would look like a placeholder to the engine (runs of equal symbols or
/// counting sequences), which a test token must not.
fn looks_placeholder(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(4).any(|w| w.iter().all(|&c| c == w[0]))
        || s.contains("123456789")
        || s.to_ascii_lowercase().contains("your")
        || s.to_ascii_lowercase().contains("example")
}

/// A Slack bot token of real shape: `xoxb-<team digits>-<bot digits>-<24 alnum>`.
pub fn slack_bot_token() -> String {
    let mut rng = Rng::new();
    loop {
        let t = format!(
            "xoxb-{}-{}-{}",
            rng.pick(DIGITS, 11),
            rng.pick(DIGITS, 13),
            rng.pick(ALNUM, 24)
        );
        if !looks_placeholder(&t) {
            return t;
        }
    }
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

/// Runs a JSON scan and returns (exit code, parsed report, stderr).
pub fn scan_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = keysweep()
        .arg("scan")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
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
