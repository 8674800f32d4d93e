//! GitLab personal access tokens: everything through `/api/v4/personal_access_tokens/self` with the
//! token itself in `PRIVATE-TOKEN`: `GET` to verify, `DELETE` to revoke, `POST .../rotate` to rotate
//! (GitLab revokes the old token when it mints the new one).
//!
//! Tokens of a self-managed instance are checked against that instance only when the person running
//! keysweep names it with `--endpoint gitlab=URL`; a scanned repository cannot redirect them.

use keysweep_core::finding::{Status, Verification};
use serde_json::Value;

use crate::adapter::{
    Calls, Capabilities, Credential, Minted, Provider, Revoked, RotateError, RotateRequest,
};
use crate::{Context, code, failed, short};

pub struct Gitlab;

const BASE: &str = "https://gitlab.com";

const SELF: &str = "/api/v4/personal_access_tokens/self";

impl Provider for Gitlab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    fn default_base(&self) -> &'static str {
        BASE
    }

    fn supports(&self, rule_id: &str) -> Capabilities {
        let pat = rule_id.starts_with("gitlab-pat");
        Capabilities {
            verify: pat,
            revoke: pat,
            rotate: pat,
        }
    }

    fn calls(&self) -> Calls {
        Calls {
            verify: "GET /api/v4/personal_access_tokens/self",
            revoke: "DELETE /api/v4/personal_access_tokens/self",
            rotate: "POST /api/v4/personal_access_tokens/self/rotate",
        }
    }

    /// Personal, project and group access tokens: the `self` endpoints serve only those (runner and
    /// CI job tokens are served by rule data; other kinds have no call).
    fn capabilities(&self, cred: &Credential) -> Capabilities {
        let pat = is_pat(cred.secret);
        Capabilities {
            verify: pat,
            revoke: pat,
            rotate: pat,
        }
    }

    fn verify(&self, cx: &Context, cred: &Credential) -> Verification {
        let secret = cred.secret;
        if !is_pat(secret) {
            return Verification::with_detail(
                Status::NotChecked,
                "no read-only check for this kind of GitLab token",
            );
        }
        let resp = match cx.http.send("gitlab", |c| {
            c.get(url(cx, SELF)).header("PRIVATE-TOKEN", secret)
        }) {
            Ok(r) => r,
            Err(f) => return failed(&f),
        };
        match resp.status {
            200 => {}
            401 => {
                return Verification::with_detail(Status::Invalid, error_text(&resp.json(), 401));
            }
            s => {
                return Verification::with_detail(Status::Unknown, error_text(&resp.json(), s));
            }
        }
        let Some(v) = resp.json().filter(Value::is_object) else {
            return Verification::with_detail(Status::Error, "malformed response");
        };
        let revoked = v.get("revoked").and_then(Value::as_bool) == Some(true);
        let active = v.get("active").and_then(Value::as_bool);
        // GitLab marks a token inactive when it is revoked or past its expiry date.
        let (status, detail) = if revoked {
            (Status::Revoked, Some("revoked"))
        } else if active == Some(false) {
            (Status::Expired, Some("inactive"))
        } else {
            (Status::Live, None)
        };
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .map(|n| short(&crate::scrub(n, &[secret]), 64));
        let user = v.get("user_id").and_then(Value::as_u64);
        let identity = match (user, name) {
            (Some(u), Some(n)) => Some(format!("user id {u}, token {n:?}")),
            (Some(u), None) => Some(format!("user id {u}")),
            (None, Some(n)) => Some(format!("token {n:?}")),
            (None, None) => None,
        };
        let scopes = v.get("scopes").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| short(s, 64))
                .collect()
        });
        // `null` is what GitLab answers for a token without an expiry date (possible before 16.0
        // and on instances that allow it).
        let expiry = v.get("expires_at");
        Verification {
            status,
            detail: detail.map(str::to_string),
            identity,
            scopes,
            expires_at: expiry.and_then(crate::declarative::expiry),
            never_expires: matches!(expiry, Some(Value::Null)),
            checked_at: None,
        }
    }

    fn revoke(&self, cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        creds
            .iter()
            .map(|cred| {
                if !is_pat(cred.secret) {
                    return Revoked::Failed(self.manual_step(cred).unwrap_or_default());
                }
                match cx.http.send("gitlab", |c| {
                    c.delete(url(cx, SELF)).header("PRIVATE-TOKEN", cred.secret)
                }) {
                    Ok(r) if r.status == 204 => Revoked::Revoked,
                    Ok(r) if r.status == 401 => Revoked::AlreadyDead(error_text(&r.json(), 401)),
                    Ok(r) => Revoked::Failed(error_text(&r.json(), r.status)),
                    Err(f) => Revoked::Failed(f.to_string()),
                }
            })
            .collect()
    }

    /// `POST .../self/rotate`: GitLab mints a new token (same name and scopes) and revokes this
    /// one. `expires_at` is `YYYY-MM-DD`; without it GitLab picks its default (one week).
    fn rotate(&self, cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        if !is_pat(req.credential.secret) {
            return Err(RotateError::Unsupported(
                "only GitLab personal, project and group access tokens (glpat-) can be rotated"
                    .into(),
            ));
        }
        rotate(cx, req.credential.secret, req.expires_at)
    }

    fn manual_step(&self, cred: &Credential) -> Option<String> {
        (!is_pat(cred.secret)).then(|| {
            "revoke or reset it in GitLab (the token's settings page: deploy tokens, runners, \
             pipeline triggers, feed token, ...)"
                .to_string()
        })
    }
}

