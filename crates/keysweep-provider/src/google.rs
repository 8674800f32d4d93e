//! Google OAuth: a new access token from a refresh token and the client's credentials
//! (`POST https://oauth2.googleapis.com/token`, `grant_type=refresh_token`). Google keeps the
//! refresh token valid, so this is the one rotation every run repeats: an access token lives an
//! hour, and a schedule keeps a fresh one in the sink. Verification and revocation of Google
//! secrets are the rule file's declarative requests; this adapter only rotates.

use keysweep_core::finding::{Status, Verification};
use serde_json::Value;

use crate::adapter::{
    Calls, Capabilities, Credential, Minted, Provider, Retirement, RotateError, RotateRequest,
};
use crate::minted::{in_seconds, str_field};
use crate::{Context, code};

pub struct Google;

const BASE: &str = "https://oauth2.googleapis.com";
const REFRESH_RULE: &str = "google-oauth-refresh-token";

impl Provider for Google {
    fn name(&self) -> &'static str {
        "google"
    }

    fn default_base(&self) -> &'static str {
        BASE
    }

    fn supports(&self, rule_id: &str) -> Capabilities {
        Capabilities {
            rotate: rule_id == REFRESH_RULE,
            ..Capabilities::default()
        }
    }

    fn calls(&self) -> Calls {
        Calls {
            verify: "",
            revoke: "",
            rotate: "POST oauth2.googleapis.com/token (grant_type=refresh_token, the client id and secret): a new access token; the refresh token stays valid",
        }
    }

    fn capabilities(&self, cred: &Credential) -> Capabilities {
        self.supports(cred.rule_id)
    }

    fn verify(&self, _cx: &Context, cred: &Credential) -> Verification {
        let detail = if cred.rule_id == REFRESH_RULE {
            "refresh token: checking it needs the OAuth client's id and secret (use it with \
             `keysweep rotate google`, or revoke it)"
        } else {
            "no verifier for this rule"
        };
        Verification::with_detail(Status::NotChecked, detail)
    }

    fn rotate(&self, cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        if req.credential.rule_id != REFRESH_RULE {
            return Err(RotateError::Unsupported(
                "only Google OAuth refresh tokens (1//...) yield new access tokens".into(),
            ));
        }
        let Some(client) = req.client else {
            return Err(RotateError::Refused(
                "a Google token refresh needs the OAuth client's id and secret".into(),
            ));
        };
        refresh(cx, client.id, client.secret, req.credential.secret)
    }

    fn retirement(&self, _req: &RotateRequest) -> Retirement {
        Retirement {
            keeps_old: true,
            ..Retirement::default()
        }
    }

    fn manual_step(&self, _cred: &Credential) -> Option<String> {
        None
    }
}

fn refresh(
    cx: &Context,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
) -> Result<Minted, RotateError> {
    let url = format!("{}/token", cx.base("google", BASE));
    let form = [
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    // Once: a lost answer costs an access token nobody received, which expires within the hour.
    let resp = cx
        .http
        .send_once("google", |c| c.post(&url).form(&form))
        .map_err(|f| crate::minted::lost("Google token refresh", &f))?;
    let v = resp.json();
    if resp.status != 200 {
        // RFC 6749 errors: `invalid_grant` (expired or revoked refresh token), `invalid_client`.
        let said = v
            .as_ref()
            .and_then(|v| v.get("error").and_then(Value::as_str))
            .and_then(code)
            .unwrap_or_else(|| format!("HTTP {}", resp.status));
        return Err(if resp.status < 500 {
            RotateError::Refused(format!("Google token refresh: {said}"))
        } else {
            RotateError::Unknown(format!("Google token refresh: {said}"))
        });
    }
    let v =
        v.ok_or_else(|| RotateError::Unknown("Google token refresh: malformed response".into()))?;
    let access = str_field(&v, "access_token", "Google token refresh")?;
    let expires_in = v.get("expires_in").and_then(Value::as_i64);
    let expires_at = expires_in.and_then(in_seconds);
    let mut secrets = vec![access.clone()];
    let id_token = v
        .get("id_token")
        .and_then(Value::as_str)
        .map(str::to_string);
    secrets.extend(id_token.clone());
    Ok(Minted {
        payload: serde_json::json!({
            "provider": "google",
            "kind": "access_token",
            "access_token": access,
            "expires_in": expires_in,
            "expires_at": expires_at,
            "scope": v.get("scope"),
            "token_type": v.get("token_type"),
            "id_token": id_token,
        }),
        secrets,
        summary: format!(
            "new Google access token{}",
            expires_at
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ),
    })
}
