//! Revocation, provider by provider, against fakes written from the docs: the exact request, the
//! success answer and the already-dead answer; for the lookups (npm, Heroku, SendGrid, Twilio),
//! that only the one entry that is exactly the leaked credential is ever deleted, and nothing when
//! it cannot be told.

use std::sync::{Arc, Mutex};

use keysweep_provider::{Credential, Provider, Revoked, registry};
use serde_json::json;

use crate::fake::{Fake, FakeClock, Reply, Req, context, decode, policy};
use crate::tokens::example;

fn revoke(fake: &Fake, rule: &str, secret: &str, pair: Option<&str>) -> Revoked {
    let cx = context(fake, policy(), FakeClock::new());
    let cred = Credential {
        rule_id: rule,
        secret,
        pair,
    };
    let p = registry::for_credential(&cred).expect("a revocable credential");
    assert!(p.capabilities(&cred).revoke, "{rule}");
    p.revoke(&cx, &[cred]).remove(0)
}

/// A fake that answers each request with the next reply of a script.
fn scripted(replies: Vec<Reply>) -> Fake {
    let r = Arc::new(Mutex::new(replies));
    Fake::start(move |_| {
        let mut r = r.lock().unwrap();
        if r.is_empty() {
            Reply::empty(599)
        } else {
            r.remove(0)
        }
    })
}

struct Single {
    rule: &'static str,
    method: &'static str,
    route: &'static str,
    carries: fn(&Req, &str) -> bool,
    done: Reply,
    want_done: Revoked,
    dead: Reply,
}

/// Providers whose revocation is one documented request with the credential itself.
#[test]
fn one_request_revocations() {
    let bearer = |r: &Req, s: &str| r.header("authorization") == Some(&format!("Bearer {s}"));
    let cases = vec![
        Single {
            rule: "buildkite-api-token",
            method: "DELETE",
            route: "/buildkite/v2/access-token",
            carries: bearer,
            done: Reply::empty(204),
            want_done: Revoked::Revoked,
            dead: Reply::json(401, json!({"message": "Authentication required"})),
        },
        Single {
            rule: "doppler-cli-token",
            method: "POST",
            route: "/doppler/v3/auth/revoke",
            carries: |r, s| {
                r.header("authorization") == Some(&format!("Bearer {s}"))
                    && serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["token"] == s
            },
            done: Reply::json(200, json!({"success": true})),
            want_done: Revoked::Revoked,
            dead: Reply::json(
                401,
                json!({"messages": ["Invalid Auth token"], "success": false}),
            ),
        },
        Single {
            rule: "google-oauth-access-token",
            method: "POST",
            route: "/google/revoke",
            carries: |r, s| {
                r.form("token").as_deref() == Some(s) && r.header("authorization").is_none()
            },
            done: Reply::empty(200),
            want_done: Revoked::Revoked,
            dead: Reply::json(
                400,
                json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
            ),
        },
        Single {
            rule: "google-oauth-refresh-token",
            method: "POST",
            route: "/google/revoke",
            carries: |r, s| r.form("token").as_deref() == Some(s),
            done: Reply::empty(200),
            want_done: Revoked::Revoked,
            dead: Reply::json(400, json!({"error": "invalid_token"})),
        },
        Single {
            rule: "okta-api-token",
            method: "DELETE",
            route: "/okta/api/v1/api-tokens/current",
            carries: |r, s| r.header("authorization") == Some(&format!("SSWS {s}")),
            done: Reply::empty(204),
            want_done: Revoked::Revoked,
            dead: Reply::json(401, json!({"errorCode": "E0000011"})),
        },
        Single {
            rule: "vault-service-token",
            method: "POST",
            route: "/vault/v1/auth/token/revoke-self",
            carries: |r, s| r.header("x-vault-token") == Some(s),
            done: Reply::empty(204),
            want_done: Revoked::Revoked,
            dead: Reply::json(403, json!({"errors": ["permission denied"]})),
        },
        Single {
            rule: "digitalocean-oauth-token",
            method: "POST",
            route: "/digitalocean/v1/oauth/revoke",
            carries: |r, s| {
                r.form("token").as_deref() == Some(s)
                    && r.header("authorization") == Some(&format!("Bearer {s}"))
            },
            done: Reply::json(200, json!({})),
            want_done: Revoked::Revoked,
            dead: Reply::json(401, json!({"id": "Unauthorized"})),
        },
        Single {
            rule: "gitlab-runner-token",
            method: "DELETE",
            route: "/gitlab/api/v4/runners",
            carries: |r, s| r.form("token").as_deref() == Some(s),
            done: Reply::empty(204),
            want_done: Revoked::Revoked,
            dead: Reply::json(403, json!({"message": "403 Forbidden"})),
        },
        Single {
            rule: "huggingface-token",
            method: "POST",
            route: "/huggingface/api/credentials/revoke",
            carries: |r, s| {
                r.header("authorization").is_none()
                    && serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["credentials"]
                        == json!([s])
            },
            done: Reply::empty(202),
            want_done: Revoked::Requested,
            dead: Reply::empty(500),
        },
    ];
    for c in cases {
        let (secret, pair) = example(c.rule);
        let fake = scripted(vec![c.done.clone()]);
        let got = revoke(&fake, c.rule, &secret, pair.as_deref());
        assert_eq!(got, c.want_done, "{}", c.rule);
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 1, "{}", c.rule);
        assert_eq!(
            (reqs[0].method.as_str(), reqs[0].route()),
            (c.method, c.route),
            "{}",
            c.rule
        );
        assert!((c.carries)(&reqs[0], &secret), "{}: {:?}", c.rule, reqs[0]);
        if c.rule != "huggingface-token" {
            let fake = scripted(vec![c.dead.clone()]);
            let got = revoke(&fake, c.rule, &secret, pair.as_deref());
            assert!(
                matches!(got, Revoked::AlreadyDead(_)),
                "{}: {got:?}",
                c.rule
            );
        }
    }
}

