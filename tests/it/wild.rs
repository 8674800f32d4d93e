//! The real-world regression corpus (tests/wild): token samples harvested from public code, each with
//! the line it sat on, stored reversed and base64-encoded (scripts/wild.py). Every sample must be found
//! by its rule, as the same secret, on the right line; no documented example or public value may be
//! reported; and every rule either has three distinct samples or says in its rule file why it has
//! fewer.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use assert_cmd::Command;
use base64::Engine as _;
use serde_json::Value;

struct Sample {
    rule: Option<String>,
    text: String,
    secret: String,
    /// `<corpus file>:<record number>`, for messages (never the secret).
    origin: String,
}

fn unreverse(field: &str) -> String {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(field)
        .expect("corpus fields are base64");
    String::from_utf8(raw)
        .expect("corpus fields are UTF-8")
        .chars()
        .rev()
        .collect()
}

fn corpus() -> Vec<Sample> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wild");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            let v: Value = serde_json::from_str(line).unwrap();
            out.push(Sample {
                rule: v["rule"].as_str().map(String::from),
                text: unreverse(v["line_b64r"].as_str().unwrap()),
                secret: unreverse(v["secret_b64r"].as_str().unwrap()),
                origin: format!("{name}:{}", i + 1),
            });
        }
    }
    out
}

/// Writes each sample to a file of its own and scans them all in one run; findings by file name.
fn scan(samples: &[&Sample]) -> HashMap<String, Vec<Value>> {
    let dir = tempfile::tempdir().unwrap();
    for (i, s) in samples.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i}.txt")), format!("{}\n", s.text)).unwrap();
    }
    let out = Command::cargo_bin("keysweep")
        .unwrap()
        .args([
            "scan",
            "--no-ignore",
            "--format",
            "json",
            "--show-secrets",
            ".",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut by_file: HashMap<String, Vec<Value>> = HashMap::new();
    for f in report["findings"].as_array().unwrap() {
        by_file
            .entry(f["file"].as_str().unwrap().to_string())
            .or_default()
            .push(f.clone());
    }
    by_file
}

#[test]
fn every_real_world_sample_is_found_by_its_rule_on_its_line() {
    let all = corpus();
    let samples: Vec<&Sample> = all.iter().filter(|s| s.rule.is_some()).collect();
    assert!(samples.len() >= 400, "{} samples", samples.len());
    let found = scan(&samples);
    let mut failures = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let rule = s.rule.as_deref().unwrap();
        let at = s.text.find(&s.secret).expect("the secret is in its line");
        let line = s.text[..at].matches('\n').count() as u64 + 1;
        let hits = found
            .get(&format!("{i}.txt"))
            .map_or(&[][..], |v| v.as_slice());
        let ok = hits
            .iter()
            .any(|f| f["rule_id"] == rule && f["secret"] == s.secret.as_str() && f["line"] == line);
        if !ok {
            let got: Vec<String> = hits
                .iter()
                .map(|f| format!("{}@{}", f["rule_id"], f["line"]))
                .collect();
            failures.push(format!("{} ({rule}, line {line}): got {got:?}", s.origin));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} samples missed:\n{}",
        failures.len(),
        samples.len(),
        failures.join("\n")
    );
}

#[test]
fn documented_examples_and_public_values_are_not_reported() {
    let all = corpus();
    let negatives: Vec<&Sample> = all.iter().filter(|s| s.rule.is_none()).collect();
    assert!(negatives.len() >= 40, "{} negatives", negatives.len());
    let found = scan(&negatives);
    let reported: Vec<String> = negatives
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            found
                .get(&format!("{i}.txt"))
                .is_some_and(|hits| hits.iter().any(|f| f["secret"] == s.secret.as_str()))
        })
        .map(|(_, s)| s.origin.clone())
        .collect();
    assert!(reported.is_empty(), "reported: {reported:?}");
}

#[test]
fn every_rule_has_three_real_samples_or_says_why_not() {
    // Distinct secrets: one token quoted in two files is one sample.
    let mut secrets: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for s in corpus() {
        if let Some(rule) = s.rule {
            secrets.entry(rule).or_default().insert(s.secret);
        }
    }
    let count: BTreeMap<String, usize> = secrets.into_iter().map(|(k, v)| (k, v.len())).collect();
    let pack = keysweep_core::rules::default_rules().unwrap();
    let mut problems = Vec::new();
    for r in &pack {
        let n = count.get(&r.id).copied().unwrap_or(0);
        match (&r.public_samples, n >= 3) {
            (None, false) => problems.push(format!(
                "{}: {n} samples and no `public_samples` note",
                r.id
            )),
            (Some(_), true) => problems.push(format!(
                "{}: {n} samples, but its `public_samples` note says there are fewer",
                r.id
            )),
            _ => {}
        }
    }
    let unknown: Vec<&String> = count
        .keys()
        .filter(|id| !pack.iter().any(|r| &r.id == *id))
        .collect();
    assert!(
        unknown.is_empty(),
        "corpus names unknown rules: {unknown:?}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
