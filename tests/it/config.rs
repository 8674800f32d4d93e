//! keysweep.toml through the binary: every field, discovery, custom rules end to end, and clear
//! errors (file, line, field; exit 2) for bad TOML, bad rules and keys that could name a network
//! destination.

use std::path::Path;

use crate::common::{
    acme_config, acme_token, keysweep, reported, scan_report, slack_token, slack_token_with, write,
};
use predicates::str::contains;

fn found(dir: &Path, extra: &[&str]) -> (i32, Vec<(String, String)>) {
    let mut args = vec![dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, report) = scan_report(&args);
    (code, reported(&report))
}

fn pair(file: &str, rule: &str) -> (String, String) {
    (file.to_string(), rule.to_string())
}

/// Exit 2 with every one of `expect` on stderr.
fn fails(dir: &Path, expect: &[&str]) {
    let mut a = keysweep().arg("scan").arg(dir).assert().code(2);
    for e in expect {
        a = a.stderr(contains(*e));
    }
}

#[test]
fn custom_rule_detects_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "keysweep.toml", acme_config(""));
    let key = acme_token();
    write(
        dir.path(),
        "src/client.rb",
        format!("API_KEY = \"{key}\"\n"),
    );
    let (code, report) = scan_report(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "src/client.rb")
        .expect("custom rule fired");
    assert_eq!(f["rule_id"], "acme-live-key");
    assert_eq!(f["provider"], "acme");
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["line"], 1);
    // The rule's own example, in the config, is fake by declaration and not reported.
    assert_eq!(reported(&report), [pair("src/client.rb", "acme-live-key")]);
    // Default rules still run alongside (extend_default defaults to true).
    write(dir.path(), "a.env", format!("T={}\n", slack_token()));
    let (_, got) = found(dir.path(), &[]);
    assert!(got.contains(&pair("a.env", "slack-bot-token")), "{got:?}");
    assert!(
        got.contains(&pair("src/client.rb", "acme-live-key")),
        "{got:?}"
    );
    // `rules list --config` shows it.
    keysweep()
        .args(["rules", "list", "--config"])
        .arg(dir.path().join("keysweep.toml"))
        .assert()
        .code(0)
        .stdout(contains("acme-live-key"))
        .stdout(contains("slack-bot-token"));
}

#[test]
fn extend_default_false_runs_only_custom_rules() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "keysweep.toml",
        acme_config("extend_default = false"),
    );
    write(dir.path(), "a.env", format!("T={}\n", slack_token()));
    write(dir.path(), "b.env", format!("K={}\n", acme_token()));
    let (code, got) = found(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(got, [pair("b.env", "acme-live-key")]);
}

#[test]
fn disable_turns_rules_off() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".keysweep.toml",
        acme_config("disable = [\"slack-bot-token\"]"),
    );
    write(dir.path(), "a.env", format!("T={}\n", slack_token()));
    let (code, got) = found(dir.path(), &[]);
    assert_eq!((code, got), (0, vec![]));
    // Disabling every rule leaves nothing to run: an error, not a silent pass.
    write(
        dir.path(),
        ".keysweep.toml",
        "extend_default = false\ndisable = []\n",
    );
    fails(dir.path(), &["no rules left"]);
    write(
        dir.path(),
        ".keysweep.toml",
        "\ndisable = [\"no-such-rule\"]\n",
    );
    fails(
        dir.path(),
        &[".keysweep.toml:2:", "`disable` names an unknown rule"],
    );
}

#[test]
fn allowlist_paths_regexes_and_stopwords() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let skipped = slack_token();
    write(
        root,
        "vendor/lib/conf.env",
        format!("T={}\n", slack_token()),
    );
    write(root, "app/a.env", format!("T={skipped}\n"));
    write(
        root,
        "app/b.env",
        format!("T={}\n", slack_token_with("fixture")),
    );
    write(root, "app/c.env", format!("T={}\n", slack_token()));
    let (code, all) = found(root, &[]);
    assert_eq!((code, all.len()), (1, 4), "{all:?}");

    let tail = &skipped[skipped.len() - 10..];
    write(
        root,
        "keysweep.toml",
        format!(
            "[allowlist]\npaths = [\"vendor/**\"]\nregexes = ['''{tail}$''']\nstopwords = [\"FIXTURE\"]\n"
        ),
    );
    let (code, got) = found(root, &[]);
    assert_eq!(code, 1);
    assert_eq!(got, [pair("app/c.env", "slack-bot-token")]);
}

