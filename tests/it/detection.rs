//! Detection through the built binary: every planted token in fixtures/providers is found at the
//! right file, line and rule, nothing else is, and the near misses in fixtures/negatives yield nothing.

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

type Key = (String, u64, String);

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn key(v: &Value) -> Key {
    (
        v["file"].as_str().unwrap().replace('\\', "/"),
        v["line"].as_u64().unwrap(),
        v["rule_id"].as_str().unwrap().to_string(),
    )
}

#[test]
fn providers_fixture_yields_exactly_the_expected_findings() {
    let expected_text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let expected: Vec<Value> = serde_json::from_str(&expected_text).unwrap();
    let expected: BTreeSet<Key> = expected.iter().map(key).collect();
    assert!(
        expected.len() >= 100,
        "expected.json lists {}",
        expected.len()
    );

    // expected.json holds paths relative to fixtures/providers: scan it from there.
    let out = Command::cargo_bin("keysweep")
        .unwrap()
        .current_dir(fixtures().join("providers"))
        .args(["scan", "--format", "json", "."])
        .assert()
        .code(1);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let found: BTreeSet<Key> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();

    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
}

#[test]
fn every_rule_is_planted_in_the_fixtures() {
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    let planted: BTreeSet<&str> = expected
        .iter()
        .map(|e| e["rule_id"].as_str().unwrap())
        .collect();
    let pack = keysweep_core::rules::default_rules().unwrap();
    let unplanted: Vec<&str> = pack
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !planted.contains(id))
        .collect();
    assert!(
        unplanted.is_empty(),
        "rules without a fixture: {unplanted:?}"
    );
}

#[test]
fn negatives_fixture_yields_nothing() {
    let out = Command::cargo_bin("keysweep")
        .unwrap()
        .args(["scan", "--format", "json"])
        .arg(fixtures().join("negatives"))
        .assert()
        .code(0);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
    assert!(report["summary"]["files_scanned"].as_u64().unwrap() >= 6);
}
