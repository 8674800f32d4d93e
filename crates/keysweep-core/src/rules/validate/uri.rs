//! Passwords in connection URIs (`postgres://user:password@host`). Most such URIs in public code are
//! documentation (`user:password@host:port`), tool defaults (`guest:guest`, `postgres:postgres`) or
//! local development databases; what is left is a password for a reachable host. No password can be
//! checked offline, so those stay at medium confidence, except Upstash's, whose password encodes its
//! database.

use base64::Engine as _;
use percent_encoding::percent_decode_str;

use super::{URL_SAFE, Verdict};
use crate::engine::filters;

/// Passwords that are defaults, dummies or the name of the database engine.
const DUMMY_PASSWORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "root",
    "toor",
    "admin",
    "administrator",
    "postgres",
    "postgresql",
    "pgsql",
    "mysql",
    "mariadb",
    "mongo",
    "mongodb",
    "redis",
    "rabbitmq",
    "amqp",
    "guest",
    "test",
    "testing",
    "tester",
    "demo",
    "user",
    "username",
    "default",
    "changeme",
    "letmein",
    "qwerty",
    "sa",
    "dev",
    "development",
    "local",
    "app",
    "db",
    "database",
    "foo",
    "bar",
    "baz",
    "pass123",
    "password1",
    "password123",
    "p@ssw0rd",
    "passw0rd",
    "mypassword",
    "mysecretpassword",
    "secretpassword",
    "123",
    "1234",
    "12345",
    "123456",
    "12345678",
    "xxx",
];

/// "Password" in the languages of the placeholders seen in public code (`SUA_SENHA`,
/// `your_password`): a value that spells one is a stand-in.
const PASSWORD_WORDS: &[&str] = &[
    "senha",
    "contrasena",
    "contraseña",
    "passwort",
    "motdepasse",
    "mot_de_passe",
    "your_password",
    "yourpassword",
    "your-password",
];

