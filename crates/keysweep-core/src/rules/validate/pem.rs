//! Private key blocks (PEM, OpenSSH, OpenPGP armor), however they were written down: on lines, with
//! `\n` escapes in a string, or flattened onto one line with spaces. The body of a real key always
//! decodes; what it decodes to says which structure it is. A body that is not base64 was typed by
//! hand; an unencrypted OpenSSH key whose two check integers differ was edited.

use base64::Engine as _;

use super::{STANDARD, Verdict};

/// The base64 body between the armor lines, without header lines (`Proc-Type: …`), line breaks
/// (real or escaped) or an OpenPGP armor checksum line. Also whether a header said `ENCRYPTED`.
fn body(secret: &[u8]) -> (Vec<u8>, bool) {
    let text = String::from_utf8_lossy(secret);
    let inner = text
        .strip_prefix("-----BEGIN ")
        .and_then(|t| t.split_once("-----"))
        .map_or("", |(_, rest)| rest);
    let inner = inner.rsplit_once("-----END ").map_or(inner, |(b, _)| b);
    let inner = inner
        .replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .replace("\\r", "\n");
    let mut encrypted = false;
    let mut out = Vec::new();
    for line in inner.lines() {
        if line.contains(": ") {
            encrypted |= line.contains("ENCRYPTED");
            continue;
        }
        let line: Vec<u8> = line.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        // OpenPGP armor ends with a CRC-24 line `=abcd`.
        if line.len() == 5 && line[0] == b'=' {
            continue;
        }
        out.extend_from_slice(&line);
    }
    (out, encrypted)
}

/// An ASN.1 DER SEQUENCE whose length field covers exactly the data.
fn is_der_sequence(d: &[u8]) -> bool {
    if d.len() < 2 || d[0] != 0x30 {
        return false;
    }
    let (len, head) = match d[1] {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 if d.len() > 2 => (usize::from(d[2]), 3),
        0x82 if d.len() > 3 => (usize::from(u16::from_be_bytes([d[2], d[3]])), 4),
        0x83 if d.len() > 4 => (
            (usize::from(d[2]) << 16) | (usize::from(d[3]) << 8) | usize::from(d[4]),
            5,
        ),
        _ => return false,
    };
    head + len == d.len()
}

fn ssh_string<'a>(d: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let len = u32::from_be_bytes(d.get(*pos..*pos + 4)?.try_into().ok()?) as usize;
    let s = d.get(*pos + 4..(*pos + 4).checked_add(len)?)?;
    *pos += 4 + len;
    Some(s)
}

/// `openssh-key-v1\0`, cipher, kdf, kdf options, key count, public keys, private section.
fn openssh(d: &[u8]) -> Verdict {
    let mut pos = b"openssh-key-v1\0".len();
    let parsed = (|| {
        let cipher = ssh_string(d, &mut pos)?;
        ssh_string(d, &mut pos)?;
        ssh_string(d, &mut pos)?;
        let n = u32::from_be_bytes(d.get(pos..pos + 4)?.try_into().ok()?);
        pos += 4;
        for _ in 0..n.min(16) {
            ssh_string(d, &mut pos)?;
        }
        let private = ssh_string(d, &mut pos)?;
        Some((cipher, private))
    })();
    match parsed {
        None => Verdict::Unfamiliar("OpenSSH key structure is truncated".into()),
        Some((b"none", p)) if p.len() >= 8 => {
            if p[..4] == p[4..8] {
                Verdict::Confirmed("OpenSSH key structure and check integers match")
            } else {
                Verdict::Fake("OpenSSH check integers differ")
            }
        }
        Some((b"none", _)) => Verdict::Unfamiliar("OpenSSH private section is empty".into()),
        Some(_) => Verdict::Confirmed("encrypted OpenSSH key structure decodes"),
    }
}

/// An OpenPGP packet of tag 5 (secret key), old or new header format.
fn is_pgp_secret_key(d: &[u8]) -> bool {
    let Some(&b) = d.first() else {
        return false;
    };
    let tag = if b & 0x40 != 0 {
        b & 0x3f
    } else {
        (b >> 2) & 0x0f
    };
    b & 0x80 != 0 && tag == 5
}