#[test]
fn explicit_config_wins_over_discovery() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tree/keysweep.toml",
        "disable = [\"slack-bot-token\"]\n[[rules]]\n",
    );
    write(dir.path(), "tree/a.env", format!("T={}\n", slack_token()));
    // The discovered file is broken ([[rules]] without fields) ...
    fails(
        &dir.path().join("tree"),
        &["keysweep.toml", "missing field"],
    );
    // ... but --config replaces it entirely.
    write(dir.path(), "other.toml", "[allowlist]\nstopwords = []\n");
    let (code, got) = found(
        &dir.path().join("tree"),
        &["--config", dir.path().join("other.toml").to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert_eq!(got, [pair("a.env", "slack-bot-token")]);
}

#[test]
fn bad_toml_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "keysweep.toml", "disable = [\n\n[allowlist\n");
    fails(dir.path(), &["keysweep.toml:3:"]);
    write(dir.path(), "keysweep.toml", "extend_default = \"yes\"\n");
    fails(dir.path(), &["keysweep.toml:1:"]);
}

fn rule_with(field_lines: &str) -> String {
    format!(
        "# custom rules\n[[rules]]\nid = \"acme-live-key\"\nprovider = \"acme\"\ndescription = \"Acme\"\n{field_lines}"
    )
}

#[test]
fn bad_rules_name_file_line_rule_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let ex = acme_token();
    let cases = [
        (
            format!("regex = '''acme_live_([b-z'''\nkeywords = [\"acme_live_\"]\nexamples = [\"{ex}\"]\n"),
            vec![":6:", "rule `acme-live-key`", "field `regex`"],
        ),
        (
            format!("regex = '''acme_live_[b-z2-8]{{28}}'''\nvalidator = \"luhn\"\nkeywords = [\"acme_live_\"]\nexamples = [\"{ex}\"]\n"),
            vec![":7:", "rule `acme-live-key`", "field `validator`", "unknown validator"],
        ),
        (
            "regex = '''acme_live_[b-z2-8]{28}'''\nkeywords = [\"a\"]\nexamples = [\"x\"]\n".to_string(),
            vec![":7:", "field `keywords`"],
        ),
        (
            "regex = '''acme_live_[b-z2-8]{28}'''\nkeywords = [\"acme_live_\"]\nexamples = [\"acme_live_tooshort\"]\n".to_string(),
            vec![":8:", "example 1 does not match"],
        ),
        (
            format!("regex = '''acme_live_[b-z2-8]{{28}}'''\nkeywords = [\"acme_live_\"]\nexamples = [\"{ex}\"]\nnegative_examples = [\"{ex}\"]\n"),
            vec![":9:", "negative example 1 matches"],
        ),
        (
            "regex = '''acme_live_[b-z2-8]{28}'''\nkeywords = [\"acme_live_\"]\n".to_string(),
            vec![":2:", "has no examples"],
        ),
        (
            format!("regex = '''acme_live_[b-z2-8]{{28}}'''\nkeywords = [\"acme_live_\"]\nexamples = [\"{ex}\"]\n[rules.pair]\nregex = '''(unclosed'''\n"),
            vec![":10:", "field `pair.regex`"],
        ),
    ];
    for (fields, expect) in cases {
        write(dir.path(), "keysweep.toml", rule_with(&fields));
        let mut expect = expect;
        expect.push("keysweep.toml");
        fails(dir.path(), &expect);
    }
    // A rule id clashing with a default rule is refused too.
    write(
        dir.path(),
        "keysweep.toml",
        acme_config("").replace("acme-live-key", "slack-bot-token"),
    );
    fails(dir.path(), &["slack-bot-token", "defined twice"]);
}

#[test]
fn bad_allowlist_entries_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "keysweep.toml",
        "[allowlist]\nregexes = [\n  \"fine\",\n  \"(broken\",\n]\n",
    );
    fails(dir.path(), &["keysweep.toml:4:", "field `regexes`"]);
    write(
        dir.path(),
        "keysweep.toml",
        "[allowlist]\npaths = [\"a/[b\"]\n",
    );
    fails(
        dir.path(),
        &["keysweep.toml:2:", "field `paths`", "bad glob"],
    );
}

/// A config found in a scanned repository must not be able to send secrets anywhere: no key that
/// could name a host is accepted, wherever it is put.
#[test]
fn network_destinations_are_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let rule = acme_config("");
    for key in ["endpoint", "url", "verify_url", "endpoints", "revoke_url"] {
        let line = format!("{key} = \"http://127.0.0.1:9/collect\"");
        let placements = [
            format!("{line}\n{rule}"),
            format!("[allowlist]\n{line}\n{rule}"),
            format!("{rule}{line}\n"),
            format!("{rule}[rules.pair]\nregex = \"x\"\n{line}\n"),
            format!("[revoke]\n{line}\n"),
        ];
        for cfg in placements {
            write(dir.path(), "keysweep.toml", &cfg);
            fails(
                dir.path(),
                &[
                    "keysweep.toml",
                    &format!("unknown field `{key}`"),
                    "--endpoint",
                ],
            );
        }
    }
}
