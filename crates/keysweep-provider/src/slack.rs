//! Slack: `auth.test` to verify, `auth.revoke` to revoke, `oauth.v2.access` and
//! `tooling.tokens.rotate` to rotate, `oauth.v2.exchange` to turn a long-lived bot or user token
//! into an expiring one with a refresh token; incoming webhooks verified with a payload that cannot
//! post.
//!
//! Web API methods answer HTTP 200 whatever happened; the JSON `ok` and `error` fields tell.

use keysweep_core::finding::{Status, Verification};
use serde_json::Value;

use crate::adapter::{
    Calls, Capabilities, Credential, Minted, Provider, Revoked, RotateError, RotateRequest,
};
use crate::http::Response;
use crate::minted::{in_seconds, lost, str_field, unix_rfc3339};
use crate::{Context, code, failed, scopes_header, short};

pub struct Slack;

const BASE: &str = "https://slack.com";
const HOOKS: &str = "https://hooks.slack.com";
const HOOKS_HOST: &str = "hooks.slack.com";

/// What an `auth.*` error code says about the token. `token_expired` is what expiring (rotating)
/// tokens are reported to answer after their 12 hours.
fn dead_status(code: &str) -> Option<Status> {
    match code {
        "invalid_auth" | "not_authed" => Some(Status::Invalid),
        "token_revoked" | "account_inactive" => Some(Status::Revoked),
        "token_expired" => Some(Status::Expired),
        _ => None,
    }
}

/// Webhook answers (HTTP 400) to a body that is not a message: the URL was accepted, nothing posted.
const WEBHOOK_LIVE: &[&str] = &[
    "invalid_payload",
    "no_text",
    "missing_text_or_fallback_or_attachments",
];

/// Webhook answers that mean the URL can no longer post.
const WEBHOOK_DEAD: &[&str] = &[
    "invalid_token",
    "no_service",
    "no_team",
    "team_disabled",
    "channel_not_found",
    "channel_is_archived",
];

/// A body that is not JSON: Slack rejects it with `invalid_payload` before it could become a
/// message, for `/services/`, `/workflows/` and `/triggers/` URLs alike (an empty JSON object
/// could start a workflow that takes no variables).
const WEBHOOK_PROBE: &str = "keysweep verification: this body is deliberately not JSON";

pub const REFRESH_NOT_CHECKED: &str = "refresh token: single-use, verifying it would consume it \
     (exchange it with `keysweep rotate slack` or `scan --rotate`, with the owner's consent)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Token,
    /// `xoxe-1-`: exchanged with `oauth.v2.access` or `tooling.tokens.rotate`.
    Refresh,
    /// `xoxr-`: refresh token of the retired workspace apps; single-use like `xoxe-1-`.
    LegacyRefresh,
    Webhook,
}

fn kind(secret: &str) -> Kind {
    if secret.starts_with("https://") {
        Kind::Webhook
    } else if secret.starts_with("xoxe-") {
        Kind::Refresh
    } else if secret.starts_with("xoxr-") {
        Kind::LegacyRefresh
    } else {
        Kind::Token
    }
}

pub fn is_refresh_token(secret: &str) -> bool {
    kind(secret) == Kind::Refresh
}

/// A bot or user token that never expires (`xoxb-`, `xoxp-`): `oauth.v2.exchange` turns it into an
/// expiring one. Expiring tokens (`xoxe.xoxb-`) are already rotated with their refresh token.
pub fn is_long_lived(secret: &str) -> bool {
    secret.starts_with("xoxb-") || secret.starts_with("xoxp-")
}

