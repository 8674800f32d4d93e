//! Where each provider's requests go. The hosts are compiled in; the person running keysweep may
//! override them (self-hosted instances, tests) with `--endpoint PROVIDER=URL` or
//! `KEYSWEEP_ENDPOINT_<PROVIDER>=URL`, never through a file: a config or rule file found in a scanned
//! repository must not be able to send secrets elsewhere.

use std::collections::HashMap;
use std::net::IpAddr;

/// Base URLs overridden by the person running keysweep, by provider name.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    overrides: HashMap<String, String>,
}

/// The environment variable that overrides `provider`'s endpoint.
pub fn env_var(provider: &str) -> String {
    format!(
        "KEYSWEEP_ENDPOINT_{}",
        provider.to_ascii_uppercase().replace(['-', '.'], "_")
    )
}

impl Endpoints {
    /// Overrides from the environment, then from `--endpoint` flags (which win). `known` lists the
    /// providers that have an endpoint.
    pub fn from_cli(flags: &[String], known: &[&str]) -> Result<Endpoints, String> {
        Endpoints::from_sources(flags, known, |k| std::env::var(k).ok())
    }

    pub fn from_sources(
        flags: &[String],
        known: &[&str],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Endpoints, String> {
        let mut overrides = HashMap::new();
        for name in known {
            let var = env_var(name);
            if let Some(url) = env(&var).filter(|v| !v.is_empty()) {
                overrides.insert(
                    name.to_string(),
                    check_url(&url).map_err(|e| format!("{var}: {e}"))?,
                );
            }
        }
        for flag in flags {
            let Some((name, url)) = flag.split_once('=') else {
                return Err(format!("--endpoint {flag:?}: expected PROVIDER=URL"));
            };
            let name = name.trim();
            if !known.contains(&name) {
                let mut names = known.to_vec();
                names.sort_unstable();
                return Err(format!(
                    "--endpoint: unknown provider {name:?} (known: {})",
                    names.join(", ")
                ));
            }
            overrides.insert(
                name.to_string(),
                check_url(url.trim()).map_err(|e| format!("--endpoint {name}: {e}"))?,
            );
        }
        Ok(Endpoints { overrides })
    }

    /// The base URL (no trailing slash) for `provider`: the override, else `default`.
    pub fn base<'a>(&'a self, provider: &str, default: &'a str) -> &'a str {
        self.overrides.get(provider).map_or(default, String::as_str)
    }

    /// The override for `provider`, if the user gave one.
    pub fn overridden(&self, provider: &str) -> Option<&str> {
        self.overrides.get(provider).map(String::as_str)
    }
}

/// https anywhere; plain http only to a loopback address. Returns the URL without a trailing slash.
pub fn check_url(raw: &str) -> Result<String, String> {
    let u = url::Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err("credentials in the URL are not accepted".into());
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err("a query or fragment is not accepted".into());
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
                return Err(
                    "plain http is accepted only to a loopback address (127.0.0.0/8, ::1, localhost); use https"
                        .into(),
                );
            }
        }
        other => return Err(format!("scheme {other:?} is not accepted (use https)")),
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["slack", "github", "gitlab", "huggingface"];

    fn ep(flags: &[&str]) -> Result<Endpoints, String> {
        let flags: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        Endpoints::from_sources(&flags, KNOWN, |_| None)
    }

    #[test]
    fn accepts_https_and_loopback_http() {
        let e = ep(&[
            "github=https://ghe.internal/api/v3/",
            "gitlab=http://127.0.0.5:8080",
        ])
        .unwrap();
        assert_eq!(e.base("github", "x"), "https://ghe.internal/api/v3");
        assert_eq!(e.base("gitlab", "x"), "http://127.0.0.5:8080");
        assert_eq!(e.base("slack", "https://slack.com"), "https://slack.com");
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
            "slack=https://x.org/?q=1",
        ] {
            assert!(ep(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_then_flags() {
        let e = Endpoints::from_sources(&["slack=https://b.org".into()], KNOWN, |k| {
            (k == "KEYSWEEP_ENDPOINT_SLACK").then(|| "https://a.org".to_string())
        })
        .unwrap();
        assert_eq!(e.base("slack", "x"), "https://b.org");
        let bad = Endpoints::from_sources(&[], KNOWN, |k| {
            (k == "KEYSWEEP_ENDPOINT_GITLAB").then(|| "http://192.168.1.1".to_string())
        });
        assert!(bad.is_err());
    }
}
