//! Policy gates: what makes a scan fail (exit 1) for CI and compliance. Without a policy, any
//! finding fails. With one (`[policy]` in keysweep.toml or `--fail-on`/`--max-exposure-days`),
//! only the gates it turns on decide, and each failure names the secret and says why.

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Status, redact};

/// `[policy]` in keysweep.toml; the command-line flags add to it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Any finding fails (the default without a policy).
    #[serde(default)]
    pub fail_on_findings: bool,
    /// A secret verified live fails.
    #[serde(default)]
    pub fail_on_live: bool,
    /// A live secret that the provider says never expires fails.
    #[serde(default)]
    pub fail_on_live_never_expiring: bool,
    /// A secret exposed in the history for more than this many days fails (history scans; measured
    /// from the commit that introduced it to its removal, or to now).
    #[serde(default)]
    pub max_exposure_days: Option<u32>,
    /// A refresh token found in the same file as an access token it renews fails (whoever has both
    /// holds the credential for as long as the refresh token lives).
    #[serde(default)]
    pub fail_on_refresh_with_access: bool,
}

impl Policy {
    /// Whether any gate is on.
    pub fn is_set(&self) -> bool {
        *self != Policy::default()
    }

    /// The policy when nothing was configured: every finding fails.
    pub fn default_gate() -> Policy {
        Policy {
            fail_on_findings: true,
            ..Policy::default()
        }
    }
}

/// One failed gate: which secret, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub gate: String,
    pub rule_id: String,
    /// Redacted.
    pub secret: String,
    pub secret_sha256: String,
    /// `file:line` of one place it was found.
    pub at: String,
    pub reason: String,
}

/// Refresh-token rules and the access-token rules they renew.
const RENEWS: &[(&str, &[&str])] = &[
    (
        "slack-refresh-token",
        &["slack-rotating-bot-token", "slack-rotating-user-token"],
    ),
    ("github-refresh-token", &["github-user-to-server-token"]),
    ("google-oauth-refresh-token", &["google-oauth-access-token"]),
    ("digitalocean-refresh-token", &["digitalocean-oauth-token"]),
];

/// Days a finding's secret has been exposed: from its commit's date to its removal, or to `now`.
pub fn exposure_days(f: &Finding, now: time::OffsetDateTime) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let since = time::OffsetDateTime::parse(&f.commit.as_ref()?.date, &Rfc3339).ok()?;
    let until = f
        .exposure
        .as_ref()
        .and_then(|e| e.removed_date.as_deref())
        .and_then(|d| time::OffsetDateTime::parse(d, &Rfc3339).ok())
        .unwrap_or(now);
    Some((until - since).whole_days())
}

/// The gates `policy` fails on, one violation per secret and gate, in finding order.
pub fn check(policy: &Policy, findings: &[Finding], now: time::OffsetDateTime) -> Vec<Violation> {
    let mut out: Vec<Violation> = Vec::new();
    let mut push = |gate: &str, f: &Finding, reason: String| {
        if out
            .iter()
            .any(|v| v.gate == gate && v.secret_sha256 == f.secret_sha256 && v.rule_id == f.rule_id)
        {
            return;
        }
        out.push(Violation {
            gate: gate.to_string(),
            rule_id: f.rule_id.clone(),
            secret: redact(&f.secret),
            secret_sha256: f.secret_sha256.clone(),
            at: format!("{}:{}", f.file, f.line),
            reason,
        });
    };
    for f in findings {
        let v = f.verification.as_ref();
        let live = v.is_some_and(|v| v.status == Status::Live);
        if policy.fail_on_findings {
            push("findings", f, "a secret was found".into());
        }
        if policy.fail_on_live && live {
            push("live", f, "the provider says it is live".into());
        }
        if policy.fail_on_live_never_expiring && live && v.is_some_and(|v| v.never_expires) {
            push(
                "live-never-expiring",
                f,
                "live, and the provider says it never expires".into(),
            );
        }
        if let (Some(max), Some(days)) = (policy.max_exposure_days, exposure_days(f, now))
            && days > i64::from(max)
        {
            push(
                "max-exposure-days",
                f,
                format!("exposed for {days} days (the policy allows {max})"),
            );
        }
        if policy.fail_on_refresh_with_access
            && let Some((_, renews)) = RENEWS.iter().find(|(r, _)| *r == f.rule_id)
            && let Some(access) = findings.iter().find(|g| {
                renews.contains(&g.rule_id.as_str())
                    && g.file == f.file
                    && g.commit.as_ref().map(|c| &c.commit) == f.commit.as_ref().map(|c| &c.commit)
            })
        {
            push(
                "refresh-with-access",
                f,
                format!(
                    "found in the same file as the {} it renews (line {})",
                    access.rule_id, access.line
                ),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{CommitInfo, Verification};

    fn finding(rule: &str, file: &str, status: Status, never: bool, date: &str) -> Finding {
        let secret = format!("{rule}-{}", ["Zq3xT0bW9mY", "k2LsV8nRf4H"].concat());
        Finding {
            rule_id: rule.into(),
            provider: "p".into(),
            description: "d".into(),
            severity: crate::rules::Severity::High,
            file: file.into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            secret_sha256: crate::finding::sha256_hex(secret.as_bytes()),
            fingerprint: String::new(),
            secret,
            pair: None,
            commit: Some(CommitInfo {
                commit: "c1".into(),
                author: "a".into(),
                email: "e".into(),
                date: date.into(),
            }),
            verification: Some(Verification {
                never_expires: never,
                ..Verification::new(status)
            }),
            exposure: None,
            confidence: crate::rules::Confidence::High,
            confidence_reason: None,
            details: Default::default(),
            path_class: None,
        }
    }

    #[test]
    fn each_gate_names_the_secret_and_why() {
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let findings = vec![
            finding("a", "x.env", Status::Live, true, "2025-12-01T00:00:00Z"),
            finding("b", "y.env", Status::Revoked, false, "2020-01-01T00:00:00Z"),
            finding(
                "slack-refresh-token",
                "z.env",
                Status::NotChecked,
                false,
                "2025-12-20T00:00:00Z",
            ),
            finding(
                "slack-rotating-bot-token",
                "z.env",
                Status::Live,
                false,
                "2025-12-20T00:00:00Z",
            ),
        ];
        assert_eq!(check(&Policy::default_gate(), &findings, now).len(), 4);
        let p = Policy {
            fail_on_live_never_expiring: true,
            max_exposure_days: Some(365),
            fail_on_refresh_with_access: true,
            ..Policy::default()
        };
        let v = check(&p, &findings, now);
        let gates: Vec<(&str, &str)> = v
            .iter()
            .map(|v| (v.gate.as_str(), v.rule_id.as_str()))
            .collect();
        assert_eq!(
            gates,
            [
                ("live-never-expiring", "a"),
                ("max-exposure-days", "b"),
                ("refresh-with-access", "slack-refresh-token"),
            ]
        );
        assert!(v[1].reason.contains("2192 days"), "{}", v[1].reason);
        assert!(
            v.iter()
                .all(|v| v.secret.ends_with("***") && !v.secret.contains("k2LsV8"))
        );
        // Only live findings fail a live gate; no gate, no failure.
        let live = Policy {
            fail_on_live: true,
            ..Policy::default()
        };
        assert_eq!(check(&live, &findings, now).len(), 2);
        assert!(check(&Policy::default(), &findings, now).is_empty());
    }
}
