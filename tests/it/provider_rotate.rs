//! Rotation: mint, deliver to a sink, journal; recovery file when delivery fails; no replays.

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

fn rotate_slack(
    env: &Env,
    fake: &Fake,
    old: &str,
    sink: &str,
    extra: &[&str],
) -> (String, String, i32) {
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
    .args(extra)
    .env("OLD_REFRESH", old)
    .env("CLIENT_SECRET", "s3cr3t-client-value");
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

    // The same (now retired) refresh token again: refused from the journal, nothing sent.
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
    assert_eq!(code, 2);
    assert!(err.contains("already rotated"), "{err}");
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
    assert!(journal.contains("\"delivery_failed\""));
    assert_eq!(fake.requests().len(), 1, "nothing after the exchange");
    assert_no_secrets(&[&old, &new_access, &new_refresh], &[&out, &err, &journal]);
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
    .args(["--endpoint", &format!("gitlab={}", fake.url)])
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
