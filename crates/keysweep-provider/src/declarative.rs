//! Sends the `verify` and `revoke` requests that rules of the built-in pack describe as data, and
//! reads their answers. The URL is the provider's base (compiled in, or the user's `--endpoint`) plus
//! the rule's path; the secret goes only where the rule's templates put it.

use keysweep_core::finding::{Status, Verification};
use keysweep_core::rules::ApiSpec;
use keysweep_core::rules::request::{Answers, Method, RequestSpec, Scopes};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;

use crate::adapter::{Credential, Revoked};
use crate::http::Response;
use crate::{Context, code, failed, scopes_header, short};

/// What a secret in a URL path is escaped with: everything but unreserved characters and `:`
/// (Telegram's `/bot<id>:<secret>/getMe` needs its colon as is; it is legal in a path segment).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':');

/// Where one provider's declarative requests may go: its `[api]` table (hosts, regions, whether the
/// user must name the host) and, for providers served by an adapter too, the adapter's base.
#[derive(Clone, Copy)]
pub struct Target {
    pub provider: &'static str,
    pub api: Option<&'static ApiSpec>,
    /// The adapter's default base, when `[api]` has no `base`.
    pub fallback: Option<&'static str>,
}

/// Why a request was not sent.
pub enum NotSent {
    /// The user must name the provider's host (`needs_endpoint`).
    NeedsEndpoint(String),
}

impl Target {
    /// The bases to try for `spec`, in order: the user's override alone, else the named host, else
    /// the base then its regions.
    pub fn bases(&self, cx: &Context, spec: &RequestSpec) -> Result<Vec<String>, NotSent> {
        if let Some(url) = cx.endpoints.overridden(self.provider) {
            return Ok(vec![url.to_string()]);
        }
        if let Some(hint) = self.api.and_then(|a| a.needs_endpoint.as_deref()) {
            return Err(NotSent::NeedsEndpoint(needs_endpoint(self.provider, hint)));
        }
        if let Some(h) = &spec.host {
            return Ok(self
                .api
                .and_then(|a| a.hosts.get(h))
                .map(|u| vec![u.clone()])
                .unwrap_or_default());
        }
        let mut all: Vec<String> = self
            .api
            .and_then(|a| a.base.clone())
            .or_else(|| self.fallback.map(str::to_string))
            .into_iter()
            .collect();
        all.extend(self.api.map(|a| a.regions.clone()).unwrap_or_default());
        Ok(all)
    }
}

/// What a verification says when the user has not named the provider's host.
pub fn needs_endpoint(provider: &str, hint: &str) -> String {
    format!(
        "needs --endpoint {provider}={hint} (or {}): the host is never taken from scanned files",
        crate::endpoint::env_var(provider)
    )
}

/// A template with `{secret}` and `{pair}` filled in by `fill`.
fn render(t: &str, cred: &Credential, fill: impl Fn(&str) -> String) -> String {
    t.replace("{secret}", &fill(cred.secret))
        .replace("{pair}", &fill(cred.pair.unwrap_or("")))
}

