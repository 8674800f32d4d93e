//! Rotation through the binary: the plan by default, then with `--yes` mint, deliver to a sink,
//! retire, journal; the recovery file when delivery fails; no replays; one run at a time per
//! journal; every provider against a loopback fake.

use crate::common::*;
use serde_json::json;

/// A Slack fake for `oauth.v2.access` and `tooling.tokens.rotate` that hands out fresh fake tokens
/// (built at run time) and refuses a refresh token it has already exchanged.
fn slack_oauth() -> (Fake, String, String) {
    let (new_access, new_refresh) = (slack_bot(), slack_refresh());
    let (a, r) = (new_access.clone(), new_refresh.clone());
    let used = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let fake = Fake::start(move |req| {
        let refresh = req.form("refresh_token").unwrap_or_default();
        if !used.lock().unwrap().insert(refresh) {
            return Reply::json(200, json!({"ok": false, "error": "invalid_refresh_token"}));
        }
        match req.path.as_str() {
            "/api/oauth.v2.access" => {
                if req.form("client_secret").as_deref() != Some("s3cr3t-client-value") {
                    return Reply::json(200, json!({"ok": false, "error": "bad_client_secret"}));
                }
                Reply::json(
                    200,
                    json!({"ok": true, "access_token": a, "refresh_token": r, "expires_in": 43200, "token_type": "bot", "team": {"id": "T0ACME"}}),
                )
            }
            "/api/tooling.tokens.rotate" => Reply::json(
                200,
                json!({"ok": true, "token": a, "refresh_token": r, "team_id": "T0ACME", "user_id": "U1", "iat": 1_900_000_000, "exp": 1_900_043_200}),
            ),
            "/api/auth.test" => Reply::json(200, json!({"ok": true})),
            "/api/auth.revoke" => Reply::json(200, json!({"ok": true, "revoked": true})),
            _ => Reply::empty(404),
        }
    });
    (fake, new_access, new_refresh)
}

/// `keysweep rotate slack` of `old` into `sink`, without `--yes`: the plan only.
fn slack_rotation(env: &Env, fake: &Fake, old: &str, sink: &str) -> assert_cmd::Command {
    let mut c = env.cmd();
    c.args([
        "rotate",
        "slack",
        "--refresh-token-env",
        "OLD_REFRESH",
        "--sink",
        sink,
        "--journal",
    ])
    .arg(&env.journal)
    .args(["--endpoint", &format!("slack={}", fake.url)])
    .env("OLD_REFRESH", old)
    .env("CLIENT_SECRET", "s3cr3t-client-value");
    c
}

fn rotate_slack(
    env: &Env,
    fake: &Fake,
    old: &str,
    sink: &str,
    extra: &[&str],
) -> (String, String, i32) {
    let mut c = slack_rotation(env, fake, old, sink);
    c.arg("--yes").args(extra);
    run(c)
}

