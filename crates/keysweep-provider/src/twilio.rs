//! Twilio: the auth token and API key secrets are verified from rule data with their companion SID.
//! An API key secret is revoked by deleting its key, which only a Main key may do (Standard and
//! Restricted keys may not touch `/Accounts` or `/Keys`): the account SID comes from
//! `GET /2010-04-01/Accounts.json` with the key itself, the key SID from the finding's pair, then
//! `DELETE /2010-04-01/Accounts/{AC}/Keys/{SK}.json`. An auth token can only be replaced
//! (secondary token, then promote), which breaks its integrations: that stays with the owner.

use keysweep_core::finding::{Status, Verification};
use serde_json::Value;

use crate::adapter::{Calls, Capabilities, Credential, Provider, Revoked};
use crate::{Context, registry};

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
        Capabilities {
            revoke: rule_id == "twilio-api-key-secret",
            ..Capabilities::default()
        }
    }

    fn calls(&self) -> Calls {
        Calls {
            verify: "",
            revoke: "GET /2010-04-01/Accounts.json, then DELETE /2010-04-01/Accounts/{AC}/Keys/{SK}.json (Main keys only)",
            rotate: "",
        }
    }
    fn capabilities(&self, cred: &Credential) -> Capabilities {
        Capabilities {
            verify: false,
            revoke: is_key_secret(cred),
            rotate: false,
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
