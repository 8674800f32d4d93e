//! Revocation: dry run, `--yes`, journal, confirmation, manual steps, `revoke -` and `--report`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::common::*;
use serde_json::json;

/// A Slack fake whose tokens die when `auth.revoke` is called with them.
fn slack_stateful(live: &[&String]) -> (Fake, Arc<Mutex<HashSet<String>>>) {
    let alive: Arc<Mutex<HashSet<String>>> =
        Arc::new(Mutex::new(live.iter().map(|s| s.to_string()).collect()));
    let a = alive.clone();
    let fake = Fake::start(move |r| {
        let tok = r.bearer().unwrap_or("").to_string();
        let is_alive = a.lock().unwrap().contains(&tok);
        match r.path.as_str() {
            "/api/auth.test" if is_alive => Reply::json(
                200,
                json!({"ok": true, "team_id": "T0ACME", "user_id": "U0BOT"}),
            ),
            "/api/auth.test" => Reply::json(200, json!({"ok": false, "error": "token_revoked"})),
            "/api/auth.revoke" if is_alive => {
                a.lock().unwrap().remove(&tok);
                Reply::json(200, json!({"ok": true, "revoked": true}))
            }
            "/api/auth.revoke" => Reply::json(200, json!({"ok": false, "error": "token_revoked"})),
            _ => Reply::empty(404),
        }
    });
    (fake, alive)
}

fn journal_text(env: &Env) -> String {
    std::fs::read_to_string(&env.journal).unwrap_or_default()
}

#[test]
fn dry_run_then_yes_then_rerun() {
    let env = Env::new();
    let (a, b, dead) = (slack_bot(), slack_bot(), slack_bot());
    env.write("a.env", &format!("A={a}\nB={b}\nD={dead}\n"));
    env.write("b.env", &format!("A={a}\n"));
    let (fake, alive) = slack_stateful(&[&a, &b]);

    // Dry run: a plan, no revoking call, no journal.
    let (out, err, code) = run(env.scan(&[("slack", &fake)], &["--revoke"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("revocation plan"), "{err}");
    assert!(err.contains("dry run"), "{err}");
    assert_eq!(err.matches("  revoke  ").count(), 2, "{err}");
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 0);
    assert!(!env.journal.exists());
    assert_eq!(alive.lock().unwrap().len(), 2);
    assert_no_secrets(&[&a, &b, &dead], &[&out, &err]);

    // --yes: exactly one auth.revoke per live token, then confirmation.
    let (out, err, code) = run(env.scan(&[("slack", &fake)], &["--revoke", "--yes"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 2, "{err}");
    let revoked_with: HashSet<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/api/auth.revoke")
        .map(|r| r.bearer().unwrap().to_string())
        .collect();
    assert_eq!(revoked_with, HashSet::from([a.clone(), b.clone()]));
    assert_eq!(err.matches("confirmed dead").count(), 2, "{err}");
    assert!(alive.lock().unwrap().is_empty());
    let journal = journal_text(&env);
    assert_eq!(
        journal
            .lines()
            .filter(|l| l.contains("\"started\""))
            .count(),
        2
    );
    assert_eq!(
        journal
            .lines()
            .filter(|l| l.contains("\"finished\"") && l.contains("\"revoked\""))
            .count(),
        2
    );
    assert!(journal.contains(&keysweep_core::finding::sha256_hex(a.as_bytes())));
    assert_no_secrets(&[&a, &b, &dead], &[&out, &err, &journal]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env.journal)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Rerun: the tokens are dead now and the journal says done; no revoking call.
    let before = fake.count("POST", "/api/auth.revoke");
    let (_, err, _) = run(env.scan(&[("slack", &fake)], &["--revoke", "--yes"]));
    assert_eq!(fake.count("POST", "/api/auth.revoke"), before, "{err}");
}

#[test]
fn the_journal_prevents_a_second_revocation_even_if_still_live() {
    let env = Env::new();
    let a = slack_bot();
    env.write("a.env", &format!("A={a}\n"));
    // This fake says "revoked" but keeps the token live, as a slow provider might.
    let fake = Fake::start(|r| match r.path.as_str() {
        "/api/auth.test" => Reply::json(200, json!({"ok": true, "team_id": "T1"})),
        _ => Reply::json(200, json!({"ok": true, "revoked": true})),
    });
    let (_, err, _) = run(env.scan(&[("slack", &fake)], &["--revoke", "--yes"]));
    assert!(err.contains("still answers live"), "{err}");
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 1);
    let (_, err, _) = run(env.scan(&[("slack", &fake)], &["--revoke", "--yes"]));
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 1, "{err}");
    assert!(err.contains("(journal)"), "{err}");
}

#[test]
fn an_interrupted_revocation_is_resumed_after_verifying_again() {
    let env = Env::new();
    let a = slack_bot();
    env.write("a.env", &format!("A={a}\n"));
    let sha = keysweep_core::finding::sha256_hex(a.as_bytes());
    std::fs::create_dir_all(env.journal.parent().unwrap()).unwrap();
    std::fs::write(
        &env.journal,
        format!("{}\n", json!({"ts": "2026-01-01T00:00:00Z", "action": "revoke", "phase": "started", "provider": "slack", "rule_id": "slack-bot-token", "secret_sha256": sha})),
    )
    .unwrap();
    let (fake, _) = slack_stateful(&[&a]);
    let (_, err, _) = run(env.scan(&[("slack", &fake)], &["--revoke", "--yes"]));
    assert!(err.contains("did not finish"), "{err}");
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 1);
    let reqs = fake.requests();
    assert_eq!(reqs[0].path, "/api/auth.test", "verified before revoking");
}

