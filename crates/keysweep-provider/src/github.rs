//! GitHub: `GET /user` to verify (installation tokens: `GET /installation/repositories`), the
//! unauthenticated `POST /credentials/revoke` to revoke (installation tokens: `DELETE
//! /installation/token`, with the token itself).
//!
//! A GitHub App's user token is rotated with its refresh token (`ghr_`): `POST
//! github.com/login/oauth/access_token` with the app's client id (and secret, unless the app uses
//! the device flow) answers with a new user token and a new refresh token, and the pair used dies.
//!
//! Expiry comes from the `github-authentication-token-expiration` header, which GitHub sends for
//! tokens that expire. Personal access tokens (`ghp_`, `github_pat_`) can be created without an
//! expiry, and then the header is absent: keysweep reports `never` for them. For other kinds an
//! absent header means "not said" (OAuth app tokens `gho_` have no fixed expiry but lapse after a
//! year unused), so `expires_at` is left out.

use keysweep_core::finding::{Status, Verification};
use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;

use crate::adapter::{
    Calls, Capabilities, Credential, Minted, Provider, Revoked, RotateError, RotateRequest,
};
use crate::minted::{in_seconds, str_field};
use crate::{Context, code, failed, scopes_header, short};

pub struct Github;

const BASE: &str = "https://api.github.com";
/// Where OAuth tokens are issued and refreshed (not the REST API's host).
const WEB: &str = "https://github.com";

/// Most credentials one `/credentials/revoke` request may carry.
pub const REVOKE_BATCH: usize = 1000;

const API_VERSION: &str = "2022-11-28";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Personal access tokens, OAuth app and App user-to-server tokens: `GET /user`.
    User,
    /// `ghs_`: App installation tokens, which `/user` refuses.
    Installation,
    /// `ghr_`: App refresh tokens; using one needs the app's client secret and retires it.
    Refresh,
}

fn kind(secret: &str) -> Kind {
    if secret.starts_with("ghs_") {
        Kind::Installation
    } else if secret.starts_with("ghr_") {
        Kind::Refresh
    } else {
        Kind::User
    }
}

fn is_pat(secret: &str) -> bool {
    secret.starts_with("ghp_") || secret.starts_with("github_pat_")
}

impl Provider for Github {
    fn name(&self) -> &'static str {
        "github"
    }

    fn default_base(&self) -> &'static str {
        BASE
    }

    fn supports(&self, rule_id: &str) -> Capabilities {
        Capabilities {
            verify: rule_id != "github-refresh-token",
            revoke: true,
            rotate: rule_id == "github-refresh-token",
        }
    }

    fn calls(&self) -> Calls {
        Calls {
            verify: "GET /user (ghs_: GET /installation/repositories)",
            revoke: "POST /credentials/revoke, unauthenticated (ghs_: DELETE /installation/token)",
            rotate: "POST github.com/login/oauth/access_token (grant_type=refresh_token, the app's client id and secret)",
        }
    }

    fn capabilities(&self, cred: &Credential) -> Capabilities {
        let refresh = kind(cred.secret) == Kind::Refresh;
        Capabilities {
            verify: !refresh,
            revoke: true,
            rotate: refresh,
        }
    }

    /// A refresh token (`ghr_`) for a new user token and refresh token; GitHub retires the pair
    /// that was used.
    fn rotate(&self, cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        if kind(req.credential.secret) != Kind::Refresh {
            return Err(RotateError::Unsupported(
                "only GitHub App refresh tokens (ghr_) can be rotated; personal access tokens \
                 have no API to mint them"
                    .into(),
            ));
        }
        let Some(client) = req.client else {
            return Err(RotateError::Refused(
                "refreshing a GitHub App user token needs the app's client id".into(),
            ));
        };
        refresh(cx, client.id, client.secret, req.credential.secret)
    }

    fn verify(&self, cx: &Context, cred: &Credential) -> Verification {
        let secret = cred.secret;
        match kind(secret) {
            Kind::Refresh => Verification::with_detail(
                Status::NotChecked,
                "refresh token: checking it needs the app's client secret and would retire it",
            ),
            Kind::Installation => get(cx, secret, "/installation/repositories?per_page=1"),
            Kind::User => get(cx, secret, "/user"),
        }
    }

    fn revoke(&self, cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        let secrets: Vec<&str> = creds.iter().map(|c| c.secret).collect();
        let mut out: Vec<Option<Revoked>> = vec![None; secrets.len()];
        let mut listed: Vec<usize> = Vec::new();
        for (i, s) in secrets.iter().enumerate() {
            if kind(s) == Kind::Installation {
                out[i] = Some(delete_installation_token(cx, s));
            } else {
                listed.push(i);
            }
        }
        for chunk in listed.chunks(REVOKE_BATCH) {
            let creds: Vec<&str> = chunk.iter().map(|&i| secrets[i]).collect();
            let answer = credentials_revoke(cx, &creds);
            for &i in chunk {
                out[i] = Some(answer.clone());
            }
        }
        out.into_iter()
            .map(|r| r.expect("every secret is answered"))
            .collect()
    }

    fn manual_step(&self, _cred: &Credential) -> Option<String> {
        None
    }
}

