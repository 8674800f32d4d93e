//! Hostile answers and hostile places around verification, revocation and rotation: providers,
//! proxies and WAFs that echo secrets, proxies on the way to plain-http endpoints, custom rules that
//! borrow a provider's id, configs whose errors would quote a secret, sinks and journals planted as
//! FIFOs or links, answers that never come. Each builds its hostile input and would fail on the code
//! before the hardening.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

/// A Slack fake that answers every call with `status`, echoing the bearer token in the body, in
/// headers, and (for 5xx) in an HTML error page, as a misbehaving proxy or WAF would.
fn echoing(status: u16) -> Fake {
    Fake::start(move |r| {
        let tok = r.bearer().unwrap_or("").to_string();
        let body = if status >= 500 {
            format!("<html><body>upstream rejected Authorization: Bearer {tok}</body></html>")
        } else {
            json!({"ok": false, "error": format!("invalid_auth for {tok}"), "warning": tok, "team": tok, "user": tok})
                .to_string()
        };
        Reply {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-oauth-scopes".into(), format!("chat:write,{tok}")),
                ("x-echo".into(), tok.clone()),
            ],
            body,
            hang: false,
            close: false,
        }
    })
}

#[test]
fn provider_text_never_carries_a_secret_into_any_report() {
    let cases: Vec<_> = [200, 401, 500]
        .into_iter()
        .map(|status| {
            let env = Env::new();
            let tok = slack_bot();
            env.write("a.env", &format!("T={tok}\n"));
            (env, tok, echoing(status))
        })
        .collect();
    let mut cmds = Vec::new();
    for (env, _, fake) in &cases {
        for format in ["json", "human", "sarif", "jsonl"] {
            let mut c = env.cmd();
            c.args([
                "scan",
                "--verify",
                "--verify-timeout",
                "1",
                "--format",
                format,
                "-c",
            ])
            .arg(&env.config)
            .args(["--endpoint", &format!("slack={}", fake.url)])
            .arg(&env.tree);
            cmds.push(c);
        }
        // Revocation's messages too.
        cmds.push(env.scan(&[("slack", fake)], &["--revoke", "--yes"]));
    }
    let mut results = run_all(cmds).into_iter();
    for (env, tok, fake) in &cases {
        let mut outputs = Vec::new();
        for (i, (out, err, code)) in results.by_ref().take(5).enumerate() {
            // The four reports are complete; the revocation (last) may fail to reach the fake.
            if i < 4 {
                assert_ne!(code, 2, "{err}");
            }
            outputs.extend([out, err]);
        }
        outputs.push(std::fs::read_to_string(&env.journal).unwrap_or_default());
        let texts: Vec<&str> = outputs.iter().map(String::as_str).collect();
        assert_no_secrets(&[tok, &tok[5..], &tok[tok.len() - 24..]], &texts);
        assert!(!fake.requests().is_empty());
    }
}

/// A fake forward proxy: records that it was asked, answers 502.
fn proxy() -> Fake {
    Fake::start(|_| Reply::text(502, "proxy"))
}

#[test]
fn plain_http_endpoints_never_go_through_a_proxy() {
    let env = Env::new();
    let tok = slack_bot();
    env.write("a.env", &format!("T={tok}\n"));
    let fake = Fake::start(|_| Reply::json(200, json!({"ok": true, "team_id": "T1"})));
    let p = proxy();
    let mut c = env.scan(&[("slack", &fake)], &[]);
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ] {
        c.env(var, &p.url);
    }
    c.env_remove("NO_PROXY").env_remove("no_proxy");
    let (out, err, code) = run(c);
    assert_eq!(code, 1, "{err}");
    assert_eq!(statuses(&out)[0].1, "live", "{out}");
    assert!(
        p.requests().is_empty(),
        "the proxy saw a bearer token over plain http"
    );
    assert_eq!(fake.count("POST", "/api/auth.test"), 1);
}

