//! Where secrets go: each provider's compiled-in hosts are on that provider's own domain, providers
//! without a public host are never called until the user names one, and regional hosts are asked in
//! turn.

use keysweep_core::finding::Status;
use keysweep_core::rules::{ApiSpec, embedded_api, embedded_rules};
use keysweep_provider::declarative::Target;
use keysweep_provider::{Credential, registry, verify};

use crate::fake::{Fake, FakeClock, Reply, context_without_endpoints, policy};
use crate::tokens::example;

/// Each provider's own domains, from its API documentation.
const DOMAINS: &[(&str, &[&str])] = &[
    ("anthropic", &["anthropic.com"]),
    ("atlassian", &["atlassian.com"]),
    ("aws", &["amazonaws.com"]),
    ("brevo", &["brevo.com"]),
    ("buildkite", &["buildkite.com"]),
    (
        "datadog",
        &["datadoghq.com", "datadoghq.eu", "ddog-gov.com"],
    ),
    ("digitalocean", &["digitalocean.com"]),
    ("discord", &["discord.com"]),
    ("doppler", &["doppler.com"]),
    ("github", &["github.com"]),
    ("gitlab", &["gitlab.com"]),
    ("google", &["googleapis.com"]),
    ("groq", &["groq.com"]),
    ("heroku", &["heroku.com"]),
    ("huggingface", &["huggingface.co"]),
    ("langchain", &["langchain.com"]),
    ("linear", &["linear.app"]),
    ("mailgun", &["mailgun.net"]),
    ("mapbox", &["mapbox.com"]),
    ("newrelic", &["newrelic.com"]),
    ("npm", &["npmjs.org"]),
    ("openai", &["openai.com"]),
    ("openrouter", &["openrouter.ai"]),
    ("postman", &["getpostman.com"]),
    ("pulumi", &["pulumi.com"]),
    ("replicate", &["replicate.com"]),
    ("rubygems", &["rubygems.org"]),
    ("sendgrid", &["sendgrid.com"]),
    ("sentry", &["sentry.io"]),
    ("slack", &["slack.com"]),
    ("stripe", &["stripe.com"]),
    ("supabase", &["supabase.com"]),
    ("tailscale", &["tailscale.com"]),
    ("telegram", &["telegram.org"]),
    ("terraform", &["terraform.io"]),
    ("twilio", &["twilio.com"]),
];

#[test]
fn compiled_in_hosts_are_the_providers_own() {
    let mut seen = 0;
    for rule in embedded_rules() {
        let Some(r) = registry::resolve(&rule.id) else {
            continue;
        };
        let api = embedded_api(&rule.provider);
        let mut hosts: Vec<String> =
            vec![keysweep_provider::Provider::default_base(&r).to_string()];
        if let Some(a) = api {
            hosts.extend(a.regions.iter().cloned());
            hosts.extend(a.hosts.values().cloned());
        }
        hosts.retain(|h| !h.is_empty());
        if api.is_some_and(|a| a.needs_endpoint.is_some()) {
            assert!(
                api.unwrap().base.is_none(),
                "{}: a user-named host has no default",
                rule.provider
            );
            continue;
        }
        let domains = DOMAINS
            .iter()
            .find(|(p, _)| *p == rule.provider)
            .unwrap_or_else(|| panic!("{}: add its documented domain here", rule.provider))
            .1;
        for h in hosts {
            let host = url::Url::parse(&h).unwrap().host_str().unwrap().to_string();
            assert!(h.starts_with("https://"), "{h}");
            assert!(
                domains
                    .iter()
                    .any(|d| host == *d || host.ends_with(&format!(".{d}"))),
                "{}: {host} is not one of its domains",
                rule.provider
            );
            seen += 1;
        }
    }
    assert!(seen > 50, "{seen}");
}

