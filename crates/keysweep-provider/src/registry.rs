//! Which adapter serves which rule. A rule of the built-in pack names its provider; the provider's
//! `[api]` table names a Rust adapter and/or gives the base URL of the rule's declarative requests.
//! Custom rules from a config are never served: whatever id they take, only the built-in rule of that
//! id decides what is sent, and only a secret with that rule's full shape is sent.

use keysweep_core::finding::{Status, Verification};
use keysweep_core::rules::{Rule, embedded_api, embedded_apis, embedded_rule};

use crate::adapter::{
    Calls, Capabilities, Credential, Minted, Provider, RetireRequest, Retired, Retirement, Revoked,
    RotateError, RotateRequest,
};
use crate::declarative::Target;
use crate::{Context, aws, declarative, discord, github, gitlab, google, lookup, slack, twilio};

/// Every Rust adapter.
pub const ADAPTERS: &[&dyn Provider] = &[
    &slack::Slack,
    &github::Github,
    &gitlab::Gitlab,
    &aws::Aws,
    &discord::Discord,
    &lookup::NPM_REVOKER,
    &lookup::HEROKU_REVOKER,
    &lookup::SENDGRID_REVOKER,
    &lookup::MAPBOX_REVOKER,
    &twilio::Twilio,
    &google::Google,
];

pub fn adapter(name: &str) -> Option<&'static dyn Provider> {
    ADAPTERS.iter().copied().find(|a| a.name() == name)
}

/// Providers whose endpoint can be overridden: every adapter and every provider with a host.
pub fn endpoint_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = ADAPTERS.iter().map(|a| a.name()).collect();
    for (provider, api) in embedded_apis() {
        let has_host = api.base.is_some() || api.needs_endpoint.is_some() || !api.hosts.is_empty();
        if has_host && !names.contains(&provider) {
            names.push(provider);
        }
    }
    names
}

/// What serves one built-in rule: its provider's adapter, its own declarative requests, or both
/// (the rule's requests win for what they describe).
#[derive(Clone, Copy)]
pub struct Resolved {
    pub rule: &'static Rule,
    provider: &'static str,
    adapter: Option<&'static dyn Provider>,
    target: Target,
}

/// The server of built-in rule `rule_id`, if anything can act on its secrets.
pub fn resolve(rule_id: &str) -> Option<Resolved> {
    let rule = embedded_rule(rule_id)?;
    let api = embedded_api(&rule.provider);
    let adapter = api.and_then(|a| a.adapter.as_deref()).and_then(adapter);
    if adapter.is_none() && rule.verify.is_none() && rule.revoke.is_none() {
        return None;
    }
    let provider = rule.provider.as_str();
    Some(Resolved {
        rule,
        provider,
        adapter,
        target: Target {
            provider,
            api,
            fallback: adapter.map(|a| a.default_base()),
        },
    })
}

/// The server that may receive `cred`: its rule's, and only if the secret has that rule's full shape
/// and the adapter's.
pub fn for_credential(cred: &Credential) -> Option<Resolved> {
    resolve(cred.rule_id).filter(|r| r.rule.accepts(cred.secret) && r.owns(cred))
}

/// The verification of a credential nothing may be asked about, and why.
pub fn not_sent(cred: &Credential) -> Verification {
    match resolve(cred.rule_id) {
        Some(r) => Verification::with_detail(
            Status::NotChecked,
            format!("not shaped like a {} credential: not sent", r.provider),
        ),
        None => Verification::with_detail(
            Status::NotChecked,
            embedded_rule(cred.rule_id)
                .and_then(|r| embedded_api(&r.provider))
                .and_then(|a| a.no_check.clone())
                .unwrap_or_else(|| "no verifier for this rule".into()),
        ),
    }
}