#[test]
fn github_revocation_is_unauthenticated_batched_and_confirmed() {
    let env = Env::new();
    let (p1, p2, ghs) = (github("ghp"), github("ghp"), github("ghs"));
    env.write("gh.txt", &format!("{p1}\n{p2}\n{ghs}\n"));
    let alive: Arc<Mutex<HashSet<String>>> =
        Arc::new(Mutex::new([p1.clone(), p2.clone(), ghs.clone()].into()));
    let a = alive.clone();
    let fake = Fake::start(move |r| {
        let tok = r.bearer().unwrap_or("").to_string();
        let live = a.lock().unwrap().contains(&tok);
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/user") if live => Reply::json(200, json!({"login": "octo"})),
            ("GET", p) if p.starts_with("/installation/repositories") && live => {
                Reply::json(200, json!({"total_count": 1}))
            }
            ("POST", "/credentials/revoke") => {
                if r.header("authorization").is_some() {
                    return Reply::json(403, json!({"message": "authenticated"}));
                }
                let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                for c in v["credentials"].as_array().unwrap() {
                    a.lock().unwrap().remove(c.as_str().unwrap());
                }
                Reply::empty(202)
            }
            ("DELETE", "/installation/token") if live => {
                a.lock().unwrap().remove(&tok);
                Reply::empty(204)
            }
            _ => Reply::json(401, json!({"message": "Bad credentials"})),
        }
    });
    let (out, err, code) = run(env.scan(&[("github", &fake)], &["--revoke", "--yes"]));
    assert_eq!(code, 1, "{err}");
    let posts: Vec<Req> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/credentials/revoke")
        .collect();
    assert_eq!(posts.len(), 1, "both PATs in one batch");
    assert!(
        posts[0].header("authorization").is_none(),
        "no credentials on /credentials/revoke"
    );
    let v: serde_json::Value = serde_json::from_str(&posts[0].body).unwrap();
    let mut creds: Vec<&str> = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    creds.sort();
    let mut want = vec![p1.as_str(), p2.as_str()];
    want.sort();
    assert_eq!(
        creds, want,
        "ghs_ tokens are not sent to /credentials/revoke"
    );
    assert_eq!(fake.count("DELETE", "/installation/token"), 1);
    assert_eq!(err.matches("confirmed dead").count(), 3, "{err}");
    assert_no_secrets(&[&p1, &p2, &ghs], &[&out, &err, &journal_text(&env)]);
}

#[test]
fn gitlab_revocation_deletes_self() {
    let env = Env::new();
    let tok = gitlab();
    env.write("gl.txt", &format!("{tok}\n"));
    let revoked = Arc::new(Mutex::new(false));
    let rv = revoked.clone();
    let fake = Fake::start(move |r| {
        assert_eq!(r.path, "/api/v4/personal_access_tokens/self");
        let gone = *rv.lock().unwrap();
        match r.method.as_str() {
            "GET" if !gone => Reply::json(
                200,
                json!({"id": 1, "active": true, "revoked": false, "user_id": 5}),
            ),
            "DELETE" if !gone => {
                *rv.lock().unwrap() = true;
                Reply::empty(204)
            }
            _ => Reply::json(401, json!({"message": "401 Unauthorized"})),
        }
    });
    let (_, err, _) = run(env.scan(&[("gitlab", &fake)], &["--revoke", "--yes"]));
    assert_eq!(
        fake.count("DELETE", "/api/v4/personal_access_tokens/self"),
        1,
        "{err}"
    );
    assert!(err.contains("confirmed dead"), "{err}");
}

