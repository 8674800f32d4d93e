//! Command-line behaviour a new user meets first: flags a command does not take, formats, colour on
//! dumb terminals, messages free of library internals.

use std::path::Path;

use crate::common::*;

#[test]
fn baseline_takes_only_its_own_flags_and_never_records_stdin() {
    let dir = tree();
    let t = dir.path();
    write(t, "a.env", format!("T={}\n", slack_token()));
    for bad in [
        &["--format", "sarif"][..],
        &["--baseline", "x.json"][..],
        &["--verify"][..],
        &["--only-live"][..],
        &["--revoke"][..],
    ] {
        let out = keysweep()
            .current_dir(t)
            .arg("baseline")
            .arg(".")
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "baseline {bad:?} was accepted");
    }
    // `baseline -` must not replace the repository's baseline with `stdin` paths.
    keysweep()
        .current_dir(t)
        .args(["baseline", "."])
        .assert()
        .code(0);
    let before = std::fs::read_to_string(t.join(".keysweep-baseline.json")).unwrap();
    keysweep()
        .current_dir(t)
        .args(["baseline", "-"])
        .write_stdin(format!("T={}\n", slack_token()))
        .assert()
        .code(2);
    let after = std::fs::read_to_string(t.join(".keysweep-baseline.json")).unwrap();
    assert_eq!(before, after);
    assert!(!after.contains("stdin"));
}

#[test]
fn rules_list_honours_its_format() {
    let out = keysweep()
        .args(["rules", "list", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "slack-bot-token")
    );
    let out = keysweep().args(["rules", "list"]).output().unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&out.stdout).is_err());
}

/// Runs `keysweep scan DIR` on a pseudo-terminal (util-linux `script`), with `env`; returns what
/// the terminal showed. `None` when `script` is not there.
fn on_a_terminal(dir: &Path, env: &[(&str, &str)]) -> Option<String> {
    let bin = assert_cmd::cargo::cargo_bin("keysweep");
    let mut c = std::process::Command::new("script");
    c.args(["-qec"])
        .arg(format!("'{}' scan '{}'", bin.display(), dir.display()))
        .arg("/dev/null")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().ok()?;
    out.status.code()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn no_colour_on_a_dumb_terminal_or_with_no_color() {
    let dir = tree();
    write(dir.path(), "a.env", format!("T={}\n", slack_token()));
    let Some(colour) = on_a_terminal(dir.path(), &[("TERM", "xterm-256color")]) else {
        eprintln!("no `script` here: skipped");
        return;
    };
    // The check can fail: on a capable terminal the report is coloured.
    assert!(colour.contains("\x1b[1m"), "{colour:?}");
    // CI services set `CI`; that is no reason to colour a terminal that says it cannot show colour.
    let dumb = on_a_terminal(dir.path(), &[("TERM", "dumb"), ("CI", "true")]).unwrap();
    assert!(dumb.contains("slack-bot-token"), "{dumb:?}");
    assert!(!dumb.contains("\x1b["), "colour on TERM=dumb: {dumb:?}");
    let no = on_a_terminal(dir.path(), &[("TERM", "xterm"), ("NO_COLOR", "1")]).unwrap();
    assert!(!no.contains("\x1b[1m") && !no.contains("\x1b[31"), "{no:?}");
}

#[test]
fn messages_carry_no_library_codes_or_temporary_names() {
    let dir = tree();
    let t = dir.path();
    write(t, "a.env", format!("T={}\n", slack_token()));
    // Not a repository; a repository whose config is damaged; a report into a missing directory.
    std::fs::create_dir_all(t.join("broken/.git/objects")).unwrap();
    std::fs::create_dir_all(t.join("broken/.git/refs")).unwrap();
    write(t, "broken/.git/HEAD", "ref: refs/heads/main\n");
    write(t, "broken/.git/config", "[core\n garbage = = =\n");
    let cases: Vec<Vec<&str>> = vec![
        vec!["scan", "--history", "a.env"],
        vec!["scan", "--staged", "broken"],
        vec!["scan", "--history", "broken"],
        vec!["install-hook", "broken"],
        vec!["scan", ".", "-o", "missing/dir/report.json"],
        vec!["baseline", ".", "-o", "missing/dir/b.json"],
    ];
    for args in cases {
        let out = keysweep().current_dir(t).args(&args).output().unwrap();
        // The test's own directory is a temporary one: only names keysweep made up count.
        let err = String::from_utf8_lossy(&out.stderr).replace(&t.display().to_string(), "T");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for internal in ["class=", "code=", "(-3)", ".tmp", "os error 2: No such"] {
            assert!(
                !err.contains(internal),
                "{args:?} shows {internal:?}: {err}"
            );
        }
        // Said once, not twice through an error chain.
        let first = err.lines().next().unwrap_or("");
        if let Some((_, cause)) = first.rsplit_once(": ") {
            assert_eq!(first.matches(cause).count(), 1, "{first}");
        }
    }
}

#[test]
fn a_sink_in_a_missing_directory_is_refused_before_minting() {
    let env = Env::new();
    let fake = Fake::start(|_| Reply::json(200, serde_json::json!({"token": gitlab()})));
    let mut c = env.cmd();
    c.args([
        "rotate",
        "gitlab",
        "--token-env",
        "OLD",
        "--sink",
        "file:missing/dir/new.json",
    ])
    .arg("--journal")
    .arg(&env.journal)
    .args(["--endpoint", &format!("gitlab={}", fake.url)])
    .env("OLD", gitlab());
    let (_, err, code) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("does not exist") && !err.contains(".tmp"),
        "{err}"
    );
    assert!(fake.requests().is_empty());
}
