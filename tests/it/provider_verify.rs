//! `scan --verify` against fake provider servers on 127.0.0.1, end to end through the binary.
//! Rate limits, retries, budgets and hangs are tested in the provider crate on a clock that never
//! sleeps (crates/keysweep-provider/tests/it/timing.rs).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::*;
use serde_json::json;

/// A Slack fake: `live` tokens are live, `revoked` ones answer `token_revoked`, the rest `invalid_auth`.
fn slack_fake(live: Vec<String>, revoked: Vec<String>) -> Fake {
    Fake::start(move |r| {
        let tok = r.bearer().unwrap_or("").to_string();
        match r.path.as_str() {
            "/api/auth.test" if live.contains(&tok) => Reply::json(
                200,
                json!({"ok": true, "team": "Acme", "team_id": "T0ACME", "user": "deploybot", "user_id": "U0BOT"}),
            )
            .header("x-oauth-scopes", "chat:write,channels:read"),
            "/api/auth.test" if revoked.contains(&tok) => {
                Reply::json(200, json!({"ok": false, "error": "token_revoked"}))
            }
            "/api/auth.test" => Reply::json(200, json!({"ok": false, "error": "invalid_auth"})),
            _ => Reply::empty(404),
        }
    })
}

#[test]
fn slack_tokens_are_verified_once_each_with_identity_and_scopes() {
    let env = Env::new();
    let (live, revoked, invalid) = (slack_bot(), slack_bot(), slack_bot());
    env.write("a.env", &format!("A={live}\nB={revoked}\n"));
    env.write("b.env", &format!("A={live}\nC={invalid}\n"));
    let fake = slack_fake(vec![live.clone()], vec![revoked.clone()]);
    let (out, err, code) = run(env.scan(&[("slack", &fake)], &[]));
    assert_eq!(code, 1, "{err}");
    let st = statuses(&out);
    assert_eq!(st.len(), 4);
    let by_status = |s: &str| st.iter().filter(|(_, x, _)| x == s).count();
    assert_eq!(by_status("live"), 2);
    // Slack tells a revoked token (`token_revoked`) from one it never issued (`invalid_auth`).
    assert_eq!(by_status("revoked"), 1);
    assert_eq!(by_status("invalid"), 1);
    let live_v = &st.iter().find(|(_, s, _)| s == "live").unwrap().2;
    assert_eq!(live_v["scopes"], json!(["chat:write", "channels:read"]));
    assert!(live_v["identity"].as_str().unwrap().contains("T0ACME"));
    let details: Vec<&str> = st
        .iter()
        .filter_map(|(_, _, v)| v["detail"].as_str())
        .collect();
    assert!(details.contains(&"token_revoked") && details.contains(&"invalid_auth"));
    // Three distinct secrets, three calls, each with the token as a Bearer header.
    assert_eq!(fake.count("POST", "/api/auth.test"), 3);
    assert_no_secrets(&[&live, &revoked, &invalid], &[&out, &err]);
}