fn render_json(v: &Value, cred: &Credential) -> Value {
    match v {
        Value::String(s) => Value::String(render(s, cred, str::to_string)),
        Value::Array(a) => Value::Array(a.iter().map(|v| render_json(v, cred)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), render_json(v, cred)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn build(client: &Client, base: &str, spec: &RequestSpec, cred: &Credential) -> RequestBuilder {
    let path = render(&spec.path, cred, |s| {
        utf8_percent_encode(s, PATH_SEGMENT).to_string()
    });
    let url = format!("{base}{path}");
    let method = match spec.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut req = client.request(method, url);
    if !spec.query.is_empty() {
        let q: Vec<(String, String)> = spec
            .query
            .iter()
            .map(|(k, v)| (k.clone(), render(v, cred, str::to_string)))
            .collect();
        req = req.query(&q);
    }
    for (k, v) in &spec.headers {
        req = req.header(k.as_str(), render(v, cred, str::to_string));
    }
    if let Some((u, p)) = &spec.basic {
        req = req.basic_auth(
            render(u, cred, str::to_string),
            Some(render(p, cred, str::to_string)),
        );
    }
    if let Some(j) = &spec.json {
        req = req.json(&render_json(j, cred));
    } else if !spec.form.is_empty() {
        let f: Vec<(String, String)> = spec
            .form
            .iter()
            .map(|(k, v)| (k.clone(), render(v, cred, str::to_string)))
            .collect();
        req = req.form(&f);
    }
    req
}

/// The values at `pointer`, where a `*` segment stands for every element of an array (or every
/// value of an object): `/access_scopes/*/handle`.
fn values_at<'a>(v: &'a Value, pointer: &str) -> Vec<&'a Value> {
    match pointer.split_once("/*") {
        None => v.pointer(pointer).into_iter().collect(),
        Some((head, rest)) => {
            let Some(inner) = (if head.is_empty() {
                Some(v)
            } else {
                v.pointer(head)
            }) else {
                return Vec::new();
            };
            let items: Vec<&Value> = match inner {
                Value::Array(a) => a.iter().collect(),
                Value::Object(o) => o.values().collect(),
                _ => Vec::new(),
            };
            items
                .into_iter()
                .flat_map(|item| values_at(item, rest))
                .collect()
        }
    }
}

/// The strings at `pointer`: strings, numbers and booleans, or arrays of them.
fn strings_at(v: &Value, pointer: &str) -> Vec<String> {
    let scalar = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    values_at(v, pointer)
        .into_iter()
        .flat_map(|x| match x {
            Value::Array(a) => a.iter().filter_map(scalar).collect(),
            other => scalar(other).into_iter().collect::<Vec<_>>(),
        })
        .collect()
}

/// An expiry as RFC 3339 (or a plain date): from RFC 3339 text, a date, or Unix seconds.
pub fn expiry(v: &Value) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    match v {
        Value::Number(n) => {
            let secs = n.as_i64()?;
            // Milliseconds, as some APIs send, are told apart by size.
            let secs = if secs > 100_000_000_000 {
                secs / 1000
            } else {
                secs
            };
            time::OffsetDateTime::from_unix_timestamp(secs)
                .ok()?
                .format(&Rfc3339)
                .ok()
        }
        Value::String(s) => {
            let s = s.trim();
            // Unix seconds as text (Google's tokeninfo `exp`).
            if !s.is_empty() && s.len() <= 13 && s.bytes().all(|b| b.is_ascii_digit()) {
                return expiry(&Value::Number(s.parse::<i64>().ok()?.into()));
            }
            if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
                return t.format(&Rfc3339).ok();
            }
            let date = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s.get(..10)?, &date)
                .ok()
                .map(|d| d.to_string())
        }
        _ => None,
    }
}