/// `POST /login/oauth/access_token` with `grant_type=refresh_token`. OAuth endpoints answer 200
/// with an `error` field when they refuse; the client secret is left out when it is empty (apps
/// using the device flow have none).
fn refresh(
    cx: &Context,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
) -> Result<Minted, RotateError> {
    let url = format!(
        "{}/login/oauth/access_token",
        cx.endpoints.overridden("github").unwrap_or(WEB)
    );
    let mut form = vec![
        ("client_id", client_id),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if !client_secret.is_empty() {
        form.push(("client_secret", client_secret));
    }
    let resp = cx
        .http
        .send_once("github", |c| {
            c.post(&url)
                .header("accept", "application/json")
                .form(&form)
        })
        .map_err(|f| crate::minted::lost("GitHub token refresh", &f))?;
    let v = resp.json();
    let said = v
        .as_ref()
        .and_then(|v| v.get("error").and_then(Value::as_str))
        .map(|e| code(e).unwrap_or_else(|| "unreadable error".into()));
    if let Some(e) = said {
        // Refused before anything was minted: a spent or expired refresh token, wrong client
        // credentials.
        return Err(RotateError::Refused(format!("GitHub token refresh: {e}")));
    }
    match resp.status {
        200 => {}
        // Turned away before anything was minted.
        s @ 400..=499 => {
            return Err(RotateError::Refused(format!(
                "GitHub token refresh: HTTP {s}"
            )));
        }
        s => {
            return Err(RotateError::Unknown(format!(
                "GitHub token refresh: HTTP {s}"
            )));
        }
    }
    let v =
        v.ok_or_else(|| RotateError::Unknown("GitHub token refresh: malformed response".into()))?;
    const WHAT: &str = "GitHub token refresh";
    let access = str_field(&v, "access_token", WHAT)?;
    let new_refresh = str_field(&v, "refresh_token", WHAT)?;
    let at = |k: &str| v.get(k).and_then(Value::as_i64).and_then(in_seconds);
    let expires_at = at("expires_in");
    Ok(Minted {
        payload: serde_json::json!({
            "provider": "github",
            "kind": "user_token",
            "access_token": access,
            "expires_in": v.get("expires_in"),
            "expires_at": expires_at,
            "refresh_token": new_refresh,
            "refresh_token_expires_in": v.get("refresh_token_expires_in"),
            "refresh_token_expires_at": at("refresh_token_expires_in"),
            "scope": v.get("scope"),
            "token_type": v.get("token_type"),
        }),
        secrets: vec![access, new_refresh],
        summary: format!(
            "new GitHub App user token and refresh token{}",
            expires_at
                .map(|e| format!(", user token expires {e}"))
                .unwrap_or_default()
        ),
    })
}

/// A request to the REST API at `path`, with the media type and API version it is written for.
fn request(cx: &Context, c: &Client, method: Method, path: &str) -> RequestBuilder {
    c.request(method, format!("{}{path}", cx.base("github", BASE)))
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", API_VERSION)
}

fn get(cx: &Context, token: &str, path: &str) -> Verification {
    let resp = match cx.http.send("github", |c| {
        request(cx, c, Method::GET, path).bearer_auth(token)
    }) {
        Ok(r) => r,
        Err(f) => return failed(&f),
    };
    let message = || {
        resp.json()
            .and_then(|v| v.get("message").and_then(Value::as_str).and_then(code))
            .unwrap_or_else(|| format!("HTTP {}", resp.status))
    };
    match resp.status {
        200 => {}
        // GitHub does not say whether the token was revoked, expired or never existed.
        401 => return Verification::with_detail(Status::Invalid, message()),
        _ => {
            return Verification::with_detail(
                Status::Unknown,
                format!("HTTP {}: {}", resp.status, message()),
            );
        }
    }
    let Some(v) = resp.json() else {
        return Verification::with_detail(Status::Error, "malformed response");
    };
    let identity = match kind(token) {
        Kind::Installation => {
            let n = v.get("total_count").and_then(Value::as_u64).unwrap_or(0);
            Some(format!(
                "app installation with access to {n} repositor{}",
                if n == 1 { "y" } else { "ies" }
            ))
        }
        _ => v.get("login").and_then(Value::as_str).map(|l| {
            let l = short(&crate::scrub(l, &[token]), 64);
            match v.get("id").and_then(Value::as_u64) {
                Some(id) => format!("{l} (id {id})"),
                None => l.to_string(),
            }
        }),
    };
    let expires_at = resp
        .header("github-authentication-token-expiration")
        .and_then(expiry);
    Verification {
        identity,
        scopes: scopes_header(resp.header("x-oauth-scopes")),
        never_expires: expires_at.is_none() && is_pat(token),
        expires_at,
        ..Verification::new(Status::Live)
    }
}

/// `2026-01-31 12:00:00 UTC` (GitHub's header format) as RFC 3339; anything else is dropped.
fn expiry(header: &str) -> Option<String> {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    let fmt_offset = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    let h = header.trim();
    let t = time::PrimitiveDateTime::parse(h, &fmt)
        .map(|t| t.assume_utc())
        .or_else(|_| time::OffsetDateTime::parse(h, &fmt_offset))
        .ok()?;
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Unauthenticated on purpose: GitHub answers 403 to authenticated calls, and the request must not
/// carry any credential of ours.
fn credentials_revoke(cx: &Context, creds: &[&str]) -> Revoked {
    let body = serde_json::json!({ "credentials": creds });
    match cx.http.send("github", |c| {
        request(cx, c, Method::POST, "/credentials/revoke").json(&body)
    }) {
        Ok(r) if r.status == 202 => Revoked::Requested,
        Ok(r) if r.status == 422 => {
            Revoked::Failed("HTTP 422: validation failed, or too many requests".to_string())
        }
        Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
        Err(f) => Revoked::Failed(f.to_string()),
    }
}

fn delete_installation_token(cx: &Context, token: &str) -> Revoked {
    match cx.http.send("github", |c| {
        request(cx, c, Method::DELETE, "/installation/token").bearer_auth(token)
    }) {
        Ok(r) if r.status == 204 => Revoked::Revoked,
        Ok(r) if r.status == 401 => Revoked::AlreadyDead("Bad credentials".to_string()),
        Ok(r) if r.status == 404 => Revoked::AlreadyDead("HTTP 404".to_string()),
        Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
        Err(f) => Revoked::Failed(f.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_header_becomes_rfc3339() {
        assert_eq!(
            expiry("2026-01-31 12:00:05 UTC").unwrap(),
            "2026-01-31T12:00:05Z"
        );
        assert_eq!(
            expiry("2026-01-31 12:00:05 +0100").unwrap(),
            "2026-01-31T11:00:05Z"
        );
        assert_eq!(expiry("soon"), None);
    }

    #[test]
    fn kinds() {
        assert_eq!(kind(&["ghs", "_x"].concat()), Kind::Installation);
        assert_eq!(kind(&["ghr", "_x"].concat()), Kind::Refresh);
        assert_eq!(kind(&["github_pat", "_x"].concat()), Kind::User);
        let ghr = ["ghr", "_x"].concat();
        let cred = Credential {
            rule_id: "github-refresh-token",
            secret: &ghr,
            pair: None,
        };
        assert!(!Github.capabilities(&cred).verify);
    }
}