#[test]
fn slack_refresh_rotation_delivers_to_a_private_file_and_is_not_replayed() {
    let env = Env::new();
    let (fake, new_access, new_refresh) = slack_oauth();
    let old = slack_refresh();
    let target = env.dir.path().join("slack.json");
    let sink = format!("file:{}", target.display());
    let (out, err, code) = rotate_slack(
        &env,
        &fake,
        &old,
        &sink,
        &[
            "--client-id",
            "111.222",
            "--client-secret-env",
            "CLIENT_SECRET",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let req = &fake.requests()[0];
    assert_eq!(req.path, "/api/oauth.v2.access");
    assert_eq!(req.form("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(req.form("client_id").as_deref(), Some("111.222"));
    assert_eq!(req.form("refresh_token").as_deref(), Some(old.as_str()));
    assert!(req.header("authorization").is_none());
    let delivered: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(delivered["access_token"], new_access.as_str());
    assert_eq!(delivered["refresh_token"], new_refresh.as_str());
    assert_eq!(delivered["expires_in"], 43200);
    assert!(delivered["expires_at"].as_str().unwrap().ends_with('Z'));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let journal = std::fs::read_to_string(&env.journal).unwrap();
    assert!(journal.contains("\"delivered\""));
    assert!(journal.contains(&keysweep_core::finding::sha256_hex(new_refresh.as_bytes())));
    assert_no_secrets(
        &[&old, &new_access, &new_refresh, "s3cr3t-client-value"],
        &[&out, &err, &journal],
    );
    // Delivered means nothing was left behind in the recovery directory.
    let rec = env.journal.parent().unwrap().join("recovery");
    assert!(!rec.exists() || std::fs::read_dir(&rec).unwrap().next().is_none());

    // The same (now retired) refresh token again, as a retried job would: the journal says it is
    // done, nothing is sent, and the retry succeeds.
    let (_, err, code) = rotate_slack(
        &env,
        &fake,
        &old,
        &sink,
        &[
            "--client-id",
            "111.222",
            "--client-secret-env",
            "CLIENT_SECRET",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing to do"), "{err}");
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn slack_config_token_rotation_needs_only_the_refresh_token() {
    let env = Env::new();
    let (fake, new_access, new_refresh) = slack_oauth();
    let old = slack_refresh();
    let (out, err, code) = rotate_slack(&env, &fake, &old, "stdout", &["--config-token"]);
    assert_eq!(code, 0, "{err}");
    let req = &fake.requests()[0];
    assert_eq!(req.path, "/api/tooling.tokens.rotate");
    assert_eq!(req.body, format!("refresh_token={old}"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["token"], new_access.as_str());
    assert_eq!(v["refresh_token"], new_refresh.as_str());
    assert_eq!(v["expires_at"], "2030-03-18T05:46:40Z");
    assert_no_secrets(&[&old, &new_access, &new_refresh], &[&err]);
}

#[test]
fn an_out_of_range_expiry_still_delivers_the_new_tokens() {
    let env = Env::new();
    let (new_access, new_refresh) = (slack_bot(), slack_refresh());
    let (a, r) = (new_access.clone(), new_refresh.clone());
    // The old refresh token is spent once Slack answers: a bad number in the answer must not lose
    // the new pair.
    let fake = Fake::start(move |_| {
        Reply::json(
            200,
            json!({"ok": true, "access_token": a, "refresh_token": r, "expires_in": i64::MAX}),
        )
    });
    let (out, err, code) = rotate_slack(
        &env,
        &fake,
        &slack_refresh(),
        "stdout",
        &[
            "--client-id",
            "111.222",
            "--client-secret-env",
            "CLIENT_SECRET",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["access_token"], new_access.as_str());
    assert_eq!(v["refresh_token"], new_refresh.as_str());
    assert!(v["expires_at"].is_null());
}

#[test]
fn a_failing_sink_leaves_a_recovery_file_and_nothing_else_happens() {
    let env = Env::new();
    let (fake, new_access, new_refresh) = slack_oauth();
    let old = slack_refresh();
    let (out, err, code) = rotate_slack(
        &env,
        &fake,
        &old,
        "exec:cat >/dev/null; exit 7",
        &["--client-id", "1.2", "--client-secret-env", "CLIENT_SECRET"],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("recovery file"), "{err}");
    let rec_dir = env.journal.parent().unwrap().join("recovery");
    let files: Vec<_> = std::fs::read_dir(&rec_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(
        err.contains(&files[0].display().to_string()),
        "the path is printed: {err}"
    );
    let saved = std::fs::read_to_string(&files[0]).unwrap();
    assert!(saved.contains(&new_access) && saved.contains(&new_refresh));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let journal = std::fs::read_to_string(&env.journal).unwrap();
    assert!(journal.contains("\"step_failed\""), "{journal}");
    assert_eq!(fake.requests().len(), 1, "nothing after the exchange");
    assert_no_secrets(&[&old, &new_access, &new_refresh], &[&out, &err, &journal]);
    // The next run delivers the saved pair (the old refresh token is spent: Slack is not asked).
    let target = env.dir.path().join("slack.json");
    let (_, err, code) = rotate_slack(
        &env,
        &fake,
        &old,
        &format!("file:{}", target.display()),
        &["--client-id", "1.2", "--client-secret-env", "CLIENT_SECRET"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains(&new_refresh)
    );
    assert_eq!(fake.requests().len(), 1);
    assert!(std::fs::read_dir(&rec_dir).unwrap().next().is_none());
}

#[test]
fn scan_rotate_exchanges_a_leaked_refresh_token_and_a_failed_delivery_blocks_revocation() {
    let env = Env::new();
    let (fake, new_access, new_refresh) = slack_oauth();
    let (leaked, bot) = (slack_refresh(), slack_bot());
    env.write("a.env", &format!("R={leaked}\nB={bot}\n"));
    let with_sink = |sink: &str, yes: bool| {
        let mut extra = vec![
            "--rotate",
            "--revoke",
            "--sink",
            sink,
            "--client-id",
            "1.2",
            "--client-secret-env",
            "CLIENT_SECRET",
        ];
        if yes {
            extra.push("--yes");
        }
        let mut c = env.scan(&[("slack", &fake)], &extra);
        c.env("CLIENT_SECRET", "s3cr3t-client-value");
        run(c)
    };
    // The report owns stdout.
    let (_, err, code) = with_sink("stdout", false);
    assert_eq!(code, 2);
    assert!(err.contains("--output"), "{err}");
    // Dry run: nothing exchanged, nothing revoked.
    let pair = env.dir.path().join("pair.json");
    let (_, err, _) = with_sink(&format!("file:{}", pair.display()), false);
    assert!(!pair.exists());
    assert!(
        err.contains("rotation plan") && err.contains("dry run"),
        "{err}"
    );
    assert_eq!(fake.count("POST", "/api/oauth.v2.access"), 0);
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 0);
    // Failing sink: the exchange happens (retiring the leak), the pair is saved, nothing is revoked.
    let (out, err, code) = with_sink("exec:exit 1", true);
    assert_eq!(code, 2, "{err}");
    assert_eq!(fake.count("POST", "/api/oauth.v2.access"), 1);
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 0, "{err}");
    assert!(err.contains("recovery file"), "{err}");
    assert_no_secrets(&[&leaked, &bot, &new_access, &new_refresh], &[&out, &err]);
}

#[test]
fn scan_rotate_delivers_then_revokes() {
    let env = Env::new();
    let (fake, new_access, new_refresh) = slack_oauth();
    let (leaked, bot) = (slack_refresh(), slack_bot());
    env.write("a.env", &format!("R={leaked}\nB={bot}\n"));
    let target = env.dir.path().join("pair.json");
    let sink = format!("file:{}", target.display());
    let mut c = env.scan(
        &[("slack", &fake)],
        &[
            "--rotate",
            "--revoke",
            "--yes",
            "--sink",
            &sink,
            "--client-id",
            "1.2",
            "--client-secret-env",
            "CLIENT_SECRET",
        ],
    );
    c.env("CLIENT_SECRET", "s3cr3t-client-value");
    let (out, err, _) = run(c);
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains(&new_refresh)
    );
    let order: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    let exchange = order
        .iter()
        .position(|p| p == "/api/oauth.v2.access")
        .unwrap();
    let revoke = order.iter().position(|p| p == "/api/auth.revoke").unwrap();
    assert!(
        exchange < revoke,
        "delivered before anything is revoked: {order:?}"
    );
    assert_no_secrets(&[&leaked, &bot, &new_access, &new_refresh], &[&out, &err]);
}

#[test]
fn gitlab_self_rotation_to_an_exec_sink() {
    let env = Env::new();
    let (old, new) = (gitlab(), gitlab());
    let n = new.clone();
    let fake = Fake::start(move |r| {
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/api/v4/personal_access_tokens/self/rotate")
        );
        Reply::json(
            200,
            json!({"id": 9, "name": "ci", "token": n, "expires_at": r.form("expires_at"), "scopes": ["api"], "user_id": 5}),
        )
    });
    let got = env.dir.path().join("got.json");
    let mut c = env.cmd();
    c.args([
        "rotate",
        "gitlab",
        "--token-env",
        "-",
        "--expires-at",
        "2031-02-03",
        "--sink",
    ])
    .arg(format!("exec:cat > '{}'", got.display()))
    .arg("--journal")
    .arg(&env.journal)
    .args(["--endpoint", &format!("gitlab={}", fake.url), "--yes"])
    .write_stdin(format!("{old}\n"));
    let (out, err, code) = run(c);
    assert_eq!(code, 0, "{err}");
    let req = &fake.requests()[0];
    assert_eq!(req.header("private-token"), Some(old.as_str()));
    assert_eq!(req.form("expires_at").as_deref(), Some("2031-02-03"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&got).unwrap()).unwrap();
    assert_eq!(v["token"], new.as_str());
    assert_eq!(v["expires_at"], "2031-02-03");
    assert_no_secrets(
        &[&old, &new],
        &[&out, &err, &std::fs::read_to_string(&env.journal).unwrap()],
    );
}

#[test]
fn rotation_refuses_bad_input_before_sending_anything() {
    let env = Env::new();
    let (fake, _, _) = slack_oauth();
    // A sink typo fails before anything is minted.
    let (_, err, code) = rotate_slack(
        &env,
        &fake,
        &slack_refresh(),
        "ftp://nowhere",
        &["--config-token"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--sink"), "{err}");
    // Not a refresh token.
    let (_, _, code) = rotate_slack(&env, &fake, &slack_bot(), "stdout", &["--config-token"]);
    assert_eq!(code, 2);
    // Missing client credentials for oauth.v2.access.
    let (_, err, code) = rotate_slack(&env, &fake, &slack_refresh(), "stdout", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--client-id"), "{err}");
    assert!(fake.requests().is_empty());
}

#[test]
fn a_minting_call_is_never_retried() {
    let env = Env::new();
    // A 5xx may come after Slack consumed the refresh token; a retry would fail and lose the pair.
    let fake = Fake::start(|_| Reply::text(502, "bad gateway"));
    let old = slack_refresh();
    let (_, err, code) = rotate_slack(&env, &fake, &old, "stdout", &["--config-token"]);
    assert_eq!(code, 2);
    assert!(err.contains("HTTP 502"), "{err}");
    assert_eq!(fake.requests().len(), 1);
    // Slack may have consumed the refresh token: the outcome is unknown, and it says what to check.
    assert!(err.contains("console"), "{err}");
    let journal = std::fs::read_to_string(&env.journal).unwrap();
    assert!(journal.contains("\"unknown\""), "{journal}");
    // A rerun does not present the refresh token again.
    let (_, err, code) = rotate_slack(&env, &fake, &old, "stdout", &["--config-token"]);
    assert_eq!(code, 2);
    assert!(err.contains("answer was lost"), "{err}");
    assert_eq!(fake.requests().len(), 1);
}

// ---- the plan -----------------------------------------------------------------------------------

#[test]
fn without_yes_rotate_prints_the_plan_and_sends_nothing() {
    let env = Env::new();
    let (fake, _, _) = slack_oauth();
    let old = slack_refresh();
    let target = env.dir.path().join("slack.json");
    let sink = format!("file:{}", target.display());
    let mut c = slack_rotation(&env, &fake, &old, &sink);
    c.args(["--client-id", "1.2", "--client-secret-env", "CLIENT_SECRET"]);
    let (out, err, code) = run(c);
    assert_eq!(code, 1, "a plan with work to do: {err}");
    let sha = keysweep_core::finding::sha256_hex(old.as_bytes());
    for want in [
        "rotation plan:",
        "slack-refresh-token xoxe-1",
        &format!("sha256:{}", &sha[..12]),
        "POST /api/oauth.v2.access",
        &format!("to file {}", target.display()),
        "recovery",
        "dry run: nothing was sent",
    ] {
        assert!(err.contains(want), "{want:?} missing from the plan:\n{err}");
    }
    assert!(out.is_empty());
    assert!(fake.requests().is_empty());
    assert!(!target.exists());
    assert!(!env.journal.exists(), "a dry run writes no journal");
    assert_no_secrets(&[&old, "s3cr3t-client-value"], &[&err]);
}

// ---- one run at a time ----------------------------------------------------------------------------

#[test]
fn two_runs_of_the_same_rotation_at_once_mint_once() {
    let env = Env::new();
    let (new_token, new_refresh) = (slack_bot(), slack_refresh());
    let (t, r) = (new_token.clone(), new_refresh.clone());
    // Slack takes its time: the second run starts while the first waits for the answer.
    let fake = Fake::start(move |_| {
        std::thread::sleep(std::time::Duration::from_millis(1200));
        Reply::json(
            200,
            json!({"ok": true, "token": t, "refresh_token": r, "team_id": "T1", "exp": 1_900_043_200}),
        )
    });
    let old = slack_refresh();
    let start = |name: &str| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("keysweep"));
        c.args([
            "rotate",
            "slack",
            "--config-token",
            "--refresh-token-env",
            "OLD_REFRESH",
            "--yes",
            "--sink",
        ])
        .arg(format!("file:{}", env.dir.path().join(name).display()))
        .arg("--journal")
        .arg(&env.journal)
        .args(["--endpoint", &format!("slack={}", fake.url)])
        .env("OLD_REFRESH", &old)
        .env("HOME", env.dir.path().join("home"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let first = start("a.json");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let second = start("b.json");
    let (a, b) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    let (ea, eb) = (
        String::from_utf8_lossy(&a.stderr).into_owned(),
        String::from_utf8_lossy(&b.stderr).into_owned(),
    );
    assert_eq!(fake.requests().len(), 1, "minted once:\n{ea}\n{eb}");
    assert_eq!(a.status.code(), Some(0), "{ea}");
    assert_eq!(b.status.code(), Some(0), "{eb}");
    assert!(eb.contains("waiting for another keysweep run"), "{eb}");
    assert!(eb.contains("nothing to do"), "{eb}");
    assert!(env.dir.path().join("a.json").exists());
    assert!(!env.dir.path().join("b.json").exists());
}

// ---- Slack: oauth.v2.exchange ----------------------------------------------------------------------

#[test]
fn slack_long_lived_tokens_are_exchanged_once() {
    let env = Env::new();
    let (access, refresh) = (slack_bot(), slack_refresh());
    let (a, r) = (access.clone(), refresh.clone());
    let fake = Fake::start(move |req| {
        assert_eq!(req.path, "/api/oauth.v2.exchange");
        Reply::json(
            200,
            json!({"ok": true, "access_token": a, "refresh_token": r, "expires_in": 43200, "team": {"id": "T9"}}),
        )
    });
    let old = slack_bot();
    let exchange = |yes: bool| {
        let mut c = env.cmd();
        c.args([
            "rotate",
            "slack",
            "--token-env",
            "SLACK_BOT_TOKEN",
            "--client-id",
            "1.2",
            "--client-secret-env",
            "CLIENT_SECRET",
            "--sink",
            "stdout",
            "--journal",
        ])
        .arg(&env.journal)
        .args(["--endpoint", &format!("slack={}", fake.url)])
        .env("SLACK_BOT_TOKEN", &old)
        .env("CLIENT_SECRET", "s3cr3t-client-value");
        if yes {
            c.arg("--yes");
        }
        run(c)
    };
    let (_, err, code) = exchange(false);
    assert_eq!(code, 1);
    assert!(
        err.contains("oauth.v2.exchange") && err.contains("only once"),
        "{err}"
    );
    let (out, err, code) = exchange(true);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["access_token"], access.as_str());
    assert_eq!(v["refresh_token"], refresh.as_str());
    let req = &fake.requests()[0];
    assert_eq!(req.form("token").as_deref(), Some(old.as_str()));
    assert_eq!(
        req.form("client_secret").as_deref(),
        Some("s3cr3t-client-value")
    );
    let (_, err, code) = exchange(true);
    assert_eq!((code, fake.requests().len()), (0, 1), "{err}");
    assert_no_secrets(&[&old, &access, &refresh], &[&err]);
}

// ---- GitHub and Google ----------------------------------------------------------------------------

#[test]
fn github_refresh_and_google_access_tokens_through_the_binary() {
    let env = Env::new();
    let (user, next) = (github("ghu"), github("ghr"));
    let (u, n) = (user.clone(), next.clone());
    let fake = Fake::start(move |req| match req.path.as_str() {
        "/login/oauth/access_token" => Reply::json(
            200,
            json!({"access_token": u, "expires_in": 28800, "refresh_token": n, "refresh_token_expires_in": 15811200, "token_type": "bearer", "scope": ""}),
        ),
        "/token" => Reply::json(
            200,
            json!({"access_token": format!("ya29.{}", "c".repeat(60)), "expires_in": 3599, "token_type": "Bearer"}),
        ),
        _ => Reply::empty(404),
    });
    let old = github("ghr");
    let got = env.dir.path().join("gh.json");
    let mut c = env.cmd();
    c.args([
        "rotate",
        "github",
        "--refresh-token-env",
        "GH_REFRESH",
        "--client-id",
        "Iv1.abc",
        "--client-secret-env",
        "GH_CLIENT_SECRET",
        "--yes",
        "--sink",
    ])
    .arg(format!("file:{}", got.display()))
    .arg("--journal")
    .arg(&env.journal)
    .args(["--endpoint", &format!("github={}", fake.url)])
    .env("GH_REFRESH", &old)
    .env("GH_CLIENT_SECRET", "gh-app-secret");
    let (_, err, code) = run(c);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&got).unwrap()).unwrap();
    assert_eq!(
        (v["access_token"].as_str(), v["refresh_token"].as_str()),
        (Some(user.as_str()), Some(next.as_str()))
    );
    let req = &fake.requests()[0];
    assert_eq!(req.form("refresh_token").as_deref(), Some(old.as_str()));
    assert_eq!(req.form("grant_type").as_deref(), Some("refresh_token"));

    // Google: every run mints; the refresh token is not spent.
    let refresh = format!(
        "1//0{}",
        pick(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
            90
        )
    );
    for _ in 0..2 {
        let mut c = env.cmd();
        c.args([
            "rotate",
            "google",
            "--refresh-token-env",
            "G_REFRESH",
            "--client-id",
            "123-abc.apps.googleusercontent.com",
            "--client-secret-env",
            "G_SECRET",
            "--yes",
            "-q",
            "--sink",
            "stdout",
            "--journal",
        ])
        .arg(&env.journal)
        .args(["--endpoint", &format!("google={}", fake.url)])
        .env("G_REFRESH", &refresh)
        .env("G_SECRET", "google-client-secret");
        let (out, err, code) = run(c);
        assert_eq!(code, 0, "{err}");
        assert!(err.is_empty(), "-q: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["access_token"].as_str().unwrap().starts_with("ya29."));
    }
    assert_eq!(fake.count("POST", "/token"), 2);
}

// ---- AWS ------------------------------------------------------------------------------------------

fn aws_key_id() -> String {
    format!(
        "AKIA{}{}",
        pick(b"QRSTUVWXYZ", 1),
        pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 15)
    )
}

fn aws_secret() -> String {
    pick(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+",
        40,
    )
}

/// IAM for the binary tests: every action succeeds; CreateAccessKey hands out `next` keys in turn.
fn iam(keys: Vec<(String, String)>, listed: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> Fake {
    let keys = std::sync::Mutex::new(keys);
    Fake::start(move |req| {
        let action = req.form("Action").unwrap_or_default();
        let body = match action.as_str() {
            "CreateAccessKey" => {
                let (id, secret) = keys.lock().unwrap().remove(0);
                format!(
                    "<CreateAccessKeyResult><AccessKey><UserName>ci</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status><SecretAccessKey>{secret}</SecretAccessKey></AccessKey></CreateAccessKeyResult>"
                )
            }
            "ListAccessKeys" => {
                let members: String = listed
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|id| format!("<member><AccessKeyId>{id}</AccessKeyId><Status>Inactive</Status></member>"))
                    .collect();
                format!(
                    "<ListAccessKeysResult><AccessKeyMetadata>{members}</AccessKeyMetadata></ListAccessKeysResult>"
                )
            }
            _ => String::new(),
        };
        Reply::text(200, &format!("<{action}Response>{body}</{action}Response>"))
    })
}

#[test]
fn aws_rotation_plan_then_create_deactivate_and_a_journal_driven_deletion() {
    let env = Env::new();
    let (old, old_secret) = (aws_key_id(), aws_secret());
    let (new, new_secret) = (aws_key_id(), aws_secret());
    let (newer, newer_secret) = (aws_key_id(), aws_secret());
    let listed = std::sync::Arc::new(std::sync::Mutex::new(vec![old.clone(), new.clone()]));
    let fake = iam(
        vec![
            (new.clone(), new_secret.clone()),
            (newer.clone(), newer_secret.clone()),
        ],
        listed,
    );
    let creds = env.dir.path().join("aws.json");
    let rotate = |key: &str, secret: &str, yes: bool| {
        let mut c = env.cmd();
        c.args(["rotate", "aws", "--delete-after", "7d", "--sink"])
            // The sink command must not see the credentials keysweep was given.
            .arg(format!(
                "exec:test -z \"$AWS_SECRET_ACCESS_KEY$AWS_ACCESS_KEY_ID\" && cat > '{}'",
                creds.display()
            ))
            .arg("--journal")
            .arg(&env.journal)
            .args(["--endpoint", &format!("aws={}", fake.url)])
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret);
        if yes {
            c.arg("--yes");
        }
        run(c)
    };
    let (_, err, code) = rotate(&old, &old_secret, false);
    assert_eq!(code, 1, "{err}");
    for want in [
        "aws-access-key AKIA",
        "Action=CreateAccessKey",
        "UpdateAccessKey Status=Inactive",
        "7 days later",
        "DeleteAccessKey",
        "dry run",
    ] {
        assert!(err.contains(want), "{want:?} missing from the plan:\n{err}");
    }
    assert!(fake.requests().is_empty());

    let (_, err, code) = rotate(&old, &old_secret, true);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("due at"), "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
    assert_eq!(v["access_key_id"], new.as_str());
    assert_eq!(v["secret_access_key"], new_secret.as_str());
    let actions = |f: &Fake| -> Vec<String> {
        f.requests()
            .iter()
            .map(|r| r.form("Action").unwrap())
            .collect()
    };
    assert_eq!(actions(&fake), ["CreateAccessKey", "UpdateAccessKey"]);

    // The next scheduled run reads the delivered key. Within the grace period: nothing is sent.
    let (_, err, code) = rotate(&new, &new_secret, true);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("due at"), "{err}");
    assert_eq!(fake.requests().len(), 2);

    // A week later (the journal's due time moved into the past): the old key is found by its
    // hash and deleted, then the new key is rotated in turn.
    let journal = std::fs::read_to_string(&env.journal).unwrap();
    let week_ago = journal
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if let Some(steps) = v.get_mut("retire").and_then(|r| r.as_array_mut()) {
                for s in steps {
                    if s.get("not_before").is_some() {
                        s["not_before"] = json!("2020-01-01T00:00:00Z");
                    }
                }
            }
            v.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&env.journal, week_ago + "\n").unwrap();
    let (_, err, code) = rotate(&new, &new_secret, true);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        actions(&fake)[2..],
        [
            "ListAccessKeys",
            "DeleteAccessKey",
            "CreateAccessKey",
            "UpdateAccessKey"
        ]
    );
    assert_eq!(
        fake.requests()[3].form("AccessKeyId").as_deref(),
        Some(old.as_str())
    );
    let journal = std::fs::read_to_string(&env.journal).unwrap();
    assert!(journal.contains("\"retired\""), "{journal}");
    assert_no_secrets(
        &[&old, &old_secret, &new, &new_secret, &newer, &newer_secret],
        &[&err, &journal],
    );
}

#[test]
fn a_quarantined_aws_key_is_reported_and_nothing_is_minted() {
    let env = Env::new();
    let fake = Fake::start(|_| {
        Reply::text(
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:CreateAccessKey on resource: user ci with an explicit deny in an identity-based policy: arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3</Message></Error></ErrorResponse>",
        )
    });
    let mut c = env.cmd();
    c.args([
        "rotate",
        "aws",
        "--delete-after",
        "0",
        "--yes",
        "--sink",
        "stdout",
        "--journal",
    ])
    .arg(&env.journal)
    .args(["--endpoint", &format!("aws={}", fake.url)])
    .env("AWS_ACCESS_KEY_ID", aws_key_id())
    .env("AWS_SECRET_ACCESS_KEY", aws_secret());
    let (out, err, code) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("quarantined"), "{err}");
    assert!(out.is_empty());
    assert_eq!(fake.requests().len(), 1);
}

// ---- Twilio ---------------------------------------------------------------------------------------

#[test]
fn twilio_rotation_with_a_main_key_deletes_the_old_key() {
    let env = Env::new();
    let hex = b"0123456789abcdef";
    let account = format!("AC{}", pick(hex, 32));
    let (old_sid, old_secret) = (
        format!("SK{}", pick(hex, 32)),
        pick(b"abcdefghijkmnpqrstuvwxyzABCDEFGH23456789", 32),
    );
    let (main_sid, main_secret) = (
        format!("SK{}", pick(hex, 32)),
        pick(b"abcdefghijkmnpqrstuvwxyz", 32),
    );
    let (new_sid, new_secret) = (
        format!("SK{}", pick(hex, 32)),
        pick(b"ABCDEFGHJKLMNPQRSTUVWXYZ", 32),
    );
    let (ns, nk) = (new_sid.clone(), new_secret.clone());
    let fake = Fake::start(move |req| match req.method.as_str() {
        "POST" => Reply::json(
            201,
            json!({"sid": ns, "secret": nk, "friendly_name": "rotated by keysweep"}),
        ),
        "DELETE" => Reply::empty(204),
        _ => Reply::empty(404),
    });
    let mut c = env.cmd();
    c.args([
        "rotate",
        "twilio",
        "--account-sid",
        &account,
        "--key-sid",
        &old_sid,
    ])
    .args([
        "--main-key-sid",
        &main_sid,
        "--main-secret-env",
        "TWILIO_MAIN_SECRET",
    ])
    .args(["--yes", "--sink", "stdout", "--journal"])
    .arg(&env.journal)
    .args(["--endpoint", &format!("twilio={}", fake.url)])
    .env("TWILIO_API_SECRET", &old_secret)
    .env("TWILIO_MAIN_SECRET", &main_secret);
    let (out, err, code) = run(c);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["api_key_sid"].as_str(), v["api_key_secret"].as_str()),
        (Some(new_sid.as_str()), Some(new_secret.as_str()))
    );
    let reqs = fake.requests();
    assert_eq!(
        reqs[0].path,
        format!("/2010-04-01/Accounts/{account}/Keys.json")
    );
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].path.as_str()),
        (
            "DELETE",
            format!("/2010-04-01/Accounts/{account}/Keys/{old_sid}.json").as_str()
        )
    );
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{main_sid}:{main_secret}"))
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some(basic.as_str()))
    );
    assert!(err.contains("deleted"), "{err}");
    assert_no_secrets(&[&old_secret, &main_secret, &new_secret], &[&err]);
}

