//! Offline validators: checks that run on a candidate secret before it is reported, so that strings of
//! the right shape but the wrong structure (failed checksums, undecodable bodies) never reach a user or
//! a provider.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`: 30 random base62 characters, then the CRC-32 of
    /// those 30 characters in base62 (`0-9A-Za-z`), left-padded with `0` to 6 characters
    /// (github.blog 2021-04-05, "Behind GitHub's new authentication token formats").
    GithubChecksum,
    /// npm `npm_` tokens: the same construction as GitHub's (github.blog 2021-09-23, npm's new token
    /// format).
    NpmChecksum,
    /// Slack rotating access tokens `xoxe.xoxb-1-…`/`xoxe.xoxp-1-…`: the body is base64url of
    /// `2-2-<team>-<id>-<id>-<id>-<64 hex>` (observed structure, PROVIDERS.md "Slack / Structure").
    SlackXoxeAccess,
    /// Slack refresh tokens `xoxe-1-…`: the body is base64url of `3-1-<team>-<id>-<id>-<64 hex>`.
    SlackXoxeRefresh,
    /// PyPI API tokens `pypi-…`: base64url of a version-2 macaroon (libmacaroons' binary format:
    /// version byte 2, then `(type, varint length, bytes)` fields in sections closed by a 0 byte, and a
    /// 32-byte signature field of type 6), whose location is `pypi.org` or `test.pypi.org`
    /// (warehouse's macaroon service).
    PypiMacaroon,
    /// 1Password service-account tokens `ops_…`: base64 of a JSON object that carries the account's
    /// `signInAddress` and the service account's `email` (1Password developer docs: the token holds
    /// the sign-in details the SDKs and `op` need).
    OnepasswordServiceAccount,
    /// Discord bot tokens: the first dot-separated segment is base64 of the bot's user id, a decimal
    /// snowflake of 17 to 20 digits (discord.py and Discord developer docs on token structure).
    DiscordBotToken,
    /// age secret keys `AGE-SECRET-KEY-1…`: Bech32 (BIP-173) with the human-readable part
    /// `age-secret-key-`, upper-cased, over a 32-byte key (age specification, C2SP age.md).
    AgeBech32,
}

