//! Provider adapters: ask a secret's own provider whether it is live, revoke it, rotate it.
//!
//! Each adapter is one module; [`REGISTRY`] is the one place that says which rule ids an adapter
//! serves. An adapter knows the secret and its provider's API, never where the secret was found.

pub mod endpoint;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod slack;

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;

use crate::finding::{Finding, Status, Verification};
pub use endpoint::Endpoints;
pub use http::{Failure, Http};

/// Rule id -> adapter. Rules not listed here are reported `not_checked` by `--verify`. Adapters
/// decide what to do from the secret's shape (a Slack refresh token and a bot token share one
/// adapter but allow different actions). A test checks that every id here exists in the rule pack.
pub const REGISTRY: &[(&str, &dyn Provider)] = &[
    ("slack-bot-token", &slack::Slack),
    ("slack-user-token", &slack::Slack),
    ("slack-app-token", &slack::Slack),
    ("slack-rotating-bot-token", &slack::Slack),
    ("slack-rotating-user-token", &slack::Slack),
    ("slack-refresh-token", &slack::Slack),
    ("slack-legacy-token", &slack::Slack),
    ("slack-legacy-bot-token", &slack::Slack),
    ("slack-legacy-workspace-access-token", &slack::Slack),
    ("slack-legacy-workspace-refresh-token", &slack::Slack),
    ("slack-webhook-url", &slack::Slack),
    ("slack-workflow-webhook-url", &slack::Slack),
    ("slack-trigger-webhook-url", &slack::Slack),
    ("github-pat", &github::Github),
    ("github-fine-grained-pat", &github::Github),
    ("github-oauth-token", &github::Github),
    ("github-user-to-server-token", &github::Github),
    ("github-installation-token", &github::Github),
    ("github-refresh-token", &github::Github),
    ("gitlab-pat", &gitlab::Gitlab),
    ("gitlab-pat-routable", &gitlab::Gitlab),
];

#[cfg(test)]
mod registry_tests {
    #[test]
    fn every_registered_rule_exists_in_the_pack() {
        let pack = crate::rules::default_rules().unwrap();
        for (id, _) in super::REGISTRY {
            assert!(
                pack.iter().any(|r| r.id == *id),
                "REGISTRY names unknown rule {id}"
            );
        }
    }

    #[test]
    fn a_secret_of_another_shape_is_never_sent() {
        use crate::finding::Status;
        // What a config's custom rule reusing a registered id could match: an AWS key id, a Slack
        // token under a GitHub rule.
        let aws = ["AKIA", "QX7WJ2MZ4KTB6RVN"].concat();
        let slack = ["xoxb-", "2793640182-", "Qm7Zt2WkP9vXs4LbRn8YcJd3"].concat();
        assert!(super::for_secret("github-pat", &aws).is_none());
        assert!(super::for_secret("github-pat", &slack).is_none());
        assert!(super::for_secret("slack-bot-token", &aws).is_none());
        assert!(super::for_secret("gitlab-pat", &slack).is_none());
        assert!(super::for_secret("slack-bot-token", &slack).is_some());
        // Were either sent, the closed loopback port would answer `error`, not `not_checked`.
        let flags = vec![
            "github=http://127.0.0.1:9".to_string(),
            "gitlab=http://127.0.0.1:9".to_string(),
        ];
        let cx = super::Context::new(&flags, 1).unwrap();
        let v = super::verify_all(&cx, &[("github-pat", &aws), ("gitlab-pat", &slack)]);
        for v in v {
            assert_eq!(v.status, Status::NotChecked, "{v:?}");
            assert!(v.detail.unwrap().contains("not sent"));
        }
    }
}

pub fn for_rule(rule_id: &str) -> Option<&'static dyn Provider> {
    REGISTRY
        .iter()
        .find(|(id, _)| *id == rule_id)
        .map(|(_, p)| *p)
}

/// The adapter that may receive `secret`: its rule's, and only if the secret has that provider's
/// shape. A config's custom rule may reuse a registered id (with `extend_default = false` or after
/// `disable`), and its matches must not be sent to the provider that id names.
pub fn for_secret(rule_id: &str, secret: &str) -> Option<&'static dyn Provider> {
    for_rule(rule_id).filter(|p| p.owns(secret))
}

/// What an adapter can do with one secret (decided by the secret's shape: a Slack refresh token and
/// a Slack bot token are served by one adapter but allow different things).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub verify: bool,
    pub revoke: bool,
    pub rotate: bool,
}

/// How one revocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// The provider confirmed the secret is revoked.
    Revoked,
    /// The provider accepted the request (GitHub's 202); confirm by verifying again.
    Requested,
    /// The provider says the secret was already dead.
    AlreadyDead(String),
    Failed(String),
}

