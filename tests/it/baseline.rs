//! Baselines, `.keysweepignore` and inline `keysweep:allow`, through the binary.

use std::path::{Path, PathBuf};

use crate::common::{keysweep, reported, scan_report, slack_token, write};

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    baseline: PathBuf,
    token: String,
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let token = slack_token();
    write(
        &root,
        "config/app.env",
        format!("NAME=svc\nSLACK_BOT_TOKEN={token}\nPORT=8080\n"),
    );
    write(&root, "README.md", "docs\n");
    let baseline = dir.path().join("keysweep-baseline.json");
    Repo {
        _dir: dir,
        root,
        baseline,
        token,
    }
}

fn make_baseline(r: &Repo) {
    keysweep()
        .arg("baseline")
        .arg(&r.root)
        .arg("--root")
        .arg(&r.root)
        .arg("--output")
        .arg(&r.baseline)
        .assert()
        .code(0);
}

fn scan_with_baseline(r: &Repo) -> (i32, serde_json::Value) {
    scan_report(&[
        r.root.to_str().unwrap(),
        "--baseline",
        r.baseline.to_str().unwrap(),
    ])
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}

#[test]
fn baseline_file_holds_hashes_only_and_is_deterministic() {
    let r = repo();
    write(&r.root, "b.txt", format!("t={}\n", slack_token()));
    make_baseline(&r);
    let first = std::fs::read_to_string(&r.baseline).unwrap();
    assert!(
        !first.contains(&r.token),
        "plaintext secret in the baseline"
    );
    assert!(
        !first.contains(&r.token[..12]),
        "secret prefix in the baseline"
    );
    let doc: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(doc["version"], 1);
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let paths: Vec<&str> = entries
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["b.txt", "config/app.env"], "sorted by path");
    for e in entries {
        assert_eq!(e["rule_id"], "slack-bot-token");
        let h = e["secret_sha256"].as_str().unwrap();
        assert!(h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(e.get("line").is_none(), "no line numbers in a baseline");
    }
    make_baseline(&r);
    assert_eq!(first, std::fs::read_to_string(&r.baseline).unwrap());
}

#[test]
fn default_output_name() {
    let r = repo();
    keysweep()
        .current_dir(&r.root)
        .args(["baseline", "-q"])
        .assert()
        .code(0)
        .stderr("");
    let text = std::fs::read_to_string(r.root.join(".keysweep-baseline.json")).unwrap();
    assert!(text.contains("config/app.env"));
    // The baseline found at the root suppresses nothing unless named: a scan still fails.
    keysweep()
        .current_dir(&r.root)
        .args(["scan", "-q"])
        .assert()
        .code(1);
    keysweep()
        .current_dir(&r.root)
        .args(["scan", "-q", "--baseline", ".keysweep-baseline.json"])
        .assert()
        .code(0);
}

#[test]
fn baselined_secret_survives_edits_and_moves() {
    let r = repo();
    let (code, _) = scan_report(&[r.root.to_str().unwrap()]);
    assert_eq!(code, 1, "the secret is reported without a baseline");
    make_baseline(&r);

    let (code, report) = scan_with_baseline(&r);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["suppressed"], 1);
    assert_eq!(report["summary"]["findings"], 0);

    // Lines inserted above.
    let env = r.root.join("config/app.env");
    edit(&env, |t| format!("# owner: platform\n# region: eu\n{t}"));
    let (code, report) = scan_with_baseline(&r);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["suppressed"], 1);

    // The secret moved to the end of its file.
    let token = r.token.clone();
    edit(&env, |t| {
        let kept: String = t
            .lines()
            .filter(|l| !l.contains(&token))
            .map(|l| format!("{l}\n"))
            .collect();
        format!("{kept}\n\n[slack]\nbot = \"{token}\"\n")
    });
    let (code, report) = scan_with_baseline(&r);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["suppressed"], 1);
}

#[test]
fn known_secret_in_a_new_file_is_reported() {
    let r = repo();
    make_baseline(&r);
    write(&r.root, "deploy/ci.yml", format!("token: {}\n", r.token));
    let (code, report) = scan_with_baseline(&r);
    assert_eq!(code, 1);
    assert_eq!(
        reported(&report),
        [("deploy/ci.yml".to_string(), "slack-bot-token".to_string())]
    );
    assert_eq!(report["summary"]["suppressed"], 1);
}

