//! Every provider's verification against a fake written from its documentation: the exact request
//! (method, path, query, where the secret goes), the live answer (identity, scopes, expiry) and each
//! dead answer; then, for every provider, the answers no provider documents but every provider
//! gives: a rate limit with `Retry-After`, a 5xx, a malformed body and a hang.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keysweep_core::finding::{Status, Verification};
use keysweep_provider::{Credential, verify};
use serde_json::json;

use crate::fake::{Fake, FakeClock, Reply, Req, context, policy};
use crate::tokens::example;

/// How a request carries the secret.
#[derive(Clone, Copy)]
enum Carry {
    Bearer,
    /// A header with this value (`{}` is the secret).
    Header(&'static str, &'static str),
    /// Basic authorization with this user and password (`{}` the secret, `{pair}` the companion).
    Basic(&'static str, &'static str),
    Query(&'static str),
    /// In the path (the path template says where).
    Path,
    Form(&'static str),
}

struct Case {
    rule: &'static str,
    method: &'static str,
    /// The route after the provider's base; `{secret}` and `{pair}` are filled in.
    route: &'static str,
    query: &'static [(&'static str, &'static str)],
    carry: Carry,
    /// Other headers the provider's docs require.
    headers: &'static [(&'static str, &'static str)],
    live: Reply,
    check: fn(&Verification),
    dead: Vec<(Reply, Status)>,
    /// What a live status with a body that is not JSON becomes.
    malformed: Status,
}

fn provider_of(rule: &str) -> String {
    keysweep_core::rules::embedded_rule(rule)
        .unwrap()
        .provider
        .clone()
}

fn fill(t: &str, secret: &str, pair: Option<&str>) -> String {
    t.replace("{}", secret)
        .replace("{secret}", secret)
        .replace("{pair}", pair.unwrap_or(""))
}

/// Whether `r` is exactly the request `c` documents for `secret`.
fn is_request(
    c: &Case,
    r: &Req,
    prefix: &str,
    secret: &str,
    pair: Option<&str>,
) -> Result<(), String> {
    let want = format!("{prefix}{}", fill(c.route, secret, pair));
    if r.method != c.method || crate::fake::decode(r.route()) != want {
        return Err(format!(
            "{} {} (wanted {} {want})",
            r.method,
            r.route(),
            c.method
        ));
    }
    for (k, v) in c.query {
        if r.query(k).as_deref() != Some(fill(v, secret, pair).as_str()) {
            return Err(format!("query {k}"));
        }
    }
    for (k, v) in c.headers {
        if r.header(k) != Some(*v) {
            return Err(format!("header {k}"));
        }
    }
    let ok = match c.carry {
        Carry::Bearer => r.header("authorization") == Some(&format!("Bearer {secret}")),
        Carry::Header(h, t) => r.header(h) == Some(fill(t, secret, pair).as_str()),
        Carry::Basic(u, p) => r.basic() == Some((fill(u, secret, pair), fill(p, secret, pair))),
        Carry::Query(k) => r.query(k).as_deref() == Some(secret),
        Carry::Path => crate::fake::decode(r.route()).contains(secret),
        Carry::Form(k) => r.form(k).as_deref() == Some(secret),
    };
    if !ok {
        return Err("the secret is not where the docs put it".into());
    }
    // Nowhere else: a Bearer token is not also in the query, a header token not in the body.
    let elsewhere = match c.carry {
        Carry::Query(_) | Carry::Path => r
            .header("authorization")
            .is_some_and(|a| a.contains(secret)),
        _ => crate::fake::decode(&r.path).contains(secret),
    };
    if elsewhere {
        return Err("the secret is sent twice".into());
    }
    Ok(())
}

fn cases() -> Vec<Case> {
    let unauthorized = |body: serde_json::Value| Reply::json(401, body);
    vec![
        Case {
            rule: "anthropic-api-key",
            method: "GET",
            route: "/v1/models",
            query: &[("limit", "1")],
            carry: Carry::Header("x-api-key", "{}"),
            headers: &[("anthropic-version", "2023-06-01")],
            live: Reply::json(
                200,
                json!({"data": [{"type": "model", "id": "claude-opus-4-6", "display_name": "Claude Opus 4.6", "created_at": "2026-02-04T00:00:00Z"}], "has_more": true, "first_id": "a", "last_id": "b"}),
            ),
            check: |v| assert!(v.identity.is_none()),
            dead: vec![
                (
                    unauthorized(
                        json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
                    ),
                    Status::Invalid,
                ),
                (
                    Reply::json(
                        403,
                        json!({"type": "error", "error": {"type": "permission_error", "message": "no"}}),
                    ),
                    Status::Live,
                ),
            ],
            malformed: Status::Live,
        },
        Case {
            rule: "anthropic-admin-key",
            method: "GET",
            route: "/v1/organizations/api_keys",
            query: &[("limit", "1")],
            carry: Carry::Header("x-api-key", "{}"),
            headers: &[("anthropic-version", "2023-06-01")],
            live: Reply::json(200, json!({"data": [], "has_more": false})),
            check: |_| {},
            dead: vec![(
                unauthorized(
                    json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Live,
        },
        Case {
            rule: "atlassian-admin-api-key",
            method: "GET",
            route: "/admin/v1/orgs",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"data": [{"id": "o-1", "type": "orgs", "attributes": {"name": "Acme"}}], "links": {}}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("Acme")),
            dead: vec![(
                Reply::json(401, json!({"code": 401, "message": "Unauthorized"})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "brevo-api-key",
            method: "GET",
            route: "/v3/account",
            query: &[],
            carry: Carry::Header("api-key", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"email": "ops@acme.test", "firstName": "A", "lastName": "B", "companyName": "Acme", "plan": []}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("ops@acme.test, Acme")),
            dead: vec![(
                unauthorized(json!({"code": "unauthorized", "message": "Key not found"})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "buildkite-api-token",
            method: "GET",
            route: "/v2/access-token",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"uuid": "b63254c0-3271-4a98-8270-7cfbd6c2f14e", "scopes": ["read_builds", "read_user"]}),
            ),
            check: |v| {
                assert_eq!(
                    v.identity.as_deref(),
                    Some("b63254c0-3271-4a98-8270-7cfbd6c2f14e")
                );
                assert_eq!(
                    v.scopes.as_deref(),
                    Some(&["read_builds".to_string(), "read_user".to_string()][..])
                );
            },
            dead: vec![(
                unauthorized(
                    json!({"message": "Authentication required. Please supply a valid API Access Token"}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "databricks-token",
            method: "GET",
            route: "/api/2.0/preview/scim/v2/Me",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"id": "1", "userName": "alice@acme.test", "displayName": "Alice", "active": true}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice@acme.test")),
            dead: vec![
                (
                    unauthorized(json!({"error_code": "401", "message": "Invalid access token"})),
                    Status::Invalid,
                ),
                (
                    Reply::json(
                        403,
                        json!({"error_code": "PERMISSION_DENIED", "message": "Invalid access token"}),
                    ),
                    Status::Invalid,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "datadog-api-key",
            method: "GET",
            route: "/api/v1/validate",
            query: &[],
            carry: Carry::Header("dd-api-key", "{}"),
            headers: &[],
            live: Reply::json(200, json!({"valid": true})),
            check: |_| {},
            dead: vec![(
                Reply::json(403, json!({"errors": ["Forbidden"]})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "digitalocean-pat",
            method: "GET",
            route: "/v2/account",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"account": {"droplet_limit": 25, "email": "sammy@digitalocean.test", "uuid": "b6fr89", "status": "active", "team": {"uuid": "5df3", "name": "My Team"}}}),
            ),
            check: |v| {
                assert_eq!(
                    v.identity.as_deref(),
                    Some("sammy@digitalocean.test, My Team")
                )
            },
            dead: vec![(
                unauthorized(
                    json!({"id": "Unauthorized", "message": "Unable to authenticate you"}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "discord-bot-token",
            method: "GET",
            route: "/api/v10/users/@me",
            query: &[],
            carry: Carry::Header("authorization", "Bot {}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"id": "80351110224678912", "username": "deploybot", "discriminator": "0", "bot": true}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("deploybot, 80351110224678912")),
            dead: vec![(
                unauthorized(json!({"message": "401: Unauthorized", "code": 0})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "doppler-service-token",
            method: "GET",
            route: "/v3/me",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"slug": "x", "name": "ci", "type": "service_token", "workplace": {"slug": "acme", "name": "Acme"}}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("Acme, ci, service_token")),
            dead: vec![(
                unauthorized(json!({"messages": ["Invalid Auth token"], "success": false})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "gitlab-runner-token",
            method: "POST",
            route: "/api/v4/runners/verify",
            query: &[],
            carry: Carry::Form("token"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"id": 12, "token": "redacted", "token_expires_at": null}),
            ),
            check: |_| {},
            dead: vec![(
                Reply::json(403, json!({"message": "403 Forbidden"})),
                Status::Invalid,
            )],
            malformed: Status::Live,
        },
        Case {
            rule: "gitlab-ci-job-token",
            method: "GET",
            route: "/api/v4/job",
            query: &[],
            carry: Carry::Header("job-token", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"id": 7, "status": "running", "user": {"username": "alice"}, "web_url": "https://gitlab.com/acme/app/-/jobs/7"}),
            ),
            check: |v| {
                assert_eq!(
                    v.identity.as_deref(),
                    Some("alice, https://gitlab.com/acme/app/-/jobs/7")
                )
            },
            dead: vec![(
                unauthorized(json!({"message": "401 Unauthorized"})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "google-api-key",
            method: "GET",
            route: "/v1beta/models",
            query: &[("pageSize", "1")],
            carry: Carry::Header("x-goog-api-key", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"models": [{"name": "models/gemini-2.5-flash"}]}),
            ),
            check: |_| {},
            dead: vec![
                (
                    Reply::json(
                        400,
                        json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}),
                    ),
                    Status::Invalid,
                ),
                (
                    Reply::json(
                        400,
                        json!({"error": {"code": 400, "message": "API key expired. Please renew the API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_EXPIRED"}]}}),
                    ),
                    Status::Expired,
                ),
                (
                    Reply::json(
                        403,
                        json!({"error": {"code": 403, "status": "PERMISSION_DENIED", "details": [{"reason": "SERVICE_DISABLED"}]}}),
                    ),
                    Status::Live,
                ),
            ],
            malformed: Status::Live,
        },
        Case {
            rule: "google-oauth-access-token",
            method: "GET",
            route: "/tokeninfo",
            query: &[],
            carry: Carry::Query("access_token"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"azp": "1234.apps.googleusercontent.com", "aud": "1234.apps.googleusercontent.com", "sub": "1100", "scope": "openid https://www.googleapis.com/auth/userinfo.email", "exp": "1900000000", "expires_in": "3599", "email": "alice@acme.test", "email_verified": "true"}),
            ),
            check: |v| {
                assert_eq!(
                    v.identity.as_deref(),
                    Some("alice@acme.test, 1234.apps.googleusercontent.com")
                );
                assert_eq!(v.scopes.as_ref().unwrap().len(), 2);
                assert_eq!(v.expires_at.as_deref(), Some("2030-03-17T17:46:40Z"));
            },
            dead: vec![(
                Reply::json(
                    400,
                    json!({"error": "invalid_token", "error_description": "Invalid Value"}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "grafana-service-account-token",
            method: "GET",
            route: "/api/org",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(200, json!({"id": 1, "name": "Main Org."})),
            check: |v| assert_eq!(v.identity.as_deref(), Some("Main Org.")),
            dead: vec![(
                unauthorized(json!({"message": "Invalid API key"})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "groq-api-key",
            method: "GET",
            route: "/openai/v1/models",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"object": "list", "data": [{"id": "llama-3.3-70b-versatile"}]}),
            ),
            check: |_| {},
            dead: vec![(
                unauthorized(
                    json!({"error": {"message": "Invalid API Key", "type": "invalid_request_error", "code": "invalid_api_key"}}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Live,
        },
        Case {
            rule: "heroku-api-key",
            method: "GET",
            route: "/account",
            query: &[],
            carry: Carry::Bearer,
            headers: &[("accept", "application/vnd.heroku+json; version=3")],
            live: Reply::json(
                200,
                json!({"email": "alice@acme.test", "id": "01234567-89ab-cdef-0123-456789abcdef", "verified": true}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice@acme.test")),
            dead: vec![(
                unauthorized(
                    json!({"id": "unauthorized", "message": "Invalid credentials provided."}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "huggingface-token",
            method: "GET",
            route: "/api/whoami-v2",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"type": "user", "name": "alice", "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": "write"}}}),
            ),
            check: |v| {
                assert_eq!(v.identity.as_deref(), Some("alice, user"));
                assert_eq!(v.scopes.as_deref(), Some(&["write".to_string()][..]));
            },
            dead: vec![(
                unauthorized(json!({"error": "Invalid credentials in Authorization header"})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "langsmith-api-key",
            method: "GET",
            route: "/api/v1/workspaces",
            query: &[],
            carry: Carry::Header("x-api-key", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!([{"id": "w1", "display_name": "Acme", "tenant_handle": "acme"}]),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("Acme")),
            dead: vec![(
                unauthorized(json!({"detail": "Invalid token"})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "linear-api-key",
            method: "POST",
            route: "/graphql",
            query: &[],
            carry: Carry::Header("authorization", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"data": {"viewer": {"id": "u1", "name": "Alice", "email": "alice@acme.test"}}}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice@acme.test, Alice")),
            dead: vec![
                (
                    Reply::json(
                        400,
                        json!({"errors": [{"message": "Authentication required, not authenticated", "extensions": {"type": "authentication error", "code": "AUTHENTICATION_ERROR"}}]}),
                    ),
                    Status::Invalid,
                ),
                (
                    Reply::json(
                        200,
                        json!({"data": null, "errors": [{"message": "Authentication required, not authenticated"}]}),
                    ),
                    Status::Invalid,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "mailgun-api-key",
            method: "GET",
            route: "/v4/domains",
            query: &[("limit", "1")],
            carry: Carry::Basic("api", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"total_count": 1, "items": [{"name": "mg.acme.test", "state": "active"}]}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("mg.acme.test")),
            dead: vec![
                (Reply::text(401, "Forbidden"), Status::Invalid),
                (
                    Reply::json(
                        403,
                        json!({"message": "Valid credentials but access denied"}),
                    ),
                    Status::Live,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "mapbox-secret-token",
            method: "GET",
            route: "/tokens/v2",
            query: &[],
            carry: Carry::Query("access_token"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"code": "TokenValid", "token": {"usage": "sk", "user": "alice", "authorization": "cijucimbe000brbkt48d0dhcx", "client": "api"}}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice")),
            dead: vec![
                (
                    Reply::json(401, json!({"code": "TokenInvalid", "token": {}})),
                    Status::Invalid,
                ),
                (
                    Reply::json(401, json!({"code": "TokenExpired", "token": {}})),
                    Status::Expired,
                ),
                (
                    Reply::json(401, json!({"code": "TokenRevoked", "token": {}})),
                    Status::Revoked,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "newrelic-user-api-key",
            method: "POST",
            route: "/graphql",
            query: &[],
            carry: Carry::Header("api-key", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"data": {"actor": {"user": {"id": 1234, "name": "Alice", "email": "alice@acme.test"}}}}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice@acme.test")),
            dead: vec![
                (
                    Reply::json(
                        200,
                        json!({"data": {"actor": {"user": null}}, "errors": [{"message": "Invalid API key"}]}),
                    ),
                    Status::Invalid,
                ),
                (
                    unauthorized(json!({"errors": [{"message": "Invalid API key"}]})),
                    Status::Invalid,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "npm-access-token",
            method: "GET",
            route: "/-/whoami",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(200, json!({"username": "alice"})),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice")),
            dead: vec![(
                unauthorized(json!({"error": "Unauthorized"})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "okta-api-token",
            method: "GET",
            route: "/api/v1/users/me",
            query: &[],
            carry: Carry::Header("authorization", "SSWS {}"),
            headers: &[("accept", "application/json")],
            live: Reply::json(
                200,
                json!({"id": "00u1", "status": "ACTIVE", "profile": {"login": "admin@acme.test", "email": "admin@acme.test"}}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("admin@acme.test")),
            dead: vec![(
                unauthorized(
                    json!({"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorLink": "E0000011", "errorId": "x", "errorCauses": []}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "openai-project-key",
            method: "GET",
            route: "/v1/models",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"object": "list", "data": [{"id": "gpt-4o", "object": "model", "owned_by": "system"}]}),
            ),
            check: |_| {},
            dead: vec![
                (
                    unauthorized(
                        json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
                    ),
                    Status::Invalid,
                ),
                (
                    Reply::json(
                        403,
                        json!({"error": {"message": "You have insufficient permissions for this operation.", "type": "invalid_request_error"}}),
                    ),
                    Status::Live,
                ),
            ],
            malformed: Status::Live,
        },
        Case {
            rule: "openai-admin-key",
            method: "GET",
            route: "/v1/organization/admin_api_keys",
            query: &[("limit", "1")],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(200, json!({"object": "list", "data": []})),
            check: |_| {},
            dead: vec![(
                unauthorized(json!({"error": {"code": "invalid_api_key"}})),
                Status::Invalid,
            )],
            malformed: Status::Live,
        },
        Case {
            rule: "openrouter-api-key",
            method: "GET",
            route: "/api/v1/key",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"data": {"label": "sk-or-v1-au7...890", "limit": 100, "usage": 25.5, "is_free_tier": false, "creator_user_id": "user_2dHFtVWx2n56w6HkM", "expires_at": "2027-12-31T23:59:59Z"}}),
            ),
            check: |v| {
                assert_eq!(v.identity.as_deref(), Some("user_2dHFtVWx2n56w6HkM"));
                assert_eq!(v.expires_at.as_deref(), Some("2027-12-31T23:59:59Z"));
            },
            dead: vec![(
                unauthorized(json!({"error": {"code": 401, "message": "User not found."}})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "postman-api-key",
            method: "GET",
            route: "/me",
            query: &[],
            carry: Carry::Header("x-api-key", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"user": {"id": 12345678, "username": "alice", "email": "alice@acme.test", "teamName": "Acme"}, "operations": []}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice, Acme")),
            dead: vec![(
                unauthorized(
                    json!({"error": {"name": "AuthenticationError", "message": "Invalid API Key. Every request requires a valid API Key to be sent."}}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "pulumi-access-token",
            method: "GET",
            route: "/api/user",
            query: &[],
            carry: Carry::Header("authorization", "token {}"),
            headers: &[("accept", "application/vnd.pulumi+8")],
            live: Reply::json(
                200,
                json!({"githubLogin": "alice", "name": "Alice", "organizations": [{"githubLogin": "acme"}]}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice")),
            dead: vec![(
                unauthorized(
                    json!({"code": 401, "message": "Unauthorized: No credentials provided or are invalid."}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "replicate-api-token",
            method: "GET",
            route: "/v1/account",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"type": "user", "username": "alice", "name": "Alice", "github_url": "https://github.com/alice"}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("alice, user")),
            dead: vec![(
                unauthorized(
                    json!({"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "rubygems-api-key",
            method: "GET",
            route: "/api/v1/gems.json",
            query: &[],
            carry: Carry::Header("authorization", "{}"),
            headers: &[],
            live: Reply::json(200, json!([{"name": "acme", "version": "1.0.0"}])),
            check: |_| {},
            dead: vec![
                (
                    Reply::text(
                        401,
                        "Access Denied. Please sign up for an account at https://rubygems.org",
                    ),
                    Status::Invalid,
                ),
                (
                    Reply::text(403, "The API key doesn't have access"),
                    Status::Live,
                ),
            ],
            malformed: Status::Live,
        },
        Case {
            rule: "sendgrid-api-key",
            method: "GET",
            route: "/v3/scopes",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"scopes": ["mail.send", "api_keys.read", "api_keys.delete"]}),
            ),
            check: |v| assert_eq!(v.scopes.as_ref().unwrap().len(), 3),
            dead: vec![(
                unauthorized(
                    json!({"errors": [{"field": null, "message": "authorization required"}]}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "sentry-user-token",
            method: "GET",
            route: "/api/0/organizations/",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(200, json!([{"id": "1", "slug": "acme", "name": "Acme"}])),
            check: |v| assert_eq!(v.identity.as_deref(), Some("acme")),
            dead: vec![
                (
                    unauthorized(json!({"detail": "Invalid token"})),
                    Status::Invalid,
                ),
                (
                    Reply::json(
                        403,
                        json!({"detail": "You do not have permission to perform this action."}),
                    ),
                    Status::Live,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "shopify-admin-token",
            method: "GET",
            route: "/admin/oauth/access_scopes.json",
            query: &[],
            carry: Carry::Header("x-shopify-access-token", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"access_scopes": [{"handle": "read_products"}, {"handle": "write_orders"}]}),
            ),
            check: |v| {
                assert_eq!(
                    v.scopes.as_deref(),
                    Some(&["read_products".to_string(), "write_orders".to_string()][..])
                )
            },
            dead: vec![(
                unauthorized(
                    json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "stripe-secret-key",
            method: "GET",
            route: "/v1/account",
            query: &[],
            carry: Carry::Basic("{}", ""),
            headers: &[],
            live: Reply::json(
                200,
                json!({"id": "acct_1Nv0FGQ9RKHgCVdK", "object": "account", "business_profile": {"name": "Acme"}, "charges_enabled": true}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("acct_1Nv0FGQ9RKHgCVdK, Acme")),
            dead: vec![
                (
                    unauthorized(
                        json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_live_****1234"}}),
                    ),
                    Status::Invalid,
                ),
                (
                    unauthorized(
                        json!({"error": {"code": "api_key_expired", "type": "invalid_request_error", "message": "Expired API Key provided"}}),
                    ),
                    Status::Expired,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "stripe-restricted-key",
            method: "GET",
            route: "/v1/account",
            query: &[],
            carry: Carry::Basic("{}", ""),
            headers: &[],
            live: Reply::json(
                403,
                json!({"error": {"type": "invalid_request_error", "message": "The provided key does not have the required permissions for this endpoint"}}),
            ),
            check: |v| assert!(v.detail.as_deref().unwrap().starts_with("restricted")),
            dead: vec![(
                unauthorized(json!({"error": {"type": "invalid_request_error"}})),
                Status::Invalid,
            )],
            malformed: Status::Live,
        },
        Case {
            rule: "supabase-access-token",
            method: "GET",
            route: "/v1/projects",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!([{"id": "p1", "ref": "abcd", "name": "app", "organization_id": "org-acme"}, {"id": "p2", "ref": "efgh", "name": "web", "organization_id": "org-acme"}]),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("org-acme")),
            dead: vec![(
                unauthorized(json!({"message": "Unauthorized"})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "tailscale-api-key",
            method: "GET",
            route: "/api/v2/tailnet/-/keys",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(200, json!({"keys": [{"id": "k123CNTRL"}]})),
            check: |_| {},
            dead: vec![(
                unauthorized(json!({"message": "API token invalid"})),
                Status::Invalid,
            )],
            malformed: Status::Live,
        },
        Case {
            rule: "telegram-bot-token",
            method: "GET",
            route: "/bot{secret}/getMe",
            query: &[],
            carry: Carry::Path,
            headers: &[],
            live: Reply::json(
                200,
                json!({"ok": true, "result": {"id": 123456789, "is_bot": true, "first_name": "MyBot", "username": "my_bot"}}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("my_bot, 123456789")),
            dead: vec![
                (
                    unauthorized(
                        json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
                    ),
                    Status::Invalid,
                ),
                (
                    Reply::json(
                        404,
                        json!({"ok": false, "error_code": 404, "description": "Not Found"}),
                    ),
                    Status::Invalid,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "terraform-cloud-token",
            method: "GET",
            route: "/api/v2/account/details",
            query: &[],
            carry: Carry::Bearer,
            headers: &[],
            live: Reply::json(
                200,
                json!({"data": {"id": "user-V3R563qtJNcExAkN", "type": "users", "attributes": {"username": "admin", "is-service-account": false, "email": "admin@acme.test"}}}),
            ),
            check: |v| assert_eq!(v.identity.as_deref(), Some("admin")),
            dead: vec![(
                unauthorized(json!({"errors": [{"status": "401", "title": "unauthorized"}]})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "twilio-auth-token",
            method: "GET",
            route: "/2010-04-01/Accounts/{pair}.json",
            query: &[],
            carry: Carry::Basic("{pair}", "{}"),
            headers: &[],
            // The Account answer carries the account's auth token: it must never be reported.
            live: Reply::json(
                200,
                json!({"sid": "AC00000000000000000000000000000001", "friendly_name": "Acme prod", "status": "active", "type": "Full", "auth_token": "0123456789abcdef0123456789abcdef"}),
            ),
            check: |v| {
                assert_eq!(
                    v.identity.as_deref(),
                    Some("Acme prod, AC00000000000000000000000000000001")
                );
                assert!(!format!("{v:?}").contains("0123456789abcdef0123456789abcdef"));
            },
            dead: vec![(
                unauthorized(
                    json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}),
                ),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
        Case {
            rule: "twilio-api-key-secret",
            method: "GET",
            route: "/2010-04-01/Accounts.json",
            query: &[],
            carry: Carry::Basic("{pair}", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"accounts": [{"sid": "AC00000000000000000000000000000001", "owner_account_sid": "AC00000000000000000000000000000001", "auth_token": "0123456789abcdef0123456789abcdef"}]}),
            ),
            check: |v| {
                assert_eq!(
                    v.identity.as_deref(),
                    Some("AC00000000000000000000000000000001")
                )
            },
            // A Standard key may not read /Accounts: live, restricted. A 401 does not tell a wrong
            // secret from a key type that may not read it: unknown, never "invalid".
            dead: vec![
                (
                    Reply::json(
                        403,
                        json!({"code": 20403, "message": "Forbidden", "status": 403}),
                    ),
                    Status::Live,
                ),
                (
                    unauthorized(json!({"code": 20003, "message": "Authenticate", "status": 401})),
                    Status::Unknown,
                ),
            ],
            malformed: Status::Error,
        },
        Case {
            rule: "vault-service-token",
            method: "GET",
            route: "/v1/auth/token/lookup-self",
            query: &[],
            carry: Carry::Header("x-vault-token", "{}"),
            headers: &[],
            live: Reply::json(
                200,
                json!({"data": {"accessor": "8609694a", "display_name": "token-ci", "expire_time": "2031-05-19T11:35:54.466476215-04:00", "id": "[the token]", "path": "auth/token/create", "policies": ["default", "web"], "ttl": 3235, "type": "service"}}),
            ),
            check: |v| {
                assert_eq!(v.identity.as_deref(), Some("token-ci, auth/token/create"));
                assert_eq!(
                    v.scopes.as_deref(),
                    Some(&["default".to_string(), "web".to_string()][..])
                );
                assert_eq!(
                    v.expires_at.as_deref(),
                    Some("2031-05-19T11:35:54.466476215-04:00")
                );
            },
            dead: vec![(
                Reply::json(403, json!({"errors": ["permission denied"]})),
                Status::Invalid,
            )],
            malformed: Status::Error,
        },
    ]
}

fn verify_with(
    fake: &Fake,
    clock: Arc<FakeClock>,
    rule: &str,
    secret: &str,
    pair: Option<&str>,
    p: keysweep_provider::Policy,
) -> Verification {
    let cx = context(fake, p, clock);
    verify::verify_one(
        &cx,
        &Credential {
            rule_id: rule,
            secret,
            pair,
        },
    )
}

/// Every documented answer of every provider, with the exact request each time.
#[test]
fn every_provider_answers_as_documented() {
    let mut providers = std::collections::BTreeSet::new();
    for c in cases() {
        let provider = provider_of(c.rule);
        providers.insert(provider.clone());
        let (secret, pair) = example(c.rule);
        let prefix = format!("/{provider}");
        let replies: Arc<Mutex<Vec<Reply>>> = Arc::default();
        let r2 = replies.clone();
        let fake = Fake::start(move |_| r2.lock().unwrap().remove(0));
        let mut answers = vec![(c.live.clone(), Status::Live)];
        answers.extend(c.dead.iter().cloned());
        for (reply, want) in answers {
            fake.clear();
            replies.lock().unwrap().push(reply.clone());
            let v = verify_with(
                &fake,
                FakeClock::new(),
                c.rule,
                &secret,
                pair.as_deref(),
                policy(),
            );
            assert_eq!(
                v.status, want,
                "{}: HTTP {} {}: {v:?}",
                c.rule, reply.status, reply.body
            );
            assert!(v.checked_at.is_some(), "{}", c.rule);
            let reqs = fake.requests();
            assert_eq!(reqs.len(), 1, "{}: one request per check", c.rule);
            if let Err(e) = is_request(&c, &reqs[0], &prefix, &secret, pair.as_deref()) {
                panic!("{}: {e}", c.rule);
            }
            let shown = format!("{v:?}");
            assert!(
                !shown.contains(&secret),
                "{}: the secret is in the verification",
                c.rule
            );
            if want == Status::Live && reply.status == c.live.status && reply.body == c.live.body {
                (c.check)(&v);
            }
        }
    }
    assert!(
        providers.len() >= 38,
        "{} providers covered",
        providers.len()
    );
}

/// What no provider documents but every provider may answer, through each provider's request:
/// `Retry-After` is waited on the clock (never for real), a 5xx is retried then reported unknown, a
/// body that is not JSON is an error wherever the answer must be read, and a hang times out.
#[test]
fn every_provider_survives_rate_limits_5xx_garbage_and_hangs() {
    let all = cases();
    let hangs: Vec<_> = all
        .iter()
        .map(|c| {
            let (rule, (secret, pair)) = (c.rule, example(c.rule));
            std::thread::spawn(move || {
                let fake = Fake::start(|_| Reply::hang());
                let mut p = policy();
                p.timeout = Duration::from_millis(150);
                p.max_retries = 0;
                let v = verify_with(&fake, FakeClock::new(), rule, &secret, pair.as_deref(), p);
                assert_eq!(v.status, Status::Error, "{rule}: {v:?}");
                assert_eq!(v.detail.as_deref(), Some("timed out"), "{rule}");
            })
        })
        .collect();
    for c in &all {
        let (secret, pair) = example(c.rule);
        // 429 with Retry-After: 2, then the live answer.
        let live = c.live.clone();
        let n = Arc::new(Mutex::new(0));
        let n2 = n.clone();
        let fake = Fake::start(move |_| {
            let mut k = n2.lock().unwrap();
            *k += 1;
            if *k == 1 {
                Reply::json(429, json!({"message": "slow down"})).header("retry-after", "2")
            } else {
                live.clone()
            }
        });
        let clock = FakeClock::new();
        let v = verify_with(
            &fake,
            clock.clone(),
            c.rule,
            &secret,
            pair.as_deref(),
            policy(),
        );
        assert_eq!(v.status, Status::Live, "{}: {v:?}", c.rule);
        assert_eq!(fake.requests().len(), 2, "{}", c.rule);
        assert!(
            clock
                .slept
                .lock()
                .unwrap()
                .contains(&Duration::from_secs(2)),
            "{}",
            c.rule
        );

        // 503 every time: tried three times, with backoff on the clock, then unknown.
        let fake = Fake::start(|_| Reply::text(503, "unavailable"));
        let clock = FakeClock::new();
        let v = verify_with(
            &fake,
            clock.clone(),
            c.rule,
            &secret,
            pair.as_deref(),
            policy(),
        );
        assert_eq!(
            (v.status, v.detail.as_deref()),
            (Status::Unknown, Some("HTTP 503")),
            "{}",
            c.rule
        );
        assert_eq!(fake.requests().len(), 3, "{}", c.rule);
        assert!(
            clock.total_slept() >= Duration::from_millis(750),
            "{}",
            c.rule
        );

        // A live status with a body that is not JSON.
        let status = c.live.status;
        let fake = Fake::start(move |_| Reply::text(status, "{\"ok\": tru <html>"));
        let v = verify_with(
            &fake,
            FakeClock::new(),
            c.rule,
            &secret,
            pair.as_deref(),
            policy(),
        );
        assert_eq!(v.status, c.malformed, "{}: {v:?}", c.rule);
    }
    for h in hangs {
        h.join().unwrap();
    }
}
