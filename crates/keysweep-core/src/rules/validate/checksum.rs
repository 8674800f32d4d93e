//! Checksums that providers embed in their tokens. A format that always carries one is fake when it
//! does not match: a random string has about one chance in 2^32 (CRC-32) of passing.

use base64::Engine as _;

use super::{STANDARD, Verdict};

const MATCHES: Verdict = Verdict::Confirmed("checksum matches");
const MISMATCH: Verdict = Verdict::Fake("checksum does not match");

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// `n` in `alphabet`'s base, most significant digit first, left-padded with the zero digit to
/// `width`.
fn encode(mut n: u64, alphabet: &[u8], width: usize) -> Vec<u8> {
    let base = alphabet.len() as u64;
    let mut out = Vec::with_capacity(width);
    while n > 0 {
        out.push(alphabet[(n % base) as usize]);
        n /= base;
    }
    while out.len() < width {
        out.push(alphabet[0]);
    }
    out.reverse();
    out
}

/// Base62 of `n`, left-padded with `0` to `width`.
pub fn base62(n: u64, width: usize) -> Vec<u8> {
    encode(n, BASE62, width)
}

/// `<prefix>_<random><6 checksum>`: the CRC-32 of the random part after the last `_`, in base62.
pub(super) fn crc32_base62_tail(secret: &[u8]) -> Verdict {
    let Some(us) = secret.iter().rposition(|&b| b == b'_') else {
        return Verdict::Fake("no prefix");
    };
    let body = &secret[us + 1..];
    if body.len() < 16 {
        return Verdict::Fake("too short to carry a checksum");
    }
    let (random, check) = body.split_at(body.len() - 6);
    if base62(u64::from(crc32fast::hash(random)), 6) == check {
        MATCHES
    } else {
        MISMATCH
    }
}

/// A Bech32 string (BIP-173, the encoding of age keys) in one case, with a valid checksum.
pub(super) fn bech32(secret: &[u8]) -> Verdict {
    let ok = std::str::from_utf8(secret).is_ok_and(|s| {
        bech32::primitives::decode::CheckedHrpstring::new::<bech32::Bech32>(s).is_ok()
    });
    if ok { MATCHES } else { MISMATCH }
}

/// `gl…-<payload>.<version>.<len><crc>`: `len` is the payload's length in base36 (2 digits), `crc`
/// the base36 CRC-32 (7 digits) of everything before it, prefix included. Observed on every routable
/// token in public code (personal and runner tokens).
pub(super) fn gitlab_routable(secret: &[u8]) -> Verdict {
    let Some(dash) = secret.iter().position(|&b| b == b'-') else {
        return Verdict::Fake("no prefix");
    };
    let parts: Vec<&[u8]> = secret[dash + 1..].split(|&b| b == b'.').collect();
    let [payload, _version, tail] = parts.as_slice() else {
        return Verdict::Unfamiliar("not `<payload>.<version>.<checksum>`".into());
    };
    if tail.len() != 9 {
        return Verdict::Unfamiliar("checksum part is not 9 characters".into());
    }
    if encode(payload.len() as u64, BASE36, 2) != tail[..2] {
        return MISMATCH;
    }
    let signed = &secret[..secret.len() - 7];
    if encode(u64::from(crc32fast::hash(signed)), BASE36, 7) == tail[2..] {
        MATCHES
    } else {
        MISMATCH
    }
}

/// `ATATT3…=<8 hex>`: the CRC-32 of everything up to and including the `=`, upper-case hex.
pub(super) fn atlassian(secret: &[u8]) -> Verdict {
    let Some(eq) = secret.iter().rposition(|&b| b == b'=') else {
        return Verdict::Fake("no checksum");
    };
    let tail = &secret[eq + 1..];
    if tail.len() != 8 {
        return MISMATCH;
    }
    let want = format!("{:08X}", crc32fast::hash(&secret[..=eq]));
    if want.as_bytes() == tail {
        MATCHES
    } else {
        MISMATCH
    }
}

/// `cf(k|ut|at)_<40 alnum><8 hex>`: the CRC-32 of the 40 characters, lower-case hex.
pub(super) fn cloudflare(secret: &[u8]) -> Verdict {
    let Some(us) = secret.iter().position(|&b| b == b'_') else {
        return Verdict::Fake("no prefix");
    };
    let body = &secret[us + 1..];
    if body.len() != 48 {
        return MISMATCH;
    }
    let want = format!("{:08x}", crc32fast::hash(&body[..40]));
    if want.as_bytes() == &body[40..] {
        MATCHES
    } else {
        MISMATCH
    }
}