#[test]
fn new_rotations_refuse_bad_input_before_sending_anything() {
    let env = Env::new();
    let fake = Fake::start(|_| Reply::empty(500));
    let ep = |p: &str| format!("{p}={}", fake.url);
    // Not an AWS secret key.
    let mut c = env.cmd();
    c.args([
        "rotate",
        "aws",
        "--delete-after",
        "1d",
        "--yes",
        "--sink",
        "stdout",
    ])
    .args(["--endpoint", &ep("aws")])
    .env("AWS_ACCESS_KEY_ID", aws_key_id())
    .env("AWS_SECRET_ACCESS_KEY", "short");
    let (_, err, code) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("secret access key"), "{err}");
    // Temporary keys are not rotated.
    let mut c = env.cmd();
    c.args([
        "rotate",
        "aws",
        "--delete-after",
        "1d",
        "--yes",
        "--sink",
        "stdout",
    ])
    .args(["--endpoint", &ep("aws")])
    .env(
        "AWS_ACCESS_KEY_ID",
        aws_key_id().replacen("AKIA", "ASIA", 1),
    )
    .env("AWS_SECRET_ACCESS_KEY", aws_secret());
    let (_, err, code) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("long-term"), "{err}");
    // The grace period must be chosen.
    let mut c = env.cmd();
    c.args(["rotate", "aws", "--yes", "--sink", "stdout"])
        .env("AWS_ACCESS_KEY_ID", aws_key_id())
        .env("AWS_SECRET_ACCESS_KEY", aws_secret());
    let (_, err, code) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("--delete-after"), "{err}");
    // Twilio SIDs are checked.
    let mut c = env.cmd();
    c.args([
        "rotate",
        "twilio",
        "--account-sid",
        "AC123",
        "--key-sid",
        "SK1",
        "--yes",
        "--sink",
        "stdout",
    ])
    .args(["--endpoint", &ep("twilio")])
    .env("TWILIO_API_SECRET", pick(b"abcdefgh", 32));
    let (_, err, code) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("--account-sid"), "{err}");
    // A Slack bot token is not a refresh token, a refresh token is not a bot token.
    let mut c = env.cmd();
    c.args([
        "rotate",
        "slack",
        "--token-env",
        "T",
        "--client-id",
        "1",
        "--client-secret-env",
        "S",
        "--yes",
        "--sink",
        "stdout",
    ])
    .args(["--endpoint", &ep("slack")])
    .env("T", slack_refresh())
    .env("S", "x");
    let (_, err, code) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("long-lived"), "{err}");
    assert!(fake.requests().is_empty());
}