impl Revoked {
    pub fn outcome(&self) -> &'static str {
        match self {
            Revoked::Revoked => "revoked",
            Revoked::Requested => "requested",
            Revoked::AlreadyDead(_) => "already_dead",
            Revoked::Failed(_) => "failed",
        }
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            Revoked::AlreadyDead(d) | Revoked::Failed(d) => Some(d),
            _ => None,
        }
    }
}

/// A freshly minted credential: the JSON handed to the sink, the secrets in it (for hashing), and a
/// line that is safe to print.
#[derive(Debug)]
pub struct Minted {
    pub payload: serde_json::Value,
    pub secrets: Vec<String>,
    pub summary: String,
}

/// What adapters share for one run.
pub struct Context {
    pub http: Http,
    pub endpoints: Endpoints,
}

impl Context {
    pub fn new(endpoint_flags: &[String], timeout_secs: u64) -> Result<Context> {
        Ok(Context {
            endpoints: Endpoints::from_cli(endpoint_flags)?,
            http: Http::new(Duration::from_secs(timeout_secs.max(1)))?,
        })
    }
}

pub trait Provider: Sync {
    /// Also the key of `--endpoint` and of the HTTP client's per-provider limits.
    fn name(&self) -> &'static str;

    /// Whether `secret` has the shape of this provider's credentials (its prefix): nothing else is
    /// ever sent to it.
    fn owns(&self, secret: &str) -> bool;

    fn capabilities(&self, secret: &str) -> Capabilities;

    /// The provider's cheapest read-only call. Never consumes a single-use secret.
    fn verify(&self, cx: &Context, secret: &str) -> Verification;

    /// Revokes each secret (adapters with a batch endpoint batch). One answer per secret, in order.
    fn revoke(&self, _cx: &Context, secrets: &[&str]) -> Vec<Revoked> {
        secrets
            .iter()
            .map(|s| Revoked::Failed(self.manual_step(s).unwrap_or_default()))
            .collect()
    }

    /// What a person must do when the secret cannot be revoked by API.
    fn manual_step(&self, secret: &str) -> Option<String>;
}

/// The verification an HTTP failure leaves: rate limits and 5xx mean "unknown", a request that could
/// not complete means "error".
pub fn failed(f: &Failure) -> Verification {
    let status = match f {
        Failure::RateLimited(_) | Failure::Server(_) => Status::Unknown,
        Failure::Timeout | Failure::Network(_) => Status::Error,
    };
    Verification::with_detail(status, f.to_string())
}

/// Verifies each `(rule_id, secret)` once, in parallel (bounded by the HTTP client's limits). Secrets
/// whose rule has no adapter, or that do not have its provider's shape, get `not_checked`.
pub fn verify_all(cx: &Context, items: &[(&str, &str)]) -> Vec<Verification> {
    const WORKERS: usize = 8;
    let results: Vec<std::sync::Mutex<Option<Verification>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..WORKERS.min(items.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((rule, secret)) = items.get(i) else {
                        break;
                    };
                    let v = match for_rule(rule) {
                        Some(p) if p.owns(secret) => p.verify(cx, secret),
                        Some(p) => Verification::with_detail(
                            Status::NotChecked,
                            format!("not shaped like a {} credential: not sent", p.name()),
                        ),
                        None => Verification::with_detail(
                            Status::NotChecked,
                            "no verifier for this rule",
                        ),
                    };
                    *results[i].lock().unwrap() = Some(v);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap()
                .expect("every item is taken by a worker")
        })
        .collect()
}

/// The `--verify` stage of `keysweep scan`: each distinct secret checked once, every finding of it
/// annotated, then `--only-live` applied.
pub fn verify_findings(args: &crate::cli::ScanArgs, findings: &mut Vec<Finding>) -> Result<()> {
    if !(args.verify || args.only_live || args.revoke || args.rotate) {
        return Ok(());
    }
    let cx = Context::new(&args.endpoints, args.verify_timeout)?;
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut items: Vec<(&str, &str)> = Vec::new();
    let slots: Vec<usize> = findings
        .iter()
        .map(|f| {
            let key = (f.rule_id.as_str(), f.secret.as_str());
            *index.entry(key).or_insert_with(|| {
                items.push(key);
                items.len() - 1
            })
        })
        .collect();
    let verdicts = verify_all(&cx, &items);
    for (f, slot) in findings.iter_mut().zip(slots) {
        f.verification = Some(verdicts[slot].clone());
    }
    if args.only_live {
        findings.retain(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == Status::Live)
        });
    }
    Ok(())
}

/// Scopes from a comma-separated header (`X-OAuth-Scopes`): present but empty means "no scopes".
pub fn scopes_header(value: Option<&str>) -> Option<Vec<String>> {
    value.map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// A short, safe excerpt of a provider's error text for `detail` (never the request).
pub fn short(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(80)
        .collect();
    one_line.trim().to_string()
}
