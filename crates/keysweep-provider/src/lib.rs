//! keysweep's provider layer, the only crate with an HTTP client: verification (read-only), revocation
//! and rotation of found credentials, with the journal, sinks and recovery files that make actions
//! safe to repeat.
//!
//! A rule of the built-in pack is served by its provider's Rust adapter (flows of more than one
//! request: Slack, GitHub, GitLab, AWS, Twilio, Google rotation) and/or by the declarative
//! `verify`/`revoke` requests in its rule file ([`declarative`]). [`registry`] joins the two;
//! nothing else names an adapter.

pub mod action;
pub mod adapter;
pub mod aws;
pub mod catalog;
pub mod declarative;
pub mod discord;
pub mod endpoint;
pub mod github;
pub mod gitlab;
pub mod google;
pub mod http;
pub mod lookup;
pub mod minted;
pub mod registry;
pub mod slack;
pub mod twilio;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

pub use adapter::{
    Capabilities, Client, Credential, Minted, Provider, RetireRequest, RetireStep, Retired,
    Retirement, Revoked, RotateError, RotateRequest,
};
pub use endpoint::Endpoints;
pub use http::{Clock, Failure, Http, Policy, SystemClock};
use keysweep_core::finding::{Status, Verification};
pub use registry::{Resolved, resolve};

/// What adapters share for one run: one HTTP client (so verification and revocation share rate
/// limits) and the endpoint overrides.
pub struct Context {
    pub http: Http,
    pub endpoints: Endpoints,
    /// AWS accounts never called (canary-token accounts), and whether that list is honoured.
    pub canaries: aws::Canaries,
}

impl Context {
    /// The context of a run: endpoint overrides from `--endpoint` flags and the environment.
    pub fn new(endpoint_flags: &[String], timeout: Duration) -> Result<Context, String> {
        Context::with(
            endpoint_flags,
            Policy::new(timeout.max(Duration::from_millis(1))),
            Arc::new(SystemClock),
        )
    }

    pub fn with(
        endpoint_flags: &[String],
        policy: Policy,
        clock: Arc<dyn Clock>,
    ) -> Result<Context, String> {
        Ok(Context {
            endpoints: Endpoints::from_cli(endpoint_flags, &registry::endpoint_names())?,
            http: Http::with(policy, clock)?,
            canaries: aws::Canaries::default(),
        })
    }

    /// `provider`'s base URL: the user's override, else `default`.
    pub fn base<'a>(&'a self, provider: &str, default: &'a str) -> &'a str {
        self.endpoints.base(provider, default)
    }
}

/// The bases an adapter's requests to `provider` go to, in order: the user's override alone, else
/// `default` and then the pack's `[api] regions` for the provider.
pub fn bases(cx: &Context, provider: &str, default: &str) -> Vec<String> {
    if let Some(url) = cx.endpoints.overridden(provider) {
        return vec![url.to_string()];
    }
    let mut all = vec![default.to_string()];
    if let Some(api) = keysweep_core::rules::embedded_api(provider) {
        all.extend(api.regions.iter().cloned());
    }
    all
}

/// The verification an HTTP failure leaves: rate limits, 5xx and spent budgets mean "unknown", a
/// request that could not complete means "error".
pub fn failed(f: &Failure) -> Verification {
    let status = match f {
        Failure::RateLimited(_) | Failure::Server(_) | Failure::OutOfTime => Status::Unknown,
        Failure::Timeout | Failure::Network(_) => Status::Error,
    };
    Verification::with_detail(status, f.to_string())
}

/// Scopes from a comma-separated header (`X-OAuth-Scopes`): present but empty means "no scopes".
pub fn scopes_header(value: Option<&str>) -> Option<Vec<String>> {
    value.map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| short(s, 64))
            .collect()
    })
}

/// A provider's word, made safe for a report: printable characters only, at most `max` of them. What
/// providers say is hostile input too (a proxy or a WAF may echo the request), so adapters keep only
/// known fields and codes, and [`scrub`] removes the secret from anything they keep.
pub fn short(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    one_line.trim().to_string()
}

/// A short code from a provider (`invalid_auth`, `Bad credentials`): kept only when it looks like a
/// code or a short phrase, never free text that could carry anything.
pub fn code(text: &str) -> Option<String> {
    let t = text.trim();
    let ok = !t.is_empty()
        && t.len() <= 48
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' ' | b':'));
    ok.then(|| t.to_string())
}

/// `text` with every occurrence of the secret (and of any long part of it) replaced.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        out = out.replace(*s, "[secret]");
        // A provider may echo a part: a token without its prefix, a URL's last segment.
        for part in s.split(['/', ':', '@', '?', '=', '&', '.', '-', '_']) {
            if part.len() >= 12 {
                out = out.replace(part, "[secret]");
            }
        }
    }
    out
}

/// A duration in the largest whole unit that fits: `7 days`, `12 hours`, `90 seconds`.
pub fn duration_words(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = match s {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Stamps `v` with the time it was made.
pub fn checked_now(mut v: Verification) -> Verification {
    v.checked_at = Some(now());
    v
}

/// Now, in RFC 3339, UTC.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(Duration::from_secs(7 * 86_400)), "7 days");
        assert_eq!(duration_words(Duration::from_secs(3_600)), "1 hour");
        assert_eq!(duration_words(Duration::from_secs(90)), "90 seconds");
    }

    #[test]
    fn provider_text_is_reduced() {
        assert_eq!(code("invalid_auth"), Some("invalid_auth".into()));
        assert_eq!(code("Bad credentials"), Some("Bad credentials".into()));
        assert_eq!(code("<html>echo xoxb-123</html>"), None);
        let secret = ["xoxb-", "2793640182-", "Qm7Zt2WkP9vXs4LbRn8YcJd3"].concat();
        let said = format!("token {secret} is bad, also Qm7Zt2WkP9vXs4LbRn8YcJd3");
        let clean = scrub(&said, &[&secret]);
        assert!(!clean.contains("Qm7Zt2WkP9vXs4LbRn8YcJd3"), "{clean}");
    }
}
