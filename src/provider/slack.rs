//! Slack: `auth.test` to verify, `auth.revoke` to revoke, `oauth.v2.access` and
//! `tooling.tokens.rotate` to rotate; incoming webhooks verified with a payload that cannot post.
//!
//! Web API methods answer HTTP 200 whatever happened; the JSON `ok` and `error` fields tell.

use serde_json::Value;

use super::http::Response;
use super::{Capabilities, Context, Minted, Provider, Revoked, failed, scopes_header, short};
use crate::finding::{Status, Verification};

pub struct Slack;

/// `auth.*` error codes that mean the token is dead. `token_expired` is what expiring (rotating)
/// tokens are reported to answer after their 12 hours; it is counted as dead whatever its exact
/// documentation status, since an expired token cannot be used.
const DEAD_CODES: &[&str] = &[
    "invalid_auth",
    "token_revoked",
    "account_inactive",
    "token_expired",
];

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

impl Provider for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    /// Webhook URLs are checked again, host and path, before one is sent.
    fn owns(&self, secret: &str) -> bool {
        ["xox", "xapp-", "https://"]
            .iter()
            .any(|p| secret.starts_with(p))
    }

    fn capabilities(&self, secret: &str) -> Capabilities {
        match kind(secret) {
            Kind::Token => Capabilities {
                verify: true,
                revoke: true,
                rotate: false,
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

    fn verify(&self, cx: &Context, secret: &str) -> Verification {
        match kind(secret) {
            Kind::Refresh | Kind::LegacyRefresh => {
                Verification::with_detail(Status::NotChecked, REFRESH_NOT_CHECKED)
            }
            Kind::Webhook => verify_webhook(cx, secret),
            Kind::Token => auth_test(cx, secret),
        }
    }

    fn revoke(&self, cx: &Context, secrets: &[&str]) -> Vec<Revoked> {
        secrets
            .iter()
            .map(|s| match kind(s) {
                Kind::Token => auth_revoke(cx, s),
                _ => Revoked::Failed(self.manual_step(s).unwrap_or_default()),
            })
            .collect()
    }

    fn manual_step(&self, secret: &str) -> Option<String> {
        match kind(secret) {
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
    cx.endpoints.url("slack", &format!("/api/{method}"))
}

/// `Some((ok, error, json))` for a Web API answer, `None` when it is not the JSON Slack sends.
fn web_answer(resp: &Response) -> Option<(bool, Option<String>, Value)> {
    let v = resp.json()?;
    let ok = v.get("ok")?.as_bool()?;
    let err = v.get("error").and_then(Value::as_str).map(short);
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
        let status = if DEAD_CODES.contains(&code.as_str()) {
            Status::Dead
        } else {
            Status::Unknown
        };
        return Verification::with_detail(status, code);
    }
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
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
        status: Status::Live,
        detail: None,
        identity: (!who.is_empty()).then(|| who.join(", ")),
        scopes: scopes_header(resp.header("x-oauth-scopes")),
        expires_at: None,
    }
}

fn verify_webhook(cx: &Context, secret: &str) -> Verification {
    let Some(url) = cx.endpoints.slack_webhook(secret) else {
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
    let code = short(&String::from_utf8_lossy(&resp.body));
    let status = match resp.status {
        400 if WEBHOOK_LIVE.contains(&code.as_str()) => Status::Live,
        403 | 404 | 410 if WEBHOOK_DEAD.contains(&code.as_str()) => Status::Dead,
        // A 2xx to a non-JSON body would mean Slack accepted it; the URL certainly works.
        200..=299 => Status::Live,
        _ => Status::Unknown,
    };
    let detail = if code.is_empty() || code.len() > 48 || code.contains(' ') {
        format!("HTTP {}", resp.status)
    } else {
        code
    };
    Verification::with_detail(status, detail)
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
        (false, Some(code)) if DEAD_CODES.contains(&code.as_str()) => Revoked::AlreadyDead(code),
        (false, code) => Revoked::Failed(code.unwrap_or_else(|| "unknown_error".to_string())),
    }
}

/// `oauth.v2.access` with `grant_type=refresh_token`: Slack retires the refresh token it is given
/// and answers with a new access token, a new refresh token and `expires_in`.
pub fn refresh(
    cx: &Context,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
) -> anyhow::Result<Minted> {
    let form = [
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let v = web_call(cx, "oauth.v2.access", &form)?;
    let access = str_field(&v, "access_token")?;
    let new_refresh = str_field(&v, "refresh_token")?;
    let expires_in = v.get("expires_in").and_then(Value::as_i64);
    let team = v
        .pointer("/team/id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let expires_at = expires_in
        .and_then(|s| {
            time::OffsetDateTime::now_utc()
                .unix_timestamp()
                .checked_add(s)
        })
        .and_then(unix_rfc3339);
    Ok(Minted {
        payload: serde_json::json!({
            "provider": "slack",
            "kind": "oauth_refresh",
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
            "new Slack access and refresh token for team {team}{}",
            expires_at
                .map(|e| format!(", access token expires {e}"))
                .unwrap_or_default()
        ),
    })
}

/// `tooling.tokens.rotate`: exchanges an app configuration refresh token, no client credentials.
pub fn rotate_config_token(cx: &Context, refresh_token: &str) -> anyhow::Result<Minted> {
    let v = web_call(
        cx,
        "tooling.tokens.rotate",
        &[("refresh_token", refresh_token)],
    )?;
    let token = str_field(&v, "token")?;
    let new_refresh = str_field(&v, "refresh_token")?;
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
            "new Slack app configuration token for team {team}{}",
            expires_at
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ),
    })
}

fn web_call(cx: &Context, method: &str, form: &[(&str, &str)]) -> anyhow::Result<Value> {
    let resp = cx
        .http
        .send_once("slack", |c| c.post(api(cx, method)).form(form))
        .map_err(|f| anyhow::anyhow!("Slack {method}: {f}"))?;
    if resp.status != 200 {
        anyhow::bail!("Slack {method}: HTTP {}", resp.status);
    }
    let Some((ok, err, v)) = web_answer(&resp) else {
        anyhow::bail!("Slack {method}: malformed response");
    };
    if !ok {
        anyhow::bail!(
            "Slack {method}: {}",
            err.unwrap_or_else(|| "unknown_error".to_string())
        );
    }
    Ok(v)
}

fn str_field(v: &Value, k: &str) -> anyhow::Result<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("Slack answer lacks `{k}`"))
}

/// `None` for a time out of range: the number comes from the provider's answer.
fn unix_rfc3339(secs: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_out_of_range_are_left_out() {
        assert_eq!(unix_rfc3339(1_900_000_000).unwrap(), "2030-03-17T17:46:40Z");
        assert_eq!(unix_rfc3339(i64::MAX), None);
    }

    #[test]
    fn kinds_by_shape() {
        assert_eq!(kind(&["xoxb-", "1-2-x"].concat()), Kind::Token);
        assert_eq!(kind(&["xoxe.xoxp-", "1-x"].concat()), Kind::Token);
        assert_eq!(kind(&["xoxe-", "1-x"].concat()), Kind::Refresh);
        assert_eq!(kind(&["xoxr-", "1-x"].concat()), Kind::LegacyRefresh);
        assert!(!is_refresh_token(&["xoxr-", "1-x"].concat()));
        assert_eq!(kind("https://hooks.slack.com/services/x"), Kind::Webhook);
        assert!(!Slack.capabilities("https://hooks.slack.com/x").revoke);
        assert!(Slack.manual_step("https://hooks.slack.com/x").is_some());
    }
}
