//! Sends the `verify` and `revoke` requests that rules of the built-in pack describe as data, and
//! reads their answers. The URL is the provider's base (compiled in, or the user's `--endpoint`) plus
//! the rule's path; the secret goes only where the rule's templates put it.

use keysweep_core::finding::{Status, Verification};
use keysweep_core::rules::request::{Answers, Method, RequestSpec, Scopes};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;

use crate::adapter::{Credential, Revoked};
use crate::http::Response;
use crate::{Context, code, failed, scopes_header, short};

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
        utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
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

/// The strings at `pointer`: a string, a number, or an array of them.
fn strings_at(v: &Value, pointer: &str) -> Vec<String> {
    match v.pointer(pointer) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
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
    } = answers
    else {
        return Verification::with_detail(Status::Error, "not a verification request");
    };
    let s = resp.status;
    let dead = |status: Status| Verification::with_detail(status, format!("HTTP {s}"));
    if revoked.contains(&s) {
        return dead(Status::Revoked);
    }
    if expired.contains(&s) {
        return dead(Status::Expired);
    }
    if invalid.contains(&s) {
        return dead(Status::Invalid);
    }
    if restricted.contains(&s) {
        return Verification::with_detail(
            Status::Live,
            "restricted: live but may not make this call",
        );
    }
    if !live.contains(&s) {
        return Verification::with_detail(Status::Unknown, format!("HTTP {s}"));
    }
    let json = resp.json();
    if let Some(p) = ok {
        match json.as_ref().and_then(|v| v.pointer(p)) {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => {
                let said = json
                    .as_ref()
                    .and_then(|v| v.pointer("/error").or_else(|| v.pointer("/description")))
                    .and_then(Value::as_str)
                    .and_then(code)
                    .unwrap_or_else(|| format!("HTTP {s}"));
                return Verification::with_detail(Status::Invalid, said);
            }
            _ => return Verification::with_detail(Status::Error, "malformed response"),
        }
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
        let who: Vec<String> = identity
            .iter()
            .flat_map(|p| strings_at(j, p))
            .filter(|t| !t.is_empty())
            .map(|t| safe(&t))
            .collect();
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
                .collect()
        }),
        None => None,
    };
    v
}

pub fn verify(
    cx: &Context,
    provider: &'static str,
    default_base: &'static str,
    spec: &RequestSpec,
    cred: &Credential,
) -> Verification {
    let base = cx.base(provider, default_base);
    match cx.http.send(provider, |c| build(c, base, spec, cred)) {
        Ok(resp) => verification_from(&resp, &spec.answers, cred),
        Err(f) => failed(&f),
    }
}

pub fn revoke(
    cx: &Context,
    provider: &'static str,
    default_base: &'static str,
    spec: &RequestSpec,
    cred: &Credential,
) -> Revoked {
    let Answers::Revoke {
        revoked,
        requested,
        already_dead,
    } = &spec.answers
    else {
        return Revoked::Failed("not a revocation request".into());
    };
    let base = cx.base(provider, default_base);
    match cx.http.send(provider, |c| build(c, base, spec, cred)) {
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
                NON_ALPHANUMERIC
            )
            .to_string()),
            "/x/AC1/a%2Fb"
        );
    }
}
