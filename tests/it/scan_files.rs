//! Scanning files and directories through the binary: walking, limits, bad input, output, exit codes.

use crate::common::*;
use predicates::prelude::*;

#[test]
fn finds_a_token_with_its_location_and_exits_1() {
    let dir = tree();
    let tok = slack_bot_token();
    write(
        dir.path(),
        "src/app.py",
        format!("import os\n\nclient = Slack(  \"{tok}\")\n"),
    );
    let (code, report, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(report["version"], 1);
    let f = &report["findings"][0];
    assert_eq!(f["file"], "src/app.py");
    assert_eq!(f["line"], 3);
    assert_eq!(f["column"], 19);
    assert_eq!(f["end_column"], 19 + tok.len() as u64);
    assert_eq!(f["rule_id"], "slack-bot-token");
    assert_eq!(f["provider"], "slack");
    assert_eq!(f["secret_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    assert_eq!(report["summary"]["findings"], 1);
    assert_eq!(report["summary"]["files_scanned"], 1);
}

#[test]
fn clean_tree_exits_0_and_errors_exit_2() {
    let dir = tree();
    write(dir.path(), "a.txt", "nothing to see\n");
    keysweep().arg("scan").arg(dir.path()).assert().code(0);
    keysweep()
        .args(["scan", "/definitely/not/here"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such file"));
    keysweep()
        .args(["scan", "--format", "yaml", "."])
        .assert()
        .code(2);
    keysweep()
        .args(["scan", "--max-file-size", "ten", "."])
        .assert()
        .code(2);
}

#[test]
fn invalid_utf8_does_not_stop_the_scan() {
    let dir = tree();
    let tok = slack_bot_token();
    let mut data = b"\xff\xfe\xc3\x28 garbage \x80\n".to_vec();
    data.extend_from_slice(format!("token={tok}\n").as_bytes());
    data.extend_from_slice(b"\xed\xa0\x80 more\n");
    write(dir.path(), "latin1.cfg", data);
    let (code, report, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        locations(&report),
        vec![("latin1.cfg".into(), 2, "slack-bot-token".into())]
    );
}

#[test]
fn binary_and_oversized_files_are_skipped_and_counted() {
    let dir = tree();
    let tok = slack_bot_token();
    write(dir.path(), "blob.bin", format!("\0\0\0{tok}\0"));
    let mut big = "x = 1\n".repeat(400);
    big.push_str(&tok);
    write(dir.path(), "big.txt", big);
    write(dir.path(), "small.txt", "fine\n");
    let (code, report, _) = scan_json(&[dir.path().to_str().unwrap(), "--max-file-size", "1K"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["skipped_binary"], 1);
    assert_eq!(report["summary"]["skipped_large"], 1);
    assert_eq!(report["summary"]["files_scanned"], 1);
    // The human summary says so too.
    keysweep()
        .args(["scan", "--max-file-size", "1K"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(
            predicate::str::contains("1 binary").and(predicate::str::contains("1 over 1.00 KiB")),
        );
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed_unless_asked_and_loops_end() {
    let outside = tree();
    let tok = slack_bot_token();
    write(outside.path(), "secret.env", format!("SLACK={tok}\n"));
    let dir = tree();
    write(dir.path(), "plain.txt", "ok\n");
    std::os::unix::fs::symlink(
        outside.path().join("secret.env"),
        dir.path().join("link.env"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).unwrap();

    let (code, report, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");

    let (code, report, stderr) = scan_json(&[dir.path().to_str().unwrap(), "--follow"]);
    assert_eq!(code, 1);
    assert_eq!(
        locations(&report),
        vec![("link.env".into(), 1, "slack-bot-token".into())]
    );
    assert!(stderr.contains("symlink loop"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn unreadable_entries_are_reported_and_the_scan_goes_on() {
    let dir = tree();
    let tok = slack_bot_token();
    write(dir.path(), "good.txt", format!("{tok}\n"));
    // A dangling link is unreadable for every user, root included.
    std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("dangling")).unwrap();
    let (code, report, stderr) = scan_json(&[dir.path().to_str().unwrap(), "--follow"]);
    // A partial scan fails closed (2) and still reports what it found.
    assert_eq!(code, 2);
    assert!(stderr.contains("--allow-partial"), "{stderr}");
    let (code, _, _) = scan_json(&[dir.path().to_str().unwrap(), "--follow", "--allow-partial"]);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["errors"], 1);
    assert_eq!(
        report["summary"]["not_read"],
        serde_json::json!(["dangling"])
    );
    assert_eq!(report["summary"]["partial"], true);
    assert!(
        stderr.contains("dangling") && stderr.contains("partial scan"),
        "{stderr}"
    );
    assert_eq!(locations(&report).len(), 1);

    if !is_root() {
        use std::os::unix::fs::PermissionsExt;
        let p = write(dir.path(), "locked.txt", "x\n");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        let (code, _, stderr) = scan_json(&[dir.path().to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(stderr.contains("cannot read locked.txt"), "{stderr}");
    }
}

#[test]
fn stdin_is_scanned_with_dash() {
    let tok = slack_bot_token();
    let out = keysweep()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(format!("line one\n{tok}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        locations(&report),
        vec![("stdin".into(), 2, "slack-bot-token".into())]
    );
}

#[test]
fn secrets_are_redacted_in_every_format_unless_asked() {
    let dir = tree();
    let tok = slack_bot_token();
    write(dir.path(), ".env", format!("SLACK_BOT_TOKEN={tok}\n"));
    for format in ["human", "json", "jsonl"] {
        let out = keysweep()
            .args(["scan", "--format", format])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let all = [out.stdout, out.stderr].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(!text.contains(&tok), "{format} output leaks the token");
        assert!(
            !text.contains(&tok[10..]),
            "{format} output leaks part of the token"
        );
        assert!(text.contains("xoxb-"), "{format}: {text}");
    }
    keysweep()
        .args(["scan", "--show-secrets"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(tok.as_str()));
}

#[test]
fn ignore_files_hidden_files_and_git_dir() {
    let dir = tree();
    let tok = slack_bot_token();
    write(dir.path(), ".gitignore", "ignored/\n");
    write(dir.path(), "ignored/a.txt", format!("{tok}\n"));
    write(dir.path(), ".env", format!("X={tok}\n"));
    write(dir.path(), ".git/config", format!("{tok}\n"));
    let (_, report, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        locations(&report),
        vec![(".env".into(), 1, "slack-bot-token".into())]
    );
    let (_, report, _) = scan_json(&[dir.path().to_str().unwrap(), "--no-ignore"]);
    let files: Vec<String> = locations(&report).into_iter().map(|l| l.0).collect();
    assert_eq!(files, vec![".env".to_string(), "ignored/a.txt".to_string()]);
}

#[test]
fn inline_allow_and_config_allowlists() {
    let dir = tree();
    let (t1, t2, t3, t4) = (
        slack_bot_token(),
        slack_bot_token(),
        slack_bot_token(),
        slack_bot_token(),
    );
    write(
        dir.path(),
        "a.py",
        format!("x = \"{t1}\"  # keysweep:allow\ny = \"{t2}\"\n"),
    );
    write(dir.path(), "vendor/b.py", format!("{t3}\n"));
    write(dir.path(), "c.py", format!("{t4}\n"));
    write(
        dir.path(),
        "keysweep.toml",
        format!(
            "[allowlist]\npaths = [\"vendor/**\"]\nregexes = ['''^{}$''']\n",
            &t4
        ),
    );
    let (code, report, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        locations(&report),
        vec![("a.py".into(), 2, "slack-bot-token".into())]
    );
    assert_eq!(report["summary"]["skipped_allowlisted"], 1);
}

#[test]
fn output_is_deterministic_whatever_the_thread_count() {
    let dir = tree();
    for i in 0..40 {
        let body = if i % 3 == 0 {
            format!("a\nb {}\nc {}\n", slack_bot_token(), slack_bot_token())
        } else {
            "plain\n".to_string()
        };
        write(dir.path(), &format!("d{}/f{i}.txt", i % 5), body);
    }
    let run = |j: &str| {
        let (_, report, _) = scan_json(&[dir.path().to_str().unwrap(), "-j", j]);
        report["findings"].clone()
    };
    let one = run("1");
    assert_eq!(one.as_array().unwrap().len(), 28);
    assert_eq!(one, run("4"));
    assert_eq!(one, run("8"));
}

#[test]
fn output_file_and_jsonl() {
    let dir = tree();
    write(dir.path(), "t.txt", format!("{}\n", slack_bot_token()));
    let out = tree();
    let report = out.path().join("r.jsonl");
    keysweep()
        .args(["scan", "--format", "jsonl", "--output"])
        .arg(&report)
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty());
    let text = std::fs::read_to_string(&report).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["rule_id"], "slack-bot-token");
    assert_eq!(lines[1]["summary"]["findings"], 1);
}

#[test]
fn quiet_and_non_terminal_runs_print_no_progress() {
    let dir = tree();
    write(dir.path(), "a.txt", "clean\n");
    keysweep()
        .args(["scan", "--quiet"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(predicate::str::is_empty())
        .stdout(predicate::str::is_empty());
    // Not a terminal: just the one-line summary, no spinner frames or escape codes.
    let out = keysweep().arg("scan").arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains('\x1b'));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = tree();
    write(dir.path(), "a.txt", format!("{}\n", slack_bot_token()));
    keysweep()
        .args(["scan", "--color", "always"])
        .arg(dir.path())
        .assert()
        .stdout(predicate::str::contains("\x1b["));
    keysweep()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn rules_list_and_check() {
    keysweep().args(["rules", "list"]).assert().code(0).stdout(
        predicate::str::contains("slack-bot-token").and(predicate::str::contains("rules,")),
    );
    let dir = tree();
    let bad = write(
        dir.path(),
        "bad.toml",
        "provider = \"x\"\n[[rule]]\nid = \"x-one\"\ndescription = \"d\"\nregex = '''\\b(xq_[a-z]{10})\\b'''\nkeywords = [\"xq_\"]\nexamples = [\"xq_abc\"]\n",
    );
    keysweep()
        .args(["rules", "check"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("example 1 does not match"));
    let good = write(
        dir.path(),
        "good.toml",
        "provider = \"x\"\n[[rule]]\nid = \"x-one\"\ndescription = \"d\"\nregex = '''\\b(xq_[a-z]{10})\\b'''\nkeywords = [\"xq_\"]\nexamples = [\"k = xq_qwrtpsdfgh\"]\nnegative_examples = [\"xq_short\"]\n",
    );
    keysweep()
        .args(["rules", "check"])
        .arg(&good)
        .assert()
        .code(0);
}

/// `header.claims.signature` with the given claims, built at run time.
fn jwt(claims: &str) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(claims),
        pick(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
            86
        )
    )
}

#[test]
fn findings_carry_confidence_path_class_and_details_and_min_confidence_filters() {
    let dir = tree();
    let gh = github("ghp");
    let deepseek = format!("sk-{}", pick(b"0123456789abcdef", 32));
    let expired = jwt(r#"{"iss":"https://auth.acme-corp.net","exp":1000000000}"#);
    write(
        dir.path(),
        "tests/test_client.py",
        format!("TOKEN = \"{gh}\"\n"),
    );
    write(
        dir.path(),
        "src/llm.py",
        format!("DEEPSEEK_API_KEY = \"{deepseek}\"\n"),
    );
    write(
        dir.path(),
        "docs/auth.md",
        format!("Authorization: Bearer {expired}\n"),
    );
    let (code, report, _) = scan_json(&[dir.path().to_str().unwrap(), "--show-secrets"]);
    assert_eq!(code, 1);
    let by_rule = |id: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == id)
            .unwrap_or_else(|| panic!("no {id} finding in {report:#}"))
            .clone()
    };
    let high = by_rule("github-pat");
    assert_eq!(high["confidence"], "high");
    assert_eq!(high["confidence_reason"], "checksum matches");
    assert_eq!(high["path_class"], "test");
    let medium = by_rule("deepseek-api-key");
    assert_eq!(medium["confidence"], "medium");
    assert!(
        medium["confidence_reason"]
            .as_str()
            .unwrap()
            .contains("context")
    );
    assert!(medium.get("path_class").is_none(), "{medium:#}");
    let low = by_rule("jwt");
    assert_eq!(low["confidence"], "low");
    assert_eq!(low["path_class"], "docs");
    assert_eq!(low["details"]["exp"], "2001-09-09T01:46:40Z");
    assert_eq!(low["details"]["iss"], "https://auth.acme-corp.net");
    assert_eq!(low["details"]["alg"], "RS256");
    // Never the signature or the token itself in details.
    assert!(
        !low["details"]
            .to_string()
            .contains(&expired[expired.len() - 20..])
    );

    let (code, report, _) =
        scan_json(&[dir.path().to_str().unwrap(), "--min-confidence", "medium"]);
    assert_eq!(code, 1);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(!rules.contains(&"jwt"));
    assert_eq!(report["summary"]["findings"], 2);

    // Nothing at or above high but the checksummed token; without it, nothing to report: exit 0.
    std::fs::remove_file(dir.path().join("tests/test_client.py")).unwrap();
    let (code, report, _) = scan_json(&[dir.path().to_str().unwrap(), "--min-confidence", "high"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn a_literal_with_a_token_shape_inside_getenv_is_a_token() {
    let dir = tree();
    let tok = github("ghp");
    write(
        dir.path(),
        "app.py",
        format!("a = os.getenv(\"{tok}\")\nb = os.getenv(\"GITHUB_TOKEN_2\")\n"),
    );
    let (code, report, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["line"], 1);
}
