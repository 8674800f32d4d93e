//! A finding: one secret at one location, with the facts reports, baselines and providers need.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::Located;
use crate::path_class::{self, PathClass};
use crate::rules::{Confidence, Rule, Severity};

/// One secret at one location. `secret` and `pair` hold plaintext in memory only; every report goes
/// through [`redact`] unless the user asked for `--show-secrets`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub provider: String,
    pub description: String,
    pub severity: Severity,
    /// Path relative to the scanned root (or the path in the commit, for history findings).
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub secret: String,
    /// The companion secret of a paired rule (e.g. AWS's secret access key).
    pub pair: Option<String>,
    pub secret_sha256: String,
    pub fingerprint: String,
    /// How sure keysweep is that this is a real credential, and why when it is not sure.
    pub confidence: Confidence,
    pub confidence_reason: Option<String>,
    /// Facts read from the secret offline (a JWT's `exp`, `iss`, `role`); never the secret itself.
    pub details: BTreeMap<String, String>,
    /// Test, documentation or example file, by its path.
    pub path_class: Option<PathClass>,
    pub commit: Option<CommitInfo>,
    pub verification: Option<Verification>,
    /// History scans: where the secret is still exposed, and when it left HEAD.
    pub exposure: Option<crate::source::git::exposure::Exposure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// RFC 3339.
    pub date: String,
}

/// What a provider's answer means for a secret. `invalid`, `revoked` and `expired` are the dead
/// states: the provider refused the secret, and said why when it could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Live,
    /// Refused: unknown to the provider, or dead for a reason it does not say.
    Invalid,
    Revoked,
    Expired,
    /// No clear answer: rate limited after the allowed waits, a 5xx, an unexpected answer.
    Unknown,
    /// The request could not complete (timeout, connection, TLS) or the answer was malformed.
    Error,
    /// Not asked: no verifier for the rule, or asking would consume the secret.
    NotChecked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Invalid => "invalid",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
            Status::Unknown => "unknown",
            Status::Error => "error",
            Status::NotChecked => "not_checked",
        }
    }

    /// Refused by the provider, whatever the reason.
    pub fn is_dead(self) -> bool {
        matches!(self, Status::Invalid | Status::Revoked | Status::Expired)
    }
}

/// What a provider said about a secret. Never holds the secret itself, nor free text from the
/// provider beyond short codes that were checked to be free of secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub status: Status,
    /// The provider's own word, e.g. `token_revoked`, `invalid_auth`, `HTTP 401`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Team, user, login, account: whoever the secret belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// RFC 3339 (or a date) when the provider says when the secret expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The provider says the secret does not expire.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub never_expires: bool,
    /// When the provider was asked (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
}

impl Verification {
    pub fn new(status: Status) -> Verification {
        Verification {
            status,
            detail: None,
            identity: None,
            scopes: None,
            expires_at: None,
            never_expires: false,
            checked_at: None,
        }
    }

    pub fn with_detail(status: Status, detail: impl Into<String>) -> Verification {
        Verification {
            detail: Some(detail.into()),
            ..Verification::new(status)
        }
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Stable across edits that move the secret within its file: it depends on the rule, the path and the
/// secret (and its companion), never on line numbers or commits.
pub fn fingerprint(rule_id: &str, file: &str, secret: &str, pair: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(file.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    if let Some(p) = pair {
        h.update([0]);
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// A redacted form that keeps enough of the start to recognise the kind (`xoxb-1***`) and never
/// more than a quarter of the secret.
pub fn redact(secret: &str) -> String {
    let keep = (secret.chars().count() / 4).min(6);
    let head: String = secret.chars().take(keep).collect();
    format!("{head}***")
}

impl Finding {
    /// A finding for a located match of `rule` in `file` (optionally at a commit).
    pub fn new(rule: &Rule, loc: Located, file: &str, commit: Option<CommitInfo>) -> Finding {
        Finding {
            rule_id: rule.id.clone(),
            provider: rule.provider.clone(),
            description: rule.description.clone(),
            severity: rule.severity,
            file: file.to_string(),
            line: loc.line,
            column: loc.column,
            end_line: loc.end_line,
            end_column: loc.end_column,
            secret_sha256: sha256_hex(loc.m.secret.as_bytes()),
            fingerprint: fingerprint(&rule.id, file, &loc.m.secret, loc.m.pair.as_deref()),
            confidence: loc.m.confidence,
            confidence_reason: loc.m.confidence_reason,
            details: {
                let mut d = loc.m.details;
                if let Some(l) = &rule.lifetime {
                    d.insert("lifetime".into(), l.clone());
                }
                d
            },
            path_class: path_class::classify(file),
            secret: loc.m.secret,
            pair: loc.m.pair,
            commit,
            verification: None,
            exposure: None,
        }
    }

    /// The secret as reports show it.
    pub fn shown_secret(&self, show: bool) -> String {
        if show {
            self.secret.clone()
        } else {
            redact(&self.secret)
        }
    }

    pub fn shown_pair(&self, show: bool) -> Option<String> {
        self.pair
            .as_ref()
            .map(|p| if show { p.clone() } else { redact(p) })
    }

    /// Sort key for deterministic output whatever the thread count.
    pub fn sort_key(&self) -> (&str, Option<&str>, usize, usize, &str) {
        (
            &self.file,
            self.commit.as_ref().map(|c| c.commit.as_str()),
            self.line,
            self.column,
            &self.rule_id,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_at_most_a_quarter() {
        assert_eq!(
            redact("xoxb-1234567890-abcdefghijklmnopqrstuvwx"),
            "xoxb-1***"
        );
        assert_eq!(redact("AKIA2345"), "AK***");
        assert_eq!(redact("abc"), "***");
    }

    #[test]
    fn fingerprint_ignores_position_but_not_path_or_secret() {
        let a = fingerprint("r", "a.txt", "s1", None);
        assert_eq!(a, fingerprint("r", "a.txt", "s1", None));
        assert_ne!(a, fingerprint("r", "b.txt", "s1", None));
        assert_ne!(a, fingerprint("r", "a.txt", "s2", None));
        assert_ne!(a, fingerprint("q", "a.txt", "s1", None));
        assert_eq!(a.len(), 32);
    }
}
