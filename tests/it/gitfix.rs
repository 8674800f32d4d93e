//! Fixture repositories for the history and staged tests, built with the git CLI at test time, with
//! fixed identities and dates so commits and dates can be asserted exactly.

#![allow(dead_code)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

pub const NAME: &str = "Ada Tester";
pub const EMAIL: &str = "ada@tests.invalid";

/// Forbidden in fake tokens: the engine drops them as placeholders.
const PLACEHOLDERS: &[&str] = &[
    "example",
    "your",
    "sample",
    "dummy",
    "placeholder",
    "redacted",
    "changeme",
    "123456789",
    "abcdefghij",
];

fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

fn random_from(alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[(random_u64() % alphabet.len() as u64) as usize] as char)
        .collect()
}

/// A random Slack bot token of the real shape (`xoxb-<10>-<13>-<24>`), free of placeholder patterns.
pub fn slack_token() -> String {
    loop {
        let t = format!(
            "xoxb-{}-{}-{}",
            random_from(b"123456789", 10),
            random_from(b"0123456789", 13),
            random_from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                24
            )
        );
        let lower = t.to_ascii_lowercase();
        let repeated = t
            .as_bytes()
            .windows(6)
            .any(|w| w.iter().all(|&b| b == w[0]));
        if !repeated && !PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
            return t;
        }
    }
}

pub struct Repo {
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    /// Commits made so far, for distinct dates.
    n: u32,
}

pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", NAME)
        .env("GIT_AUTHOR_EMAIL", EMAIL)
        .env("GIT_COMMITTER_NAME", NAME)
        .env("GIT_COMMITTER_EMAIL", EMAIL)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Repo {
    pub fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        std::fs::create_dir(&dir).unwrap();
        let r = Repo {
            dir,
            _tmp: Some(tmp),
            n: 0,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    /// A directory next to the repository, removed with it.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.dir.parent().unwrap().join(name)
    }

    /// A bare clone of this repository next to it, named `name`.
    pub fn bare_clone(&self, name: &str) -> PathBuf {
        let bare = self.sibling(name);
        git_in(
            self.dir.parent().unwrap(),
            &[
                "clone",
                "-q",
                "--bare",
                self.dir.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        bare
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.dir, args)
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Commits everything staged (after `git add -A`) on a fixed, increasing date; returns its id.
    pub fn commit(&mut self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.commit_staged(msg)
    }

    pub fn commit_staged(&mut self, msg: &str) -> String {
        self.n += 1;
        let date = self.date_of(self.n);
        let out = Command::new("git")
            .current_dir(&self.dir)
            .args(["commit", "-q", "--allow-empty", "--no-verify", "-m", msg])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", NAME)
            .env("GIT_AUTHOR_EMAIL", EMAIL)
            .env("GIT_COMMITTER_NAME", NAME)
            .env("GIT_COMMITTER_EMAIL", EMAIL)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.head()
    }

    /// The date of the n-th commit as git takes it.
    pub fn date_of(&self, n: u32) -> String {
        format!("2024-01-{:02}T12:00:00+01:00", n)
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }
}

/// Runs keysweep with `args` in `dir`; returns (exit code, parsed JSON report, stderr).
pub fn keysweep_json(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    keysweep_json_env(dir, args, &[])
}

/// As [`keysweep_json`], with extra environment variables for the binary.
pub fn keysweep_json_env(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> (i32, Value, String) {
    let out = Command::cargo_bin("keysweep")
        .unwrap()
        .current_dir(dir)
        .envs(env.iter().copied())
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // An error (exit 2) writes no report.
    let json: Value = if stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"))
    };
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// (file, commit, line) of each finding, in report order.
pub fn sites(report: &Value) -> Vec<(String, Option<String>, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["commit"].as_str().map(str::to_string),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}