#[test]
fn config_can_restrict_which_rules_are_revoked_and_webhooks_get_a_manual_step() {
    let env = Env::new();
    let (tok, hook) = (slack_bot(), slack_webhook());
    env.write("a.env", &format!("A={tok}\nH={hook}\n"));
    let mut cfg = std::fs::read_to_string(&env.config).unwrap();
    cfg = cfg.replacen(
        "extend_default = false\n",
        "extend_default = false\n[revoke]\nrules = [\"github-pat\"]\n",
        1,
    );
    std::fs::write(&env.config, cfg).unwrap();
    let fake = Fake::start(|r| match r.path.as_str() {
        "/api/auth.test" => Reply::json(200, json!({"ok": true})),
        "/api/auth.revoke" => Reply::json(200, json!({"ok": true, "revoked": true})),
        _ => Reply::text(400, "invalid_payload"),
    });
    let (out, err, _) = run(env.scan(&[("slack", &fake)], &["--revoke", "--yes"]));
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 0, "{err}");
    assert!(err.contains("not in the config's [revoke] rules"), "{err}");
    assert!(err.contains("cannot be revoked by API"), "{err}");
    assert!(err.contains("Incoming Webhooks"), "{err}");
    assert_no_secrets(&[&tok, &hook], &[&out, &err]);
}

#[test]
fn revoke_one_token_from_stdin() {
    let env = Env::new();
    let tok = slack_bot();
    let (fake, _) = slack_stateful(&[&tok]);
    let revoke = |input: &str, yes: bool| {
        let mut c = env.cmd();
        c.args(["revoke", "--rule", "slack-bot-token", "-c"])
            .arg(&env.config)
            .arg("--journal")
            .arg(&env.journal)
            .args(["--endpoint", &format!("slack={}", fake.url)])
            .arg("-")
            .write_stdin(input.to_string());
        if yes {
            c.arg("--yes");
        }
        run(c)
    };
    let (out, err, code) = revoke(&format!("{tok}\n"), false);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("dry run"), "{out}");
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 0);
    let (out, err, code) = revoke(&format!("{tok}\n"), true);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("confirmed dead"), "{out}");
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 1);
    assert_no_secrets(&[&tok], &[&out, &err]);

    // A string that fails the rule's offline checks is never sent.
    let before = fake.requests().len();
    let (_, err, code) = revoke("xoxb-nope\n", true);
    assert_eq!(code, 2);
    assert!(err.contains("nothing was sent"), "{err}");
    let bad_checksum = {
        let g = github("ghp");
        let last = if g.ends_with('A') { 'B' } else { 'A' };
        format!("{}{last}", &g[..g.len() - 1])
    };
    let mut c = env.cmd();
    c.args(["revoke", "--rule", "github-pat", "--yes", "-c"])
        .arg(&env.config)
        .args(["--endpoint", &format!("github={}", fake.url), "-"])
        .write_stdin(bad_checksum.clone());
    let (out, err, code) = run(c);
    assert_eq!(code, 2);
    assert_no_secrets(&[&bad_checksum], &[&out, &err]);
    assert_eq!(fake.requests().len(), before);

    // Tokens are never taken from argv.
    let mut c = env.cmd();
    c.args(["revoke", "--rule", "slack-bot-token", &tok]);
    let (_, err, code) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("stdin"), "{}", err.replace(&tok, "***"));
}

#[test]
fn revoke_from_a_report_needs_secrets_in_it() {
    let env = Env::new();
    let tok = slack_bot();
    env.write("a.env", &format!("A={tok}\n"));
    let (fake, _) = slack_stateful(&[&tok]);
    let redacted = env.dir.path().join("redacted.json");
    let full = env.dir.path().join("full.json");
    run(env.scan(
        &[("slack", &fake)],
        &["--output", redacted.to_str().unwrap()],
    ));
    run(env.scan(
        &[("slack", &fake)],
        &["--show-secrets", "--output", full.to_str().unwrap()],
    ));
    assert!(redacted.is_file() && full.is_file());
    let revoke = |report: &std::path::Path| {
        let mut c = env.cmd();
        c.args(["revoke", "--yes", "-c"])
            .arg(&env.config)
            .arg("--journal")
            .arg(&env.journal)
            .args(["--endpoint", &format!("slack={}", fake.url), "--report"])
            .arg(report);
        run(c)
    };
    let (_, err, code) = revoke(&redacted);
    assert_eq!(code, 2);
    assert!(err.contains("--show-secrets"), "{err}");
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 0);
    let (out, err, code) = revoke(&full);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 1);
    assert_no_secrets(&[&tok], &[&out, &err]);
}