impl Provider for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn default_base(&self) -> &'static str {
        BASE
    }

    fn supports(&self, rule_id: &str) -> Capabilities {
        match rule_id {
            "slack-refresh-token" => Capabilities {
                rotate: true,
                ..Capabilities::default()
            },
            "slack-legacy-workspace-refresh-token" => Capabilities::default(),
            // Long-lived tokens: exchanged for an expiring token and a refresh token.
            "slack-bot-token" | "slack-user-token" => Capabilities {
                verify: true,
                revoke: true,
                rotate: true,
            },
            id if id.ends_with("webhook-url") => Capabilities {
                verify: true,
                ..Capabilities::default()
            },
            _ => Capabilities {
                verify: true,
                revoke: true,
                rotate: false,
            },
        }
    }

    fn calls(&self) -> Calls {
        Calls {
            verify: "POST /api/auth.test; webhooks: POST to the webhook URL with a body that cannot post",
            revoke: "POST /api/auth.revoke",
            rotate: "POST /api/oauth.v2.access (refresh tokens, client credentials), /api/tooling.tokens.rotate (configuration tokens) or /api/oauth.v2.exchange (long-lived xoxb/xoxp, client credentials)",
        }
    }

    /// Webhook URLs must be https URLs on Slack's hooks host with a webhook path.
    fn owns(&self, cred: &Credential) -> bool {
        kind(cred.secret) != Kind::Webhook || webhook_path(cred.secret).is_some()
    }

    fn capabilities(&self, cred: &Credential) -> Capabilities {
        match kind(cred.secret) {
            Kind::Token => Capabilities {
                verify: true,
                revoke: true,
                rotate: is_long_lived(cred.secret),
            },
            Kind::Refresh => Capabilities {
                verify: false,
                revoke: false,
                rotate: true,
            },
            Kind::Webhook => Capabilities {
                verify: true,
                revoke: false,
                rotate: false,
            },
            Kind::LegacyRefresh => Capabilities {
                verify: false,
                revoke: false,
                rotate: false,
            },
        }
    }

    fn verify(&self, cx: &Context, cred: &Credential) -> Verification {
        match kind(cred.secret) {
            Kind::Refresh | Kind::LegacyRefresh => {
                Verification::with_detail(Status::NotChecked, REFRESH_NOT_CHECKED)
            }
            Kind::Webhook => verify_webhook(cx, cred.secret),
            Kind::Token => auth_test(cx, cred.secret),
        }
    }

    fn revoke(&self, cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        creds
            .iter()
            .map(|c| match kind(c.secret) {
                Kind::Token => auth_revoke(cx, c.secret),
                _ => Revoked::Failed(self.manual_step(c).unwrap_or_default()),
            })
            .collect()
    }

    /// A refresh token (`xoxe-1-`) through `oauth.v2.access` with the app's client credentials, or
    /// an app configuration token through `tooling.tokens.rotate` (`mode = "config-token"`); a
    /// long-lived bot or user token through `oauth.v2.exchange` with the client credentials.
    fn rotate(&self, cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        let secret = req.credential.secret;
        if is_long_lived(secret) {
            return match (req.mode, req.client) {
                (None | Some("exchange"), Some(client)) => {
                    exchange(cx, client.id, client.secret, secret)
                }
                (None | Some("exchange"), None) => Err(RotateError::Refused(
                    "oauth.v2.exchange needs the app's client id and secret".into(),
                )),
                (Some(other), _) => Err(RotateError::Unsupported(format!(
                    "Slack rotation mode {other:?} does not apply to a long-lived token"
                ))),
            };
        }
        if kind(secret) != Kind::Refresh {
            return Err(RotateError::Unsupported(
                "only Slack refresh tokens (xoxe-1-...) and long-lived bot and user tokens                  (xoxb-, xoxp-) can be rotated"
                    .into(),
            ));
        }
        match (req.mode, req.client) {
            (Some("config-token"), _) => rotate_config_token(cx, secret),
            (None, Some(client)) => refresh(cx, client.id, client.secret, secret),
            (None, None) => Err(RotateError::Refused(
                "Slack token rotation needs the app's client id and secret".into(),
            )),
            (Some(other), _) => Err(RotateError::Unsupported(format!(
                "unknown Slack rotation mode {other:?}"
            ))),
        }
    }

    fn rotation_calls(&self, req: &RotateRequest) -> Vec<String> {
        let secret = req.credential.secret;
        let call = if is_long_lived(secret) {
            "POST /api/oauth.v2.exchange (client id and secret, token): Slack answers with an              expiring token and a refresh token; a token can be exchanged only once"
        } else if req.mode == Some("config-token") {
            "POST /api/tooling.tokens.rotate (refresh_token): Slack retires the refresh token"
        } else {
            "POST /api/oauth.v2.access (grant_type=refresh_token, client id and secret): Slack \
             retires the refresh token"
        };
        vec![call.to_string()]
    }

    fn manual_step(&self, cred: &Credential) -> Option<String> {
        match kind(cred.secret) {
            Kind::Token => None,
            Kind::Webhook => Some(
                "Slack webhooks cannot be revoked by API: remove the webhook in the app's settings \
                 (Features > Incoming Webhooks), or uninstall the app (apps.uninstall with the \
                 client id and secret revokes all of its tokens)"
                    .to_string(),
            ),
            Kind::Refresh => Some(
                "a Slack refresh token is retired by exchanging it: run `keysweep scan --rotate` \
                 (or `keysweep rotate slack`) with the app's client credentials, or rotate the \
                 app's credentials in its settings"
                    .to_string(),
            ),
            Kind::LegacyRefresh => Some(
                "a legacy workspace-app refresh token cannot be revoked by API: uninstall the \
                 app or revoke its tokens in the workspace's app management"
                    .to_string(),
            ),
        }
    }
}