fn decoded(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Hosts that only mean something on the author's machine or in a compose file: loopback, reserved
/// documentation names, single-label service names (`db`, `postgres`).
fn is_local_host(host: &str) -> bool {
    let h = host
        .trim_matches(|c| c == '[' || c == ']')
        .to_ascii_lowercase();
    h == "localhost"
        || h.starts_with("127.")
        || h == "0.0.0.0"
        || h == "::1"
        || h == "host.docker.internal"
        || [
            ".local",
            ".localhost",
            ".test",
            ".example",
            ".invalid",
            ".internal",
        ]
        .iter()
        .any(|s| h.ends_with(s))
        || !h.contains('.')
}

/// A generated password rather than a word or a test value: long, of three character classes or more,
/// random enough.
fn looks_generated(p: &str) -> bool {
    let classes = [
        p.bytes().any(|b| b.is_ascii_lowercase()),
        p.bytes().any(|b| b.is_ascii_uppercase()),
        p.bytes().any(|b| b.is_ascii_digit()),
        p.bytes().any(|b| !b.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&c| c)
    .count();
    p.len() >= 16 && classes >= 3 && filters::entropy(p.as_bytes()) >= 3.5
}

/// Upstash passwords are base64url of `0x01`, the database number (big-endian u16, also the number
/// ending the host's first label), then the key material.
fn upstash_password(host: &str, pass: &str) -> bool {
    let Some(number) = host
        .split('.')
        .next()
        .and_then(|label| label.rsplit('-').next())
        .and_then(|n| n.parse::<u16>().ok())
    else {
        return false;
    };
    URL_SAFE.decode(pass).is_ok_and(|raw| {
        raw.len() > 32 && raw[0] == 1 && u16::from_be_bytes([raw[1], raw[2]]) == number
    })
}

/// `(user, password, host)` from `scheme://user:password@host…`, or from a JDBC-style
/// `scheme://host/?user=…&password=…`.
fn parts(text: &str) -> Option<(&str, &str, &str)> {
    let (_, rest) = text.split_once("://")?;
    if let Some((userinfo, host)) = rest.rsplit_once('@') {
        let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        return Some((user, pass, host));
    }
    let host = rest.split(['/', '?']).next()?;
    let query = rest.split_once('?')?.1;
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    Some((param("user").unwrap_or_default(), param("password")?, host))
}

pub(super) fn assess(whole: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(whole);
    let Some((user, pass, host)) = parts(&text) else {
        return Verdict::Unfamiliar("no user information".into());
    };
    let host = host.split([':', '/', '?']).next().unwrap_or(host);
    let (user, pass) = (decoded(user), decoded(pass));
    let lower = pass.to_ascii_lowercase();
    if pass.is_empty() {
        return Verdict::Fake("no password");
    }
    if filters::is_placeholder(&pass)
        || filters::is_placeholder(&user)
        || pass.starts_with('$')
        || pass.contains(['{', '}', '[', ']'])
        || pass.contains("***")
        || pass.bytes().all(|b| b == b'*')
        || pass.contains("%s")
    {
        return Verdict::Fake("placeholder credentials");
    }
    if DUMMY_PASSWORDS.contains(&lower.as_str()) || PASSWORD_WORDS.iter().any(|w| lower.contains(w))
    {
        return Verdict::Fake("default or dummy password");
    }
    if filters::is_placeholder(host) || host.eq_ignore_ascii_case("host") {
        return Verdict::Fake("placeholder host");
    }
    let same = lower == user.to_ascii_lowercase();
    if is_local_host(host) {
        return if looks_generated(&pass) && !same {
            Verdict::Weak("password for a local or private host".into())
        } else {
            Verdict::Fake("local development credentials")
        };
    }
    if same {
        return Verdict::Weak("password equals the user name".into());
    }
    if host.to_ascii_lowercase().ends_with(".upstash.io") && upstash_password(host, &pass) {
        return Verdict::Confirmed("Upstash password encodes the host's database");
    }
    Verdict::Unfamiliar("password in a connection URI; not checkable offline".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(uri: &str) -> Verdict {
        assess(uri.as_bytes())
    }

    #[test]
    fn placeholders_defaults_and_local_databases_are_dropped() {
        for uri in [
            "postgresql://user:password@localhost",
            "postgresql://username:password@host",
            "mysql://root:root@localhost",
            "mysql://root:@localhost",
            "mongodb+srv://<db_username>:<db_password>@cluster0.ab1cd.mongodb.net",
            "postgresql://postgres.abcdefghij:[password]@aws-0-eu.pooler.supabase.com",
            "amqps://guest:guest@pulse.mozilla.org",
            "rediss://default:${REDIS_PASSWORD}@cache.acme.io",
            "postgres://app:****@db.acme-corp.net",
            "postgres://app:devpass@db",
            "postgresql://postgres.vcvvqxnsorwzyxyoiv:SUA_SENHA@aws-0-sa-east-1.pooler.supabase.com",
        ] {
            assert!(matches!(v(uri), Verdict::Fake(_)), "{uri}");
        }
    }

    /// `scheme://user:password@host`, assembled at run time so that no credential-shaped literal sits
    /// in src/.
    fn uri(scheme: &str, user: &str, pass: &str, host: &str) -> String {
        [scheme, "://", user, ":", pass, "@", host].concat()
    }

    #[test]
    fn real_looking_passwords_are_reported() {
        let atlas = uri(
            "mongodb+srv",
            "shopapp",
            "Harbor4lantern",
            "cluster0.q1w2e3.mongodb.net",
        );
        assert!(matches!(v(&atlas), Verdict::Unfamiliar(_)));
        let starred = uri(
            "postgresql",
            "postgres.qwhzmvlxkrtbnpjycafd",
            "shop*219",
            "aws-0-us-east-2.pooler.supabase.com",
        );
        assert!(matches!(v(&starred), Verdict::Unfamiliar(_)));
        let encoded = uri(
            "postgresql",
            "postgres.qwhzmvlxkrtbnpjycafd",
            "G%40lena7731",
            "aws-1-sa-east-1.pooler.supabase.com",
        );
        assert!(matches!(v(&encoded), Verdict::Unfamiliar(_)));
        let local = uri("mysql", "root", "Tq7wLp2xVz9cRk4mNb", "localhost");
        assert!(matches!(v(&local), Verdict::Weak(_)));
        // A weak password on a real host is still a credential.
        let weak = uri(
            "mongodb+srv",
            "walnut42",
            "walnut42",
            "cluster0.q1w2e3.mongodb.net",
        );
        assert!(matches!(v(&weak), Verdict::Weak(_)));
        let jdbc = [
            "jdbc:snowflake://XY1.snowflakecomputing.com/?user=loader&password=",
            "Brick7Harbor",
        ]
        .concat();
        assert!(matches!(v(&jdbc), Verdict::Unfamiliar(_)));
        let template =
            "jdbc:snowflake://XY1.snowflakecomputing.com/?user=loader&password={password}";
        assert!(matches!(v(template), Verdict::Fake(_)));
    }

    #[test]
    fn upstash_passwords_encode_their_database() {
        let mut raw = vec![1u8, 0x5b, 0x29, 0, 2, 0x23];
        raw.extend_from_slice(b"p1aef70f820220f0ebd0ae8e97be10e35p10");
        let pass = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
        let uri = format!("rediss://default:{pass}@moving-mutt-23337.upstash.io");
        assert!(matches!(v(&uri), Verdict::Confirmed(_)));
        let other = format!("rediss://default:{pass}@moving-mutt-23338.upstash.io");
        assert!(matches!(v(&other), Verdict::Unfamiliar(_)));
    }
}
