//! `keysweep rotate PROVIDER`: the plan by default; with `--yes`, mint, deliver, retire and journal
//! through the provider's adapter (see `keysweep_provider::action::rotate`).

use std::io::Write;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use keysweep_core::finding::{redact, sha256_hex};
use keysweep_provider::action::journal;
use keysweep_provider::action::lock;
use keysweep_provider::action::rotate::{self, Adapter, Ended, Job, Next, Options};
use keysweep_provider::action::sink::{self, Sink};
use keysweep_provider::{Client, Context, Credential, Provider, RotateRequest, slack};

use super::actions::secret_from_env;
use crate::cli::{RotateArgs, RotateCommon, RotateProvider};

/// What the command line asks for, with the secrets read.
struct Asked {
    rule_id: &'static str,
    secret: String,
    pair: Option<String>,
    client: Option<(String, String)>,
    manager: Option<(String, String)>,
    mode: Option<&'static str>,
    expires_at: Option<String>,
    delete_after: Option<Duration>,
    account: Option<String>,
    name: Option<String>,
    /// Environment variables that held secrets: the `exec:` sink does not see them.
    hide: Vec<String>,
}

impl Asked {
    fn new(rule_id: &'static str, secret: String) -> Asked {
        Asked {
            rule_id,
            secret,
            pair: None,
            client: None,
            manager: None,
            mode: None,
            expires_at: None,
            delete_after: None,
            account: None,
            name: None,
            hide: Vec::new(),
        }
    }
}

fn common(p: &RotateProvider) -> &RotateCommon {
    match p {
        RotateProvider::Slack { common, .. }
        | RotateProvider::Gitlab { common, .. }
        | RotateProvider::Github { common, .. }
        | RotateProvider::Google { common, .. }
        | RotateProvider::Aws { common, .. }
        | RotateProvider::Twilio { common, .. } => common,
    }
}