fn is_pat(secret: &str) -> bool {
    secret.starts_with("glpat-")
}

fn url(cx: &Context, path: &str) -> String {
    format!("{}{path}", cx.base("gitlab", BASE))
}

fn rotate(cx: &Context, token: &str, expires_at: Option<&str>) -> Result<Minted, RotateError> {
    let form: Vec<(&str, &str)> = expires_at.map(|e| ("expires_at", e)).into_iter().collect();
    let resp = cx
        .http
        .send_once("gitlab", |c| {
            c.post(url(cx, &format!("{SELF}/rotate")))
                .header("PRIVATE-TOKEN", token)
                .form(&form)
        })
        .map_err(|f| crate::minted::lost("GitLab rotate", &f))?;
    match resp.status {
        200 | 201 => {}
        // Refused before anything was minted.
        400..=499 => {
            return Err(RotateError::Refused(format!(
                "GitLab rotate: {}",
                error_text(&resp.json(), resp.status)
            )));
        }
        s => return Err(RotateError::Unknown(format!("GitLab rotate: HTTP {s}"))),
    }
    let v = resp
        .json()
        .ok_or_else(|| RotateError::Unknown("GitLab rotate: malformed response".into()))?;
    let new = crate::minted::str_field(&v, "token", "GitLab rotate")?;
    let expires = v.get("expires_at").and_then(crate::declarative::expiry);
    Ok(Minted {
        payload: serde_json::json!({
            "provider": "gitlab",
            "kind": "personal_access_token",
            "token": new,
            "id": v.get("id"),
            "name": v.get("name"),
            "scopes": v.get("scopes"),
            "user_id": v.get("user_id"),
            "expires_at": expires,
        }),
        secrets: vec![new.clone()],
        summary: format!(
            "new GitLab personal access token{}",
            expires
                .as_deref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ),
    })
}

/// GitLab's own words for an error (`message` or `error`), else the status.
fn error_text(v: &Option<Value>, status: u16) -> String {
    let said = v.as_ref().and_then(|v| {
        v.get("error")
            .or_else(|| v.get("message"))
            .and_then(Value::as_str)
            .and_then(code)
    });
    match said {
        Some(s) if !s.is_empty() => s,
        _ => format!("HTTP {status}"),
    }
}