/// JSON Lines of a tree streams: each finding is written as it is confirmed and verified, still each
/// distinct secret asked once, and the lines hold what the JSON report holds.
#[test]
fn streamed_json_lines_verify_each_secret_once_and_match_the_json_report() {
    let env = Env::new();
    let (live, revoked) = (slack_bot(), slack_bot());
    for i in 0..12 {
        env.write(&format!("f{i}.env"), &format!("A={live}\nB={revoked}\n"));
    }
    let fake = slack_fake(vec![live.clone()], vec![revoked.clone()]);
    let mut c = env.cmd();
    c.args(["scan", "--format", "jsonl", "--verify", "-c"])
        .arg(&env.config)
        .args(["--endpoint", &format!("slack={}", fake.url)])
        .arg(&env.tree);
    let (lines, err, code) = run(c);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        fake.count("POST", "/api/auth.test"),
        2,
        "one request per distinct secret"
    );
    let mut streamed: Vec<(String, u64, String)> = lines
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.get("rule_id").map(|_| {
                (
                    v["file"].as_str().unwrap().to_string(),
                    v["line"].as_u64().unwrap(),
                    v["verification"]["status"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    let summary: serde_json::Value = serde_json::from_str(lines.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["findings"], 24);
    assert_eq!(summary["summary"]["secrets"], 2);
    let (out, _, _) = run(env.scan(&[("slack", &fake)], &[]));
    let mut whole: Vec<(String, u64, String)> = serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["file"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap(),
                v["verification"]["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    streamed.sort();
    whole.sort();
    assert_eq!(streamed, whole);
    assert_no_secrets(&[&live, &revoked], &[&lines, &err]);
}

#[test]
fn only_live_reports_only_live_and_exit_code_follows() {
    let env = Env::new();
    let dead = slack_bot();
    env.write("a.env", &format!("A={dead}\n"));
    let fake = slack_fake(vec![], vec![dead.clone()]);
    let (out, err, code) = run(env.scan(&[("slack", &fake)], &["--only-live"]));
    assert_eq!(code, 0, "{err}");
    assert!(statuses(&out).is_empty());
    let live = slack_bot();
    env.write("b.env", &format!("B={live}\n"));
    let fake = slack_fake(vec![live.clone()], vec![dead.clone()]);
    let (out, _, code) = run(env.scan(&[("slack", &fake)], &["--only-live"]));
    assert_eq!(code, 1);
    let st = statuses(&out);
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].1, "live");
}

#[test]
fn rules_without_an_adapter_and_refresh_tokens_are_not_checked_and_not_sent() {
    let env = Env::new();
    let refresh = slack_refresh();
    let acme = acme();
    env.write("a.env", &format!("R={refresh}\nK={acme}\n"));
    let fake = slack_fake(vec![], vec![]);
    let (out, err, code) = run(env.scan(&[("slack", &fake)], &[]));
    assert_eq!(code, 1, "{err}");
    let st = statuses(&out);
    assert_eq!(st.len(), 2, "{out}");
    for (rule, status, v) in &st {
        assert_eq!(status, "not_checked", "{rule}");
        if rule == "slack-refresh-token" {
            assert!(v["detail"].as_str().unwrap().contains("single-use"));
        }
    }
    assert!(
        fake.requests().is_empty(),
        "a refresh token must never be sent to verify it"
    );
}

#[test]
fn slack_webhooks_are_probed_with_a_body_that_cannot_post() {
    let env = Env::new();
    let (live, dead) = (slack_webhook(), slack_webhook());
    env.write("hooks.txt", &format!("{live}\n{dead}\n"));
    let dead_path = dead
        .trim_start_matches("https://hooks.slack.com")
        .to_string();
    let fake = Fake::start(move |r| {
        assert!(
            serde_json::from_str::<serde_json::Value>(&r.body).is_err(),
            "probe body must not be JSON"
        );
        if r.path == dead_path {
            Reply::text(404, "no_service")
        } else {
            Reply::text(400, "invalid_payload")
        }
    });
    let (out, err, code) = run(env.scan(&[("slack", &fake)], &[]));
    assert_eq!(code, 1, "{err}");
    let mut st: Vec<String> = statuses(&out).into_iter().map(|(_, s, _)| s).collect();
    st.sort();
    assert_eq!(st, ["invalid", "live"]);
    let paths: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths.len(), 2);
    assert!(
        paths.iter().all(|p| p.starts_with("/services/T")),
        "host swapped, path kept"
    );
    assert_no_secrets(&[&live, &dead], &[&out, &err]);
}

#[test]
fn github_user_and_installation_tokens() {
    let env = Env::new();
    let (pat, expired, ghs) = (github("ghp"), github("ghp"), github("ghs"));
    env.write("gh.txt", &format!("{pat}\n{expired}\n{ghs}\n"));
    let (p, g) = (pat.clone(), ghs.clone());
    let fake = Fake::start(move |r| {
        let tok = r.bearer().unwrap_or("").to_string();
        match r.path.as_str() {
            "/user" if tok == p => Reply::json(200, json!({"login": "octo", "id": 42}))
                .header("x-oauth-scopes", "repo, read:org")
                .header(
                    "github-authentication-token-expiration",
                    "2031-05-01 10:00:00 UTC",
                ),
            "/user" if tok == g => Reply::json(
                403,
                json!({"message": "Resource not accessible by integration"}),
            ),
            "/user" => Reply::json(401, json!({"message": "Bad credentials"})),
            p if p.starts_with("/installation/repositories") && tok == g => {
                Reply::json(200, json!({"total_count": 3, "repositories": []}))
            }
            _ => Reply::json(401, json!({"message": "Bad credentials"})),
        }
    });
    let (out, err, code) = run(env.scan(&[("github", &fake)], &[]));
    assert_eq!(code, 1, "{err}");
    let st = statuses(&out);
    let pat_v = &st
        .iter()
        .find(|(_, s, v)| s == "live" && v["identity"].as_str().unwrap().contains("octo"))
        .unwrap()
        .2;
    assert_eq!(pat_v["scopes"], json!(["repo", "read:org"]));
    assert_eq!(pat_v["expires_at"], "2031-05-01T10:00:00Z");
    assert!(
        st.iter()
            .any(|(_, s, v)| s == "invalid" && v["detail"] == "Bad credentials")
    );
    assert!(
        st.iter()
            .any(|(r, s, _)| r == "github-installation-token" && s == "live")
    );
    assert_eq!(fake.count("GET", "/installation/repositories"), 1);
    assert_eq!(
        fake.count("GET", "/user"),
        2,
        "ghs_ tokens never go to /user"
    );
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.header("user-agent").is_some())
    );
}

