//! Tokens whose body is an encoding of readable fields: decoding it shows whether the provider made it.
//! A body that decodes to the fields seen in real tokens confirms the token; one that decodes to
//! something else is unfamiliar (reported at medium confidence); one that cannot be what the provider
//! issues (binary where text is always found) is a fake.

use base64::Engine as _;

use super::{STANDARD, URL_SAFE, Verdict, decoded_text};
use crate::engine::filters;

const PLACEHOLDER: Verdict = Verdict::Fake("decodes to placeholder text");

const DECODES: Verdict = Verdict::Confirmed("body decodes to the provider's structure");

/// A short description of a decoded field list that shows its shape, not its values: `n13` for a
/// 13-digit number, `h64` for 64 hex digits, `s5` for anything else of 5 characters.
fn layout(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| {
            let kind = if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) {
                'n'
            } else if !f.is_empty() && f.bytes().all(|b| b.is_ascii_hexdigit()) {
                'h'
            } else {
                's'
            };
            format!("{kind}{}", f.len())
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `<kind>-<n>-<base64url body>` whose body decodes to `<v>-<w>-<ids...>-<64 hex>`, each id a number
/// of 10 to 14 digits (Slack does not document the layout; this is what every real token shows).
pub(super) fn slack_xoxe(secret: &[u8], versions: &[&str], w: &str, ids: usize) -> Verdict {
    // Skip `xoxe.xoxb-1-` or `xoxe-1-`: the body follows the second `-`.
    let mut parts = secret.splitn(3, |&b| b == b'-');
    let (Some(_), Some(_), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Verdict::Fake("no body");
    };
    let Some(text) = decoded_text(&URL_SAFE, body) else {
        return Verdict::Fake("body does not decode to text");
    };
    if filters::is_placeholder(&text) {
        return PLACEHOLDER;
    }
    let fields: Vec<&str> = text.split('-').collect();
    let number = |s: &str| (10..=14).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let hex = fields
        .last()
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if fields.len() == 3 + ids
        && versions.contains(&fields[0])
        && fields[1] == w
        && fields[2..2 + ids].iter().all(|f| number(f))
        && hex
    {
        DECODES
    } else {
        Verdict::Unfamiliar(format!(
            "body decodes to an unfamiliar layout ({})",
            layout(&fields)
        ))
    }
}

/// Reads a LEB128 varint as used by macaroon v2 field lengths.
fn varint(data: &[u8], pos: &mut usize) -> Option<usize> {
    let mut n: usize = 0;
    for shift in (0..35).step_by(7) {
        let b = *data.get(*pos)?;
        *pos += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// Reads one field `(type, length, bytes)`; a section end (type 0) is `Some((0, &[]))`.
fn macaroon_field<'a>(data: &'a [u8], pos: &mut usize) -> Option<(u8, &'a [u8])> {
    let kind = *data.get(*pos)?;
    *pos += 1;
    if kind == 0 {
        return Some((0, &[]));
    }
    let len = varint(data, pos)?;
    let bytes = data.get(*pos..pos.checked_add(len)?)?;
    *pos += len;
    Some((kind, bytes))
}

/// PyPI `pypi-…`: base64url of a version-2 macaroon (libmacaroons' binary format: version byte 2,
/// then `(type, varint length, bytes)` fields in sections closed by a 0 byte, and a 32-byte signature
/// of type 6) located at `pypi.org` or `test.pypi.org` (warehouse's macaroon service).
pub(super) fn pypi_macaroon(secret: &[u8]) -> Verdict {
    const BROKEN: Verdict = Verdict::Fake("not a well-formed PyPI macaroon");
    let Some(body) = secret.strip_prefix(b"pypi-") else {
        return BROKEN;
    };
    let Ok(raw) = URL_SAFE.decode(body) else {
        return BROKEN;
    };
    if raw.first() != Some(&2) {
        return BROKEN;
    }
    let mut pos = 1;
    let Some((1, location)) = macaroon_field(&raw, &mut pos) else {
        return BROKEN;
    };
    if location != b"pypi.org" && location != b"test.pypi.org" {
        return BROKEN;
    }
    match macaroon_field(&raw, &mut pos) {
        Some((2, id)) if !id.is_empty() => {}
        _ => return BROKEN,
    }
    if macaroon_field(&raw, &mut pos) != Some((0, &[])) {
        return BROKEN;
    }
    loop {
        match macaroon_field(&raw, &mut pos) {
            Some((0, _)) => break,
            Some((1..=4, _)) => loop {
                match macaroon_field(&raw, &mut pos) {
                    Some((0, _)) => break,
                    Some((1..=4, _)) => {}
                    _ => return BROKEN,
                }
            },
            _ => return BROKEN,
        }
    }
    if matches!(macaroon_field(&raw, &mut pos), Some((6, sig)) if sig.len() == 32)
        && pos == raw.len()
    {
        DECODES
    } else {
        BROKEN
    }
}

fn json_object(raw: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// 1Password `ops_…`: base64 of a JSON object with the account's `signInAddress` and the service
/// account's `email` (1Password developer docs: the token carries the sign-in details).
pub(super) fn onepassword(secret: &[u8]) -> Verdict {
    let Some(body) = secret.strip_prefix(b"ops_") else {
        return Verdict::Fake("no prefix");
    };
    let Some(doc) = STANDARD.decode(body).ok().and_then(|r| json_object(&r)) else {
        return Verdict::Fake("body is not base64 JSON");
    };
    let has = |k: &str| {
        doc.get(k)
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.is_empty())
    };
    if has("signInAddress") && has("email") {
        DECODES
    } else {
        Verdict::Unfamiliar("JSON body without signInAddress and email".into())
    }
}

/// Discord bot tokens: the first dot-separated segment is base64 of the bot's user id, a decimal
/// snowflake of 17 to 20 digits (Discord developer docs on token structure).
pub(super) fn discord_bot(secret: &[u8]) -> Verdict {
    let first = secret.split(|&b| b == b'.').next().unwrap_or_default();
    match URL_SAFE.decode(first) {
        Ok(id)
            if (17..=20).contains(&id.len())
                && id[0] != b'0'
                && id.iter().all(|b| b.is_ascii_digit()) =>
        {
            Verdict::Confirmed("first segment decodes to a user id")
        }
        _ => Verdict::Fake("first segment is not a user id"),
    }
}

fn is_uuid_with(s: &str, sep: char) -> bool {
    let parts: Vec<&str> = s.split(sep).collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Intercom access tokens: base64 of `tok:<uuid with _ for ->:<n>:<n>` (every real token).
pub(super) fn intercom(secret: &[u8]) -> Verdict {
    let Some(text) = decoded_text(&STANDARD, secret) else {
        return Verdict::Fake("body does not decode to text");
    };
    if filters::is_placeholder(&text) {
        return PLACEHOLDER;
    }
    let fields: Vec<&str> = text.split(':').collect();
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if fields.len() == 4
        && fields[0] == "tok"
        && is_uuid_with(fields[1], '_')
        && number(fields[2])
        && number(fields[3])
    {
        DECODES
    } else {
        Verdict::Unfamiliar("decodes to text of an unfamiliar layout".into())
    }
}

/// Fly.io `fm2_…`: base64 of a msgpack macaroon whose location is `https://api.fly.io/v1`.
pub(super) fn fly_macaroon(secret: &[u8]) -> Verdict {
    let body = secret.strip_prefix(b"fm2_").unwrap_or(secret);
    match STANDARD.decode(body) {
        Ok(raw) if memchr::memmem::find(&raw, b"fly.io").is_some() => DECODES,
        Ok(_) => Verdict::Unfamiliar("macaroon does not name fly.io".into()),
        Err(_) => Verdict::Unfamiliar("body does not decode".into()),
    }
}

/// Firebase Cloud Messaging server keys `AAAA<7>:APA91b…`: the 11 characters before the colon are
/// base64url of the 8-byte big-endian sender id (the project number, 10 to 14 digits).
pub(super) fn fcm_server_key(secret: &[u8]) -> Verdict {
    let Some(colon) = secret.iter().position(|&b| b == b':') else {
        return Verdict::Fake("no sender id");
    };
    match URL_SAFE.decode(&secret[..colon]) {
        Ok(id) if id.len() == 8 => {
            let n = u64::from_be_bytes(id.try_into().unwrap_or_default());
            if (1_000_000_000..100_000_000_000_000).contains(&n) {
                Verdict::Confirmed("sender id decodes")
            } else {
                Verdict::Unfamiliar("sender id out of the usual range".into())
            }
        }
        _ => Verdict::Unfamiliar("sender id does not decode".into()),
    }
}

/// X/Twitter app-only bearer tokens, as written (URL-encoded or not): base64 of 16 zero bytes, the
/// 4-byte app id and more; then `=` and a 50-character secret.
pub(super) fn twitter_bearer(secret: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(secret)
        .replace("%2B", "+")
        .replace("%2b", "+")
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%3D", "=")
        .replace("%3d", "=");
    let head = text.split('=').next().unwrap_or_default();
    match STANDARD.decode(head) {
        Ok(raw) if raw.len() >= 20 && raw[..15].iter().all(|&b| b == 0) => {
            if raw[16..20].iter().any(|&b| b != 0) {
                Verdict::Confirmed("body decodes to an app id")
            } else {
                Verdict::Unfamiliar("no app id".into())
            }
        }
        _ => Verdict::Unfamiliar("body does not decode to an app id".into()),
    }
}

/// Amazon Bedrock API keys: `ABSK` + base64 of `BedrockAPIKey-<id>-at-<account>:<secret>`.
pub(super) fn bedrock(secret: &[u8]) -> Verdict {
    let body = secret.strip_prefix(b"ABSK").unwrap_or(secret);
    match STANDARD.decode(body) {
        Ok(raw) if filters::is_placeholder(&String::from_utf8_lossy(&raw)) => PLACEHOLDER,
        Ok(raw)
            if raw.starts_with(b"BedrockAPIKey-")
                && memchr::memmem::find(&raw, b"-at-").is_some() =>
        {
            DECODES
        }
        Ok(_) => Verdict::Unfamiliar("decodes to an unfamiliar layout".into()),
        Err(_) => Verdict::Unfamiliar("body does not decode (truncated?)".into()),
    }
}

/// A prefixed token carrying a base64 JSON object that starts `eyJ` (`{"`): the object runs to the
/// first `.` (Mapbox), the last `_` (Sentry) or the end (Grafana Cloud).
pub(super) fn base64_json(secret: &[u8]) -> Verdict {
    let Some(at) = memchr::memmem::find(secret, b"eyJ") else {
        return Verdict::Fake("no JSON body");
    };
    let body = &secret[at..];
    let mut candidates: Vec<&[u8]> = vec![body];
    if let Some(dot) = body.iter().position(|&b| b == b'.') {
        candidates.push(&body[..dot]);
    }
    if let Some(us) = body.iter().rposition(|&b| b == b'_') {
        candidates.push(&body[..us]);
    }
    let decodes = candidates.iter().any(|c| {
        [URL_SAFE, STANDARD]
            .iter()
            .any(|e| e.decode(c).ok().and_then(|r| json_object(&r)).is_some())
    });
    if decodes {
        DECODES
    } else {
        Verdict::Unfamiliar("body does not decode to JSON".into())
    }
}

/// Azure shared access signatures (`sv=…&se=…&sig=…`): the signed expiry `se` is reported; once past,
/// the signature no longer works.
pub(super) fn azure_sas(secret: &[u8], now: i64) -> super::Outcome {
    let text = String::from_utf8_lossy(secret);
    let se = text
        .split('&')
        .find_map(|kv| kv.strip_prefix("se="))
        .map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        });
    let Some(se) = se else {
        return Verdict::Unfamiliar("no signed expiry (se=)".into()).into();
    };
    let when = time::OffsetDateTime::parse(&se, &time::format_description::well_known::Rfc3339)
        .ok()
        .or_else(|| {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(&se, &fmt)
                .ok()
                .map(|d| d.midnight().assume_utc())
        });
    let Some(when) = when else {
        return Verdict::Unfamiliar("signed expiry does not parse".into()).into();
    };
    let mut out = super::Outcome::new(Verdict::Confirmed("signed query with an expiry"));
    out.details.insert("exp".into(), se.clone());
    if when.unix_timestamp() < now {
        out.verdict = Verdict::Weak(format!("expired {se}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64url(data: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
    }

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    const HEX64: &str = "9f2c4e1a7b3d5f60812a4c6e8b0d2f4163a5c7e9f1b3d5e7092b4d6f8a1c3e5f";

    #[test]
    fn slack_xoxe_layouts() {
        let access = |inner: &str| {
            slack_xoxe(
                ["xoxe.xoxb-1-", &b64url(inner.as_bytes())]
                    .concat()
                    .as_bytes(),
                &["1", "2"],
                "2",
                4,
            )
        };
        let ids = "2959570908486-2970250247954-2970280403539-3035077079234";
        assert_eq!(access(&format!("1-2-{ids}-{HEX64}")), DECODES);
        assert_eq!(access(&format!("2-2-{ids}-{HEX64}")), DECODES);
        // Text of another layout: unfamiliar, still reported.
        let v = access(&format!("2-2-T04QX7LM2KP-{ids}-{HEX64}"));
        assert!(
            matches!(&v, Verdict::Unfamiliar(r) if r.contains("s11-n13")),
            "{v:?}"
        );
        // Random bytes: a fake.
        let junk = slack_xoxe(
            ["xoxe-1-", &b64url(&[0x93, 0xff, 0x10, 0x80, 0x7f, 0x01])]
                .concat()
                .as_bytes(),
            &["3"],
            "1",
            3,
        );
        assert!(matches!(junk, Verdict::Fake(_)));
        let refresh = |inner: &str| {
            slack_xoxe(
                ["xoxe-1-", &b64url(inner.as_bytes())].concat().as_bytes(),
                &["3"],
                "1",
                3,
            )
        };
        assert_eq!(
            refresh(&format!(
                "3-1-2295220621542-2330166341664-2531228526421-{HEX64}"
            )),
            DECODES
        );
        assert_eq!(refresh("3-1-1234567890-123456"), PLACEHOLDER);
        assert!(matches!(
            refresh("3-1-2295220621542-2330166341664"),
            Verdict::Unfamiliar(_)
        ));
    }

    fn macaroon(location: &[u8], sig_len: usize) -> String {
        let field = |kind: u8, data: &[u8]| {
            let mut v = vec![kind, data.len() as u8];
            v.extend_from_slice(data);
            v
        };
        let mut raw = vec![2u8];
        raw.extend(field(1, location));
        raw.extend(field(2, b"d6f1c0de-4b7a-4e55-9c21-3a8f60b2e917"));
        raw.push(0);
        raw.extend(field(2, br#"{"version": 1, "permissions": "user"}"#));
        raw.push(0);
        raw.push(0);
        raw.extend(field(6, &vec![0x5a; sig_len]));
        ["pypi-", &b64url(&raw)].concat()
    }

    #[test]
    fn pypi_macaroon_structure() {
        assert_eq!(pypi_macaroon(macaroon(b"pypi.org", 32).as_bytes()), DECODES);
        assert_eq!(
            pypi_macaroon(macaroon(b"test.pypi.org", 32).as_bytes()),
            DECODES
        );
        assert!(matches!(
            pypi_macaroon(macaroon(b"evil.org", 32).as_bytes()),
            Verdict::Fake(_)
        ));
        assert!(matches!(
            pypi_macaroon(macaroon(b"pypi.org", 31).as_bytes()),
            Verdict::Fake(_)
        ));
        let tok = macaroon(b"pypi.org", 32);
        assert!(matches!(
            pypi_macaroon(&tok.as_bytes()[..tok.len() - 8]),
            Verdict::Fake(_)
        ));
    }

    #[test]
    fn onepassword_json() {
        let doc =
            r#"{"signInAddress":"acme.1password.com","email":"svc@1passwordserviceaccounts.com"}"#;
        assert_eq!(
            onepassword(["ops_", &b64(doc.as_bytes())].concat().as_bytes()),
            DECODES
        );
        let other = b64(br#"{"signInAddress":"a.b"}"#);
        assert!(matches!(
            onepassword(["ops_", &other].concat().as_bytes()),
            Verdict::Unfamiliar(_)
        ));
        assert!(matches!(
            onepassword(b"ops_eyJub3QganNvbg"),
            Verdict::Fake(_)
        ));
    }

    #[test]
    fn discord_snowflake() {
        let first = b64url(b"902537164481265704");
        let tok = [&first, ".GkQ3xZ.", "Vt9mR2pL6wXc0bJs4fGd8aY1hN5kQz3T7uEi2o"].concat();
        assert!(matches!(discord_bot(tok.as_bytes()), Verdict::Confirmed(_)));
        let not_digits = b64url(b"9025371644812657x4");
        let tok = [
            &not_digits,
            ".GkQ3xZ.",
            "Vt9mR2pL6wXc0bJs4fGd8aY1hN5kQz3T7uEi2o",
        ]
        .concat();
        assert!(matches!(discord_bot(tok.as_bytes()), Verdict::Fake(_)));
    }

    #[test]
    fn intercom_body() {
        let good = b64(b"tok:f689b2ec_f84f_4a64_b57e_e3adca264829:1:0");
        assert_eq!(intercom(good.as_bytes()), DECODES);
        let other = b64(b"tok:live_api_key_for_docs:1:0");
        assert!(matches!(intercom(other.as_bytes()), Verdict::Unfamiliar(_)));
        let binary = b64(&[0x76, 0x8a, 0x2b, 0xff, 0x00, 0x13]);
        assert!(matches!(intercom(binary.as_bytes()), Verdict::Fake(_)));
    }

    #[test]
    fn fcm_and_twitter_and_bedrock_bodies() {
        let sender = b64url(&196_358_992_254u64.to_be_bytes());
        let key = format!("{sender}:APA91bGk");
        assert!(matches!(
            fcm_server_key(key.as_bytes()),
            Verdict::Confirmed(_)
        ));
        let mut raw = vec![0u8; 16];
        raw.extend_from_slice(&22_466_968u32.to_le_bytes());
        raw.extend_from_slice(&[0, 0, 0, 0, 0x91, 0x2c, 0x77, 0x10, 0xee, 0x03]);
        let bearer = format!("{}%3DQz8vNw3Lx0", b64(&raw).trim_end_matches('='));
        assert!(matches!(
            twitter_bearer(bearer.as_bytes()),
            Verdict::Confirmed(_)
        ));
        let absk = ["ABSK", &b64(b"BedrockAPIKey-ab1c-at-601843920517:c2VjcmV0")].concat();
        assert_eq!(bedrock(absk.as_bytes()), DECODES);
        assert!(matches!(
            bedrock(b"ABSKQmVkcm9ja0FQSUtleS"),
            Verdict::Unfamiliar(_)
        ));
    }

    #[test]
    fn sas_expiry() {
        let sas = |se: &str| {
            [
                "sv=2022-11-02&ss=bfqt&srt=sco&sp=rl&se=",
                se,
                "&spr=https&sig=",
                "Qz8vNw3Lx0Tzp7RjYc2bF9hM1sD5gUeK4aWq6nBtQz8%3D",
            ]
            .concat()
        };
        let now = 1_800_000_000;
        let live = azure_sas(sas("2099-12-31T23%3A59%3A59Z").as_bytes(), now);
        assert!(matches!(live.verdict, Verdict::Confirmed(_)));
        assert_eq!(live.details["exp"], "2099-12-31T23:59:59Z");
        let old = azure_sas(sas("2020-03-20T10:10:53Z").as_bytes(), now);
        assert!(matches!(old.verdict, Verdict::Weak(_)));
        let day = azure_sas(sas("2019-01-01").as_bytes(), now);
        assert!(matches!(day.verdict, Verdict::Weak(_)));
    }

    #[test]
    fn base64_json_bodies() {
        let mapbox = format!(
            "sk.{}.Qz8vNw3Lx0Tzp7RjYc2bF9",
            b64url(br#"{"u":"acme","a":"ck1"}"#)
        );
        assert_eq!(base64_json(mapbox.as_bytes()), DECODES);
        let sentry = format!("sntrys_{}_Qz8vNw3Lx0Tz", b64(br#"{"iat":1,"org":"acme"}"#));
        assert_eq!(base64_json(sentry.as_bytes()), DECODES);
        assert!(matches!(
            base64_json(b"glc_eyJzzzzzz"),
            Verdict::Unfamiliar(_)
        ));
    }
}