#[test]
fn a_custom_rule_with_a_providers_id_sends_nothing_of_another_shape() {
    let env = Env::new();
    let fake = Fake::start(|_| Reply::json(200, json!({"login": "octo"})));
    // A repository's config claims the GitHub rule's id for its own pattern.
    let cfg = env.tree.join("keysweep.toml");
    let other = format!("ghp_{}", pick(b"abcdefghijklmnopqrstuvwxyz", 36));
    let example = format!("ghp_{}", pick(b"abcdefghijklmnopqrstuvwxyz", 36));
    std::fs::write(
        &cfg,
        format!(
            "extend_default = false\n[[rules]]\nid = \"github-pat\"\nprovider = \"github\"\n\
             description = \"d\"\nregex = '''\\b(ghp_[a-z]{{36}}|internal_[a-z0-9]{{20}})\\b'''\n\
             keywords = [\"ghp_\", \"internal_\"]\nexamples = [\"t = {example}\"]\n"
        ),
    )
    .unwrap();
    let internal = format!(
        "internal_{}",
        pick(b"abcdefghijklmnopqrstuvwxyz0123456789", 20)
    );
    env.write("a.env", &format!("A={other}\nB={internal}\n"));
    let mut c = env.cmd();
    c.args([
        "scan",
        "--format",
        "json",
        "--verify",
        "--verify-timeout",
        "1",
    ])
    .args(["--endpoint", &format!("github={}", fake.url)])
    .arg(&env.tree);
    let (out, err, code) = run(c);
    assert_eq!(code, 1, "{err}");
    let st = statuses(&out);
    assert_eq!(st.len(), 2, "{out}");
    assert!(st.iter().all(|(_, s, _)| s == "not_checked"), "{out}");
    assert!(
        fake.requests().is_empty(),
        "a non-GitHub secret was sent to GitHub"
    );
}