#[test]
fn npm_deletes_only_the_one_listed_token_that_begins_the_leaked_one() {
    let (token, _) = example("npm-access-token");
    let mine = token[..10].to_string();
    let other = "npm_Zz99Yy".to_string();
    // The list shows the start of each token (npm-profile `listTokens`).
    let list = move |entries: Vec<(&str, String)>| {
        Reply::json(
            200,
            json!({"objects": entries.iter().map(|(k, t)| json!({"key": k, "token": t, "readonly": false, "cidr_whitelist": null, "created": "2026-01-01T00:00:00.000Z"})).collect::<Vec<_>>(), "total": entries.len(), "urls": {}}),
        )
    };
    let fake = scripted(vec![
        list(vec![("a1b2", other.clone()), ("c3d4e5", mine.clone())]),
        Reply::empty(204),
    ]);
    assert_eq!(
        revoke(&fake, "npm-access-token", &token, None),
        Revoked::Revoked
    );
    let reqs = fake.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].route()),
        ("GET", "/npm/-/npm/v1/tokens")
    );
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].route()),
        ("DELETE", "/npm/-/npm/v1/tokens/token/c3d4e5")
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {token}")))
    );

    // Two entries begin like it, or none does: nothing is deleted.
    for entries in [
        vec![("a1", mine.clone()), ("b2", mine[..8].to_string())],
        vec![("a1", other.clone())],
    ] {
        let fake = scripted(vec![list(entries)]);
        let got = revoke(&fake, "npm-access-token", &token, None);
        assert!(
            matches!(&got, Revoked::Failed(why) if why.contains("nothing was revoked")),
            "{got:?}"
        );
        assert!(
            fake.requests().iter().all(|r| r.method == "GET"),
            "no DELETE"
        );
    }
    // 2FA on writes: the registry asks for a one-time password; keysweep says so.
    let fake = scripted(vec![
        list(vec![("c3", mine.clone())]),
        Reply::empty(401).header("www-authenticate", "OTP"),
    ]);
    assert!(
        matches!(revoke(&fake, "npm-access-token", &token, None), Revoked::Failed(w) if w.contains("one-time password"))
    );
}

