//! `keysweep rotate slack|gitlab`: mint, deliver, journal, through the provider's adapter.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use keysweep_provider::action::journal;
use keysweep_provider::action::rotate::{self, Rotation};
use keysweep_provider::action::sink::Sink;
use keysweep_provider::{Client, Context, Credential, Provider, RotateRequest, slack};

use super::actions::secret_from_env;
use crate::cli::{RotateArgs, RotateCommon, RotateProvider};

pub fn run(args: &RotateArgs) -> Result<bool> {
    let common: &RotateCommon = match &args.provider {
        RotateProvider::Slack { common, .. } | RotateProvider::Gitlab { common, .. } => common,
    };
    // Check the sink before anything is minted: a typo must not cost a token.
    let sink = Sink::parse(&common.sink).map_err(anyhow::Error::msg)?;
    super::actions::check_sink(&sink)?;
    let cx = Context::new(
        &common.endpoints,
        Duration::from_secs(common.timeout.max(1)),
    )
    .map_err(anyhow::Error::msg)?;
    let journal =
        journal::path_or_default(common.journal.as_deref()).map_err(anyhow::Error::msg)?;
    // `-q` silences the success line; failures still come back as errors.
    let mut err: Box<dyn Write> = if common.quiet {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stderr().lock())
    };
    let mut hide: Vec<String> = Vec::new();
    let (rule_id, secret, client, mode, expires_at) = match &args.provider {
        RotateProvider::Slack {
            refresh_token_env,
            config_token,
            client_id,
            client_secret_env,
            ..
        } => {
            let (refresh, var) = secret_from_env(Some(refresh_token_env), "--refresh-token-env")?;
            hide.extend(var);
            if !slack::is_refresh_token(&refresh) {
                bail!(
                    "--refresh-token-env: not a Slack refresh token (xoxe-...); nothing was sent"
                );
            }
            let client = if *config_token {
                None
            } else {
                let id = client_id.clone().context(
                    "--client-id (or KEYSWEEP_CLIENT_ID) is required without --config-token",
                )?;
                let (secret, var) =
                    secret_from_env(client_secret_env.as_deref(), "--client-secret-env")?;
                hide.extend(var);
                Some((id, secret))
            };
            let mode = config_token.then_some("config-token");
            ("slack-refresh-token", refresh, client, mode, None)
        }
        RotateProvider::Gitlab {
            token_env,
            expires_at,
            ..
        } => {
            let (token, var) = secret_from_env(Some(token_env), "--token-env")?;
            hide.extend(var);
            if let Some(d) = expires_at {
                let fmt = time::macros::format_description!("[year]-[month]-[day]");
                time::Date::parse(d, &fmt)
                    .map_err(|_| anyhow::anyhow!("--expires-at {d:?}: expected YYYY-MM-DD"))?;
            }
            let rule = if token.contains('.') {
                "gitlab-pat-routable"
            } else {
                "gitlab-pat"
            };
            (rule, token, None, None, expires_at.clone())
        }
    };
    let cred = Credential {
        rule_id,
        secret: &secret,
        pair: None,
    };
    let Some(adapter) = keysweep_provider::registry::for_credential(&cred) else {
        bail!("the secret does not have the shape of a `{rule_id}` credential; nothing was sent");
    };
    let hide: Vec<&str> = hide.iter().map(String::as_str).collect();
    let client = client.as_ref().map(|(id, secret)| Client { id, secret });
    rotate::rotate_one(
        &journal,
        &sink,
        &Rotation {
            provider: adapter.name(),
            rule_id,
            old_secret: &secret,
            hide_env: &hide,
        },
        || {
            adapter.rotate(
                &cx,
                &RotateRequest {
                    credential: cred,
                    client,
                    mode,
                    expires_at: expires_at.as_deref(),
                },
            )
        },
        &mut err,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(false)
}
