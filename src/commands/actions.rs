//! What `scan --revoke` and `scan --rotate` do after the report is written, and the helpers the
//! `revoke` and `rotate` commands share: secrets from the environment or stdin, never from argv.

use std::io::{Read, Write};

use anyhow::{Context as _, Result, bail};
use keysweep_core::config::Config;
use keysweep_core::finding::redact;
use keysweep_core::secret::Secret;
use keysweep_provider::action::journal;
use keysweep_provider::action::revoke::{self, Options};
use keysweep_provider::action::rotate::{self, Job, MintOnly};
use keysweep_provider::action::sink::Sink;
use keysweep_provider::{Client, Context, Credential, Provider, RotateError, RotateRequest, slack};

use crate::cli::ScanArgs;

/// `scan --rotate` and `scan --revoke`. Rotation runs first. A rotation whose new secret could not
/// be delivered, or whose outcome is unknown, stops all revocation (the new secret must be safe
/// first); a rotation the provider refused (a stale refresh token) is reported and revocation of
/// everything else goes on.
pub fn after_scan(
    args: &ScanArgs,
    cx: &Context,
    config: &Config,
    secrets: &[Secret],
) -> Result<()> {
    let a = &args.action;
    if !a.revoke && !a.rotate {
        return Ok(());
    }
    let journal = journal::path_or_default(a.journal.as_deref()).map_err(anyhow::Error::msg)?;
    let mut err = std::io::stderr().lock();
    let mut refused = 0;
    if a.rotate {
        match rotate_found(args, cx, &journal, secrets, &mut err)? {
            Rotated::AllDone => {}
            Rotated::SomeRefused(n) => refused = n,
            Rotated::Unsafe(n) => bail!(
                "{n} rotation(s) did not end with the new secret delivered; nothing was revoked"
            ),
        }
    }
    if a.revoke {
        let opts = Options {
            yes: a.yes,
            journal: &journal,
            allowed_rules: config.revoke.rules.as_deref(),
            quiet: args.output.quiet,
        };
        let tally = revoke::run(cx, secrets, &opts, &mut err).map_err(anyhow::Error::msg)?;
        if tally.failed > 0 {
            bail!("{} revocation(s) failed (see above)", tally.failed);
        }
    }
    if refused > 0 {
        bail!("{refused} rotation(s) were refused by the provider (see above)");
    }
    Ok(())
}

enum Rotated {
    AllDone,
    /// The provider refused these: nothing was minted, nothing is at risk.
    SomeRefused(usize),
    /// A new secret may exist that did not reach its sink.
    Unsafe(usize),
}