#[test]
fn heroku_deletes_the_authorization_that_holds_the_token() {
    let (token, _) = example("heroku-api-key");
    let auth = |id: &str, t: &str| json!({"id": id, "description": "x", "access_token": {"id": "t", "token": t, "expires_in": null}});
    let fake = scripted(vec![
        Reply::json(
            200,
            json!([
                auth("01234567-0000-0000-0000-000000000001", "HRKU-other"),
                auth("01234567-0000-0000-0000-000000000002", &token)
            ]),
        ),
        Reply::json(200, auth("01234567-0000-0000-0000-000000000002", "")),
    ]);
    assert_eq!(
        revoke(&fake, "heroku-api-key", &token, None),
        Revoked::Revoked
    );
    let reqs = fake.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].route()),
        ("GET", "/heroku/oauth/authorizations")
    );
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].route()),
        (
            "DELETE",
            "/heroku/oauth/authorizations/01234567-0000-0000-0000-000000000002"
        )
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("accept") == Some("application/vnd.heroku+json; version=3"))
    );
    // Not among the authorizations (the account's API key, or a redacted list): nothing deleted.
    let fake = scripted(vec![Reply::json(
        200,
        json!([auth("01234567-0000-0000-0000-000000000001", "HRKU-other")]),
    )]);
    assert!(
        matches!(revoke(&fake, "heroku-api-key", &token, None), Revoked::Failed(w) if w.contains("API key"))
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn sendgrid_deletes_the_key_whose_id_is_the_middle_of_the_leaked_key() {
    let (key, _) = example("sendgrid-api-key");
    let id = key.split('.').nth(1).unwrap().to_string();
    let fake = scripted(vec![
        Reply::json(
            200,
            json!({"result": [{"api_key_id": "someOtherKeyId00000000", "name": "first"}, {"api_key_id": id, "name": "ci"}]}),
        ),
        Reply::empty(204),
    ]);
    assert_eq!(
        revoke(&fake, "sendgrid-api-key", &key, None),
        Revoked::Revoked
    );
    let reqs = fake.requests();
    assert_eq!(reqs[0].route(), "/sendgrid/v3/api_keys");
    assert_eq!(
        (reqs[1].method.as_str(), decode(reqs[1].route())),
        ("DELETE", format!("/sendgrid/v3/api_keys/{id}"))
    );
    // The list does not hold it: the first entry is never taken.
    let fake = scripted(vec![Reply::json(
        200,
        json!({"result": [{"api_key_id": "someOtherKeyId00000000", "name": "first"}]}),
    )]);
    assert!(
        matches!(revoke(&fake, "sendgrid-api-key", &key, None), Revoked::Failed(w) if w.contains("nothing was revoked"))
    );
    assert_eq!(fake.requests().len(), 1);
    // A mail-only key may not list keys.
    let fake = scripted(vec![Reply::json(
        403,
        json!({"errors": [{"message": "access forbidden"}]}),
    )]);
    assert!(
        matches!(revoke(&fake, "sendgrid-api-key", &key, None), Revoked::Failed(w) if w.contains("api_keys"))
    );
}

#[test]
fn twilio_main_keys_delete_themselves_standard_keys_are_manual() {
    let (secret, pair) = example("twilio-api-key-secret");
    let sk = pair.clone().unwrap();
    let parent = "AC00000000000000000000000000000001";
    let fake = scripted(vec![
        Reply::json(
            200,
            json!({"accounts": [
            {"sid": "AC00000000000000000000000000000002", "owner_account_sid": parent},
            {"sid": parent, "owner_account_sid": parent}]}),
        ),
        Reply::empty(204),
    ]);
    assert_eq!(
        revoke(&fake, "twilio-api-key-secret", &secret, pair.as_deref()),
        Revoked::Revoked
    );
    let reqs = fake.requests();
    assert_eq!(reqs[0].route(), "/twilio/2010-04-01/Accounts.json");
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].route().to_string()),
        (
            "DELETE",
            format!("/twilio/2010-04-01/Accounts/{parent}/Keys/{sk}.json")
        )
    );
    assert!(
        reqs.iter()
            .all(|r| r.basic() == Some((sk.clone(), secret.clone())))
    );
    // A Standard key may not read /Accounts.
    let fake = scripted(vec![Reply::json(403, json!({"code": 20403}))]);
    assert!(
        matches!(revoke(&fake, "twilio-api-key-secret", &secret, pair.as_deref()), Revoked::Failed(w) if w.contains("Main"))
    );
    assert_eq!(fake.requests().len(), 1);
    // An auth token is never "revoked": replacing it is the owner's call.
    let (tok, ac) = example("twilio-auth-token");
    let cred = Credential {
        rule_id: "twilio-auth-token",
        secret: &tok,
        pair: ac.as_deref(),
    };
    let p = registry::for_credential(&cred).unwrap();
    assert!(!p.capabilities(&cred).revoke);
    assert!(p.manual_step(&cred).unwrap().contains("promote"));
}

