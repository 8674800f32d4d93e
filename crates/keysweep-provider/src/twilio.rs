//! Twilio: the auth token and API key secrets are verified from rule data with their companion SID.
//! An API key secret is revoked by deleting its key, which only a Main key may do (Standard and
//! Restricted keys may not touch `/Accounts` or `/Keys`): the account SID comes from
//! `GET /2010-04-01/Accounts.json` with the key itself, the key SID from the finding's pair, then
//! `DELETE /2010-04-01/Accounts/{AC}/Keys/{SK}.json`. An auth token can only be replaced
//! (secondary token, then promote), which breaks its integrations: that stays with the owner.
//!
//! An API key is rotated with a Main key (or the key itself, when it is one): `POST
//! /2010-04-01/Accounts/{AC}/Keys.json` creates the replacement, and once it is delivered the old
//! key is deleted, at once or after a grace period (Twilio keys cannot be deactivated, so both work
//! until then). Twilio creates only Standard keys through its API (Main keys are made in the
//! Console), so a Main key that rotates itself hands over a Standard one.

use keysweep_core::finding::{Status, Verification};
use serde_json::Value;

use crate::adapter::{
    Calls, Capabilities, Client, Credential, Minted, Provider, RetireRequest, RetireStep, Retired,
    Retirement, Revoked, RotateError, RotateRequest,
};
use crate::{Context, code, registry};

pub struct Twilio;

const BASE: &str = "https://api.twilio.com";

fn is_key_secret(cred: &Credential) -> bool {
    cred.rule_id == "twilio-api-key-secret"
}

