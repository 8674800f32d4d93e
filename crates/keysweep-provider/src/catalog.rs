//! The capability matrix: for each provider of the built-in pack, which of its rules keysweep can
//! verify, revoke and rotate, and what it asks. `keysweep providers` prints it, and the README's
//! table is its markdown form (a test keeps them equal).

use keysweep_core::rules::{embedded_api, embedded_rules};
use serde::Serialize;

use crate::adapter::Provider;
use crate::registry;

/// One provider's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub provider: String,
    /// Every rule of the provider (detection).
    pub rules: Vec<String>,
    /// Rules whose secrets can be verified.
    pub verify: Vec<String>,
    pub revoke: Vec<String>,
    pub rotate: Vec<String>,
    /// The compiled-in API host, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Other regions or sites asked when the first does not know a key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// The provider has no public host: what to pass to `--endpoint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_endpoint: Option<String>,
    /// What is asked to verify, and to revoke.
    pub verify_calls: Vec<String>,
    pub revoke_calls: Vec<String>,
    pub rotate_calls: Vec<String>,
    /// Where an owner revokes by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
}

impl Row {
    pub fn verifies(&self) -> bool {
        !self.verify.is_empty()
    }
    pub fn revokes(&self) -> bool {
        !self.revoke.is_empty()
    }
    pub fn rotates(&self) -> bool {
        !self.rotate.is_empty()
    }
}

fn push(list: &mut Vec<String>, item: String) {
    if !item.is_empty() && !list.contains(&item) {
        list.push(item);
    }
}

