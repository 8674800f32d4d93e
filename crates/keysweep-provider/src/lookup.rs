//! Revocations that must first find the leaked credential's id in its account (npm, Heroku,
//! SendGrid): keysweep deletes only the one entry that is exactly the leaked credential, never "the
//! first in the list"; when it cannot tell, it revokes nothing and says why.

use keysweep_core::finding::Verification;
use serde_json::Value;

use crate::adapter::{Calls, Capabilities, Credential, Provider, Revoked};
use crate::{Context, bases};

/// How the entries of a list answer match the leaked credential.
pub enum Found<'a> {
    One(&'a Value),
    None,
    Many(usize),
}

/// The entries of `list` for which `is_it` holds: exactly one, none, or how many.
pub fn find<'a>(list: &'a [Value], is_it: impl Fn(&Value) -> bool) -> Found<'a> {
    let hits: Vec<&Value> = list.iter().filter(|e| is_it(e)).collect();
    match hits.as_slice() {
        [one] => Found::One(one),
        [] => Found::None,
        many => Found::Many(many.len()),
    }
}

/// A provider whose adapter only revokes, by finding the leaked credential in a list first;
/// everything else it does is rule data.
pub struct LookupRevoker {
    name: &'static str,
    base: &'static str,
    calls: &'static str,
    revoke: fn(&Context, &str) -> Revoked,
}

impl Provider for LookupRevoker {
    fn name(&self) -> &'static str {
        self.name
    }
    fn default_base(&self) -> &'static str {
        self.base
    }
    fn supports(&self, _rule_id: &str) -> Capabilities {
        Capabilities {
            revoke: true,
            ..Capabilities::default()
        }
    }
    fn calls(&self) -> Calls {
        Calls {
            revoke: self.calls,
            ..Calls::default()
        }
    }
    fn capabilities(&self, _cred: &Credential) -> Capabilities {
        self.supports("")
    }
    fn verify(&self, _cx: &Context, _cred: &Credential) -> Verification {
        Verification::new(keysweep_core::finding::Status::NotChecked)
    }
    fn revoke(&self, cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        creds.iter().map(|c| (self.revoke)(cx, c.secret)).collect()
    }
    fn manual_step(&self, _cred: &Credential) -> Option<String> {
        None
    }
}

fn not_found(what: &str) -> Revoked {
    Revoked::Failed(format!(
        "{what}: the leaked credential could not be identified in the account, so nothing was revoked; revoke it in the provider's console"
    ))
}

// ---- npm ---------------------------------------------------------------------------------------

// npm: `GET /-/npm/v1/tokens` lists the account's tokens with a visible prefix of each (`token`)
// and an opaque `key`; the one entry whose prefix begins the leaked token is deleted with
// `DELETE /-/npm/v1/tokens/token/{key}`. npm verification is rule data (`GET /-/whoami`).

const NPM: &str = "https://registry.npmjs.org";

pub static NPM_REVOKER: LookupRevoker = LookupRevoker {
    name: "npm",
    base: NPM,
    calls: "GET /-/npm/v1/tokens, then DELETE /-/npm/v1/tokens/token/{key} of the one entry that begins the token",
    revoke: npm_revoke,
};

fn npm_revoke(cx: &Context, token: &str) -> Revoked {
    let base = cx.base("npm", NPM);
    let list = match cx.http.send("npm", |c| {
        c.get(format!("{base}/-/npm/v1/tokens")).bearer_auth(token)
    }) {
        Ok(r) if r.status == 200 => r,
        Ok(r) if r.status == 401 && r.header("www-authenticate").is_none() => {
            return Revoked::AlreadyDead("HTTP 401".into());
        }
        Ok(r) => {
            return Revoked::Failed(format!("listing the account's tokens: HTTP {}", r.status));
        }
        Err(f) => return Revoked::Failed(f.to_string()),
    };
    let entries = list
        .json()
        .and_then(|v| v.get("objects").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    // The list shows only the start of each token; an entry is the leaked one when its visible
    // part (at least 6 characters, so never an empty or trivial prefix) begins the leaked token.
    let visible = |e: &Value| {
        e.get("token")
            .and_then(Value::as_str)
            .map(|t| t.trim_end_matches(['.', '…']).to_string())
            .filter(|t| t.len() >= 6)
    };
    let key = match find(&entries, |e| {
        visible(e).is_some_and(|t| token.starts_with(&t))
    }) {
        Found::One(e) => match e.get("key").and_then(Value::as_str) {
            Some(k) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                k.to_string()
            }
            _ => return not_found("npm: the matching entry has no usable key"),
        },
        Found::None => return not_found("npm: no token of the account starts like the leaked one"),
        Found::Many(n) => {
            return not_found(&format!(
                "npm: {n} tokens of the account start like the leaked one"
            ));
        }
    };
    match cx.http.send("npm", |c| {
        c.delete(format!("{base}/-/npm/v1/tokens/token/{key}"))
            .bearer_auth(token)
    }) {
        Ok(r) if r.status == 200 || r.status == 204 => Revoked::Revoked,
        Ok(r)
            if r.status == 401
                && r.header("www-authenticate")
                    .is_some_and(|h| h.contains("OTP")) =>
        {
            Revoked::Failed(
                "npm asks for a one-time password (the account requires 2FA for writes): revoke \
                 it with `npm token revoke` or on npmjs.com"
                    .into(),
            )
        }
        Ok(r) if r.status == 404 => Revoked::AlreadyDead("HTTP 404".into()),
        Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
        Err(f) => Revoked::Failed(f.to_string()),
    }
}

