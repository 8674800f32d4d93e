//! `keysweep.toml`: allowlists, disabled rules, custom rules and revocation policy.
//!
//! A config can live inside the repository being scanned, so it is untrusted input: it may narrow what
//! is reported and add rules, but nothing in it can name a network destination. Unknown fields are
//! refused, which is also what stops an `endpoint` key from being smuggled in.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::engine::Allowlist;
use crate::rules::{self, Rule, RuleSpec};

/// File names looked for at the scanned root, in order.
pub const CONFIG_NAMES: &[&str] = &["keysweep.toml", ".keysweep.toml"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Keep the built-in rule pack (true) or use only this file's `[[rules]]` (false).
    #[serde(default = "yes")]
    pub extend_default: bool,
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub allowlist: AllowlistSpec,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    #[serde(default)]
    pub revoke: RevokePolicy,
    /// Where the config came from, for messages.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// Globs matched against paths relative to the scanned root (and paths in history).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes matched against the secret.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Case-insensitive words; a secret containing one is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokePolicy {
    /// When set, only these rules are ever revoked.
    #[serde(default)]
    pub rules: Option<Vec<String>>,
}

impl Config {
    pub fn parse(text: &str, origin: &Path) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("invalid config {}: {e}", origin.display()))?;
        cfg.origin = Some(origin.to_path_buf());
        Ok(cfg)
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Config::parse(&text, path)
    }

    /// The explicit `--config`, else the first of [`CONFIG_NAMES`] found in `root`, else defaults.
    pub fn discover(explicit: Option<&Path>, root: Option<&Path>) -> Result<Config> {
        if let Some(p) = explicit {
            return Config::load(p);
        }
        if let Some(root) = root {
            for name in CONFIG_NAMES {
                let p = root.join(name);
                if p.is_file() {
                    return Config::load(&p);
                }
            }
        }
        Ok(Config::default_with_pack())
    }

    fn default_with_pack() -> Config {
        Config {
            extend_default: true,
            ..Config::default()
        }
    }

    fn origin_name(&self) -> String {
        self.origin
            .as_ref()
            .map_or_else(|| "config".to_string(), |p| p.display().to_string())
    }

    /// The rules in force: the default pack (unless `extend_default = false`), plus custom rules,
    /// minus disabled ones. Custom rules' examples are run here, so a broken rule fails at load.
    pub fn rules(&self) -> Result<Vec<Rule>> {
        let origin = self.origin_name();
        let mut all = if self.extend_default {
            rules::default_rules()?
        } else {
            Vec::new()
        };
        for spec in &self.rules {
            let rule = spec.compile(None, &origin)?;
            crate::engine::check_examples(&rule)?;
            all.push(rule);
        }
        rules::check_unique(&all)?;
        for id in &self.disable {
            if !all.iter().any(|r| &r.id == id) {
                bail!("{origin}: `disable` names unknown rule `{id}`");
            }
        }
        all.retain(|r| !self.disable.contains(&r.id));
        if all.is_empty() {
            bail!("{origin}: no rules left to run");
        }
        Ok(all)
    }

    pub fn allowlist(&self) -> Result<Allowlist> {
        Allowlist::new(&self.allowlist.regexes, &self.allowlist.stopwords)
            .with_context(|| format!("{}: [allowlist]", self.origin_name()))
    }

    pub fn path_allowlist(&self) -> Result<GlobSet> {
        let mut b = GlobSetBuilder::new();
        for g in &self.allowlist.paths {
            b.add(Glob::new(g).with_context(|| {
                format!("{}: [allowlist] paths: bad glob {g:?}", self.origin_name())
            })?);
        }
        Ok(b.build()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keys_are_refused() {
        let e = Config::parse(
            "[allowlist]\npaths=[]\nendpoint = \"http://evil\"\n",
            Path::new("k.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("endpoint"), "{e}");
    }

    #[test]
    fn disable_and_allowlist() {
        let c = Config::parse(
            "disable = [\"github-pat-classic\"]\n[allowlist]\npaths = [\"fixtures/**\"]\n",
            Path::new("k.toml"),
        )
        .unwrap();
        assert!(c.path_allowlist().unwrap().is_match("fixtures/a/b.txt"));
        assert!(!c.path_allowlist().unwrap().is_match("src/a.rs"));
        assert_eq!(c.disable, vec!["github-pat-classic"]);
    }
}
