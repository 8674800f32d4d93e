//! Where each provider's requests go. The hosts are compiled in; the person running keysweep may
//! override them (self-hosted instances, tests) with `--endpoint PROVIDER=URL` or
//! `KEYSWEEP_ENDPOINT_<PROVIDER>=URL`, never through a file: a config or rule file found in a scanned
//! repository must not be able to send secrets elsewhere.

use std::collections::HashMap;
use std::net::IpAddr;

use anyhow::{Result, bail};
use reqwest::Url;

/// Providers whose endpoint may be overridden, with their compiled-in bases.
const DEFAULTS: &[(&str, &str)] = &[
    ("slack", "https://slack.com"),
    ("github", "https://api.github.com"),
    ("gitlab", "https://gitlab.com"),
];

/// Slack's incoming webhooks live on their own host; the `slack` override replaces it too.
const SLACK_HOOKS: &str = "https://hooks.slack.com";
const SLACK_HOOKS_HOST: &str = "hooks.slack.com";

#[derive(Debug, Clone)]
pub struct Endpoints {
    overrides: HashMap<&'static str, String>,
}

impl Endpoints {
    /// Overrides from the environment, then from `--endpoint` flags (which win).
    pub fn from_cli(flags: &[String]) -> Result<Endpoints> {
        Endpoints::from_sources(flags, |k| std::env::var(k).ok())
    }

    pub fn from_sources(
        flags: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Endpoints> {
        let mut overrides = HashMap::new();
        for (name, _) in DEFAULTS {
            let var = format!("KEYSWEEP_ENDPOINT_{}", name.to_ascii_uppercase());
            if let Some(url) = env(&var).filter(|v| !v.is_empty()) {
                overrides.insert(
                    *name,
                    check_url(&url).map_err(|e| anyhow::anyhow!("{var}: {e}"))?,
                );
            }
        }
        for flag in flags {
            let Some((name, url)) = flag.split_once('=') else {
                bail!("--endpoint {flag:?}: expected PROVIDER=URL");
            };
            let Some((name, _)) = DEFAULTS.iter().find(|(n, _)| *n == name.trim()) else {
                bail!(
                    "--endpoint: unknown provider {name:?} (known: {})",
                    DEFAULTS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            overrides.insert(
                *name,
                check_url(url.trim()).map_err(|e| anyhow::anyhow!("--endpoint {name}: {e}"))?,
            );
        }
        Ok(Endpoints { overrides })
    }

    /// The base URL (no trailing slash) for `provider`'s API.
    pub fn base(&self, provider: &str) -> &str {
        if let Some(o) = self.overrides.get(provider) {
            return o;
        }
        DEFAULTS
            .iter()
            .find(|(n, _)| *n == provider)
            .map(|(_, u)| *u)
            .expect("adapters ask only for providers listed in DEFAULTS")
    }

    /// `base(provider)` joined with `path` (which starts with `/`).
    pub fn url(&self, provider: &str, path: &str) -> String {
        format!("{}{path}", self.base(provider))
    }

    /// Where a Slack webhook secret is sent: its own path on hooks.slack.com, or on the `slack`
    /// override. `None` when the secret is not an https URL on that host (it is then never sent).
    pub fn slack_webhook(&self, secret: &str) -> Option<String> {
        let u = Url::parse(secret).ok()?;
        if u.scheme() != "https"
            || u.host_str() != Some(SLACK_HOOKS_HOST)
            || u.port().is_some()
            || !u.username().is_empty()
            || u.password().is_some()
        {
            return None;
        }
        let path = u.path();
        if !["/services/", "/workflows/", "/triggers/"]
            .iter()
            .any(|p| path.starts_with(p))
        {
            return None;
        }
        let base = self
            .overrides
            .get("slack")
            .map_or(SLACK_HOOKS, String::as_str);
        Some(format!("{base}{path}"))
    }
}

/// https anywhere; plain http only to a loopback address. Returns the URL without a trailing slash.
fn check_url(raw: &str) -> Result<String> {
    let u = Url::parse(raw).map_err(|e| anyhow::anyhow!("not a URL ({e})"))?;
    if !u.username().is_empty() || u.password().is_some() {
        bail!("credentials in the URL are not accepted");
    }
    if u.query().is_some() || u.fragment().is_some() {
        bail!("a query or fragment is not accepted");
    }
    match u.scheme() {
        "https" => {}
        "http" => {
            let loopback = match u.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
                Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
                None => false,
            };
            if !loopback {
                bail!(
                    "plain http is accepted only to a loopback address (127.0.0.0/8, ::1, localhost); use https"
                );
            }
        }
        other => bail!("scheme {other:?} is not accepted (use https)"),
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(flags: &[&str]) -> Result<Endpoints> {
        let flags: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        Endpoints::from_sources(&flags, |_| None)
    }

    #[test]
    fn accepts_https_and_loopback_http() {
        let e = ep(&[
            "github=https://ghe.internal/api/v3/",
            "gitlab=http://127.0.0.5:8080",
        ])
        .unwrap();
        assert_eq!(e.url("github", "/user"), "https://ghe.internal/api/v3/user");
        assert_eq!(e.base("gitlab"), "http://127.0.0.5:8080");
        assert_eq!(e.base("slack"), "https://slack.com");
        assert!(ep(&["slack=http://[::1]:9"]).is_ok());
        assert!(ep(&["slack=http://localhost:9"]).is_ok());
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "slack=http://10.0.0.1",
            "slack=http://example.org",
            "slack=ftp://127.0.0.1",
            "slack=https://u:p@slack.internal",
            "slack",
            "jira=https://x.org",
            "slack=http://127.0.0.1.nip.io",
        ] {
            assert!(ep(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_then_flags() {
        let e = Endpoints::from_sources(&["slack=https://b.org".into()], |k| {
            (k == "KEYSWEEP_ENDPOINT_SLACK").then(|| "https://a.org".to_string())
        })
        .unwrap();
        assert_eq!(e.base("slack"), "https://b.org");
        let bad = Endpoints::from_sources(&[], |k| {
            (k == "KEYSWEEP_ENDPOINT_GITLAB").then(|| "http://192.168.1.1".to_string())
        });
        assert!(bad.is_err());
    }

    #[test]
    fn webhook_host_is_swapped_and_path_kept() {
        let hook = ["https://hooks.slack.com", "/services/T0AAAA/B0BBBB/zz"].concat();
        assert_eq!(ep(&[]).unwrap().slack_webhook(&hook).unwrap(), hook);
        let e = ep(&["slack=http://127.0.0.1:4000"]).unwrap();
        assert_eq!(
            e.slack_webhook(&hook).unwrap(),
            "http://127.0.0.1:4000/services/T0AAAA/B0BBBB/zz"
        );
        assert!(e.slack_webhook("https://evil.org/services/T/B/x").is_none());
        assert!(e.slack_webhook("https://hooks.slack.com/other/x").is_none());
    }
}