#[test]
fn new_secret_is_reported_and_fails() {
    let r = repo();
    make_baseline(&r);
    let env = r.root.join("config/app.env");
    edit(&env, |t| format!("{t}SLACK_ALERTS={}\n", slack_token()));
    let (code, report) = scan_with_baseline(&r);
    assert_eq!(code, 1);
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert_eq!(report["findings"][0]["line"], 4);
    assert_eq!(report["summary"]["suppressed"], 1);
    // The human summary says what was suppressed.
    keysweep()
        .arg("scan")
        .arg(&r.root)
        .arg("--root")
        .arg(&r.root)
        .arg("--baseline")
        .arg(&r.baseline)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("1 suppressed by baseline"));
}

#[test]
fn malformed_or_missing_baseline_is_an_error() {
    let r = repo();
    for (content, expect) in [
        ("{not json", "not a keysweep baseline"),
        (r#"{"version":9,"entries":[]}"#, "unsupported version 9"),
        (
            r#"{"version":1,"entries":[{"path":"a","rule_id":"r","secret_sha256":"xoxb"}]}"#,
            "not a SHA-256",
        ),
        (
            r#"{"version":1,"entries":[],"extra":1}"#,
            "an unknown field",
        ),
    ] {
        std::fs::write(&r.baseline, content).unwrap();
        keysweep()
            .arg("scan")
            .arg(&r.root)
            .arg("--baseline")
            .arg(&r.baseline)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(r.baseline.to_str().unwrap()))
            .stderr(predicates::str::contains(expect));
    }
    keysweep()
        .arg("scan")
        .arg(&r.root)
        .args(["--baseline", "/nonexistent/keysweep-baseline.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read baseline"));
}

#[test]
fn keysweepignore_suppresses_listed_fingerprints() {
    let r = repo();
    let other = slack_token();
    write(&r.root, "notes.txt", format!("old: {other}\n"));
    let (_, report) = scan_report(&[r.root.to_str().unwrap()]);
    let fp = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "notes.txt")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    write(
        &r.root,
        ".keysweepignore",
        format!("# revoked 2026-01-01, kept in the notes\n\n{fp}  # notes.txt\n"),
    );
    let (code, report) = scan_report(&[r.root.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        reported(&report),
        [("config/app.env".to_string(), "slack-bot-token".to_string())]
    );
    assert_eq!(report["summary"]["suppressed"], 1);

    // Together with a baseline both count as suppressed and the scan passes.
    make_baseline(&r);
    let (code, report) = scan_with_baseline(&r);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["suppressed"], 2);
}

#[test]
fn malformed_keysweepignore_names_file_and_line() {
    let r = repo();
    write(
        &r.root,
        ".keysweepignore",
        "# ok\n0f1e2d3c4b5a69788796a5b4c3d2e1f0\nslack-bot-token\n",
    );
    keysweep()
        .arg("scan")
        .arg(&r.root)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(".keysweepignore:3:"));
}

#[test]
fn inline_allow_on_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (slack_token(), slack_token());
    write(
        dir.path(),
        "test_config.py",
        format!("ALLOWED = \"{a}\"  # keysweep:allow\nOTHER = \"{b}\"\n"),
    );
    let (code, report) = scan_report(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let f = report["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["line"], 2);
}

/// A multi-line secret (a PEM-style block from a custom rule) is allowed by a marker on the line
/// above it, and found without one.
#[test]
fn inline_allow_above_a_multi_line_secret() {
    let dir = tempfile::tempdir().unwrap();
    let body = |n: usize| {
        (0..n)
            .map(|_| {
                crate::common::pick(
                    b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789+/",
                    48,
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let block = |b: String| format!("-----BEGIN ACME KEY-----\n{b}\n-----END ACME KEY-----");
    let config = dir.path().join("rules.toml");
    std::fs::write(
        &config,
        format!(
            r#"extend_default = false
[[rules]]
id = "acme-key-block"
provider = "acme"
description = "Acme private key block"
regex = '''-----BEGIN ACME KEY-----\n[A-Za-z0-9+/\n]{{40,4000}}\n-----END ACME KEY-----'''
keywords = ["-----BEGIN ACME KEY"]
examples = ["""{}"""]
"#,
            block(body(2))
        ),
    )
    .unwrap();
    let tree = dir.path().join("tree");
    write(&tree, "plain.pem", format!("{}\n", block(body(3))));
    write(
        &tree,
        "allowed.pem",
        format!("# test key, keysweep:allow\n{}\n", block(body(3))),
    );
    let (code, report) =
        scan_report(&[tree.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    assert_eq!(code, 1);
    let f = report["findings"].as_array().unwrap();
    assert_eq!(
        reported(&report),
        [("plain.pem".to_string(), "acme-key-block".to_string())]
    );
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["end_line"].as_u64()),
        (Some(1), Some(5))
    );
}