fn marvin_block(p0: &mut u32, p1: &mut u32) {
    *p1 ^= *p0;
    *p0 = p0.rotate_left(20);
    *p0 = p0.wrapping_add(*p1);
    *p1 = p1.rotate_left(9);
    *p1 ^= *p0;
    *p0 = p0.rotate_left(27);
    *p0 = p0.wrapping_add(*p1);
    *p1 = p1.rotate_left(19);
}

/// Marvin32, the seeded hash Microsoft's credential formats use for their checksums
/// (microsoft/security-utilities `Marvin.cs`).
pub(super) fn marvin32(data: &[u8], seed: u64) -> u32 {
    let (mut p0, mut p1) = (seed as u32, (seed >> 32) as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        p0 = p0.wrapping_add(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        marvin_block(&mut p0, &mut p1);
    }
    let r = chunks.remainder();
    let last: u32 = match r.len() {
        0 => 0x80,
        1 => 0x8000 | u32::from(r[0]),
        2 => 0x80_0000 | u32::from(u16::from_le_bytes([r[0], r[1]])),
        _ => 0x8000_0000 | (u32::from(r[2]) << 16) | u32::from(u16::from_le_bytes([r[0], r[1]])),
    };
    p0 = p0.wrapping_add(last);
    marvin_block(&mut p0, &mut p1);
    marvin_block(&mut p0, &mut p1);
    p1 ^ p0
}

/// The alphabet of Entra client-secret checksums.
const ENTRA_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890.-_~";
/// "AadPwd00", big-endian.
const ENTRA_SEED: u64 = 0x4161_6450_7764_3030;

/// `xxx8Q~<34>`: the last 3 characters are the 3 most significant base-66 digits (6 wide) of the
/// Marvin32 of the rest.
pub(super) fn entra_client_secret(secret: &[u8]) -> Verdict {
    if secret.len() != 40 || &secret[3..6] != b"8Q~" {
        return Verdict::Fake("not an 8Q~ secret");
    }
    let (signed, check) = secret.split_at(37);
    let digits = encode(u64::from(marvin32(signed, ENTRA_SEED)), ENTRA_ALPHABET, 6);
    if digits[..3] == *check {
        MATCHES
    } else {
        MISMATCH
    }
}

/// "Default0", big-endian.
const ANNOTATED_SEED: u64 = 0x4465_6661_756c_7430;

/// An 84-character annotated key: base64 of 63 bytes; the last 4 characters start the encoding
/// (base64, or base62 in Azure DevOps PATs) of the Marvin32 of the first 60 bytes.
pub(super) fn azure_annotated_key(secret: &[u8]) -> Verdict {
    if secret.len() < 84 {
        // Cut short by its author: no checksum to check, but not evidence of a fake either.
        return Verdict::Unfamiliar(
            "shorter than 84 characters: the checksum is incomplete".into(),
        );
    }
    if secret.len() != 84 {
        return Verdict::Fake("not 84 characters");
    }
    let Ok(mut raw) = STANDARD.decode(secret) else {
        return Verdict::Fake("not base64");
    };
    raw.resize(64, 0);
    let sum = marvin32(&raw[..60], ANNOTATED_SEED).to_le_bytes();
    let check = &secret[80..];
    let b64 = base64::engine::general_purpose::STANDARD.encode(sum);
    let b62 = encode(u64::from(u32::from_be_bytes(sum)), BASE62, 0);
    if b64.as_bytes().starts_with(check) || b62.starts_with(check) {
        MATCHES
    } else {
        MISMATCH
    }
}

fn base32_lower(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = match c {
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Azure DevOps' 52-character PATs: 32 base32 bytes where bytes 2, 7, 8 and 22 hold the CRC-32 of the
/// other 28, XORed with a seed for user or application tokens.
pub(super) fn azure_devops_legacy_pat(secret: &[u8]) -> Verdict {
    let Some(b) = base32_lower(secret).filter(|b| b.len() == 32) else {
        return Verdict::Fake("not 52 base32 characters");
    };
    let signed: Vec<u8> = [&b[0..2], &b[3..7], &b[9..22], &b[23..32]].concat();
    let stored = u32::from_le_bytes([b[22], b[8], b[7], b[2]]);
    let crc = crc32fast::hash(&signed);
    if [0xE0B9_692D, 0x1019_F92E].iter().any(|s| crc ^ s == stored) {
        MATCHES
    } else {
        MISMATCH
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A `<prefix>_<random><checksum>` token, built at run time so no token literal sits in src/.
    pub fn crc_token(prefix: &str, random: &str) -> String {
        let c = base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
        format!("{prefix}_{random}{}", String::from_utf8(c).unwrap())
    }

    pub fn flip_last(s: &str) -> Vec<u8> {
        let mut b = s.as_bytes().to_vec();
        let last = b.len() - 1;
        b[last] = if b[last] == b'A' { b'B' } else { b'A' };
        b
    }

    #[test]
    fn crc32_base62_tails_of_any_length() {
        let good = crc_token("ghp", "Zq3xT0bW9mYk2LsV8nRf4HcJ1pDgA7");
        assert_eq!(crc32_base62_tail(good.as_bytes()), MATCHES);
        assert_eq!(crc32_base62_tail(&flip_last(&good)), MISMATCH);
        assert!(matches!(crc32_base62_tail(b"ghp_short"), Verdict::Fake(_)));
        let long = crc_token(
            "ghr",
            "Dy4fidJzPchISqjB8meqjQ53ugPn5k47wSwiDGbfZr47ic2Ve9PKvHskfFajGpTO2H",
        );
        assert_eq!(crc32_base62_tail(long.as_bytes()), MATCHES);
    }

    #[test]
    fn base62_pads() {
        assert_eq!(base62(0, 6), b"000000");
        assert_eq!(base62(61, 2), b"0z");
        assert_eq!(base62(62, 2), b"10");
    }

    #[test]
    fn bech32_checksum() {
        // BIP-173's valid test vectors, and one with a changed character.
        assert_eq!(bech32(b"A12UEL5L"), MATCHES);
        assert_eq!(
            bech32(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"),
            MATCHES
        );
        assert_eq!(
            bech32(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"),
            MISMATCH
        );
        assert_eq!(bech32(b"A12UEl5L"), MISMATCH);
    }

    pub fn gitlab_token(prefix: &str, payload: &str) -> String {
        let len = String::from_utf8(encode(payload.len() as u64, BASE36, 2)).unwrap();
        let signed = format!("{prefix}-{payload}.01.{len}");
        let crc = String::from_utf8(encode(
            u64::from(crc32fast::hash(signed.as_bytes())),
            BASE36,
            7,
        ))
        .unwrap();
        format!("{signed}{crc}")
    }

    #[test]
    fn gitlab_routable_checksum_and_length() {
        let tok = gitlab_token("glpat", "kQ8vNw3Lx0Tz-p7RjYc2bF9hM1sD5gUe");
        assert_eq!(gitlab_routable(tok.as_bytes()), MATCHES);
        assert_eq!(gitlab_routable(&flip_last(&tok)), MISMATCH);
        // One dot: the version and checksum run together, as an early description had it.
        let one_dot = tok.replacen(".01.", ".01", 1);
        assert!(matches!(
            gitlab_routable(one_dot.as_bytes()),
            Verdict::Unfamiliar(_)
        ));
    }

    #[test]
    fn atlassian_and_cloudflare_crc() {
        let body = ["ATATT3xFfGF0", &"Qz8vNw3Lx0Tzp7RjYc2bF9hM1sD5gUe".repeat(6)].concat();
        let tok = format!(
            "{body}={:08X}",
            crc32fast::hash(format!("{body}=").as_bytes())
        );
        assert_eq!(atlassian(tok.as_bytes()), MATCHES);
        assert_eq!(atlassian(&flip_last(&tok)), MISMATCH);
        let random = "Qz8vNw3Lx0Tzp7RjYc2bF9hM1sD5gUeK4aWq6nBt";
        let cf = format!("cfut_{random}{:08x}", crc32fast::hash(random.as_bytes()));
        assert_eq!(cloudflare(cf.as_bytes()), MATCHES);
        assert_eq!(cloudflare(&flip_last(&cf)), MISMATCH);
    }

    #[test]
    fn marvin32_reference_vectors() {
        // The .NET reference vectors (seed 0x004FB61A001BDBCC): Marvin64 30ED35C1_00CD3C7D for the
        // empty input, 48E73FC7_7D75DDC1 for 0xAF; Marvin32 folds the halves with XOR.
        let seed = 0x004f_b61a_001b_dbcc;
        assert_eq!(marvin32(b"", seed), 0x30ed_35c1 ^ 0x00cd_3c7d);
        assert_eq!(marvin32(&[0xaf], seed), 0x48e7_3fc7 ^ 0x7d75_ddc1);
        assert_eq!(marvin32(&[0x37, 0xf4, 0x95], seed), 0x6b3c_8b90);
        assert_eq!(
            marvin32(&[0x09, 0x32, 0xe6, 0x24, 0x6c, 0x47, 0xf5, 0x00], seed),
            0x9121_d95d
        );
    }

    pub fn entra_secret(head: &str) -> String {
        let digits = encode(
            u64::from(marvin32(head.as_bytes(), ENTRA_SEED)),
            ENTRA_ALPHABET,
            6,
        );
        format!("{head}{}", String::from_utf8(digits[..3].to_vec()).unwrap())
    }

    #[test]
    fn entra_checksum() {
        let tok = entra_secret(&["Ab1", "8Q~", "pW3xLk9vR2tZq7YmN0cH5sJd8fGb4uE"].concat());
        assert_eq!(tok.len(), 40);
        assert_eq!(entra_client_secret(tok.as_bytes()), MATCHES);
        assert_eq!(entra_client_secret(&flip_last(&tok)), MISMATCH);
    }

    pub fn annotated_key(random52: &str, tail: &str) -> String {
        let head = format!("{random52}{tail}");
        assert_eq!(head.len(), 80);
        let mut raw = STANDARD.decode(format!("{head}AAAA")).unwrap();
        raw.resize(64, 0);
        let sum = marvin32(&raw[..60], ANNOTATED_SEED).to_le_bytes();
        let b64 = base64::engine::general_purpose::STANDARD.encode(sum);
        format!("{head}{}", &b64[..4])
    }

    #[test]
    fn annotated_key_checksum() {
        let key = annotated_key(
            "Qz8vNw3Lx0Tzp7RjYc2bF9hM1sD5gUeK4aWq6nBtQz8vNw3Lx0Tz",
            "JQQJ99BFACYeBjFXJ3w3AAALACOG",
        );
        assert_eq!(azure_annotated_key(key.as_bytes()), MATCHES);
        assert_eq!(azure_annotated_key(&flip_last(&key)), MISMATCH);
        assert!(matches!(
            azure_annotated_key(&key.as_bytes()[..83]),
            Verdict::Unfamiliar(_)
        ));
    }

    pub fn devops_pat(seed: u32, fill: &[u8; 28]) -> String {
        let crc = crc32fast::hash(fill) ^ seed;
        let c = crc.to_le_bytes();
        let mut b = Vec::with_capacity(32);
        b.extend_from_slice(&fill[0..2]);
        b.push(c[3]);
        b.extend_from_slice(&fill[2..6]);
        b.push(c[2]);
        b.push(c[1]);
        b.extend_from_slice(&fill[6..19]);
        b.push(c[0]);
        b.extend_from_slice(&fill[19..28]);
        let mut out = String::new();
        let (mut acc, mut bits) = (0u64, 0);
        for byte in b {
            acc = (acc << 8) | u64::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(
                    b"abcdefghijklmnopqrstuvwxyz234567"[((acc >> bits) & 31) as usize] as char,
                );
            }
        }
        if bits > 0 {
            out.push(
                b"abcdefghijklmnopqrstuvwxyz234567"[((acc << (5 - bits)) & 31) as usize] as char,
            );
        }
        out
    }

    #[test]
    fn devops_legacy_crc() {
        let fill = *b"k3Jq9ZpL0vRtX7mWcY2bN8sHdF4g";
        let pat = devops_pat(0xE0B9_692D, &fill);
        assert_eq!(pat.len(), 52);
        assert_eq!(azure_devops_legacy_pat(pat.as_bytes()), MATCHES);
        let wrong = devops_pat(0x1234_5678, &fill);
        assert_eq!(azure_devops_legacy_pat(wrong.as_bytes()), MISMATCH);
    }
}
