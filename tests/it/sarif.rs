//! SARIF output through the binary: structure, rule entries, fingerprints, URIs, levels and the
//! absence of any secret text.

use std::path::Path;

use crate::common::{acme_config, acme_token, keysweep, slack_token, write};
use serde_json::Value;

/// Scans `dir` from inside it (with an optional --config) as SARIF; asserts the exit code and
/// returns the log.
fn sarif(dir: &Path, config: Option<&Path>, extra: &[&str], want_code: i32) -> (String, Value) {
    let mut cmd = keysweep();
    cmd.current_dir(dir)
        .args(["scan", "."])
        .args(["--format", "sarif", "--quiet"]);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let out = cmd.args(extra).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(want_code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let log = serde_json::from_str(&text).unwrap();
    (text, log)
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

fn rules(log: &Value) -> &Vec<Value> {
    log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
}

fn result_for<'a>(log: &'a Value, uri: &str) -> &'a Value {
    results(log)
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
        .unwrap_or_else(|| panic!("no result at {uri}: {log:#}"))
}

struct Fixture {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    tree: std::path::PathBuf,
    config: std::path::PathBuf,
    tokens: Vec<String>,
}

/// Two Slack tokens (one in a path with a space and a `#`) and one key of a custom medium rule; the
/// config lives outside the tree so its example is not scanned.
fn fixture() -> Fixture {
    let tree_dir = tempfile::tempdir().unwrap();
    let cfg_dir = tempfile::tempdir().unwrap();
    let tokens = vec![slack_token(), slack_token(), acme_token()];
    let tree = tree_dir.path().to_path_buf();
    write(&tree, "app.env", format!("SLACK_BOT_TOKEN={}\n", tokens[0]));
    write(
        &tree,
        "config dir/prod#1.yaml",
        format!("# settings\nslack:\n  token: \"{}\"\n", tokens[1]),
    );
    write(&tree, "src/acme.py", format!("KEY = '{}'\n", tokens[2]));
    let config = cfg_dir.path().join("keysweep.toml");
    std::fs::write(&config, acme_config("")).unwrap();
    Fixture {
        _dirs: (tree_dir, cfg_dir),
        tree,
        config,
        tokens,
    }
}

#[test]
fn log_structure_rules_and_levels() {
    let fx = fixture();
    let (_, log) = sarif(&fx.tree, Some(&fx.config), &[], 1);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "keysweep");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );

    // One entry per fired rule, sorted by id, each with help, tags and a security severity.
    let ids: Vec<&str> = rules(&log)
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme-live-key", "slack-bot-token"]);
    let slack = &rules(&log)[1];
    assert_eq!(slack["name"], "SlackBotToken");
    assert!(
        slack["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("Slack bot token")
    );
    assert!(slack["fullDescription"]["text"].as_str().is_some());
    let help = slack["help"]["markdown"].as_str().unwrap();
    assert!(
        help.contains("auth.revoke") && help.contains("rotat"),
        "{help}"
    );
    assert_eq!(
        slack["properties"]["tags"],
        serde_json::json!(["security", "secret", "slack"])
    );
    assert_eq!(slack["properties"]["security-severity"], "8.0");
    let acme = &rules(&log)[0];
    assert_eq!(acme["properties"]["security-severity"], "5.5");
    // A provider without its own guidance still gets the generic steps.
    assert!(
        acme["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("Revoke")
    );

    assert_eq!(results(&log).len(), 3);
    for r in results(&log) {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules(&log)[idx]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.contains("://") && !uri.starts_with('/'), "{uri}");
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(loc["region"][k].as_u64().unwrap() >= 1, "{k}");
        }
        assert!(
            r["partialFingerprints"]["keysweep/v1"]
                .as_str()
                .unwrap()
                .len()
                == 32
        );
    }

    let env = result_for(&log, "app.env");
    assert_eq!(env["level"], "error");
    assert_eq!(env["ruleId"], "slack-bot-token");
    let msg = env["message"]["text"].as_str().unwrap();
    assert!(
        msg.contains("Slack bot token") && msg.contains("slack"),
        "{msg}"
    );
    let region = &env["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 1);
    assert_eq!(region["startColumn"], 17);
    assert_eq!(region["endColumn"], 17 + fx.tokens[0].len() as u64);

    // Spaces and `#` are percent-encoded, so the URI is a valid reference.
    let yaml = result_for(&log, "config%20dir/prod%231.yaml");
    assert_eq!(
        yaml["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );

    let py = result_for(&log, "src/acme.py");
    assert_eq!(py["level"], "warning");
    assert_eq!(py["ruleId"], "acme-live-key");
}

#[test]
fn no_secret_text_even_with_show_secrets() {
    let fx = fixture();
    for extra in [&[][..], &["--show-secrets"][..]] {
        let (text, _) = sarif(&fx.tree, Some(&fx.config), extra, 1);
        for t in &fx.tokens {
            assert!(!text.contains(t.as_str()), "secret in SARIF");
            // Nor the tail of it, which would survive a naive redaction.
            assert!(!text.contains(&t[t.len() - 12..]), "secret tail in SARIF");
        }
        assert!(!text.contains("***"), "redacted secret in SARIF");
    }
}

#[test]
fn only_fired_rules_are_listed() {
    let fx = fixture();
    std::fs::remove_file(fx.tree.join("src/acme.py")).unwrap();
    let (_, log) = sarif(&fx.tree, Some(&fx.config), &[], 1);
    let ids: Vec<&str> = rules(&log)
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["slack-bot-token"]);
    assert!(results(&log).iter().all(|r| r["ruleIndex"] == 0));
}

#[test]
fn clean_tree_is_an_empty_valid_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "nothing here\n");
    let (_, log) = sarif(dir.path(), None, &[], 0);
    assert!(results(&log).is_empty());
    assert!(rules(&log).is_empty());
    assert_eq!(log["runs"][0]["tool"]["driver"]["name"], "keysweep");
}