#[test]
fn github_pat_without_expiry_header_never_expires() {
    let env = Env::new();
    let pat = github("ghp");
    env.write("gh.txt", &format!("{pat}\n"));
    let fake =
        Fake::start(|_| Reply::json(200, json!({"login": "octo"})).header("x-oauth-scopes", ""));
    let (out, _, _) = run(env.scan(&[("github", &fake)], &[]));
    let v = &statuses(&out)[0].2;
    assert_eq!(v["never_expires"], true);
    assert!(v.get("expires_at").is_none(), "{v}");
    assert_eq!(v["scopes"], json!([]));
}

#[test]
fn gitlab_self_endpoint_reads_active_and_revoked() {
    let env = Env::new();
    let (live, revoked, bad) = (gitlab(), gitlab(), gitlab());
    env.write("gl.txt", &format!("{live}\n{revoked}\n{bad}\n"));
    let (l, rv) = (live.clone(), revoked.clone());
    let fake = Fake::start(move |r| {
        let tok = r.header("private-token").unwrap_or("").to_string();
        assert!(r.header("authorization").is_none());
        assert_eq!(r.path, "/api/v4/personal_access_tokens/self");
        if tok == l {
            Reply::json(
                200,
                json!({"id": 7, "name": "ci", "revoked": false, "active": true, "scopes": ["api"], "user_id": 99, "expires_at": "2031-01-01"}),
            )
        } else if tok == rv {
            Reply::json(
                200,
                json!({"id": 8, "name": "old", "revoked": true, "active": false, "scopes": ["api"], "user_id": 99, "expires_at": null}),
            )
        } else {
            Reply::json(401, json!({"message": "401 Unauthorized"}))
        }
    });
    let (out, err, code) = run(env.scan(&[("gitlab", &fake)], &[]));
    assert_eq!(code, 1, "{err}");
    let st = statuses(&out);
    let live_v = &st.iter().find(|(_, s, _)| s == "live").unwrap().2;
    assert_eq!(live_v["expires_at"], "2031-01-01");
    assert_eq!(live_v["scopes"], json!(["api"]));
    assert!(live_v["identity"].as_str().unwrap().contains("99"));
    let dead: Vec<(&str, &str)> = st
        .iter()
        .filter(|(_, s, _)| s != "live")
        .map(|(_, s, v)| (s.as_str(), v["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(dead.len(), 2);
    assert!(dead.contains(&("revoked", "revoked")), "{dead:?}");
    assert!(dead.contains(&("invalid", "401 Unauthorized")), "{dead:?}");
    assert_no_secrets(&[&live, &revoked, &bad], &[&out, &err]);
}

#[test]
fn endpoint_overrides_are_checked_and_env_works() {
    let env = Env::new();
    let tok = slack_bot();
    env.write("a.env", &format!("A={tok}\n"));
    for bad in [
        "slack=http://10.1.2.3:80",
        "slack=http://example.org",
        "nosuch=https://x.org",
        "slack=ftp://127.0.0.1",
    ] {
        let mut c = env.cmd();
        c.args(["scan", "--verify", "-c"])
            .arg(&env.config)
            .args(["--endpoint", bad])
            .arg(&env.tree);
        let (_, err, code) = run(c);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("endpoint"), "{err}");
    }
    let mut c = env.cmd();
    c.args(["scan", "--verify", "-c"])
        .arg(&env.config)
        .arg(&env.tree)
        .env("KEYSWEEP_ENDPOINT_SLACK", "http://192.168.0.1");
    assert_eq!(run(c).2, 2);
    let fake = slack_fake(vec![tok.clone()], vec![]);
    let mut c = env.cmd();
    c.args(["scan", "--format", "json", "--verify", "-c"])
        .arg(&env.config)
        .arg(&env.tree)
        .env("KEYSWEEP_ENDPOINT_SLACK", &fake.url);
    let (out, _, code) = run(c);
    assert_eq!(code, 1);
    assert_eq!(statuses(&out)[0].1, "live");
    assert_eq!(fake.count("POST", "/api/auth.test"), 1);
}

#[test]
fn a_config_in_the_scanned_tree_cannot_set_an_endpoint() {
    let env = Env::new();
    let tok = slack_bot();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let elsewhere = Fake::start(move |_| {
        h.fetch_add(1, Ordering::SeqCst);
        Reply::json(200, json!({"ok": true}))
    });
    env.write("a.env", &format!("A={tok}\n"));
    for cfg in [
        format!("endpoint = \"{}\"\n", elsewhere.url),
        format!("[endpoints]\nslack = \"{}\"\n", elsewhere.url),
        format!("[providers.slack]\nendpoint = \"{}\"\n", elsewhere.url),
    ] {
        env.write("keysweep.toml", &cfg);
        let mut c = env.cmd();
        c.args(["scan", "--verify", "--verify-timeout", "1"])
            .arg(&env.tree);
        let (_, err, code) = run(c);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("keysweep.toml"), "{err}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[test]
fn expired_slack_tokens_are_dead_and_unknown_codes_stay_unknown() {
    let env = Env::new();
    let (expired, odd) = (slack_bot(), slack_bot());
    env.write("a.env", &format!("A={expired}\nB={odd}\n"));
    let e = expired.clone();
    let fake = Fake::start(move |r| {
        if r.bearer() == Some(e.as_str()) {
            Reply::json(200, json!({"ok": false, "error": "token_expired"}))
        } else {
            Reply::json(200, json!({"ok": false, "error": "not_allowed_token_type"}))
        }
    });
    let (out, _, _) = run(env.scan(&[("slack", &fake)], &[]));
    let st = statuses(&out);
    assert!(
        st.iter()
            .any(|(_, s, v)| s == "expired" && v["detail"] == "token_expired"),
        "{out}"
    );
    assert!(
        st.iter()
            .any(|(_, s, v)| s == "unknown" && v["detail"] == "not_allowed_token_type"),
        "{out}"
    );
}

#[test]
fn human_output_shows_the_status() {
    let env = Env::new();
    let tok = slack_bot();
    env.write("a.env", &format!("A={tok}\n"));
    let fake = slack_fake(vec![tok.clone()], vec![]);
    let mut c = env.cmd();
    c.args(["scan", "--verify", "--color", "never", "-c"])
        .arg(&env.config)
        .args(["--endpoint", &format!("slack={}", fake.url)])
        .arg(&env.tree);
    let (out, err, code) = run(c);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("[live]"), "{out}");
    assert!(out.contains("T0ACME"), "{out}");
    assert_no_secrets(&[&tok], &[&out, &err]);
}
