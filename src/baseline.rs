//! Baselines and `.keysweepignore`: known findings that a scan should not report again, so CI fails
//! only on new leaks.
//!
//! A baseline entry is the secret's SHA-256, the rule and the path; never a line number, so edits
//! around a known secret, or moving it within its file, do not raise it again, while the same secret in
//! another file does. The file holds hashes only and is written sorted, so it diffs cleanly.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::cli::ScanArgs;
use crate::finding::Finding;

pub const DEFAULT_BASELINE: &str = ".keysweep-baseline.json";
/// Read from the scanned root: one finding fingerprint per line.
pub const IGNORE_FILE: &str = ".keysweepignore";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub rule_id: String,
    pub secret_sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub entries: BTreeSet<Entry>,
}

impl Entry {
    fn of(f: &Finding) -> Entry {
        Entry {
            path: f.file.clone(),
            rule_id: f.rule_id.clone(),
            secret_sha256: f.secret_sha256.clone(),
        }
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Baseline {
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        Baseline {
            version: VERSION,
            entries: findings.iter().map(Entry::of).collect(),
        }
    }

    pub fn parse(text: &str, origin: &Path) -> Result<Baseline> {
        let b: Baseline = serde_json::from_str(text)
            .with_context(|| format!("invalid baseline {}", origin.display()))?;
        if b.version != VERSION {
            bail!(
                "baseline {}: unsupported version {} (this keysweep reads version {VERSION})",
                origin.display(),
                b.version
            );
        }
        // Refusing anything but a hash keeps a hand-edited baseline from carrying a secret.
        if let Some(e) = b.entries.iter().find(|e| !is_hex(&e.secret_sha256, 64)) {
            bail!(
                "baseline {}: entry for {} (rule {}) has a `secret_sha256` that is not a SHA-256 in \
                 lowercase hex",
                origin.display(),
                e.path,
                e.rule_id
            );
        }
        Ok(b)
    }

    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        Baseline::parse(&text, path)
    }

    pub fn contains(&self, f: &Finding) -> bool {
        self.entries.contains(&Entry::of(f))
    }

    pub fn to_json(&self) -> Result<String> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}

/// Fingerprints listed in a `.keysweepignore`.
#[derive(Debug, Default)]
pub struct IgnoreList {
    fingerprints: HashSet<String>,
}

impl IgnoreList {
    /// One fingerprint per line; `#` starts a comment (whole-line or after the fingerprint).
    pub fn parse(text: &str, origin: &Path) -> Result<IgnoreList> {
        let mut fingerprints = HashSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if !is_hex(line, 32) {
                bail!(
                    "{}:{}: not a finding fingerprint (expected the 32 hex characters of the \
                     `fingerprint` field of JSON output, optionally followed by `# comment`)",
                    origin.display(),
                    i + 1
                );
            }
            fingerprints.insert(line.to_string());
        }
        Ok(IgnoreList { fingerprints })
    }

    /// The ignore file in `root`, if there is one.
    pub fn discover(root: &Path) -> Result<Option<IgnoreList>> {
        let path = root.join(IGNORE_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        IgnoreList::parse(&text, &path).map(Some)
    }

    pub fn contains(&self, f: &Finding) -> bool {
        self.fingerprints.contains(&f.fingerprint)
    }
}

/// Drops the findings recorded in `--baseline` or listed in the root's `.keysweepignore`; returns how
/// many were dropped.
pub fn suppress(args: &ScanArgs, findings: &mut Vec<Finding>) -> Result<u64> {
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let ignore = match crate::scan::config_root(args) {
        Some(root) => IgnoreList::discover(&root)?,
        None => None,
    };
    if baseline.is_none() && ignore.is_none() {
        return Ok(0);
    }
    let before = findings.len();
    findings.retain(|f| {
        !(baseline.as_ref().is_some_and(|b| b.contains(f))
            || ignore.as_ref().is_some_and(|i| i.contains(f)))
    });
    Ok((before - findings.len()) as u64)
}

/// `keysweep baseline`: scans as `keysweep scan` would (honouring `.keysweepignore`, but not an old
/// `--baseline`, so the new file records everything still present) and writes the baseline.
pub fn run(args: &ScanArgs) -> Result<bool> {
    let scan_args = ScanArgs {
        baseline: None,
        ..args.clone()
    };
    let outcome = crate::scan::collect(&scan_args)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BASELINE));
    let baseline = Baseline::from_findings(&outcome.findings);
    let json = baseline.to_json()?;
    crate::atomic::write(&output, crate::atomic::Access::Default, |out| {
        Ok(out.write_all(json.as_bytes())?)
    })?;
    if !args.quiet {
        eprintln!(
            "keysweep: baseline {}: {} entr{} recorded ({} finding{}, {} distinct secret{})",
            output.display(),
            baseline.entries.len(),
            if baseline.entries.len() == 1 {
                "y"
            } else {
                "ies"
            },
            outcome.summary.findings,
            if outcome.summary.findings == 1 {
                ""
            } else {
                "s"
            },
            outcome.summary.secrets,
            if outcome.summary.secrets == 1 {
                ""
            } else {
                "s"
            },
        );
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_file_syntax() {
        let fp = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
        let l = IgnoreList::parse(
            &format!("# known test key\n\n{fp}  # fixture\n"),
            Path::new(".keysweepignore"),
        )
        .unwrap();
        assert!(l.fingerprints.contains(fp));
        let e = IgnoreList::parse(&format!("{fp}\nnot-a-fingerprint\n"), Path::new("x/.ki"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x/.ki:2:"), "{e}");
    }

    #[test]
    fn baseline_refuses_non_hashes() {
        let bad = r#"{"version":1,"entries":[{"path":"a","rule_id":"r","secret_sha256":"plain"}]}"#;
        let e = Baseline::parse(bad, Path::new("b.json")).unwrap_err();
        assert!(e.to_string().contains("b.json"), "{e}");
        let e = Baseline::parse(r#"{"version":2,"entries":[]}"#, Path::new("b.json")).unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
    }
}