// ---- Heroku ------------------------------------------------------------------------------------

// Heroku: `GET /oauth/authorizations` lists the account's authorizations with their access tokens;
// the one whose `access_token.token` equals the leaked token is deleted with
// `DELETE /oauth/authorizations/{id}`.

const HEROKU: &str = "https://api.heroku.com";
const HEROKU_ACCEPT: &str = "application/vnd.heroku+json; version=3";

pub static HEROKU_REVOKER: LookupRevoker = LookupRevoker {
    name: "heroku",
    base: HEROKU,
    calls: "GET /oauth/authorizations, then DELETE /oauth/authorizations/{id} of the entry holding the token",
    revoke: heroku_revoke,
};

fn heroku_revoke(cx: &Context, token: &str) -> Revoked {
    let base = cx.base("heroku", HEROKU);
    let list = match cx.http.send("heroku", |c| {
        c.get(format!("{base}/oauth/authorizations"))
            .bearer_auth(token)
            .header("accept", HEROKU_ACCEPT)
    }) {
        Ok(r) if r.status == 200 => r,
        Ok(r) if r.status == 401 => return Revoked::AlreadyDead("HTTP 401".into()),
        Ok(r) => {
            return Revoked::Failed(format!(
                "listing the account's authorizations: HTTP {}",
                r.status
            ));
        }
        Err(f) => return Revoked::Failed(f.to_string()),
    };
    let entries = list
        .json()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let is_it = |e: &Value| e.pointer("/access_token/token").and_then(Value::as_str) == Some(token);
    let id = match find(&entries, is_it) {
        Found::One(e) => match e.get("id").and_then(Value::as_str) {
            Some(id)
                if !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') =>
            {
                id.to_string()
            }
            _ => return not_found("Heroku: the matching authorization has no usable id"),
        },
        Found::None => {
            return not_found(
                "Heroku: no authorization carries this token (it may be the account's API key: \
                 regenerate it under Account settings)",
            );
        }
        Found::Many(n) => {
            return not_found(&format!("Heroku: {n} authorizations carry this token"));
        }
    };
    match cx.http.send("heroku", |c| {
        c.delete(format!("{base}/oauth/authorizations/{id}"))
            .bearer_auth(token)
            .header("accept", HEROKU_ACCEPT)
    }) {
        Ok(r) if r.status == 200 || r.status == 204 => Revoked::Revoked,
        Ok(r) if r.status == 401 || r.status == 404 => {
            Revoked::AlreadyDead(format!("HTTP {}", r.status))
        }
        Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
        Err(f) => Revoked::Failed(f.to_string()),
    }
}

// ---- SendGrid ----------------------------------------------------------------------------------

// SendGrid: a key is `SG.<api_key_id>.<secret>`. `GET /v3/api_keys` lists the account's keys by
// id; only when one entry's `api_key_id` is exactly the leaked key's middle part is it deleted with
// `DELETE /v3/api_keys/{id}`, with the key itself (which needs the `api_keys` scopes: full-access
// keys have them). The US host is asked first, then the EU host.

const SENDGRID: &str = "https://api.sendgrid.com";

pub static SENDGRID_REVOKER: LookupRevoker = LookupRevoker {
    name: "sendgrid",
    base: SENDGRID,
    calls: "GET /v3/api_keys, then DELETE /v3/api_keys/{id} when an id equals the middle part of the key",
    revoke: sendgrid_revoke,
};