fn verification_from(resp: &Response, answers: &Answers, cred: &Credential) -> Verification {
    let Answers::Verify {
        live,
        invalid,
        revoked,
        expired,
        restricted,
        ok,
        identity,
        scopes,
        expires_at,
        null_means_never,
        detail,
        codes,
    } = answers
    else {
        return Verification::with_detail(Status::Error, "not a verification request");
    };
    let s = resp.status;
    let json = resp.json();
    // The provider's own code, when the rule says where it is and it is a plain short code.
    let said = detail.as_ref().and_then(|p| {
        json.as_ref()
            .and_then(|j| strings_at(j, p).into_iter().next())
            .and_then(|c| code(&c))
    });
    let with = |status: Status| {
        let d = said.clone().unwrap_or_else(|| format!("HTTP {s}"));
        let coded = said
            .as_deref()
            .and_then(|c| codes.iter().find(|(k, _)| k == c).map(|(_, st)| *st));
        Verification::with_detail(coded.unwrap_or(status), d)
    };
    if revoked.contains(&s) {
        return with(Status::Revoked);
    }
    if expired.contains(&s) {
        return with(Status::Expired);
    }
    if invalid.contains(&s) {
        return with(Status::Invalid);
    }
    if restricted.contains(&s) {
        let mut v =
            Verification::with_detail(Status::Live, "restricted: live but may not make this call");
        if let Some(c) = &said {
            v.detail = Some(format!("restricted ({c}): live but may not make this call"));
        }
        return v;
    }
    if !live.contains(&s) {
        return Verification::with_detail(Status::Unknown, format!("HTTP {s}"));
    }
    if let Some(p) = ok {
        let Some(j) = json.as_ref() else {
            return Verification::with_detail(Status::Error, "malformed response");
        };
        match j.pointer(p) {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => {
                let said = said
                    .clone()
                    .or_else(|| {
                        j.pointer("/error")
                            .or_else(|| j.pointer("/description"))
                            .and_then(Value::as_str)
                            .and_then(code)
                    })
                    .unwrap_or_else(|| format!("HTTP {s}"));
                let mut v = with(Status::Invalid);
                v.detail = Some(said);
                return v;
            }
            // GraphQL: `data` is null (or absent) and `errors` says why.
            Some(Value::Null) | None if j.get("errors").is_some() => {
                return with(Status::Invalid);
            }
            Some(Value::Null) | None => {
                return Verification::with_detail(Status::Error, "malformed response");
            }
            Some(_) => {}
        }
    }
    // A code the rule maps (Mapbox's `TokenExpired` on a 200) decides even on a live status.
    if let Some(st) = said
        .as_deref()
        .and_then(|c| codes.iter().find(|(k, _)| k == c).map(|(_, st)| *st))
        && st != Status::Live
    {
        return with(st);
    }
    let needs_json =
        !identity.is_empty() || matches!(scopes, Some(Scopes::Pointer(_))) || expires_at.is_some();
    if needs_json && json.is_none() {
        return Verification::with_detail(Status::Error, "malformed response");
    }
    let secrets = [cred.secret, cred.pair.unwrap_or("")];
    let safe = |t: &str| short(&crate::scrub(t, &secrets), 120);
    let mut v = Verification::new(Status::Live);
    if let Some(j) = &json {
        let mut who: Vec<String> = Vec::new();
        for t in identity.iter().flat_map(|p| strings_at(j, p)) {
            let t = safe(&t);
            if !t.is_empty() && !who.contains(&t) && who.len() < 8 {
                who.push(t);
            }
        }
        if !who.is_empty() {
            v.identity = Some(who.join(", "));
        }
        if let Some(p) = expires_at {
            match j.pointer(p) {
                Some(Value::Null) | None if *null_means_never => v.never_expires = true,
                Some(x) => v.expires_at = expiry(x),
                None => {}
            }
        }
    }
    v.scopes = match scopes {
        Some(Scopes::Header(h)) => scopes_header(resp.header(h)),
        Some(Scopes::Pointer(p)) => json.as_ref().map(|j| {
            strings_at(j, p)
                .iter()
                .flat_map(|s| s.split([' ', ',']))
                .filter(|s| !s.is_empty())
                .map(|s| short(s, 64))
                .take(64)
                .collect()
        }),
        None => None,
    };
    v
}

/// Why a request is not sent for this credential, if it is not: another kind of the rule's secrets,
/// a companion that was not found, a host the user has not named.
fn not_for(
    target: &Target,
    cx: &Context,
    spec: &RequestSpec,
    cred: &Credential,
) -> Result<Vec<String>, String> {
    if !spec.applies_to(cred.secret) {
        return Err("no read-only check for this kind of the provider's secrets".into());
    }
    if spec.needs_pair() && cred.pair.is_none_or(str::is_empty) {
        return Err("needs its companion (an id found next to it), which was not found".into());
    }
    match target.bases(cx, spec) {
        Ok(b) if b.is_empty() => Err("no host for this request".into()),
        Ok(b) => Ok(b),
        Err(NotSent::NeedsEndpoint(why)) => Err(why),
    }
}

