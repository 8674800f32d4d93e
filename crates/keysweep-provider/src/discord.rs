//! Discord webhooks: the URL is the secret. `GET` on it answers the webhook object without any other
//! credential (verification), `DELETE` on it deletes the webhook (revocation). Bot tokens are
//! verified from rule data (`GET /api/v10/users/@me`) and reset only in the Developer Portal.

use keysweep_core::finding::{Status, Verification};
use serde_json::Value;

use crate::adapter::{Calls, Capabilities, Credential, Provider, Revoked};
use crate::{Context, code, failed, short};

pub struct Discord;

const BASE: &str = "https://discord.com";

/// Hosts that serve Discord's API (the stable, PTB and Canary clients, and the old domain).
const HOSTS: &[&str] = &[
    "discord.com",
    "ptb.discord.com",
    "canary.discord.com",
    "discordapp.com",
];

/// The path of a Discord webhook URL: an https URL on a Discord host, no port, no credentials, no
/// query, and a `/api/webhooks/<id>/<token>` path.
fn webhook_path(secret: &str) -> Option<String> {
    let u = url::Url::parse(secret).ok()?;
    let host = u.host_str()?;
    let ok = u.scheme() == "https"
        && HOSTS.contains(&host)
        && u.port().is_none()
        && u.username().is_empty()
        && u.password().is_none()
        && u.query().is_none()
        && u.path().starts_with("/api/webhooks/");
    ok.then(|| u.path().to_string())
}

fn is_webhook(secret: &str) -> bool {
    secret.starts_with("https://")
}

/// Where a webhook's requests go: its own path on discord.com, or on the `discord` override.
fn webhook_url(cx: &Context, secret: &str) -> Option<String> {
    let path = webhook_path(secret)?;
    Some(format!("{}{path}", cx.base("discord", BASE)))
}

impl Provider for Discord {
    fn name(&self) -> &'static str {
        "discord"
    }

    fn default_base(&self) -> &'static str {
        BASE
    }

    fn supports(&self, rule_id: &str) -> Capabilities {
        let hook = rule_id == "discord-webhook-url";
        Capabilities {
            verify: hook,
            revoke: hook,
            rotate: false,
        }
    }

    fn calls(&self) -> Calls {
        Calls {
            verify: "GET the webhook URL",
            revoke: "DELETE the webhook URL",
            rotate: "",
        }
    }

    fn owns(&self, cred: &Credential) -> bool {
        !is_webhook(cred.secret) || webhook_path(cred.secret).is_some()
    }

    fn capabilities(&self, cred: &Credential) -> Capabilities {
        let hook = is_webhook(cred.secret);
        Capabilities {
            verify: hook,
            revoke: hook,
            rotate: false,
        }
    }

    fn verify(&self, cx: &Context, cred: &Credential) -> Verification {
        let Some(url) = webhook_url(cx, cred.secret) else {
            return Verification::with_detail(Status::NotChecked, "not a Discord webhook URL");
        };
        let resp = match cx.http.send("discord", |c| c.get(&url)) {
            Ok(r) => r,
            Err(f) => return failed(&f),
        };
        let json = resp.json();
        let said = || {
            json.as_ref()
                .and_then(|v| v.get("message").and_then(Value::as_str).and_then(code))
                .unwrap_or_else(|| format!("HTTP {}", resp.status))
        };
        match resp.status {
            200 => {}
            // 404 "Unknown Webhook" (deleted), 401 "Invalid Webhook Token" (wrong token).
            401 | 404 => return Verification::with_detail(Status::Invalid, said()),
            s => return Verification::with_detail(Status::Unknown, format!("HTTP {s}")),
        }
        let Some(v) = json.filter(Value::is_object) else {
            return Verification::with_detail(Status::Error, "malformed response");
        };
        // The answer carries the webhook's token: only these fields are kept.
        let field = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str().map(str::to_string))
                .map(|s| short(&crate::scrub(&s, &[cred.secret]), 64))
        };
        let mut who = Vec::new();
        if let Some(n) = field("name") {
            who.push(format!("webhook {n:?}"));
        }
        if let Some(g) = field("guild_id") {
            who.push(format!("guild {g}"));
        }
        if let Some(c) = field("channel_id") {
            who.push(format!("channel {c}"));
        }
        Verification {
            identity: (!who.is_empty()).then(|| who.join(", ")),
            ..Verification::new(Status::Live)
        }
    }

    fn revoke(&self, cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        creds
            .iter()
            .map(|c| {
                let Some(url) = webhook_url(cx, c.secret) else {
                    return Revoked::Failed(self.manual_step(c).unwrap_or_default());
                };
                match cx.http.send("discord", |cl| {
                    cl.delete(&url)
                        .header("x-audit-log-reason", "keysweep: leaked webhook URL")
                }) {
                    Ok(r) if r.status == 204 => Revoked::Revoked,
                    Ok(r) if r.status == 404 || r.status == 401 => {
                        Revoked::AlreadyDead(format!("HTTP {}", r.status))
                    }
                    Ok(r) => Revoked::Failed(format!("HTTP {}", r.status)),
                    Err(f) => Revoked::Failed(f.to_string()),
                }
            })
            .collect()
    }

    fn manual_step(&self, cred: &Credential) -> Option<String> {
        (!is_webhook(cred.secret)).then(|| {
            "a Discord bot token cannot be revoked by API: reset it in the Developer Portal \
             (https://discord.com/developers/applications > the app > Bot > Reset Token)"
                .to_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_discord_webhook_urls_are_owned() {
        let path = ["/api/webhooks/", "1234567890123456789/", "tok"].concat();
        let ok = format!("https://discord.com{path}");
        fn cred(secret: &str) -> Credential<'_> {
            Credential {
                rule_id: "discord-webhook-url",
                secret,
                pair: None,
            }
        }
        assert!(Discord.owns(&cred(&ok)));
        let canary = format!("https://canary.discord.com{path}");
        assert!(Discord.owns(&cred(&canary)));
        for bad in [
            format!("https://discord.com.evil.example{path}"),
            format!("https://discord.com:8443{path}"),
            format!("https://u:p@discord.com{path}"),
            format!("https://discord.com{path}?x=1"),
            "https://discord.com/api/users/@me".to_string(),
        ] {
            assert!(!Discord.owns(&cred(&bad)), "{bad}");
        }
        let bot = Credential {
            rule_id: "discord-bot-token",
            secret: "MTIz.abc.def",
            pair: None,
        };
        assert!(Discord.owns(&bot));
        assert!(!Discord.capabilities(&bot).revoke);
        assert!(Discord.manual_step(&bot).is_some());
    }
}