pub(super) fn assess(secret: &[u8]) -> Verdict {
    let (b64, encrypted) = body(secret);
    let Ok(der) = STANDARD.decode(&b64) else {
        return Verdict::Fake("key body is not base64");
    };
    if der.starts_with(b"openssh-key-v1\0") {
        openssh(&der)
    } else if encrypted {
        Verdict::Confirmed("encrypted key body decodes")
    } else if is_der_sequence(&der) {
        Verdict::Confirmed("DER structure decodes")
    } else if is_pgp_secret_key(&der) {
        Verdict::Confirmed("OpenPGP secret-key packet decodes")
    } else {
        Verdict::Unfamiliar("key body decodes to an unfamiliar structure".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(d: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(d)
    }

    fn armor(label: &str, body: &str, sep: &str) -> String {
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----{sep}{}{sep}-----END {label}-----",
            lines.join(sep)
        )
    }

    fn der(n: usize) -> Vec<u8> {
        let mut d = vec![0x30, 0x82, (n >> 8) as u8, n as u8];
        d.extend((0..n).map(|i| (i * 131 % 251) as u8));
        d
    }

    #[test]
    fn der_bodies_in_every_layout() {
        let body = b64(&der(600));
        for sep in ["\n", "\\n", " ", "\r\n"] {
            let key = armor("PRIVATE KEY", &body, sep);
            assert_eq!(
                assess(key.as_bytes()),
                Verdict::Confirmed("DER structure decodes"),
                "{sep:?}"
            );
        }
        let truncated = armor("RSA PRIVATE KEY", &b64(&der(600)[..500]), "\n");
        assert!(matches!(
            assess(truncated.as_bytes()),
            Verdict::Unfamiliar(_)
        ));
        let typed = armor(
            "RSA PRIVATE KEY",
            "MIIEpAIBAAKCAQEA7vBq9xL2n0kR5p6V1w3Y7q8T2m9K4j1H6f5G3",
            "\n",
        );
        assert!(matches!(assess(typed.as_bytes()), Verdict::Fake(_)));
    }

    fn openssh_key(check2: u32) -> Vec<u8> {
        let s = |d: &[u8]| {
            let mut v = (d.len() as u32).to_be_bytes().to_vec();
            v.extend_from_slice(d);
            v
        };
        let mut private = 0x5eed_1234u32.to_be_bytes().to_vec();
        private.extend_from_slice(&check2.to_be_bytes());
        private.extend_from_slice(&[7; 64]);
        [
            b"openssh-key-v1\0".to_vec(),
            s(b"none"),
            s(b"none"),
            s(b""),
            1u32.to_be_bytes().to_vec(),
            s(&[9; 51]),
            s(&private),
        ]
        .concat()
    }

    #[test]
    fn openssh_check_integers() {
        let good = armor("OPENSSH PRIVATE KEY", &b64(&openssh_key(0x5eed_1234)), "\n");
        assert!(matches!(assess(good.as_bytes()), Verdict::Confirmed(_)));
        let edited = armor("OPENSSH PRIVATE KEY", &b64(&openssh_key(0x5eed_1235)), "\n");
        assert!(matches!(assess(edited.as_bytes()), Verdict::Fake(_)));
    }

    #[test]
    fn pgp_and_encrypted_headers() {
        let mut packet = vec![0x95, 0x03, 0xc6];
        packet.extend((0..900).map(|i| (i * 7 % 256) as u8));
        let pgp = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n{}\n=Qz8v\n-----END PGP PRIVATE KEY BLOCK-----",
            b64(&packet)
        );
        assert!(matches!(assess(pgp.as_bytes()), Verdict::Confirmed(_)));
        let enc = format!(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0F1E2D3C4B5A69788796A5B4C3D2E1F0\n\n{}\n-----END RSA PRIVATE KEY-----",
            b64(&[0x42; 96])
        );
        assert!(matches!(assess(enc.as_bytes()), Verdict::Confirmed(_)));
    }
}