#[test]
fn fingerprint_survives_lines_inserted_above() {
    let fx = fixture();
    let (_, before) = sarif(&fx.tree, Some(&fx.config), &[], 1);
    let path = fx.tree.join("app.env");
    let old = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("# a\n# b\nDEBUG=1\n{old}")).unwrap();
    let (_, after) = sarif(&fx.tree, Some(&fx.config), &[], 1);
    let (b, a) = (
        result_for(&before, "app.env"),
        result_for(&after, "app.env"),
    );
    assert_eq!(
        a["locations"][0]["physicalLocation"]["region"]["startLine"], 4,
        "the line did move"
    );
    assert_eq!(b["partialFingerprints"], a["partialFingerprints"]);
    // A different secret at the same place is a different alert.
    std::fs::write(&path, format!("SLACK_BOT_TOKEN={}\n", slack_token())).unwrap();
    let (_, other) = sarif(&fx.tree, Some(&fx.config), &[], 1);
    assert_ne!(
        result_for(&other, "app.env")["partialFingerprints"],
        b["partialFingerprints"]
    );
}

#[test]
fn named_files_get_uris_too() {
    let fx = fixture();
    // An absolute path outside the current directory becomes a file: URI of its own.
    let abs = fx.tree.join("app.env");
    let out = keysweep()
        .current_dir(fx.config.parent().unwrap())
        .arg("scan")
        .arg(&abs)
        .arg("--config")
        .arg(&fx.config)
        .args(["--format", "sarif", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let loc = &results(&log)[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert!(
        loc["uri"].as_str().unwrap().starts_with("file:///"),
        "{loc}"
    );
    assert!(loc.get("uriBaseId").is_none());
    // A relative one stays relative to the current directory (%SRCROOT%).
    let out = keysweep()
        .current_dir(&fx.tree)
        .args(["scan", "config dir/prod#1.yaml", "--format", "sarif", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    result_for(&log, "config%20dir/prod%231.yaml");
}

#[test]
fn sarif_goes_to_output_file() {
    let fx = fixture();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("keysweep.sarif");
    keysweep()
        .arg("scan")
        .arg(&fx.tree)
        .arg("--config")
        .arg(&fx.config)
        .args(["--format", "sarif", "-q", "--output"])
        .arg(&out)
        .assert()
        .code(1)
        .stdout("");
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(results(&log).len(), 3);
}

/// The whole log for the committed fixture tree, compared with a reviewed snapshot: any change to
/// the SARIF (rules, help text, messages, locations, fingerprints) shows up as a diff. The scanned
/// root's absolute URI and the version are the only parts normalised.
#[test]
fn snapshot_of_fixture_tree() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sarif");
    let (_, mut log) = sarif(&fixture, None, &[], 1);
    let run = &mut log["runs"][0];
    let root = &mut run["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    assert!(
        root.as_str().unwrap().ends_with("/fixtures/sarif/"),
        "{root}"
    );
    *root = Value::from("file:///SRCROOT/");
    for key in ["version", "semanticVersion"] {
        assert_eq!(run["tool"]["driver"][key], env!("CARGO_PKG_VERSION"));
        run["tool"]["driver"][key] = Value::from("VERSION");
    }
    let got = serde_json::to_string_pretty(&log).unwrap() + "\n";
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/sarif-fixture.json");
    if std::env::var_os("KEYSWEEP_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &got).unwrap();
    }
    let want = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        got == want,
        "SARIF differs from {}; review and rerun with KEYSWEEP_UPDATE_SNAPSHOTS=1 to accept:\n{got}",
        snapshot.display()
    );
}