pub fn verify(
    cx: &Context,
    target: &Target,
    spec: &RequestSpec,
    cred: &Credential,
) -> Verification {
    let bases = match not_for(target, cx, spec, cred) {
        Ok(b) => b,
        Err(why) => return Verification::with_detail(Status::NotChecked, why),
    };
    let mut last = None;
    for (i, base) in bases.iter().enumerate() {
        let v = match cx
            .http
            .send(target.provider, |c| build(c, base, spec, cred))
        {
            Ok(resp) => verification_from(&resp, &spec.answers, cred),
            Err(f) => failed(&f),
        };
        // Another region may know a key this one does not.
        if v.status.is_dead() && i + 1 < bases.len() {
            last = Some(v);
            continue;
        }
        let mut v = v;
        if i > 0 && v.status == Status::Live {
            let host = url::Url::parse(base)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            v.detail = Some(match v.detail {
                Some(d) => format!("{d}; answered by {host}"),
                None => format!("answered by {host}"),
            });
        }
        return v;
    }
    last.unwrap_or_else(|| Verification::with_detail(Status::NotChecked, "no host"))
}

pub fn revoke(cx: &Context, target: &Target, spec: &RequestSpec, cred: &Credential) -> Revoked {
    let Answers::Revoke {
        revoked,
        requested,
        already_dead,
    } = &spec.answers
    else {
        return Revoked::Failed("not a revocation request".into());
    };
    let bases = match not_for(target, cx, spec, cred) {
        Ok(b) => b,
        Err(why) => return Revoked::Failed(why),
    };
    let base = &bases[0];
    match cx
        .http
        .send(target.provider, |c| build(c, base, spec, cred))
    {
        Ok(r) if revoked.contains(&r.status) => Revoked::Revoked,
        Ok(r) if requested.contains(&r.status) => Revoked::Requested,
        Ok(r) if already_dead.contains(&r.status) => {
            Revoked::AlreadyDead(format!("HTTP {}", r.status))
        }
        Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
        Err(f) => Revoked::Failed(f.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expiry_forms() {
        assert_eq!(
            expiry(&json!(1_900_000_000)).unwrap(),
            "2030-03-17T17:46:40Z"
        );
        assert_eq!(
            expiry(&json!(1_900_000_000_000i64)).unwrap(),
            "2030-03-17T17:46:40Z"
        );
        assert_eq!(
            expiry(&json!("2030-03-17T17:46:40.123Z")).unwrap(),
            "2030-03-17T17:46:40.123Z"
        );
        assert_eq!(expiry(&json!("2027-01-31")).unwrap(), "2027-01-31");
        assert_eq!(
            expiry(&json!("1900000000")).unwrap(),
            "2030-03-17T17:46:40Z"
        );
        assert_eq!(expiry(&json!("soon")), None);
    }

    #[test]
    fn templates_fill_secret_and_pair() {
        let c = Credential {
            rule_id: "r",
            secret: "a/b",
            pair: Some("AC1"),
        };
        assert_eq!(
            render("/x/{pair}/{secret}", &c, |s| utf8_percent_encode(
                s,
                PATH_SEGMENT
            )
            .to_string()),
            "/x/AC1/a%2Fb"
        );
        let t = Credential {
            secret: "123:AA-b_c.d~e/f?g",
            ..c
        };
        assert_eq!(
            render("/bot{secret}/getMe", &t, |s| utf8_percent_encode(
                s,
                PATH_SEGMENT
            )
            .to_string()),
            "/bot123:AA-b_c.d~e%2Ff%3Fg/getMe"
        );
    }

    #[test]
    fn wildcard_pointers() {
        let v = json!({"access_scopes": [{"handle": "read_products"}, {"handle": "write_orders"}],
                       "items": [], "n": 3});
        assert_eq!(
            strings_at(&v, "/access_scopes/*/handle"),
            ["read_products", "write_orders"]
        );
        assert!(strings_at(&v, "/items/*/name").is_empty());
        assert_eq!(strings_at(&v, "/n"), ["3"]);
        assert!(strings_at(&v, "/n/*/x").is_empty());
    }
}