impl Validator {
    pub const NAMES: &'static [&'static str] = &[
        "github-checksum",
        "npm-checksum",
        "slack-xoxe-access",
        "slack-xoxe-refresh",
        "pypi-macaroon",
        "onepassword-service-account",
        "discord-bot-token",
        "age-bech32",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Validator::GithubChecksum => "github-checksum",
            Validator::NpmChecksum => "npm-checksum",
            Validator::SlackXoxeAccess => "slack-xoxe-access",
            Validator::SlackXoxeRefresh => "slack-xoxe-refresh",
            Validator::PypiMacaroon => "pypi-macaroon",
            Validator::OnepasswordServiceAccount => "onepassword-service-account",
            Validator::DiscordBotToken => "discord-bot-token",
            Validator::AgeBech32 => "age-bech32",
        }
    }

    pub fn by_name(name: &str) -> Option<Validator> {
        Some(match name {
            "github-checksum" => Validator::GithubChecksum,
            "npm-checksum" => Validator::NpmChecksum,
            "slack-xoxe-access" => Validator::SlackXoxeAccess,
            "slack-xoxe-refresh" => Validator::SlackXoxeRefresh,
            "pypi-macaroon" => Validator::PypiMacaroon,
            "onepassword-service-account" => Validator::OnepasswordServiceAccount,
            "discord-bot-token" => Validator::DiscordBotToken,
            "age-bech32" => Validator::AgeBech32,
            _ => return None,
        })
    }

    /// True when the secret passes. `secret` is exactly the rule's secret capture.
    pub fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubChecksum | Validator::NpmChecksum => prefixed_crc32_base62(secret),
            Validator::SlackXoxeAccess => slack_xoxe(secret, "2", "2", 3),
            Validator::SlackXoxeRefresh => slack_xoxe(secret, "3", "1", 2),
            Validator::PypiMacaroon => pypi_macaroon(secret),
            Validator::OnepasswordServiceAccount => onepassword(secret),
            Validator::DiscordBotToken => discord_bot(secret),
            Validator::AgeBech32 => bech32(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 of `n`, left-padded with `0` to `width`.
pub fn base62(mut n: u64, width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width);
    while n > 0 {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    out
}

/// `<prefix>_<30 random><6 checksum>`: checks the checksum of the 36 characters after the last `_`.
fn prefixed_crc32_base62(secret: &[u8]) -> bool {
    let Some(us) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let body = &secret[us + 1..];
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62(u64::from(crc32fast::hash(random)), 6) == check
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
/// Token bodies are written with or without padding; both decode.
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// `<kind>-<n>-<base64url body>` whose body decodes to `<v>-<w>-<team>-<ids...>-<64 hex>`.
fn slack_xoxe(secret: &[u8], v: &str, w: &str, ids: usize) -> bool {
    // Skip `xoxe.xoxb-1-` or `xoxe-1-`: the body follows the second `-`.
    let mut parts = secret.splitn(3, |&b| b == b'-');
    let (Some(_), Some(_), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(decoded) = URL_SAFE.decode(body) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return false;
    };
    let fields: Vec<&str> = text.split('-').collect();
    if fields.len() != 4 + ids || fields[0] != v || fields[1] != w {
        return false;
    }
    let team = fields[2];
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let hex = fields[fields.len() - 1];
    team.starts_with(['T', 'E'])
        && alnum(team)
        && fields[3..fields.len() - 1].iter().all(|f| alnum(f))
        && hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
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

/// Reads one field `(type, length, bytes)`; `None` at a section end (type 0) is `Some((0, &[]))`.
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

fn pypi_macaroon(secret: &[u8]) -> bool {
    let Some(body) = secret.strip_prefix(b"pypi-") else {
        return false;
    };
    let Ok(raw) = URL_SAFE.decode(body) else {
        return false;
    };
    if raw.first() != Some(&2) {
        return false;
    }
    let mut pos = 1;
    // Header: location (1), identifier (2), end of section.
    let Some((1, location)) = macaroon_field(&raw, &mut pos) else {
        return false;
    };
    if location != b"pypi.org" && location != b"test.pypi.org" {
        return false;
    }
    match macaroon_field(&raw, &mut pos) {
        Some((2, id)) if !id.is_empty() => {}
        _ => return false,
    }
    if macaroon_field(&raw, &mut pos) != Some((0, &[])) {
        return false;
    }
    // Caveat sections, each closed by a 0, then an empty section ends the list.
    loop {
        match macaroon_field(&raw, &mut pos) {
            Some((0, _)) => break,
            Some((1..=4, _)) => loop {
                match macaroon_field(&raw, &mut pos) {
                    Some((0, _)) => break,
                    Some((1..=4, _)) => {}
                    _ => return false,
                }
            },
            _ => return false,
        }
    }
    matches!(macaroon_field(&raw, &mut pos), Some((6, sig)) if sig.len() == 32) && pos == raw.len()
}

fn onepassword(secret: &[u8]) -> bool {
    let Some(body) = secret.strip_prefix(b"ops_") else {
        return false;
    };
    let Ok(raw) = STANDARD.decode(body) else {
        return false;
    };
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice::<serde_json::Value>(&raw)
    else {
        return false;
    };
    ["signInAddress", "email"].iter().all(|k| {
        doc.get(*k)
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.is_empty())
    })
}

fn discord_bot(secret: &[u8]) -> bool {
    let Some(first) = secret.split(|&b| b == b'.').next() else {
        return false;
    };
    let Ok(id) = URL_SAFE.decode(first) else {
        return false;
    };
    (17..=20).contains(&id.len()) && id[0] != b'0' && id.iter().all(|b| b.is_ascii_digit())
}

/// A Bech32 string (BIP-173, the encoding of age keys) in one case, with a valid checksum.
fn bech32(secret: &[u8]) -> bool {
    std::str::from_utf8(secret).is_ok_and(|s| {
        bech32::primitives::decode::CheckedHrpstring::new::<bech32::Bech32>(s).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tokens are assembled at run time so that no token literal sits in src/.
    fn make(prefix: &str, random: &str) -> String {
        let c = base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
        format!("{prefix}_{random}{}", String::from_utf8(c).unwrap())
    }

    fn flip_last(s: &str) -> Vec<u8> {
        let mut b = s.as_bytes().to_vec();
        let last = b.len() - 1;
        b[last] = if b[last] == b'A' { b'B' } else { b'A' };
        b
    }

    fn b64url(data: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
    }

    #[test]
    fn github_checksum_accepts_right_and_rejects_wrong() {
        let good = make("ghp", "Zq3xT0bW9mYk2LsV8nRf4HcJ1pDgA7");
        assert!(Validator::GithubChecksum.check(good.as_bytes()));
        assert!(!Validator::GithubChecksum.check(&flip_last(&good)));
        assert!(!Validator::GithubChecksum.check(b"ghp_short"));
        let npm = make("npm", "Hw4kQz8RtV2mLp6XcN0bJs9fGd3aY7");
        assert!(Validator::NpmChecksum.check(npm.as_bytes()));
        assert!(!Validator::NpmChecksum.check(&flip_last(&npm)));
    }

    #[test]
    fn base62_pads() {
        assert_eq!(base62(0, 6), b"000000");
        assert_eq!(base62(61, 2), b"0z");
        assert_eq!(base62(62, 2), b"10");
    }

    const HEX64: &str = "9f2c4e1a7b3d5f60812a4c6e8b0d2f4163a5c7e9f1b3d5e7092b4d6f8a1c3e5f";

    #[test]
    fn slack_xoxe_access_body() {
        let body = b64url(
            format!("2-2-T04QX7LM2KP-55012947361-7781234590112-6640981275531-{HEX64}").as_bytes(),
        );
        let tok = ["xoxe.xoxb-1-", &body].concat();
        assert!(Validator::SlackXoxeAccess.check(tok.as_bytes()));
        // A refresh body is not an access body, and random base64 is neither.
        let refresh =
            b64url(format!("3-1-T04QX7LM2KP-55012947361-7781234590112-{HEX64}").as_bytes());
        assert!(!Validator::SlackXoxeAccess.check(["xoxe.xoxp-1-", &refresh].concat().as_bytes()));
        assert!(Validator::SlackXoxeRefresh.check(["xoxe-1-", &refresh].concat().as_bytes()));
        assert!(!Validator::SlackXoxeRefresh.check(["xoxe-1-", &body].concat().as_bytes()));
        let junk = b64url(b"not a slack token body at all, just some bytes of text!!");
        assert!(!Validator::SlackXoxeRefresh.check(["xoxe-1-", &junk].concat().as_bytes()));
        // The hash must be 64 hex digits.
        let short = b64url(b"3-1-T04QX7LM2KP-55012947361-7781234590112-9f2c4e1a");
        assert!(!Validator::SlackXoxeRefresh.check(["xoxe-1-", &short].concat().as_bytes()));
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
        assert!(Validator::PypiMacaroon.check(macaroon(b"pypi.org", 32).as_bytes()));
        assert!(Validator::PypiMacaroon.check(macaroon(b"test.pypi.org", 32).as_bytes()));
        assert!(!Validator::PypiMacaroon.check(macaroon(b"evil.org", 32).as_bytes()));
        assert!(!Validator::PypiMacaroon.check(macaroon(b"pypi.org", 31).as_bytes()));
        let tok = macaroon(b"pypi.org", 32);
        assert!(!Validator::PypiMacaroon.check(&tok.as_bytes()[..tok.len() - 8]));
    }

    #[test]
    fn onepassword_json() {
        let doc = r#"{"signInAddress":"acme.1password.com","email":"svc@1passwordserviceaccounts.com","srpX":"ab"}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(doc);
        assert!(Validator::OnepasswordServiceAccount.check(["ops_", &b64].concat().as_bytes()));
        let no_email =
            base64::engine::general_purpose::STANDARD.encode(r#"{"signInAddress":"a.b"}"#);
        assert!(
            !Validator::OnepasswordServiceAccount.check(["ops_", &no_email].concat().as_bytes())
        );
        assert!(!Validator::OnepasswordServiceAccount.check(b"ops_eyJub3QganNvbg"));
    }

    #[test]
    fn discord_snowflake() {
        let first = b64url(b"902537164481265704");
        let tok = [&first, ".GkQ3xZ.", "Vt9mR2pL6wXc0bJs4fGd8aY1hN5kQz3T7uEi2o"].concat();
        assert!(Validator::DiscordBotToken.check(tok.as_bytes()));
        let not_digits = b64url(b"9025371644812657x4");
        let tok = [
            &not_digits,
            ".GkQ3xZ.",
            "Vt9mR2pL6wXc0bJs4fGd8aY1hN5kQz3T7uEi2o",
        ]
        .concat();
        assert!(!Validator::DiscordBotToken.check(tok.as_bytes()));
        let short = b64url(b"90253716");
        assert!(!Validator::DiscordBotToken.check([&short, ".GkQ3xZ.x"].concat().as_bytes()));
    }

    #[test]
    fn bech32_checksum() {
        // BIP-173's valid test vectors, and one with a changed character.
        assert!(Validator::AgeBech32.check(b"A12UEL5L"));
        assert!(Validator::AgeBech32.check(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"));
        assert!(!Validator::AgeBech32.check(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"));
        assert!(!Validator::AgeBech32.check(b"A12UEl5L"));
        assert!(!Validator::AgeBech32.check(b"nodata"));
    }
}
