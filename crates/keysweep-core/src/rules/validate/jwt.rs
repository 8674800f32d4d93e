//! JSON Web Tokens (RFC 7519), decoded offline. Reported: `alg`, `iss`, `role` and `exp`; never the
//! signature or other claims (`sub`, `email` may name a person).
//!
//! - not a credential, dropped: a header or claims that do not decode, no `alg` or `alg: none`
//!   (unsigned), claims with none of `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`, `role`,
//!   `scope` (a library's demonstration), claims that are documentation placeholders (`1234567890`,
//!   `example.com`), Supabase's public `anon` keys and its local `supabase-demo` keys;
//! - low confidence: `exp` in the past (the token no longer works; its signing key may);
//! - high confidence otherwise.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{Outcome, URL_SAFE, Verdict};
use crate::engine::filters;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    Any,
    /// A Supabase `service_role` key (`iss: supabase`), which bypasses row-level security.
    SupabaseServiceRole,
}

fn object(segment: &[u8]) -> Option<Map<String, Value>> {
    let raw = URL_SAFE.decode(segment).ok()?;
    match serde_json::from_slice::<Value>(&raw).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

pub(super) fn assess(secret: &[u8], now: i64, expect: Expect) -> Outcome {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(h), Some(p), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Verdict::Fake("not three segments").into();
    };
    if sig.is_empty() {
        return Verdict::Fake("no signature").into();
    }
    let Some(header) = object(h) else {
        return Verdict::Fake("header does not decode").into();
    };
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if alg.is_empty() || alg.eq_ignore_ascii_case("none") {
        return Verdict::Fake("unsigned (no alg, or alg none)").into();
    }
    let Some(claims) = object(p) else {
        return Verdict::Fake("claims do not decode").into();
    };
    // An authentication token says who issued it, for whom or until when; claims with none of that
    // (`{"k": "value"}`) are a library's demonstration, not a credential.
    const REGISTERED: &[&str] = &[
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "role", "scope",
    ];
    if !REGISTERED.iter().any(|k| claims.contains_key(*k)) {
        return Verdict::Fake("no registered claims").into();
    }
    let mut values = Vec::new();
    strings(&Value::Object(claims.clone()), &mut values);
    if values.iter().any(|v| filters::is_placeholder(v)) {
        return Verdict::Fake("claims are placeholders").into();
    }
    let claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default();
    let (iss, role) = (claim("iss"), claim("role"));
    if iss == "supabase-demo" {
        return Verdict::Fake("Supabase's public local-development key").into();
    }
    if role == "anon" {
        return Verdict::Fake("a public anon key").into();
    }
    if expect == Expect::SupabaseServiceRole && (iss != "supabase" || role != "service_role") {
        return Verdict::Fake("not a Supabase service_role key").into();
    }
    let mut out = Outcome::new(Verdict::Confirmed("header and claims decode"));
    out.details.insert("alg".into(), alg.to_string());
    for (k, v) in [("iss", iss), ("role", role)] {
        if !v.is_empty() && v.len() <= 200 {
            out.details.insert(k.into(), v.to_string());
        }
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        let when = rfc3339(exp);
        out.details.insert("exp".into(), when.clone());
        if exp < now {
            out.verdict = Verdict::Weak(format!("expired {when}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.Qz8vNw3Lx0Tzp7RjYc2bF9hM1sD5gUeK4aWq6nBt",
            b64(header),
            b64(claims)
        )
    }

    const NOW: i64 = 1_800_000_000;
    const HS: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    #[test]
    fn decoded_claims_set_confidence_and_details() {
        let live = jwt(HS, r#"{"iss":"https://auth.acme.io","exp":4102444800}"#);
        let o = assess(live.as_bytes(), NOW, Expect::Any);
        assert!(matches!(o.verdict, Verdict::Confirmed(_)));
        assert_eq!(o.details["exp"], "2100-01-01T00:00:00Z");
        assert_eq!(o.details["iss"], "https://auth.acme.io");
        let old = jwt(HS, r#"{"iss":"https://auth.acme.io","exp":1000000000}"#);
        let o = assess(old.as_bytes(), NOW, Expect::Any);
        assert_eq!(
            o.verdict,
            Verdict::Weak("expired 2001-09-09T01:46:40Z".into())
        );
    }

    #[test]
    fn not_credentials_are_fakes() {
        let none = jwt(r#"{"alg":"none"}"#, r#"{"iss":"x"}"#);
        assert!(assess(none.as_bytes(), NOW, Expect::Any).is_fake());
        let demo = jwt(HS, r#"{"k":"value"}"#);
        assert!(assess(demo.as_bytes(), NOW, Expect::Any).is_fake());
        let sample = jwt(
            HS,
            r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#,
        );
        assert!(assess(sample.as_bytes(), NOW, Expect::Any).is_fake());
        let anon = jwt(
            HS,
            r#"{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"anon"}"#,
        );
        assert!(assess(anon.as_bytes(), NOW, Expect::Any).is_fake());
        let demo = jwt(
            HS,
            r#"{"iss":"supabase-demo","role":"service_role","exp":1983812996}"#,
        );
        assert!(assess(demo.as_bytes(), NOW, Expect::Any).is_fake());
    }

    #[test]
    fn supabase_service_role_only() {
        let sr = jwt(
            HS,
            r#"{"iss":"supabase","ref":"qwhzmvlxkrtbnpjycafd","role":"service_role","iat":1700000000,"exp":2015576000}"#,
        );
        let o = assess(sr.as_bytes(), NOW, Expect::SupabaseServiceRole);
        assert!(matches!(o.verdict, Verdict::Confirmed(_)));
        assert_eq!(o.details["role"], "service_role");
        let other = jwt(
            HS,
            r#"{"iss":"https://auth.acme.io","role":"service_role"}"#,
        );
        assert!(assess(other.as_bytes(), NOW, Expect::SupabaseServiceRole).is_fake());
    }
}