fn api(cx: &Context, method: &str) -> String {
    format!("{}/api/{method}", cx.base("slack", BASE))
}

/// The path of a Slack webhook URL, when the secret is an https URL on Slack's hooks host with a
/// webhook path and nothing else (no port, no credentials).
fn webhook_path(secret: &str) -> Option<String> {
    let u = url::Url::parse(secret).ok()?;
    let path = u.path();
    let ok = u.scheme() == "https"
        && u.host_str() == Some(HOOKS_HOST)
        && u.port().is_none()
        && u.username().is_empty()
        && u.password().is_none()
        && u.query().is_none()
        && ["/services/", "/workflows/", "/triggers/"]
            .iter()
            .any(|p| path.starts_with(p));
    ok.then(|| path.to_string())
}

/// Where a webhook secret is sent: its own path on hooks.slack.com, or on the `slack` override.
fn webhook_url(cx: &Context, secret: &str) -> Option<String> {
    let path = webhook_path(secret)?;
    Some(format!(
        "{}{path}",
        cx.endpoints.overridden("slack").unwrap_or(HOOKS)
    ))
}

/// `Some((ok, error, json))` for a Web API answer, `None` when it is not the JSON Slack sends.
fn web_answer(resp: &Response) -> Option<(bool, Option<String>, Value)> {
    let v = resp.json()?;
    let ok = v.get("ok")?.as_bool()?;
    let err = v
        .get("error")
        .and_then(Value::as_str)
        .map(|e| code(e).unwrap_or_else(|| "unreadable error".into()));
    Some((ok, err, v))
}

fn auth_test(cx: &Context, token: &str) -> Verification {
    let resp = match cx
        .http
        .send("slack", |c| c.post(api(cx, "auth.test")).bearer_auth(token))
    {
        Ok(r) => r,
        Err(f) => return failed(&f),
    };
    if resp.status != 200 {
        return Verification::with_detail(Status::Unknown, format!("HTTP {}", resp.status));
    }
    let Some((ok, err, v)) = web_answer(&resp) else {
        return Verification::with_detail(Status::Error, "malformed response");
    };
    if !ok {
        let code = err.unwrap_or_else(|| "unknown_error".to_string());
        let status = dead_status(&code).unwrap_or(Status::Unknown);
        return Verification::with_detail(status, code);
    }
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(|s| short(&crate::scrub(s, &[token]), 80))
            .unwrap_or_default()
    };
    let mut who = Vec::new();
    if !field("team").is_empty() || !field("team_id").is_empty() {
        who.push(format!("team {} ({})", field("team"), field("team_id")));
    }
    if !field("user").is_empty() || !field("user_id").is_empty() {
        who.push(format!("user {} ({})", field("user"), field("user_id")));
    }
    if !field("bot_id").is_empty() {
        who.push(format!("bot {}", field("bot_id")));
    }
    Verification {
        identity: (!who.is_empty()).then(|| who.join(", ")),
        scopes: scopes_header(resp.header("x-oauth-scopes")),
        ..Verification::new(Status::Live)
    }
}