impl Provider for Resolved {
    fn name(&self) -> &'static str {
        self.provider
    }

    fn default_base(&self) -> &'static str {
        self.target
            .api
            .and_then(|a| a.base.as_deref())
            .or(self.target.fallback)
            .unwrap_or("")
    }

    fn owns(&self, cred: &Credential) -> bool {
        self.adapter.is_none_or(|a| a.owns(cred))
    }

    fn supports(&self, rule_id: &str) -> Capabilities {
        let from_adapter = self
            .adapter
            .map(|a| a.supports(rule_id))
            .unwrap_or_default();
        Capabilities {
            verify: self.rule.verify.is_some() || from_adapter.verify,
            revoke: self.rule.revoke.is_some() || from_adapter.revoke,
            rotate: from_adapter.rotate,
        }
    }

    fn calls(&self) -> Calls {
        self.adapter.map(|a| a.calls()).unwrap_or_default()
    }

    fn capabilities(&self, cred: &Credential) -> Capabilities {
        let from_adapter = self
            .adapter
            .map(|a| a.capabilities(cred))
            .unwrap_or_default();
        Capabilities {
            verify: self.rule.verify.is_some() || from_adapter.verify,
            revoke: self.rule.revoke.is_some() || from_adapter.revoke,
            rotate: from_adapter.rotate,
        }
    }

    fn verify(&self, cx: &Context, cred: &Credential) -> Verification {
        match (&self.rule.verify, self.adapter) {
            (Some(spec), _) => declarative::verify(cx, &self.target, spec, cred),
            (None, Some(a)) => a.verify(cx, cred),
            (None, None) => {
                Verification::with_detail(Status::NotChecked, "no verifier for this rule")
            }
        }
    }

    fn revoke(&self, cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        match (&self.rule.revoke, self.adapter) {
            (Some(spec), _) => creds
                .iter()
                .map(|c| declarative::revoke(cx, &self.target, spec, c))
                .collect(),
            (None, Some(a)) => a.revoke(cx, creds),
            (None, None) => creds
                .iter()
                .map(|c| Revoked::Failed(self.manual_step(c).unwrap_or_default()))
                .collect(),
        }
    }

    fn rotate(&self, cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        match self.adapter {
            Some(a) => a.rotate(cx, req),
            None => Err(RotateError::Unsupported(format!(
                "keysweep cannot rotate `{}` credentials",
                self.rule.id
            ))),
        }
    }

    fn retirement(&self, req: &RotateRequest) -> Retirement {
        self.adapter.map(|a| a.retirement(req)).unwrap_or_default()
    }

    fn rotation_calls(&self, req: &RotateRequest) -> Vec<String> {
        self.adapter
            .map(|a| a.rotation_calls(req))
            .unwrap_or_default()
    }

    fn retire(&self, cx: &Context, req: &RetireRequest) -> Retired {
        match self.adapter {
            Some(a) => a.retire(cx, req),
            None => Retired::Failed(format!(
                "keysweep cannot retire `{}` credentials",
                self.rule.id
            )),
        }
    }

    fn manual_step(&self, cred: &Credential) -> Option<String> {
        if let Some(step) = self.adapter.and_then(|a| a.manual_step(cred)) {
            return Some(step);
        }
        if self.capabilities(cred).revoke {
            return None;
        }
        Some(manual_revocation(self.provider))
    }
}

/// What to tell an owner whose credential keysweep cannot revoke: the provider's console, if the pack
/// knows it.
pub fn manual_revocation(provider: &str) -> String {
    match embedded_api(provider).and_then(|a| a.console.as_deref()) {
        Some(url) => format!("revoke it in the provider's console: {url}"),
        None => "revoke it in the provider's console".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_adapter_named_by_the_pack_exists_and_every_request_has_a_base() {
        for (provider, api) in embedded_apis() {
            if let Some(name) = &api.adapter {
                assert!(
                    adapter(name).is_some(),
                    "{provider}: unknown adapter {name}"
                );
            }
            if let Some(base) = &api.base {
                assert!(base.starts_with("https://"), "{provider}: {base}");
                assert!(
                    crate::endpoint::check_url(base).is_ok(),
                    "{provider}: {base}"
                );
            }
        }
        for rule in keysweep_core::rules::embedded_rules() {
            if rule.verify.is_some() || rule.revoke.is_some() {
                assert!(resolve(&rule.id).is_some(), "{}", rule.id);
            }
            let api = embedded_api(&rule.provider);
            for spec in rule.verify.iter().chain(rule.revoke.iter()) {
                if let Some(h) = &spec.host {
                    let url = api.and_then(|a| a.hosts.get(h));
                    assert!(url.is_some(), "{}: no host {h:?} in [api] hosts", rule.id);
                    assert!(
                        crate::endpoint::check_url(url.unwrap()).is_ok(),
                        "{}",
                        rule.id
                    );
                }
            }
        }
        for (provider, api) in embedded_apis() {
            for url in api.regions.iter().chain(api.hosts.values()) {
                assert!(url.starts_with("https://"), "{provider}: {url}");
                assert!(crate::endpoint::check_url(url).is_ok(), "{provider}: {url}");
            }
            assert!(
                api.needs_endpoint.is_none() || api.base.is_none(),
                "{provider}: a host the user names has no default"
            );
        }
    }

    #[test]
    fn a_secret_of_another_shape_is_never_sent() {
        // What a config's custom rule reusing a registered id could match: an AWS key id, a Slack
        // token under a GitHub rule, a GitHub-looking token with a broken checksum.
        let aws = ["AKIA", "QX7WJ2MZ4KTB6RVN"].concat();
        let slack = ["xoxb-", "2793640182-", "Qm7Zt2WkP9vXs4LbRn8YcJd3"].concat();
        let bad_sum = ["ghp_", "Zq3xT0bW9mYk2LsV8nRf4HcJ1pDgA7", "000000"].concat();
        let cred = |rule_id, secret| Credential {
            rule_id,
            secret,
            pair: None,
        };
        assert!(for_credential(&cred("github-pat", &aws)).is_none());
        assert!(for_credential(&cred("github-pat", &slack)).is_none());
        assert!(for_credential(&cred("github-pat", &bad_sum)).is_none());
        assert!(for_credential(&cred("slack-bot-token", &aws)).is_none());
        assert!(for_credential(&cred("gitlab-pat", &slack)).is_none());
        assert!(for_credential(&cred("slack-bot-token", &slack)).is_some());
        assert!(for_credential(&cred("custom-rule", &slack)).is_none());
    }
}
