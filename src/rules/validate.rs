//! Offline validators: checks that run on a candidate secret before it is reported, so that strings of
//! the right shape but the wrong structure (failed checksums, undecodable bodies) never reach a user or
//! a provider.

use anyhow::{Result, bail};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`: 30 random base62 characters, then the CRC-32 of
    /// those 30 characters in base62 (`0-9A-Za-z`), left-padded with `0` to 6 characters.
    GithubChecksum,
    /// npm `npm_` tokens: the same construction as GitHub's.
    NpmChecksum,
}

impl Validator {
    pub const NAMES: &'static [&'static str] = &["github-checksum", "npm-checksum"];

    pub fn by_name(name: &str) -> Result<Validator> {
        Ok(match name {
            "github-checksum" => Validator::GithubChecksum,
            "npm-checksum" => Validator::NpmChecksum,
            _ => bail!("unknown validator"),
        })
    }

    /// True when the secret passes. `secret` is exactly the rule's secret capture.
    pub fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubChecksum | Validator::NpmChecksum => prefixed_crc32_base62(secret),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn make(prefix: &str, random: &str) -> String {
        let c = base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
        format!("{prefix}_{random}{}", String::from_utf8(c).unwrap())
    }

    #[test]
    fn github_checksum_accepts_right_and_rejects_wrong() {
        let good = make("ghp", "Zq3xT0bW9mYk2LsV8nRf4HcJ1pDgA7");
        assert!(Validator::GithubChecksum.check(good.as_bytes()));
        let mut bad = good.into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert!(!Validator::GithubChecksum.check(&bad));
        assert!(!Validator::GithubChecksum.check(b"ghp_short"));
    }

    #[test]
    fn base62_pads() {
        assert_eq!(base62(0, 6), b"000000");
        assert_eq!(base62(61, 2), b"0z");
        assert_eq!(base62(62, 2), b"10");
    }
}