#[test]
fn config_errors_never_quote_the_value() {
    let dir = tree();
    let secret = slack_token();
    let cases = [
        // A TOML error on the line of an allowlisted literal.
        format!("[allowlist]\nregexes = ['''^{secret}$''']\nstopwords = [{secret}]\n"),
        // A regex that does not compile, holding a literal.
        format!("[allowlist]\nregexes = ['''({secret}''']\n"),
        // A field of the wrong type.
        format!("extend_default = \"{secret}\"\n"),
        // A rule regex that does not compile.
        format!(
            "[[rules]]\nid = \"x-y\"\nprovider = \"x\"\ndescription = \"d\"\n\
             regex = '''({secret}'''\nkeywords = [\"xoxb-\"]\nexamples = [\"{secret}\"]\n"
        ),
        // An unknown key whose value is a secret.
        format!("[allowlist]\npaths = []\ntoken = \"{secret}\"\n"),
    ];
    for (i, text) in cases.iter().enumerate() {
        let cfg = write(dir.path(), &format!("c{i}.toml"), text);
        let out = keysweep()
            .args(["scan", "--config"])
            .arg(&cfg)
            .arg(dir.path().join("nothing-here-1"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        assert!(err.contains(&format!("c{i}.toml")), "case {i}: {err}");
        assert_no_secrets(&[&secret, &secret[5..17]], &[&err]);
    }
}

#[test]
fn an_exec_sink_does_not_inherit_the_old_secrets() {
    let env = Env::new();
    let (old, new) = (gitlab(), gitlab());
    let n = new.clone();
    let fake =
        Fake::start(move |_| Reply::json(200, json!({"token": n, "expires_at": "2031-01-01"})));
    let seen = env.dir.path().join("sink-env.txt");
    let mut c = env.cmd();
    c.args([
        "rotate",
        "gitlab",
        "--yes",
        "--token-env",
        "OLD_GITLAB",
        "--sink",
    ])
    .arg(format!("exec:env > '{}'; cat >/dev/null", seen.display()))
    .arg("--journal")
    .arg(&env.journal)
    .args(["--endpoint", &format!("gitlab={}", fake.url)])
    .env("OLD_GITLAB", &old);
    let (_, err, code) = run(c);
    assert_eq!(code, 0, "{err}");
    let envs = std::fs::read_to_string(&seen).unwrap();
    assert!(
        !envs.contains("OLD_GITLAB"),
        "the sink saw the old token's variable"
    );
    assert!(!envs.contains(&old), "the sink saw the old token");
    // Slack: the refresh token's and the client secret's variables.
    let slack = Fake::start(|_| {
        Reply::json(
            200,
            json!({"ok": true, "access_token": slack_bot(), "refresh_token": slack_refresh(), "expires_in": 43200, "team": {"id": "T1"}}),
        )
    });
    let refresh = slack_refresh();
    let mut c = env.cmd();
    c.args([
        "rotate",
        "slack",
        "--yes",
        "--refresh-token-env",
        "OLD_REFRESH",
    ])
    .args([
        "--client-id",
        "1.2",
        "--client-secret-env",
        "CLIENT_SECRET",
        "--sink",
    ])
    .arg(format!("exec:env > '{}'; cat >/dev/null", seen.display()))
    .arg("--journal")
    .arg(&env.journal)
    .args(["--endpoint", &format!("slack={}", slack.url)])
    .env("OLD_REFRESH", &refresh)
    .env("CLIENT_SECRET", "client-secret-value-42");
    let (_, err, code) = run(c);
    assert_eq!(code, 0, "{err}");
    let envs = std::fs::read_to_string(&seen).unwrap();
    for leak in [
        "OLD_REFRESH",
        "CLIENT_SECRET",
        &refresh,
        "client-secret-value-42",
    ] {
        assert!(!envs.contains(leak), "the sink saw {leak}");
    }
}

#[cfg(unix)]
fn mkfifo(path: &std::path::Path) {
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

#[cfg(unix)]
#[test]
fn planted_fifos_and_links_are_refused_before_anything_is_minted() {
    let env = Env::new();
    let old = gitlab();
    let fake = Fake::start(|_| Reply::json(200, json!({"token": gitlab()})));
    let rotate = |sink: &str, journal: &std::path::Path| {
        let mut c = env.cmd();
        c.args([
            "rotate",
            "gitlab",
            "--yes",
            "--token-env",
            "OLD",
            "--sink",
            sink,
            "--journal",
        ])
        .arg(journal)
        .args(["--endpoint", &format!("gitlab={}", fake.url)])
        .env("OLD", &old)
        .timeout(Duration::from_secs(20));
        let started = Instant::now();
        let r = run(c);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "blocked on a FIFO"
        );
        r
    };
    let shared = env.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    // A FIFO with no reader where the sink file should be.
    let fifo = shared.join("token.json");
    mkfifo(&fifo);
    let (_, err, code) = rotate(&format!("file:{}", fifo.display()), &env.journal);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    // A symlink to somewhere else.
    let elsewhere = shared.join("elsewhere.json");
    let link = shared.join("link.json");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let (_, err, code) = rotate(&format!("file:{}", link.display()), &env.journal);
    assert_eq!(code, 2, "{err}");
    assert!(!elsewhere.exists());
    // A journal that is a symlink, or a FIFO.
    let target = shared.join("their-file");
    std::fs::write(&target, "theirs\n").unwrap();
    let jlink = shared.join("journal.jsonl");
    std::os::unix::fs::symlink(&target, &jlink).unwrap();
    let ok_sink = format!("file:{}", shared.join("new.json").display());
    let (_, err, code) = rotate(&ok_sink, &jlink);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs\n");
    let jfifo = shared.join("journal.fifo");
    mkfifo(&jfifo);
    let (_, err, code) = rotate(&ok_sink, &jfifo);
    assert_eq!(code, 2, "{err}");
    // Where recovery files would go cannot be written: nothing is minted.
    let blocked = env.dir.path().join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("recovery"), "a file, not a directory").unwrap();
    let (_, err, code) = rotate(&ok_sink, &blocked.join("journal.jsonl"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("recovery"), "{err}");
    assert!(
        fake.requests().is_empty(),
        "a token was minted: {:?}",
        fake.requests()
    );
}

#[test]
fn a_rotation_whose_answer_was_lost_is_unknown_and_never_presented_again() {
    let env = Env::new();
    let old = gitlab();
    // The provider takes the request and never answers: it may have rotated.
    let fake = Fake::start(|_| Reply::hang());
    let rotate = || {
        let mut c = env.cmd();
        c.args([
            "rotate",
            "gitlab",
            "--yes",
            "--token-env",
            "OLD",
            "--timeout",
            "1",
            "--sink",
        ])
        .arg(format!(
            "file:{}",
            env.dir.path().join("new.json").display()
        ))
        .arg("--journal")
        .arg(&env.journal)
        .args(["--endpoint", &format!("gitlab={}", fake.url)])
        .env("OLD", &old);
        run(c)
    };
    let (_, err, code) = rotate();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("console"), "{err}");
    let journal = std::fs::read_to_string(&env.journal).unwrap();
    assert!(journal.contains("\"outcome\":\"unknown\""), "{journal}");
    assert_eq!(fake.requests().len(), 1);
    let (_, err, code) = rotate();
    assert_eq!(code, 2);
    assert!(err.contains("answer was lost"), "{err}");
    assert_eq!(
        fake.requests().len(),
        1,
        "the retired token was presented again"
    );
}

#[test]
fn a_stale_refresh_token_does_not_block_unrelated_revocations() {
    let env = Env::new();
    let (stale, bot) = (slack_refresh(), slack_bot());
    env.write("a.env", &format!("R={stale}\nB={bot}\n"));
    let fake = Fake::start(|r| match r.path.as_str() {
        "/api/oauth.v2.access" => {
            Reply::json(200, json!({"ok": false, "error": "invalid_refresh_token"}))
        }
        "/api/auth.test" => Reply::json(200, json!({"ok": true, "team_id": "T1"})),
        "/api/auth.revoke" => Reply::json(200, json!({"ok": true, "revoked": true})),
        _ => Reply::empty(404),
    });
    let sink = format!("file:{}", env.dir.path().join("pair.json").display());
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
    c.env("CLIENT_SECRET", "s3cr3t");
    let (out, err, code) = run(c);
    assert_eq!(code, 2, "the stale token is reported as a failure: {err}");
    assert!(fake.count("POST", "/api/auth.revoke") >= 1, "{err}");
    assert!(err.contains("refused"), "{err}");
    assert_no_secrets(&[&stale, &bot], &[&out, &err]);
}

#[test]
fn every_way_in_plans_an_unverifiable_token_the_same_way() {
    let env = Env::new();
    let tok = slack_bot();
    env.write("a.env", &format!("T={tok}\n"));
    let fake = Fake::start(|_| Reply::text(503, "down"));
    let ep = format!("slack={}", fake.url);
    let plan_line = |text: &str| -> String {
        text.lines()
            .find(|l| l.trim_start().starts_with("skip") || l.trim_start().starts_with("revoke "))
            .map(|l| l.split(':').next_back().unwrap_or("").trim().to_string())
            .unwrap_or_else(|| format!("no plan line in {text}"))
    };
    let report = env.dir.path().join("r.json");
    let mut c = env.cmd();
    c.args(["scan", "--format", "json", "--show-secrets", "-o"])
        .arg(&report)
        .arg(&env.tree);
    run(c);
    // revoke -, scan --revoke and revoke --report, at once: each waits on the fake's 503s.
    let mut stdin = env.cmd();
    stdin
        .args(["revoke", "--rule", "slack-bot-token", "--journal"])
        .arg(&env.journal)
        .args(["--endpoint", &ep, "--verify-timeout", "1", "-"])
        .write_stdin(format!("{tok}\n"));
    let mut from_report = env.cmd();
    from_report
        .args(["revoke", "--report"])
        .arg(&report)
        .arg("--journal")
        .arg(&env.journal)
        .args(["--endpoint", &ep, "--verify-timeout", "1"]);
    let scan = env.scan(&[("slack", &fake)], &["--revoke"]);
    let [(o1, e1, _), (_, e2, _), (o3, e3, _)]: [_; 3] =
        run_all(vec![stdin, scan, from_report]).try_into().unwrap();
    let from_stdin = plan_line(&format!("{o1}{e1}"));
    let from_scan = plan_line(&e2);
    let from_report = plan_line(&format!("{o3}{e3}"));
    assert!(
        from_stdin.contains("rerun when the provider answers"),
        "{from_stdin}"
    );
    assert_eq!(from_stdin, from_scan);
    assert_eq!(from_stdin, from_report);
    assert_eq!(fake.count("POST", "/api/auth.revoke"), 0);
}

#[test]
fn retry_after_is_bounded_and_out_of_time_secrets_are_named() {
    let env = Env::new();
    let (a, b) = (slack_bot(), slack_bot());
    env.write("a.env", &format!("A={a}\n"));
    env.write("b.env", &format!("B={b}\n"));
    let fake = Fake::start(|_| {
        Reply::json(429, json!({"ok": false, "error": "ratelimited"})).header("retry-after", "60")
    });
    let started = Instant::now();
    let (out, err, code) = run(env.scan(&[("slack", &fake)], &[]));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "waited out Retry-After: 60"
    );
    assert_eq!(code, 1, "{err}");
    let st = statuses(&out);
    assert!(
        st.iter()
            .all(|(_, s, v)| s == "unknown"
                && v["detail"].as_str().unwrap().contains("ran out of time")),
        "{out}"
    );
    assert!(err.contains("2 secrets could not be verified"), "{err}");
    assert!(
        err.contains("tree/a.env:1") && err.contains("tree/b.env:1"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["summary"]["unverified"]["ran out of time (--verify-timeout or --verify-budget)"],
        2
    );
}

#[test]
fn only_live_without_a_network_is_never_clean() {
    let env = Env::new();
    env.write(
        "a.env",
        &format!("A={}\nG={}\n", slack_bot(), github("ghp")),
    );
    // A port nothing listens on: every connection is refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut c = env.cmd();
    c.args([
        "scan",
        "--format",
        "json",
        "--only-live",
        "--verify-timeout",
        "1",
        "-c",
    ])
    .arg(&env.config)
    .args(["--endpoint", &format!("slack={closed}")])
    .args(["--endpoint", &format!("github={closed}")])
    .arg(&env.tree);
    let (out, err, code) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("2 secrets could not be verified: 2 connection failed"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["summary"]["partial"], true);
    assert_eq!(v["summary"]["unverified"]["connection failed"], 2);
}

#[cfg(unix)]
#[test]
fn a_recovery_directory_planted_beside_the_journal_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let fake = Fake::start(|_| Reply::json(200, json!({"token": gitlab()})));
    let shared = env.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    // Someone else's world-writable directory, and a link to one.
    let planted = shared.join("recovery");
    std::fs::create_dir(&planted).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
    let linked = env.dir.path().join("linked");
    std::fs::create_dir(&linked).unwrap();
    std::os::unix::fs::symlink(&planted, linked.join("recovery")).unwrap();
    for journal in [shared.join("j.jsonl"), linked.join("j.jsonl")] {
        let mut c = env.cmd();
        c.args(["rotate", "gitlab", "--yes", "--token-env", "OLD", "--sink"])
            .arg(format!(
                "file:{}",
                env.dir.path().join("new.json").display()
            ))
            .arg("--journal")
            .arg(&journal)
            .args(["--endpoint", &format!("gitlab={}", fake.url)])
            .env("OLD", gitlab());
        let (_, err, code) = run(c);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("cannot be written safely"), "{err}");
    }
    assert!(fake.requests().is_empty(), "a token was minted");
}

#[test]
fn a_providers_answer_cannot_drive_the_terminal_after_a_rotation() {
    let env = Env::new();
    let fake = Fake::start(|_| {
        Reply::json(
            200,
            json!({"ok": true, "access_token": slack_bot(), "refresh_token": slack_refresh(),
                   "expires_in": 43200, "team": {"id": "T1\u{1b}[2J\u{1b}[H\r\nrotated: fake"}}),
        )
    });
    let mut c = env.cmd();
    c.args([
        "rotate",
        "slack",
        "--yes",
        "--refresh-token-env",
        "OLD",
        "--client-id",
        "1.2",
    ])
    .args(["--client-secret-env", "CS", "--sink"])
    .arg(format!(
        "file:{}",
        env.dir.path().join("pair.json").display()
    ))
    .arg("--journal")
    .arg(&env.journal)
    .args(["--endpoint", &format!("slack={}", fake.url)])
    .env("OLD", slack_refresh())
    .env("CS", "client-secret");
    let (out, err, code) = run(c);
    assert_eq!(code, 0, "{err}");
    for text in [&out, &err] {
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    }
    assert_eq!(
        err.lines().filter(|l| l.starts_with("rotated:")).count(),
        1,
        "{err}"
    );
}