/// A secret from `var` (or stdin), remembering the variable so the sink command does not inherit it.
fn read(var: &str, flag: &str, hide: &mut Vec<String>) -> Result<String> {
    let (value, from) = secret_from_env(Some(var), flag)?;
    hide.extend(from);
    Ok(value)
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn asked(p: &RotateProvider) -> Result<Asked> {
    let mut hide = Vec::new();
    let mut a = match p {
        RotateProvider::Slack {
            refresh_token_env,
            token_env,
            config_token,
            client_id,
            client_secret_env,
            ..
        } => {
            let mut a = if let Some(var) = token_env {
                let token = read(var, "--token-env", &mut hide)?;
                if !slack::is_long_lived(&token) {
                    bail!(
                        "--token-env: not a long-lived Slack bot or user token (xoxb-, xoxp-); \
                         nothing was sent"
                    );
                }
                let rule = if token.starts_with("xoxb-") {
                    "slack-bot-token"
                } else {
                    "slack-user-token"
                };
                let mut a = Asked::new(rule, token);
                a.mode = Some("exchange");
                a
            } else {
                let var = refresh_token_env
                    .as_deref()
                    .context("--refresh-token-env or --token-env is required")?;
                let refresh = read(var, "--refresh-token-env", &mut hide)?;
                if !slack::is_refresh_token(&refresh) {
                    bail!(
                        "--refresh-token-env: not a Slack refresh token (xoxe-...); nothing was \
                         sent"
                    );
                }
                let mut a = Asked::new("slack-refresh-token", refresh);
                a.mode = config_token.then_some("config-token");
                a
            };
            if !config_token {
                let id = client_id.clone().context(
                    "--client-id (or KEYSWEEP_CLIENT_ID) is required without --config-token",
                )?;
                let secret = read(
                    client_secret_env
                        .as_deref()
                        .context("--client-secret-env VAR is required without --config-token")?,
                    "--client-secret-env",
                    &mut hide,
                )?;
                a.client = Some((id, secret));
            }
            a
        }
        RotateProvider::Gitlab {
            token_env,
            expires_at,
            ..
        } => {
            let token = read(token_env, "--token-env", &mut hide)?;
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
            let mut a = Asked::new(rule, token);
            a.expires_at = expires_at.clone();
            a
        }
        RotateProvider::Github {
            refresh_token_env,
            client_id,
            client_secret_env,
            ..
        } => {
            let refresh = read(refresh_token_env, "--refresh-token-env", &mut hide)?;
            let secret = match client_secret_env {
                Some(var) => read(var, "--client-secret-env", &mut hide)?,
                None => String::new(),
            };
            let mut a = Asked::new("github-refresh-token", refresh);
            a.client = Some((client_id.clone(), secret));
            a
        }
        RotateProvider::Google {
            refresh_token_env,
            client_id,
            client_secret_env,
            ..
        } => {
            let refresh = read(refresh_token_env, "--refresh-token-env", &mut hide)?;
            let secret = read(client_secret_env, "--client-secret-env", &mut hide)?;
            let mut a = Asked::new("google-oauth-refresh-token", refresh);
            a.client = Some((client_id.clone(), secret));
            a
        }
        RotateProvider::Aws {
            key_id_env,
            secret_key_env,
            delete_after,
            ..
        } => {
            let key_id = read(key_id_env, "--key-id-env", &mut hide)?;
            let secret = read(secret_key_env, "--secret-key-env", &mut hide)?;
            let ok = secret.len() == 40
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+');
            if !ok {
                bail!(
                    "--secret-key-env: not an AWS secret access key (40 characters); nothing was sent"
                );
            }
            let mut a = Asked::new("aws-access-key", key_id);
            a.pair = Some(secret);
            a.delete_after = Some(*delete_after);
            a
        }
        RotateProvider::Twilio {
            account_sid,
            key_sid,
            key_secret_env,
            main_key_sid,
            main_secret_env,
            delete_after,
            friendly_name,
            ..
        } => {
            if !is_sid(account_sid, "AC") {
                bail!("--account-sid: not a Twilio account SID (AC + 32 hex); nothing was sent");
            }
            if !is_sid(key_sid, "SK") {
                bail!("--key-sid: not a Twilio API key SID (SK + 32 hex); nothing was sent");
            }
            let secret = read(key_secret_env, "--key-secret-env", &mut hide)?;
            let mut a = Asked::new("twilio-api-key-secret", secret);
            a.pair = Some(key_sid.clone());
            a.account = Some(account_sid.clone());
            a.delete_after = Some(*delete_after);
            a.name = friendly_name.clone();
            if let (Some(sid), Some(var)) = (main_key_sid, main_secret_env) {
                if !is_sid(sid, "SK") && sid != account_sid {
                    bail!(
                        "--main-key-sid: a Main key's SID (SK...) or the account SID (for its \
                         auth token); nothing was sent"
                    );
                }
                let s = read(var, "--main-secret-env", &mut hide)?;
                a.manager = Some((sid.clone(), s));
            }
            a
        }
    };
    a.hide = hide;
    Ok(a)
}

pub fn run(args: &RotateArgs) -> Result<bool> {
    let common = common(&args.provider);
    // Check the sink before anything is minted: a typo must not cost a token.
    let sink = Sink::parse(&common.sink).map_err(anyhow::Error::msg)?;
    super::actions::check_sink(&sink)?;
    let journal =
        journal::path_or_default(common.journal.as_deref()).map_err(anyhow::Error::msg)?;
    let a = asked(&args.provider)?;
    let cx = Context::new(
        &common.endpoints,
        Duration::from_secs(common.timeout.max(1)),
    )
    .map_err(anyhow::Error::msg)?;
    let cred = Credential {
        rule_id: a.rule_id,
        secret: &a.secret,
        pair: a.pair.as_deref(),
    };
    let Some(adapter) = keysweep_provider::registry::for_credential(&cred) else {
        bail!(
            "the secret does not have the shape of a `{}` credential; nothing was sent",
            a.rule_id
        );
    };
    if !adapter.capabilities(&cred).rotate {
        let why = if a.rule_id == "aws-access-key" {
            ": only long-term access keys (AKIA) can be rotated, temporary ones expire on their own"
        } else {
            ""
        };
        bail!(
            "keysweep cannot rotate this `{}` credential{why}; nothing was sent",
            a.rule_id
        );
    }
    fn client(c: &Option<(String, String)>) -> Option<Client<'_>> {
        c.as_ref().map(|(id, secret)| Client {
            id: id.as_str(),
            secret: secret.as_str(),
        })
    }
    let req = RotateRequest {
        client: client(&a.client),
        manager: client(&a.manager),
        mode: a.mode,
        expires_at: a.expires_at.as_deref(),
        delete_after: a.delete_after,
        account: a.account.as_deref(),
        name: a.name.as_deref(),
        ..RotateRequest::new(cred)
    };
    let hide: Vec<&str> = a.hide.iter().map(String::as_str).collect();
    let job = Job {
        provider: adapter.name(),
        rule_id: a.rule_id,
        secret: &a.secret,
        hide_env: &hide,
        retirement: adapter.retirement(&req),
    };
    let opts = Options {
        journal: &journal,
        sink: &sink,
        now: time::OffsetDateTime::now_utc(),
        lock_wait: Duration::from_secs(common.lock_wait),
    };
    let mut err = std::io::stderr().lock();
    let next = rotate::plan(&opts, &job).map_err(anyhow::Error::msg)?;
    if !common.yes || !common.quiet {
        print_plan(&mut err, &a, &adapter, &req, &sink, &journal, &next)?;
    }
    if !common.yes {
        match &next {
            Next::Blocked(why) => bail!("{why}"),
            Next::Interrupted { .. } => bail!("{}", next.describe(adapter.name())),
            n if n.is_work() => {
                writeln!(err, "dry run: nothing was sent; rerun with --yes to rotate")?;
                return Ok(true);
            }
            _ => return Ok(false),
        }
    }
    let mut out: Box<dyn Write> = if common.quiet {
        Box::new(std::io::sink())
    } else {
        Box::new(err)
    };
    let ended = rotate::run(
        &opts,
        &job,
        &Adapter {
            provider: &adapter,
            cx: &cx,
            req,
        },
        &mut out,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(ended == Ended::NeedsReplacement)
}

fn print_plan(
    out: &mut dyn Write,
    a: &Asked,
    adapter: &dyn Provider,
    req: &RotateRequest,
    sink: &Sink,
    journal: &std::path::Path,
    next: &Next,
) -> Result<()> {
    let sha = sha256_hex(a.secret.as_bytes());
    let with = match (&a.pair, a.rule_id) {
        (Some(sid), "twilio-api-key-secret") => format!(" (key {sid})"),
        _ => String::new(),
    };
    writeln!(out, "rotation plan:")?;
    writeln!(
        out,
        "  credential  {} {}{with} (sha256:{})",
        a.rule_id,
        redact(&a.secret),
        &sha[..12]
    )?;
    for (i, call) in adapter.rotation_calls(req).iter().enumerate() {
        if i == 0 {
            writeln!(out, "  calls       {}: {call}", adapter.name())?;
        } else {
            writeln!(out, "              {call}")?;
        }
    }
    writeln!(
        out,
        "  new secret  to {}, held in a recovery file in {} until delivered",
        sink.describe(),
        sink::recovery_dir(journal).display()
    )?;
    writeln!(
        out,
        "  journal     {} (locked through {})",
        journal.display(),
        lock::lock_path(journal).display()
    )?;
    writeln!(out, "  next        {}", next.describe(adapter.name()))?;
    Ok(())
}