fn rotate_found(
    args: &ScanArgs,
    cx: &Context,
    journal: &std::path::Path,
    secrets: &[Secret],
    out: &mut dyn Write,
) -> Result<Rotated> {
    let a = &args.action;
    let tokens: Vec<&Secret> = secrets
        .iter()
        .filter(|s| s.provider == "slack" && slack::is_refresh_token(&s.secret))
        .filter(|s| keysweep_provider::registry::for_credential(&credential(s)).is_some())
        .collect();
    if tokens.is_empty() {
        writeln!(out, "rotation: no leaked Slack refresh token found")?;
        return Ok(Rotated::AllDone);
    }
    let sink =
        Sink::parse(a.sink.as_deref().context(
            "--rotate needs --sink (file:PATH, exec:COMMAND or stdout) for the new tokens",
        )?)
        .map_err(anyhow::Error::msg)?;
    check_sink(&sink)?;
    if sink == Sink::Stdout && args.output.output.is_none() {
        bail!(
            "--sink stdout would mix the new tokens into the report on stdout: write the report \
             with --output FILE, or use a file: or exec: sink"
        );
    }
    let client_id = a
        .client_id
        .as_deref()
        .context("--rotate needs --client-id (or KEYSWEEP_CLIENT_ID)")?;
    let (client_secret, secret_var) =
        secret_from_env(a.client_secret_env.as_deref(), "--client-secret-env")?;
    writeln!(out, "rotation plan:")?;
    for s in &tokens {
        let at = s
            .locations
            .first()
            .map(|l| l.to_string())
            .unwrap_or_default();
        writeln!(
            out,
            "  exchange {} {} at {} via oauth.v2.access (retires the leaked token)",
            s.rule_id,
            redact(&s.secret),
            keysweep_core::text::escape(&at)
        )?;
    }
    if !a.yes {
        writeln!(out, "dry run: nothing was exchanged; rerun with --yes")?;
        return Ok(Rotated::AllDone);
    }
    let hide: Vec<&str> = secret_var.iter().map(String::as_str).collect();
    let (mut refused, mut unsafe_) = (0, 0);
    for s in tokens {
        let Some(p) = keysweep_provider::registry::for_credential(&credential(s)) else {
            continue;
        };
        let was_refused = std::cell::Cell::new(false);
        let req = RotateRequest {
            client: Some(Client {
                id: client_id,
                secret: &client_secret,
            }),
            ..RotateRequest::new(credential(s))
        };
        let result = rotate::run(
            &rotate::Options {
                journal,
                sink: &sink,
                now: time::OffsetDateTime::now_utc(),
                lock_wait: std::time::Duration::from_secs(300),
            },
            &Job {
                provider: "slack",
                rule_id: &s.rule_id,
                secret: &s.secret,
                hide_env: &hide,
                retirement: p.retirement(&req),
            },
            &MintOnly(|| {
                let r = p.rotate(cx, &req);
                was_refused.set(matches!(r, Err(RotateError::Refused(_))));
                r
            }),
            out,
        );
        if let Err(e) = result {
            if was_refused.get() {
                refused += 1;
            } else {
                unsafe_ += 1;
            }
            writeln!(out, "keysweep: error: {e}")?;
        }
    }
    Ok(match (refused, unsafe_) {
        (_, n) if n > 0 => Rotated::Unsafe(n),
        (0, _) => Rotated::AllDone,
        (n, _) => Rotated::SomeRefused(n),
    })
}

/// Refuses a `file:` sink that is anything but a regular file (or nothing yet), before anything is
/// minted: a FIFO or a device planted at the path would take the new secret, or block for ever, and
/// a symlink would send it elsewhere. The write itself refuses them again.
pub fn check_sink(sink: &Sink) -> Result<()> {
    if let Sink::File(p) = sink
        && let Ok(m) = std::fs::symlink_metadata(p)
        && !m.file_type().is_file()
    {
        bail!(
            "--sink file:{}: not a regular file (a symlink, FIFO, socket or device is refused); \
             nothing was sent",
            keysweep_core::text::escape(&p.display().to_string())
        );
    }
    if let Sink::File(p) = sink {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            bail!(
                "--sink file:{}: its directory does not exist; nothing was sent",
                keysweep_core::text::escape(&p.display().to_string())
            );
        }
    }
    Ok(())
}

pub fn credential(s: &Secret) -> Credential<'_> {
    Credential {
        rule_id: &s.rule_id,
        secret: &s.secret,
        pair: s.pair.as_deref(),
    }
}

/// A secret from the environment variable `var`, or from stdin when `var` is `-`. Never from argv.
/// Also returns the variable's name, so commands started later do not inherit it.
pub fn secret_from_env(var: Option<&str>, flag: &str) -> Result<(String, Option<String>)> {
    let var = var.with_context(|| format!("{flag} VAR is required"))?;
    let (value, from) = if var == "-" {
        (read_stdin_secret()?, None)
    } else {
        (
            std::env::var(var)
                .map_err(|_| anyhow::anyhow!("environment variable {var} is not set"))?,
            Some(var.to_string()),
        )
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        bail!("{flag}: the secret is empty");
    }
    Ok((value, from))
}

pub fn read_stdin_secret() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut s)
        .context("cannot read the secret from stdin")?;
    let s = s.trim().to_string();
    if s.is_empty() {
        bail!("no secret on stdin");
    }
    if s.split_whitespace().count() != 1 {
        bail!("stdin must hold exactly one secret");
    }
    Ok(s)
}