#[test]
fn hosts_the_user_must_name_are_never_guessed() {
    for rule in [
        "okta-api-token",
        "vault-service-token",
        "shopify-admin-token",
        "databricks-token",
        "grafana-service-account-token",
    ] {
        let (secret, pair) = example(rule);
        let cx = context_without_endpoints(FakeClock::new());
        let v = verify::verify_one(
            &cx,
            &Credential {
                rule_id: rule,
                secret: &secret,
                pair: pair.as_deref(),
            },
        );
        assert_eq!(v.status, Status::NotChecked, "{rule}");
        let provider = &keysweep_core::rules::embedded_rule(rule).unwrap().provider;
        let detail = v.detail.unwrap();
        assert!(
            detail.contains(&format!("--endpoint {provider}=https://")),
            "{detail}"
        );
        assert!(
            detail.contains("never taken from scanned files"),
            "{detail}"
        );
    }
}

#[test]
fn a_companion_that_was_not_found_means_not_checked() {
    let (token, _) = example("twilio-auth-token");
    let cx = context_without_endpoints(FakeClock::new());
    let v = verify::verify_one(
        &cx,
        &Credential {
            rule_id: "twilio-auth-token",
            secret: &token,
            pair: None,
        },
    );
    assert_eq!(v.status, Status::NotChecked);
    assert!(v.detail.unwrap().contains("companion"));
}

#[test]
fn a_kind_a_request_is_not_for_is_not_sent() {
    // Tailscale OAuth client secrets share the API key rule but are not bearer tokens.
    let (key, _) = example("tailscale-api-key");
    let client = key.replacen("tskey-api-", "tskey-client-", 1);
    let fake = Fake::start(|_| Reply::empty(200));
    let cx = crate::fake::context(&fake, policy(), FakeClock::new());
    let v = verify::verify_one(
        &cx,
        &Credential {
            rule_id: "tailscale-api-key",
            secret: &client,
            pair: None,
        },
    );
    assert_eq!(v.status, Status::NotChecked, "{v:?}");
    assert!(fake.requests().is_empty());
}

#[test]
fn regions_are_asked_in_turn_until_one_knows_the_key() {
    let us = Fake::start(|_| Reply::text(401, "Forbidden"));
    let eu = Fake::start(|_| {
        Reply::json(
            200,
            serde_json::json!({"total_count": 1, "items": [{"name": "mg.acme.test"}]}),
        )
    });
    let api: &'static ApiSpec = Box::leak(Box::new(ApiSpec {
        base: Some(us.url.clone()),
        regions: vec![eu.url.clone()],
        ..ApiSpec::default()
    }));
    let target = Target {
        provider: "mailgun",
        api: Some(api),
        fallback: None,
    };
    let rule = keysweep_core::rules::embedded_rule("mailgun-api-key").unwrap();
    let (secret, _) = example("mailgun-api-key");
    let cred = Credential {
        rule_id: &rule.id,
        secret: &secret,
        pair: None,
    };
    let cx = crate::fake::context_without_endpoints(FakeClock::new());
    let v =
        keysweep_provider::declarative::verify(&cx, &target, rule.verify.as_ref().unwrap(), &cred);
    assert_eq!(v.status, Status::Live);
    assert_eq!(v.identity.as_deref(), Some("mg.acme.test"));
    assert!(v.detail.unwrap().starts_with("answered by 127.0.0.1"));
    assert_eq!((us.requests().len(), eu.requests().len()), (1, 1));
    // Dead everywhere: dead, after every region was asked.
    let eu_dead = Fake::start(|_| Reply::text(401, "Forbidden"));
    let api: &'static ApiSpec = Box::leak(Box::new(ApiSpec {
        base: Some(us.url.clone()),
        regions: vec![eu_dead.url.clone()],
        ..ApiSpec::default()
    }));
    let target = Target {
        api: Some(api),
        ..target
    };
    let v =
        keysweep_provider::declarative::verify(&cx, &target, rule.verify.as_ref().unwrap(), &cred);
    assert_eq!(v.status, Status::Invalid);
    assert_eq!(eu_dead.requests().len(), 1);
}