fn verify_webhook(cx: &Context, secret: &str) -> Verification {
    let Some(url) = webhook_url(cx, secret) else {
        return Verification::with_detail(Status::NotChecked, "not a hooks.slack.com URL");
    };
    let resp = match cx.http.send("slack", |c| {
        c.post(&url)
            .header("content-type", "application/json")
            .body(WEBHOOK_PROBE)
    }) {
        Ok(r) => r,
        Err(f) => return failed(&f),
    };
    let said = code(&String::from_utf8_lossy(&resp.body)).filter(|c| !c.contains(' '));
    let said_is = |list: &[&str]| said.as_deref().is_some_and(|c| list.contains(&c));
    let status = match resp.status {
        400 if said_is(WEBHOOK_LIVE) => Status::Live,
        403 | 404 | 410 if said_is(WEBHOOK_DEAD) => Status::Invalid,
        // A 2xx to a non-JSON body would mean Slack accepted it; the URL certainly works.
        200..=299 => Status::Live,
        _ => Status::Unknown,
    };
    Verification::with_detail(
        status,
        said.unwrap_or_else(|| format!("HTTP {}", resp.status)),
    )
}

fn auth_revoke(cx: &Context, token: &str) -> Revoked {
    let resp = match cx.http.send("slack", |c| {
        c.post(api(cx, "auth.revoke")).bearer_auth(token)
    }) {
        Ok(r) => r,
        Err(f) => return Revoked::Failed(f.to_string()),
    };
    if resp.status != 200 {
        return Revoked::Failed(format!("HTTP {}", resp.status));
    }
    let Some((ok, err, v)) = web_answer(&resp) else {
        return Revoked::Failed("malformed response".to_string());
    };
    let revoked = v.get("revoked").and_then(Value::as_bool) == Some(true);
    match (ok, err) {
        (true, _) if revoked => Revoked::Revoked,
        (true, _) => Revoked::Failed("ok but not revoked".to_string()),
        (false, Some(code)) if dead_status(&code).is_some() => Revoked::AlreadyDead(code),
        (false, code) => Revoked::Failed(code.unwrap_or_else(|| "unknown_error".to_string())),
    }
}