/// Every provider of the built-in pack, by name.
pub fn rows() -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for rule in embedded_rules() {
        let i = match rows.iter().position(|r| r.provider == rule.provider) {
            Some(i) => i,
            None => {
                let api = embedded_api(&rule.provider);
                rows.push(Row {
                    provider: rule.provider.clone(),
                    rules: Vec::new(),
                    verify: Vec::new(),
                    revoke: Vec::new(),
                    rotate: Vec::new(),
                    endpoint: None,
                    regions: api.map(|a| a.regions.clone()).unwrap_or_default(),
                    needs_endpoint: api.and_then(|a| a.needs_endpoint.clone()),
                    verify_calls: Vec::new(),
                    revoke_calls: Vec::new(),
                    rotate_calls: Vec::new(),
                    console: api.and_then(|a| a.console.clone()),
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        row.rules.push(rule.id.clone());
        let Some(r) = registry::resolve(&rule.id) else {
            continue;
        };
        if row.needs_endpoint.is_none() && row.endpoint.is_none() {
            let base = r.default_base();
            row.endpoint = (!base.is_empty()).then(|| base.to_string());
        }
        let caps = r.supports(&rule.id);
        let calls = r.calls();
        // A request to one of the provider's other hosts names it.
        let describe = |spec: &keysweep_core::rules::request::RequestSpec| {
            let host = spec
                .host
                .as_ref()
                .and_then(|h| embedded_api(&rule.provider)?.hosts.get(h))
                .map(|u| u.trim_start_matches("https://").to_string());
            match host {
                Some(h) => format!("{} {h}{}", spec.method.as_str(), spec.path),
                None => spec.describe(),
            }
        };
        if caps.verify {
            row.verify.push(rule.id.clone());
            match &rule.verify {
                Some(spec) => push(&mut row.verify_calls, describe(spec)),
                None => push(&mut row.verify_calls, calls.verify.to_string()),
            }
        }
        if caps.revoke {
            row.revoke.push(rule.id.clone());
            match &rule.revoke {
                Some(spec) => push(&mut row.revoke_calls, describe(spec)),
                None => push(&mut row.revoke_calls, calls.revoke.to_string()),
            }
        }
        if caps.rotate {
            row.rotate.push(rule.id.clone());
            push(&mut row.rotate_calls, calls.rotate.to_string());
        }
    }
    rows.sort_by(|a, b| a.provider.cmp(&b.provider));
    rows
}

/// `yes` when every rule has it, `n of m` when some do, `-` when none.
fn cell(have: usize, all: usize) -> String {
    match have {
        0 => "-".to_string(),
        n if n == all => "yes".to_string(),
        n => format!("{n} of {all} kinds"),
    }
}

/// Totals: providers that detect, verify, revoke and rotate.
pub fn totals(rows: &[Row]) -> (usize, usize, usize, usize) {
    (
        rows.len(),
        rows.iter().filter(|r| r.verifies()).count(),
        rows.iter().filter(|r| r.revokes()).count(),
        rows.iter().filter(|r| r.rotates()).count(),
    )
}

fn md(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The matrix as a markdown table, then what is asked per provider.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| Provider | Detect (rules) | Verify | Revoke | Rotate | Host |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for r in rows {
        let host = match (&r.needs_endpoint, &r.endpoint) {
            (Some(hint), _) => format!("yours: `--endpoint {}={hint}`", r.provider),
            (None, Some(e)) if r.regions.is_empty() => format!("`{e}`"),
            (None, Some(e)) => format!(
                "`{e}` (+{} region{})",
                r.regions.len(),
                if r.regions.len() == 1 { "" } else { "s" }
            ),
            (None, None) => "-".to_string(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.provider,
            r.rules.len(),
            cell(r.verify.len(), r.rules.len()),
            cell(r.revoke.len(), r.rules.len()),
            cell(r.rotate.len(), r.rules.len()),
            md(&host),
        ));
    }
    let (n, v, k, o) = totals(rows);
    out.push_str(&format!(
        "\n{n} providers: {v} verify, {k} revoke, {o} rotate.\n"
    ));
    out.push_str("\n| Provider | Verification asks | Revocation asks |\n|---|---|---|\n");
    for r in rows.iter().filter(|r| r.verifies() || r.revokes()) {
        let verify = if r.verify_calls.is_empty() {
            "-".to_string()
        } else {
            r.verify_calls
                .iter()
                .map(|c| format!("`{}`", md(c)))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let revoke = if r.revoke_calls.is_empty() {
            match &r.console {
                Some(c) => format!("by hand: {c}"),
                None => "by hand, in the provider's console".to_string(),
            }
        } else {
            r.revoke_calls
                .iter()
                .map(|c| format!("`{}`", md(c)))
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            r.provider,
            verify,
            md(&revoke)
        ));
    }
    out.push_str("\n| Provider | Rotated kinds | Rotation asks (`keysweep rotate PROVIDER`) |\n|---|---|---|\n");
    for r in rows.iter().filter(|r| r.rotates()) {
        let calls = r
            .rotate_calls
            .iter()
            .map(|c| format!("`{}`", md(c)))
            .collect::<Vec<_>>()
            .join("; ");
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            r.provider,
            r.rotate.join(", "),
            calls
        ));
    }
    out
}

/// The matrix for a terminal.
pub fn human(rows: &[Row]) -> String {
    let w = rows
        .iter()
        .map(|r| r.provider.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = format!(
        "{:<w$}  {:>5}  {:<14}  {:<14}  {:<14}  host\n",
        "provider", "rules", "verify", "revoke", "rotate"
    );
    for r in rows {
        let host = match (&r.needs_endpoint, &r.endpoint) {
            (Some(hint), _) => format!("--endpoint {}={hint}", r.provider),
            (None, Some(e)) => e.clone(),
            (None, None) => "-".into(),
        };
        out.push_str(&format!(
            "{:<w$}  {:>5}  {:<14}  {:<14}  {:<14}  {host}\n",
            r.provider,
            r.rules.len(),
            cell(r.verify.len(), r.rules.len()),
            cell(r.revoke.len(), r.rules.len()),
            cell(r.rotate.len(), r.rules.len()),
        ));
    }
    let (n, v, k, o) = totals(rows);
    out.push_str(&format!(
        "{n} providers: {v} verify, {k} revoke, {o} rotate\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_counts_what_the_registry_serves() {
        let rows = rows();
        let (n, v, k, o) = totals(&rows);
        assert!(n >= 45, "{n}");
        assert!(v >= 40, "{v} verifiable providers");
        assert!(k >= 15, "{k} revocable providers");
        assert!(o >= 6, "{o}");
        for (provider, rule) in [
            ("aws", "aws-access-key"),
            ("github", "github-refresh-token"),
            ("google", "google-oauth-refresh-token"),
            ("slack", "slack-bot-token"),
            ("twilio", "twilio-api-key-secret"),
        ] {
            let row = rows.iter().find(|r| r.provider == provider).unwrap();
            assert!(
                row.rotate.contains(&rule.to_string()),
                "{provider}: {:?}",
                row.rotate
            );
            assert!(!row.rotate_calls.is_empty(), "{provider}");
        }
        let slack = rows.iter().find(|r| r.provider == "slack").unwrap();
        assert!(slack.rotate.contains(&"slack-refresh-token".to_string()));
        assert!(!slack.verify.contains(&"slack-refresh-token".to_string()));
        let okta = rows.iter().find(|r| r.provider == "okta").unwrap();
        assert!(okta.needs_endpoint.is_some() && okta.endpoint.is_none());
        let pypi = rows.iter().find(|r| r.provider == "pypi").unwrap();
        assert!(
            !pypi.verifies() && !pypi.revokes(),
            "no read-only PyPI call exists"
        );
        let md = markdown(&rows);
        assert!(
            md.contains("| huggingface | 2 | yes | yes | - | `https://huggingface.co` |"),
            "{md}"
        );
    }
}