/// `SK` + 32 hex: the only thing ever put into the URL from the finding.
fn key_sid(pair: Option<&str>) -> Option<&str> {
    pair.filter(|p| {
        p.len() == 34 && p.starts_with("SK") && p[2..].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn account_sid(s: &str) -> bool {
    s.len() == 34 && s.starts_with("AC") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl Provider for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }
    fn default_base(&self) -> &'static str {
        BASE
    }

    fn supports(&self, rule_id: &str) -> Capabilities {
        let key = rule_id == "twilio-api-key-secret";
        Capabilities {
            revoke: key,
            rotate: key,
            ..Capabilities::default()
        }
    }

    fn calls(&self) -> Calls {
        Calls {
            verify: "",
            revoke: "GET /2010-04-01/Accounts.json, then DELETE /2010-04-01/Accounts/{AC}/Keys/{SK}.json (Main keys only)",
            rotate: "POST /2010-04-01/Accounts/{AC}/Keys.json, then DELETE /2010-04-01/Accounts/{AC}/Keys/{old SK}.json after --delete-after (with a Main key)",
        }
    }
    fn capabilities(&self, cred: &Credential) -> Capabilities {
        let key = is_key_secret(cred) && key_sid(cred.pair).is_some();
        Capabilities {
            verify: false,
            revoke: is_key_secret(cred),
            rotate: key,
        }
    }

    fn rotate(&self, cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        let c = &req.credential;
        let (true, Some(sk)) = (is_key_secret(c), key_sid(c.pair)) else {
            return Err(RotateError::Unsupported(
                "rotating a Twilio API key needs its secret and its SID (SK...)".into(),
            ));
        };
        let Some(ac) = req.account.filter(|a| account_sid(a)) else {
            return Err(RotateError::Refused(
                "rotating a Twilio API key needs the account SID (AC...)".into(),
            ));
        };
        let auth = req.manager.unwrap_or(Client {
            id: sk,
            secret: c.secret,
        });
        let name = req.name.unwrap_or("rotated by keysweep");
        let name: String = name.chars().take(64).collect();
        let base = cx.base("twilio", BASE);
        let resp = cx
            .http
            .send_once("twilio", |cl| {
                cl.post(format!("{base}/2010-04-01/Accounts/{ac}/Keys.json"))
                    .basic_auth(auth.id, Some(auth.secret))
                    .form(&[("FriendlyName", name.as_str())])
            })
            .map_err(|f| crate::minted::lost("Twilio create key", &f))?;
        match resp.status {
            200 | 201 => {}
            401 | 403 => return Err(RotateError::Refused(NOT_MAIN_CREATE.into())),
            404 => {
                return Err(RotateError::Refused(
                    "Twilio create key: HTTP 404 (no such account: check the account SID)".into(),
                ));
            }
            s => {
                let said = twilio_code(&resp.json()).unwrap_or_else(|| format!("HTTP {s}"));
                return Err(if s < 500 {
                    RotateError::Refused(format!("Twilio create key: {said}"))
                } else {
                    RotateError::Unknown(format!("Twilio create key: {said}"))
                });
            }
        }
        let v = resp.json().unwrap_or_default();
        let sid = v
            .get("sid")
            .and_then(Value::as_str)
            .filter(|s| key_sid(Some(s)).is_some());
        let secret = v
            .get("secret")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        let (Some(sid), Some(secret)) = (sid, secret) else {
            return Err(RotateError::Unknown(
                "Twilio create key: the answer lacks the new key's SID or secret".into(),
            ));
        };
        Ok(Minted {
            payload: serde_json::json!({
                "provider": "twilio",
                "kind": "api_key",
                "account_sid": ac,
                "api_key_sid": sid,
                "api_key_secret": secret,
                "friendly_name": name,
            }),
            secrets: vec![secret.to_string()],
            summary: format!("new Twilio API key {sid} (a Standard key)"),
        })
    }

    fn retirement(&self, req: &RotateRequest) -> Retirement {
        Retirement {
            steps: vec![(RetireStep::Delete, req.delete_after.unwrap_or_default())],
            old_id: key_sid(req.credential.pair).map(str::to_string),
            keeps_old: false,
        }
    }

    fn rotation_calls(&self, req: &RotateRequest) -> Vec<String> {
        let who = if req.manager.is_some() {
            "with the Main key named"
        } else {
            "with the key itself, which must be a Main key"
        };
        let mut calls = vec![format!(
            "POST /2010-04-01/Accounts/{{AC}}/Keys.json {who}: Twilio creates a Standard key"
        )];
        match req.delete_after.filter(|d| !d.is_zero()) {
            None => calls.push(
                "once the new key is delivered: DELETE /2010-04-01/Accounts/{AC}/Keys/{old SK}.json"
                    .into(),
            ),
            Some(d) => calls.push(format!(
                "{} later, in a run given the new key: GET /2010-04-01/Accounts/{{AC}}/Keys.json, \
                 then DELETE the old key (both keys work until then)",
                crate::duration_words(d)
            )),
        }
        calls
    }

    fn retire(&self, cx: &Context, req: &RetireRequest) -> Retired {
        if req.step != RetireStep::Delete {
            return Retired::Failed("Twilio API keys cannot be deactivated, only deleted".into());
        }
        let g = &req.given;
        let (Some(sk), Some(ac)) = (key_sid(g.pair), req.account.filter(|a| account_sid(a))) else {
            return Retired::Failed("the key's SID and the account SID are needed".into());
        };
        let auth = req.manager.unwrap_or(Client {
            id: sk,
            secret: g.secret,
        });
        let base = cx.base("twilio", BASE);
        let target = if req.given_is_old {
            sk.to_string()
        } else {
            let Some(want) = req.old_id_sha256 else {
                return Retired::Failed("the journal does not say which key was replaced".into());
            };
            match find_key(cx, base, ac, auth, want) {
                Ok(Some(old)) if old != sk => old,
                Ok(Some(_)) => return Retired::Failed("refusing to delete the key in use".into()),
                Ok(None) => {
                    return Retired::AlreadyDone("the old key is no longer listed".into());
                }
                Err(e) => return Retired::Failed(e),
            }
        };
        match cx.http.send("twilio", |c| {
            c.delete(format!(
                "{base}/2010-04-01/Accounts/{ac}/Keys/{target}.json"
            ))
            .basic_auth(auth.id, Some(auth.secret))
        }) {
            Ok(r) if r.status == 204 || r.status == 200 => Retired::Done,
            Ok(r) if r.status == 404 => Retired::AlreadyDone("HTTP 404: the key is gone".into()),
            Ok(r) if r.status == 401 || r.status == 403 => Retired::Failed(NOT_MAIN.into()),
            Ok(r) => Retired::Failed(format!("Twilio delete key: HTTP {}", r.status)),
            Err(f) => Retired::Failed(format!("Twilio delete key: {f}")),
        }
    }
    fn verify(&self, _cx: &Context, _cred: &Credential) -> Verification {
        Verification::new(Status::NotChecked)
    }
    fn revoke(&self, cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        creds
            .iter()
            .map(|c| match key_sid(c.pair) {
                Some(sk) if is_key_secret(c) => delete_key(cx, sk, c.secret),
                _ => Revoked::Failed(self.manual_step(c).unwrap_or_default()),
            })
            .collect()
    }
    fn manual_step(&self, cred: &Credential) -> Option<String> {
        if is_key_secret(cred) && key_sid(cred.pair).is_some() {
            return None;
        }
        Some(format!(
            "a Twilio auth token cannot be revoked, only replaced: request a secondary token and \
             promote it (the old one stops working), {}",
            registry::manual_revocation("twilio")
        ))
    }
}

const NOT_MAIN: &str = "Twilio refused: only a Main API key may delete keys (a Standard or \
    Restricted key may not); delete the key in the Console";

const NOT_MAIN_CREATE: &str = "Twilio create key: refused (HTTP 401/403): only a Main API key or \
    the account's auth token may create keys; name one with --main-key-sid and --main-secret-env";

/// Twilio's numeric error code (`20003`), when the answer has one.
fn twilio_code(v: &Option<Value>) -> Option<String> {
    let c = v.as_ref()?.get("code")?;
    c.as_u64()
        .map(|n| n.to_string())
        .or_else(|| c.as_str().and_then(code))
}

/// The SID of the account's key whose SID hashes to `want`.
fn find_key(
    cx: &Context,
    base: &str,
    ac: &str,
    auth: Client,
    want: &str,
) -> Result<Option<String>, String> {
    let resp = cx
        .http
        .send("twilio", |c| {
            c.get(format!(
                "{base}/2010-04-01/Accounts/{ac}/Keys.json?PageSize=1000"
            ))
            .basic_auth(auth.id, Some(auth.secret))
        })
        .map_err(|f| format!("Twilio list keys: {f}"))?;
    match resp.status {
        200 => {}
        401 | 403 => return Err(NOT_MAIN.into()),
        s => return Err(format!("Twilio list keys: HTTP {s}")),
    }
    let v = resp.json().ok_or("Twilio list keys: malformed response")?;
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("Twilio list keys: no `keys`")?;
    let found = keys.iter().find_map(|k| {
        let sid = k
            .get("sid")
            .and_then(Value::as_str)
            .filter(|s| key_sid(Some(s)).is_some())?;
        (keysweep_core::finding::sha256_hex(sid.as_bytes()) == want).then(|| sid.to_string())
    });
    if found.is_none() && v.get("next_page_uri").is_some_and(|n| !n.is_null()) {
        return Err(
            "Twilio list keys: more than 1000 keys; delete the old key in the Console".into(),
        );
    }
    Ok(found)
}

fn delete_key(cx: &Context, sk: &str, secret: &str) -> Revoked {
    let base = cx.base("twilio", BASE);
    let list = match cx.http.send("twilio", |c| {
        c.get(format!("{base}/2010-04-01/Accounts.json"))
            .basic_auth(sk, Some(secret))
    }) {
        Ok(r) if r.status == 200 => r,
        Ok(r) if r.status == 401 || r.status == 403 => return Revoked::Failed(NOT_MAIN.into()),
        Ok(r) => return Revoked::Failed(format!("listing the account: HTTP {}", r.status)),
        Err(f) => return Revoked::Failed(f.to_string()),
    };
    // The key belongs to the main account: the entry that is its own owner.
    let accounts = list
        .json()
        .and_then(|v| v.get("accounts").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let owners: Vec<&str> = accounts
        .iter()
        .filter_map(|a| {
            let sid = a.get("sid").and_then(Value::as_str)?;
            let owner = a.get("owner_account_sid").and_then(Value::as_str)?;
            (sid == owner && account_sid(sid)).then_some(sid)
        })
        .collect();
    let [ac] = owners.as_slice() else {
        return Revoked::Failed(
            "Twilio: the key's account could not be identified, so nothing was revoked; delete \
             the key in the Console"
                .into(),
        );
    };
    match cx.http.send("twilio", |c| {
        c.delete(format!("{base}/2010-04-01/Accounts/{ac}/Keys/{sk}.json"))
            .basic_auth(sk, Some(secret))
    }) {
        Ok(r) if r.status == 204 => Revoked::Revoked,
        Ok(r) if r.status == 404 => Revoked::AlreadyDead("HTTP 404".into()),
        Ok(r) if r.status == 401 || r.status == 403 => Revoked::Failed(NOT_MAIN.into()),
        Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
        Err(f) => Revoked::Failed(f.to_string()),
    }
}