/// `oauth.v2.access` with `grant_type=refresh_token`: Slack retires the refresh token it is given
/// and answers with a new access token, a new refresh token and `expires_in`.
fn refresh(
    cx: &Context,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
) -> Result<Minted, RotateError> {
    let form = [
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let v = web_call(cx, "oauth.v2.access", &form)?;
    token_pair(&v, "oauth_refresh", "new Slack access and refresh token")
}

/// `oauth.v2.exchange`: a long-lived bot or user token becomes an expiring access token with a
/// refresh token. Slack documents the method's errors but no sample answer; the answer is read as
/// `oauth.v2.access`'s (`access_token`, `refresh_token`, `expires_in`), and anything less is
/// reported as unreadable (the exchange may have happened) rather than guessed at.
fn exchange(
    cx: &Context,
    client_id: &str,
    client_secret: &str,
    token: &str,
) -> Result<Minted, RotateError> {
    let form = [
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("token", token),
    ];
    let v = web_call(cx, "oauth.v2.exchange", &form)?;
    token_pair(
        &v,
        "exchange",
        "long-lived Slack token exchanged for an expiring access token and a refresh token",
    )
}

/// The new pair of an `oauth.v2.access`-shaped answer.
fn token_pair(v: &Value, kind: &str, what: &str) -> Result<Minted, RotateError> {
    let access = str_field(v, "access_token", "Slack token exchange")?;
    let new_refresh = str_field(v, "refresh_token", "Slack token exchange")?;
    let expires_in = v.get("expires_in").and_then(Value::as_i64);
    let team = v
        .pointer("/team/id")
        .or_else(|| v.get("team_id"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let expires_at = expires_in.and_then(in_seconds);
    Ok(Minted {
        payload: serde_json::json!({
            "provider": "slack",
            "kind": kind,
            "access_token": access,
            "refresh_token": new_refresh,
            "token_type": v.get("token_type"),
            "expires_in": expires_in,
            "expires_at": expires_at,
            "team_id": team,
            "scope": v.get("scope"),
        }),
        secrets: vec![access.clone(), new_refresh.clone()],
        summary: format!(
            "{what} for team {}{}",
            short(&team, 24),
            expires_at
                .map(|e| format!(", access token expires {e}"))
                .unwrap_or_default()
        ),
    })
}

/// `tooling.tokens.rotate`: exchanges an app configuration refresh token, no client credentials.
fn rotate_config_token(cx: &Context, refresh_token: &str) -> Result<Minted, RotateError> {
    let v = web_call(
        cx,
        "tooling.tokens.rotate",
        &[("refresh_token", refresh_token)],
    )?;
    let token = str_field(&v, "token", "Slack tooling.tokens.rotate")?;
    let new_refresh = str_field(&v, "refresh_token", "Slack tooling.tokens.rotate")?;
    let exp = v.get("exp").and_then(Value::as_i64);
    let expires_at = exp.and_then(unix_rfc3339);
    let team = v
        .get("team_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Ok(Minted {
        payload: serde_json::json!({
            "provider": "slack",
            "kind": "config_token",
            "token": token,
            "refresh_token": new_refresh,
            "team_id": team,
            "user_id": v.get("user_id"),
            "iat": v.get("iat"),
            "exp": exp,
            "expires_at": expires_at,
        }),
        secrets: vec![token.clone(), new_refresh.clone()],
        summary: format!(
            "new Slack app configuration token for team {}{}",
            short(&team, 24),
            expires_at
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ),
    })
}

/// One Web API call that mints: never retried after a lost answer (the old token may be retired).
fn web_call(cx: &Context, method: &str, form: &[(&str, &str)]) -> Result<Value, RotateError> {
    let resp = cx
        .http
        .send_once("slack", |c| c.post(api(cx, method)).form(form))
        .map_err(|f| lost(&format!("Slack {method}"), &f))?;
    if resp.status != 200 {
        return Err(RotateError::Unknown(format!(
            "Slack {method}: HTTP {}",
            resp.status
        )));
    }
    let Some((ok, err, v)) = web_answer(&resp) else {
        return Err(RotateError::Unknown(format!(
            "Slack {method}: malformed response"
        )));
    };
    if !ok {
        let code = err.unwrap_or_else(|| "unknown_error".to_string());
        // Slack's own words for these two: "it's possible some aspect of the operation succeeded
        // before the error was raised".
        if matches!(code.as_str(), "internal_error" | "fatal_error") {
            return Err(RotateError::Unknown(format!("Slack {method}: {code}")));
        }
        return Err(RotateError::Refused(format!("Slack {method}: {code}")));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_shape() {
        assert_eq!(kind(&["xoxb-", "1-2-x"].concat()), Kind::Token);
        assert_eq!(kind(&["xoxe.xoxp-", "1-x"].concat()), Kind::Token);
        assert_eq!(kind(&["xoxe-", "1-x"].concat()), Kind::Refresh);
        assert_eq!(kind(&["xoxr-", "1-x"].concat()), Kind::LegacyRefresh);
        assert!(!is_refresh_token(&["xoxr-", "1-x"].concat()));
        assert_eq!(kind("https://hooks.slack.com/services/x"), Kind::Webhook);
        let hook = Credential {
            rule_id: "slack-webhook-url",
            secret: "https://hooks.slack.com/services/x",
            pair: None,
        };
        assert!(!Slack.capabilities(&hook).revoke);
        assert!(Slack.manual_step(&hook).is_some());
        assert!(Slack.owns(&hook));
        let elsewhere = Credential {
            secret: "https://evil.example/services/x",
            ..hook
        };
        assert!(!Slack.owns(&elsewhere));
    }
}