#[test]
fn discord_webhooks_are_read_and_deleted_at_their_own_url() {
    let (hook, _) = example("discord-webhook-url");
    let path = url::Url::parse(&hook).unwrap().path().to_string();
    let fake = scripted(vec![
        Reply::json(
            200,
            json!({"type": 1, "id": "1", "name": "deploys", "channel_id": "199737254929760256", "guild_id": "199737254929760257", "token": "the-token-itself"}),
        ),
        Reply::json(404, json!({"message": "Unknown Webhook", "code": 10015})),
        Reply::empty(204),
        Reply::json(404, json!({"message": "Unknown Webhook", "code": 10015})),
    ]);
    let cx = context(&fake, policy(), FakeClock::new());
    let cred = Credential {
        rule_id: "discord-webhook-url",
        secret: &hook,
        pair: None,
    };
    let v = keysweep_provider::verify::verify_one(&cx, &cred);
    assert_eq!(v.status, keysweep_core::finding::Status::Live);
    assert_eq!(
        v.identity.as_deref(),
        Some("webhook \"deploys\", guild 199737254929760257, channel 199737254929760256")
    );
    assert!(!format!("{v:?}").contains("the-token-itself"));
    let v = keysweep_provider::verify::verify_one(&cx, &cred);
    assert_eq!(
        (v.status, v.detail.as_deref()),
        (
            keysweep_core::finding::Status::Invalid,
            Some("Unknown Webhook")
        )
    );
    let p = registry::for_credential(&cred).unwrap();
    assert_eq!(p.revoke(&cx, &[cred]), vec![Revoked::Revoked]);
    assert!(matches!(
        p.revoke(&cx, &[cred]).remove(0),
        Revoked::AlreadyDead(_)
    ));
    let reqs = fake.requests();
    let seen: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.clone(), r.route().to_string()))
        .collect();
    let at = format!("/discord{path}");
    assert_eq!(
        seen,
        vec![
            ("GET".into(), at.clone()),
            ("GET".into(), at.clone()),
            ("DELETE".into(), at.clone()),
            ("DELETE".into(), at)
        ]
    );
    assert!(reqs.iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn mapbox_deletes_the_token_its_own_answer_names() {
    let (token, _) = example("mapbox-secret-token");
    let own = Reply::json(
        200,
        json!({"code": "TokenValid", "token": {"usage": "sk", "user": "alice", "authorization": "cijucimbe000brbkt48d0dhcx", "client": "api"}}),
    );
    let fake = scripted(vec![own.clone(), Reply::empty(204)]);
    assert_eq!(
        revoke(&fake, "mapbox-secret-token", &token, None),
        Revoked::Revoked
    );
    let reqs = fake.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].route()),
        ("GET", "/mapbox/tokens/v2")
    );
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].route()),
        (
            "DELETE",
            "/mapbox/tokens/v2/alice/cijucimbe000brbkt48d0dhcx"
        )
    );
    assert!(
        reqs.iter()
            .all(|r| r.query("access_token").as_deref() == Some(token.as_str()))
    );
    // Without tokens:write Mapbox refuses; an answer that names nothing usable deletes nothing.
    let fake = scripted(vec![own, Reply::json(403, json!({"message": "Forbidden"}))]);
    assert!(
        matches!(revoke(&fake, "mapbox-secret-token", &token, None), Revoked::Failed(w) if w.contains("tokens:write"))
    );
    let fake = scripted(vec![Reply::json(
        200,
        json!({"code": "TokenValid", "token": {"user": "../admin", "authorization": "x"}}),
    )]);
    assert!(
        matches!(revoke(&fake, "mapbox-secret-token", &token, None), Revoked::Failed(w) if w.contains("nothing was revoked"))
    );
    assert_eq!(fake.requests().len(), 1);
}
