//! `scan --verify` of the whole fixture tree, every provider pointed at one loopback fake that
//! answers as each provider's documentation shows a live credential: every verifiable secret is
//! live, with the identity, scopes and expiry the fake returned, and each distinct secret is asked
//! about once.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::*;

/// A live answer for `route` of `provider`, shaped as the provider documents it.
fn live(provider: &str, route: &str) -> Reply {
    let j = |v: Value| Reply::json(200, v);
    match (provider, route) {
        ("slack", r) if r.starts_with("/api/auth.test") => {
            j(json!({"ok": true, "team": "Acme", "team_id": "T0ACME", "user": "deploybot", "user_id": "U0BOT"}))
                .header("x-oauth-scopes", "chat:write,channels:read")
        }
        ("slack", _) => Reply::text(400, "invalid_payload"),
        ("github", r) if r.starts_with("/installation/repositories") => j(json!({"total_count": 2, "repositories": []})),
        ("github", _) => j(json!({"login": "octo", "id": 42}))
            .header("x-oauth-scopes", "repo, read:org")
            .header("github-authentication-token-expiration", "2031-05-01 10:00:00 UTC"),
        ("gitlab", "/api/v4/personal_access_tokens/self") => j(json!({"id": 7, "name": "ci", "revoked": false, "active": true, "scopes": ["api"], "user_id": 99, "expires_at": "2031-01-01"})),
        ("gitlab", "/api/v4/job") => j(json!({"id": 1, "user": {"username": "alice"}, "web_url": "https://gitlab.com/acme/app/-/jobs/1"})),
        ("gitlab", _) => j(json!({"id": 3})),
        ("aws", _) => Reply::text(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"),
        ("vault", _) => j(json!({"data": {"display_name": "token-ci", "path": "auth/token/create", "policies": ["default", "deploy"], "expire_time": "2031-05-19T11:35:54Z"}})),
        ("shopify", _) => j(json!({"access_scopes": [{"handle": "read_products"}]})),
        ("buildkite", _) => j(json!({"uuid": "b63254c0", "scopes": ["read_builds"]})),
        ("google", r) if r.starts_with("/tokeninfo") => j(json!({"azp": "1234.apps.googleusercontent.com", "scope": "openid email", "exp": "1900000000", "email": "alice@acme.test"})),
        ("openrouter", _) => j(json!({"data": {"creator_user_id": "user_2d", "expires_at": "2027-12-31T23:59:59Z"}})),
        ("huggingface", _) => j(json!({"type": "user", "name": "alice", "auth": {"accessToken": {"role": "write"}}})),
        ("sendgrid", _) => j(json!({"scopes": ["mail.send"]})),
        ("datadog", _) => j(json!({"valid": true})),
        ("telegram", _) => j(json!({"ok": true, "result": {"id": 1, "username": "my_bot"}})),
        ("linear", _) => j(json!({"data": {"viewer": {"id": "u1", "email": "alice@acme.test"}}})),
        ("newrelic", _) => j(json!({"data": {"actor": {"user": {"id": 1, "email": "alice@acme.test"}}}})),
        ("mapbox", _) => j(json!({"code": "TokenValid", "token": {"user": "alice"}})),
        ("discord", r) if r.starts_with("/api/webhooks/") => j(json!({"id": "1", "name": "deploys", "guild_id": "2", "channel_id": "3"})),
        ("discord", _) => j(json!({"id": "1", "username": "deploybot"})),
        ("twilio", _) => j(json!({"sid": "AC00000000000000000000000000000001", "friendly_name": "Acme", "accounts": []})),
        _ => j(json!({"email": "owner@acme.test", "username": "owner", "name": "owner"})),
    }
}

#[test]
fn a_verified_scan_of_the_fixtures_reports_identity_scopes_and_expiry() {
    let env = Env::new();
    let fake = Fake::start(|r| {
        let path = r.path.split('?').next().unwrap_or("");
        let (provider, route) = path[1..].split_once('/').unwrap_or((&path[1..], ""));
        live(provider, &format!("/{route}"))
    });
    // Every provider with a host, pointed at the fake under /<provider>.
    let mut c = env.cmd();
    c.args(["providers", "--format", "json"]);
    let (out, _, code) = run(c);
    assert_eq!(code, 0);
    let matrix: Value = serde_json::from_str(&out).unwrap();
    let rows = matrix["providers"].as_array().unwrap();
    let mut c = env.cmd();
    c.args([
        "scan",
        "--verify",
        "--format",
        "json",
        "--no-ignore",
        "--verify-timeout",
        "2",
    ]);
    for row in rows {
        if row.get("endpoint").is_some() || row.get("needs_endpoint").is_some() {
            let p = row["provider"].as_str().unwrap();
            c.arg("--endpoint").arg(format!("{p}={}/{p}", fake.url));
        }
    }
    c.arg(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join("providers"),
    );
    let (out, err, code) = run(c);
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let verifiable: Vec<&str> = rows
        .iter()
        .flat_map(|r| {
            r["verify"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
        })
        .collect();
    let mut live_rules = std::collections::BTreeSet::new();
    for f in findings {
        let rule = f["rule_id"].as_str().unwrap();
        let v = &f["verification"];
        if v["status"] == "live" {
            live_rules.insert(rule.to_string());
        } else if verifiable.contains(&rule) {
            // The only verifiable findings not live are those that lack what their check needs.
            let d = v["detail"].as_str().unwrap_or("");
            assert_eq!(v["status"], "not_checked", "{rule}: {v}");
            assert!(
                d.contains("companion") || d.contains("not AKIA") || d.contains("kind"),
                "{rule}: {d}"
            );
        }
    }
    let providers: std::collections::BTreeSet<String> = findings
        .iter()
        .filter(|f| f["verification"]["status"] == "live")
        .map(|f| f["provider"].as_str().unwrap().to_string())
        .collect();
    assert!(
        providers.len() >= 40,
        "{} providers live: {providers:?}",
        providers.len()
    );
    let of = |rule: &str| {
        findings
            .iter()
            .find(|f| f["rule_id"] == rule && f["verification"]["status"] == "live")
            .unwrap_or_else(|| panic!("no live {rule} in {out}"))["verification"]
            .clone()
    };
    assert_eq!(of("github-pat")["identity"], "octo (id 42)");
    assert_eq!(of("github-pat")["scopes"], json!(["repo", "read:org"]));
    assert_eq!(of("github-pat")["expires_at"], "2031-05-01T10:00:00Z");
    assert_eq!(of("gitlab-pat")["scopes"], json!(["api"]));
    assert_eq!(of("gitlab-pat")["expires_at"], "2031-01-01");
    assert_eq!(
        of("vault-service-token")["scopes"],
        json!(["default", "deploy"])
    );
    assert_eq!(
        of("vault-service-token")["expires_at"],
        "2031-05-19T11:35:54Z"
    );
    assert_eq!(
        of("google-oauth-access-token")["expires_at"],
        "2030-03-17T17:46:40Z"
    );
    assert_eq!(
        of("openrouter-api-key")["expires_at"],
        "2027-12-31T23:59:59Z"
    );
    assert_eq!(
        of("shopify-admin-token")["scopes"],
        json!(["read_products"])
    );
    assert_eq!(
        of("aws-access-key")["identity"],
        "arn:aws:iam::123456789012:user/ci (account 123456789012)"
    );
    assert!(
        of("slack-bot-token")["identity"]
            .as_str()
            .unwrap()
            .contains("T0ACME")
    );
    for f in findings {
        assert!(f["verification"]["checked_at"].is_string(), "{f}");
    }
    // Each distinct secret was asked about once, however many places it appears in.
    let distinct: std::collections::BTreeSet<(&str, &str)> = findings
        .iter()
        .filter(|f| f["verification"]["status"] == "live")
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["secret_sha256"].as_str().unwrap(),
            )
        })
        .collect();
    // One request per live secret, and none for what cannot be checked.
    assert_eq!(fake.requests().len(), distinct.len());
    assert!(live_rules.len() >= 60, "{} rules live", live_rules.len());
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// `scan --revoke --yes` through the binary: a SendGrid key found by a lookup of its id, an Okta
/// token at the org the user named, each confirmed dead by verifying again; without the Okta
/// endpoint, the Okta token is not sent anywhere and the plan says why.
#[test]
fn lookups_and_user_named_hosts_revoke_end_to_end() {
    use std::sync::{Arc, Mutex};
    let env = Env::new();
    let id = pick(B64URL, 22);
    let sg = format!("SG.{id}.{}", pick(B64URL, 43));
    let okta = format!(
        "00{}",
        pick(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            40
        )
    );
    env.write(
        "app.env",
        &format!("SENDGRID_API_KEY={sg}\nOKTA_API_TOKEN={okta}\n"),
    );
    let dead: Arc<Mutex<Vec<String>>> = Arc::default();
    let (d, id2, sg2, okta2) = (dead.clone(), id.clone(), sg.clone(), okta.clone());
    let fake = Fake::start(move |r| {
        let auth = r.header("authorization").unwrap_or("").to_string();
        let route = r.path.split('?').next().unwrap_or("").to_string();
        let gone = |s: &str| d.lock().unwrap().iter().any(|x| x == s);
        match (r.method.as_str(), route.as_str()) {
            ("GET", "/sendgrid/v3/scopes") if auth == format!("Bearer {sg2}") && !gone(&sg2) => {
                Reply::json(
                    200,
                    json!({"scopes": ["api_keys.read", "api_keys.delete", "mail.send"]}),
                )
            }
            ("GET", "/sendgrid/v3/api_keys") => Reply::json(
                200,
                json!({"result": [
                {"api_key_id": "AnotherKeyOfTheAccount", "name": "first"},
                {"api_key_id": id2, "name": "ci"}]}),
            ),
            ("DELETE", p) if p == format!("/sendgrid/v3/api_keys/{id2}") => {
                d.lock().unwrap().push(sg2.clone());
                Reply::empty(204)
            }
            ("GET", "/okta/api/v1/users/me")
                if auth == format!("SSWS {okta2}") && !gone(&okta2) =>
            {
                Reply::json(
                    200,
                    json!({"id": "00u1", "profile": {"login": "admin@acme.test"}}),
                )
            }
            ("DELETE", "/okta/api/v1/api-tokens/current") if auth == format!("SSWS {okta2}") => {
                d.lock().unwrap().push(okta2.clone());
                Reply::empty(204)
            }
            (_, p) if p.starts_with("/okta/") => Reply::json(401, json!({"errorCode": "E0000011"})),
            _ => Reply::json(
                401,
                json!({"errors": [{"message": "authorization required"}]}),
            ),
        }
    });
    let scan = |extra: &[&str]| {
        let mut c = env.cmd();
        c.args([
            "scan",
            "--format",
            "json",
            "--verify-timeout",
            "2",
            "--journal",
        ])
        .arg(&env.journal)
        .args(["--endpoint", &format!("sendgrid={}/sendgrid", fake.url)])
        .args(extra)
        .arg(&env.tree);
        run(c)
    };
    // No Okta endpoint: the Okta token is not checked and not revoked, and nothing reached /okta.
    let (out, err, code) = scan(&["--revoke"]);
    assert_eq!(code, 1, "{err}");
    let st = statuses(&out);
    let okta_v = &st.iter().find(|(r, _, _)| r == "okta-api-token").unwrap().2;
    assert_eq!(okta_v["status"], "not_checked");
    assert!(
        okta_v["detail"]
            .as_str()
            .unwrap()
            .contains("--endpoint okta="),
        "{okta_v}"
    );
    assert!(err.contains("dry run"), "{err}");
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.path.starts_with("/okta/"))
    );

    let okta_flag = format!("okta={}/okta", fake.url);
    let (out, err, code) = scan(&["--endpoint", &okta_flag, "--revoke", "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.matches("confirmed dead").count(), 2, "{err}");
    let live: Vec<String> = statuses(&out)
        .into_iter()
        .filter(|(_, s, _)| s == "live")
        .map(|(r, _, _)| r)
        .collect();
    assert_eq!(live.len(), 2, "{out}");
    let deletes: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        deletes,
        vec![
            format!("/okta/api/v1/api-tokens/current"),
            format!("/sendgrid/v3/api_keys/{id}")
        ]
    );
    assert_no_secrets(&[&sg, &okta], &[&out, &err]);
}