fn sendgrid_revoke(cx: &Context, key: &str) -> Revoked {
    let Some(id) = key.split('.').nth(1).filter(|s| !s.is_empty()) else {
        return not_found("SendGrid: the key has no id part");
    };
    let mut dead = None;
    for base in bases(cx, "sendgrid", SENDGRID) {
        let list = match cx.http.send("sendgrid", |c| {
            c.get(format!("{base}/v3/api_keys"))
                .query(&[("limit", "500")])
                .bearer_auth(key)
        }) {
            Ok(r) if r.status == 200 => r,
            // Unknown in this region: the EU host may know it.
            Ok(r) if r.status == 401 => {
                dead = Some(Revoked::AlreadyDead("HTTP 401".into()));
                continue;
            }
            Ok(r) if r.status == 403 => {
                return Revoked::Failed(
                    "SendGrid refused to list API keys: the key lacks the api_keys scopes (only \
                     full-access keys have them); delete it in the console"
                        .into(),
                );
            }
            Ok(r) => return Revoked::Failed(format!("listing API keys: HTTP {}", r.status)),
            Err(f) => return Revoked::Failed(f.to_string()),
        };
        let entries = list
            .json()
            .and_then(|v| v.get("result").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        let is_it = |e: &Value| e.get("api_key_id").and_then(Value::as_str) == Some(id);
        return match find(&entries, is_it) {
            Found::One(_) => match cx.http.send("sendgrid", |c| {
                c.delete(format!("{base}/v3/api_keys/{id}"))
                    .bearer_auth(key)
            }) {
                Ok(r) if r.status == 204 || r.status == 200 => Revoked::Revoked,
                Ok(r) if r.status == 401 || r.status == 404 => {
                    Revoked::AlreadyDead(format!("HTTP {}", r.status))
                }
                Ok(r) if r.status == 403 => Revoked::Failed(
                    "SendGrid refused the deletion: the key lacks api_keys.delete; delete it in \
                     the console"
                        .into(),
                ),
                Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
                Err(f) => Revoked::Failed(f.to_string()),
            },
            Found::None => not_found("SendGrid: no API key of the account has the leaked key's id"),
            Found::Many(n) => {
                not_found(&format!("SendGrid: {n} API keys have the leaked key's id"))
            }
        };
    }
    dead.unwrap_or_else(|| Revoked::Failed("no host".into()))
}

// ---- Mapbox ------------------------------------------------------------------------------------

// Mapbox: the token's own `GET /tokens/v2` answer names its user and its id (`authorization`);
// `DELETE /tokens/v2/{user}/{id}` with the token itself deletes exactly it, when the token has the
// `tokens:write` scope (otherwise Mapbox refuses and the owner deletes it in the account page).

const MAPBOX: &str = "https://api.mapbox.com";

pub static MAPBOX_REVOKER: LookupRevoker = LookupRevoker {
    name: "mapbox",
    base: MAPBOX,
    calls: "GET /tokens/v2 (the token's own user and id), then DELETE /tokens/v2/{user}/{id} (needs tokens:write)",
    revoke: mapbox_revoke,
};

/// A path segment Mapbox uses for user names and token ids, and nothing that could change the URL.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn mapbox_revoke(cx: &Context, token: &str) -> Revoked {
    let base = cx.base("mapbox", MAPBOX);
    let own = match cx.http.send("mapbox", |c| {
        c.get(format!("{base}/tokens/v2"))
            .query(&[("access_token", token)])
    }) {
        Ok(r) if r.status == 200 => r,
        Ok(r) if r.status == 401 => return Revoked::AlreadyDead("HTTP 401".into()),
        Ok(r) => return Revoked::Failed(format!("reading the token: HTTP {}", r.status)),
        Err(f) => return Revoked::Failed(f.to_string()),
    };
    let v = own.json().unwrap_or_default();
    let field = |k: &str| v.pointer(k).and_then(Value::as_str).filter(|s| plain(s));
    let (Some(user), Some(id)) = (field("/token/user"), field("/token/authorization")) else {
        return not_found("Mapbox: the token's answer names no user and id");
    };
    match cx.http.send("mapbox", |c| {
        c.delete(format!("{base}/tokens/v2/{user}/{id}"))
            .query(&[("access_token", token)])
    }) {
        Ok(r) if r.status == 204 || r.status == 200 => Revoked::Revoked,
        Ok(r) if r.status == 401 || r.status == 404 => {
            Revoked::AlreadyDead(format!("HTTP {}", r.status))
        }
        Ok(r) if r.status == 403 => Revoked::Failed(
            "Mapbox refused: the token lacks the tokens:write scope; delete it in the account's \
             access tokens page"
                .into(),
        ),
        Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
        Err(f) => Revoked::Failed(f.to_string()),
    }
}
