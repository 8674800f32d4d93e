//! `keysweep.toml`: allowlists, disabled rules, custom rules, revocation and policy settings.
//!
//! A config can live inside the repository being scanned, so it is untrusted input: it may narrow what
//! is reported and add rules, but nothing in it can name a network destination. Unknown fields are
//! refused, which is also what stops an `endpoint` key from being smuggled in. Errors name the file,
//! line and field, never the value found there (an allowlisted literal may be a secret).

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::engine::Allowlist;
use crate::error::{Error, Result};
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
    /// What makes a scan fail (exit 1); absent: any finding.
    #[serde(default)]
    pub policy: Option<crate::policy::Policy>,
    /// Where the config came from, for messages.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
    /// The file's text, kept to point errors found after parsing at their line.
    #[serde(skip)]
    source: Option<String>,
}

/// A step into a TOML document: a key of a table or an index of an array.
#[derive(Clone, Copy)]
enum Key<'a> {
    Name(&'a str),
    Index(usize),
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
        let name = origin.display().to_string();
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let err = rules::toml_error(&name, text, &e);
            if e.message().contains("unknown field") {
                let Error::Invalid { file, line, msg } = err else {
                    return err;
                };
                return Error::Invalid {
                    file,
                    line,
                    msg: format!(
                        "{msg}\n(a config cannot name network destinations or anything else not \
                         in its schema; provider endpoints are set only on the command line with \
                         --endpoint)"
                    ),
                };
            }
            err
        })?;
        cfg.origin = Some(origin.to_path_buf());
        cfg.source = Some(text.to_string());
        Ok(cfg)
    }

    /// The 1-based line of the value at `path`, when the config came from text.
    fn line_of(&self, path: &[Key]) -> Option<usize> {
        use toml::de::{DeTable, DeValue};
        let text = self.source.as_deref()?;
        let doc = DeTable::parse(text).ok()?;
        let mut span = doc.span();
        let mut table = Some(doc.get_ref());
        let mut array: Option<&[toml::Spanned<DeValue>]> = None;
        for key in path {
            let value = match key {
                Key::Name(name) => table?.iter().find(|(k, _)| k.get_ref() == name)?.1,
                Key::Index(i) => array?.get(*i)?,
            };
            span = value.span();
            (table, array) = match value.get_ref() {
                DeValue::Table(t) => (Some(t), None),
                DeValue::Array(a) => (None, Some(&a[..])),
                _ => (None, None),
            };
        }
        Some(text[..span.start.min(text.len())].matches('\n').count() + 1)
    }

    fn error_at(&self, path: &[Key], msg: impl Into<String>) -> Error {
        Error::invalid(self.origin_name(), self.line_of(path), msg)
    }

    /// An error about custom rule `i`, at the line of the field it names (else at the rule).
    fn rule_error(&self, i: usize, err: Error) -> Error {
        let Error::Rule { id, field, msg, .. } = err else {
            return err;
        };
        let rule = [Key::Name("rules"), Key::Index(i)];
        let mut at_field = rule.to_vec();
        at_field.extend(field.into_iter().flat_map(|f| f.split('.')).map(Key::Name));
        let line = self.line_of(&at_field).or_else(|| self.line_of(&rule));
        let field = field.map(|f| format!("field `{f}` ")).unwrap_or_default();
        Error::invalid(
            self.origin_name(),
            line,
            format!("rule `{id}`: {field}{msg}"),
        )
    }

    /// The config the user named (`--config`): read whatever it is, a pipe included.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        Config::parse(&text, path)
    }

    /// A config found in a scanned tree: a regular file of reasonable size, or an error.
    fn load_found(path: &Path) -> Result<Config> {
        let text =
            crate::source::files::read_regular(path, 16 << 20).map_err(|e| Error::read(path, e))?;
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
                    return Config::load_found(&p);
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
        for (i, spec) in self.rules.iter().enumerate() {
            if spec.verify.is_some() || spec.revoke.is_some() {
                return Err(self.rule_error(
                    i,
                    Error::Rule {
                        origin: origin.clone(),
                        id: spec.id.clone(),
                        field: Some(if spec.verify.is_some() {
                            "verify"
                        } else {
                            "revoke"
                        }),
                        msg: "is accepted only in keysweep's built-in rule pack (a config must \
                              not decide where secrets are sent)"
                            .into(),
                    },
                ));
            }
            let rule = spec
                .compile(None, &origin)
                .and_then(|rule| crate::engine::check_examples(&rule).map(|()| rule))
                .map_err(|e| self.rule_error(i, e))?;
            all.push(rule);
        }
        rules::check_unique(&all)?;
        for (i, id) in self.disable.iter().enumerate() {
            if !all.iter().any(|r| &r.id == id) {
                return Err(self.error_at(
                    &[Key::Name("disable"), Key::Index(i)],
                    "`disable` names an unknown rule",
                ));
            }
        }
        all.retain(|r| !self.disable.contains(&r.id));
        if all.is_empty() {
            return Err(Error::invalid(origin, None, "no rules left to run"));
        }
        Ok(all)
    }

    pub fn allowlist(&self) -> Result<Allowlist> {
        let mut regexes = self.allowlist.regexes.clone();
        regexes.extend(
            self.example_secrets()
                .iter()
                .map(|s| format!("^{}$", regex::escape(s))),
        );
        Allowlist::new(&regexes, &self.allowlist.stopwords).map_err(|i| {
            self.error_at(
                &[Key::Name("allowlist"), Key::Name("regexes"), Key::Index(i)],
                "[allowlist] field `regexes`: not a valid regex",
            )
        })
    }

    /// The secrets in custom rules' own examples. A config that defines a rule must hold strings the
    /// rule matches; they are fake by declaration, so they are not reported, in the config or
    /// anywhere (the config could allowlist them by regex anyway, so this grants it nothing new).
    fn example_secrets(&self) -> Vec<String> {
        let origin = self.origin_name();
        let mut out = Vec::new();
        for spec in &self.rules {
            // A rule that does not compile is reported by `rules()`.
            let Ok(rule) = spec.compile(None, &origin) else {
                continue;
            };
            let examples = rule.examples.clone();
            let Ok(engine) = crate::engine::Engine::new(vec![rule], Allowlist::default()) else {
                continue;
            };
            for ex in &examples {
                out.extend(engine.find(ex.as_bytes()).into_iter().map(|m| m.secret));
            }
        }
        out
    }

    pub fn path_allowlist(&self) -> Result<GlobSet> {
        let mut b = GlobSetBuilder::new();
        for (i, g) in self.allowlist.paths.iter().enumerate() {
            let glob = Glob::new(g).map_err(|_| {
                self.error_at(
                    &[Key::Name("allowlist"), Key::Name("paths"), Key::Index(i)],
                    "[allowlist] field `paths`: bad glob",
                )
            })?;
            b.add(glob);
        }
        b.build()
            .map_err(|e| Error::invalid(self.origin_name(), None, format!("[allowlist]: {e}")))
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
        assert!(e.to_string().starts_with("k.toml:3:"), "{e}");
    }

    #[test]
    fn errors_never_echo_the_value() {
        let secret = ["xoxb-", "2793640182-", "Qm7Zt2WkP9vXs4LbRn8YcJd3"].concat();
        let e = Config::parse(
            &format!("[allowlist]\nregexes = [\"{secret}\", \"(\"]\nstopwords = {secret}\n"),
            Path::new("k.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains(&secret[5..]), "{e}");
        assert!(e.starts_with("k.toml:3:"), "{e}");
    }

    #[test]
    fn disable_and_allowlist() {
        let c = Config::parse(
            "disable = [\"github-pat\"]\n[allowlist]\npaths = [\"fixtures/**\"]\n",
            Path::new("k.toml"),
        )
        .unwrap();
        assert!(c.path_allowlist().unwrap().is_match("fixtures/a/b.txt"));
        assert!(!c.path_allowlist().unwrap().is_match("src/a.rs"));
        assert_eq!(c.disable, vec!["github-pat"]);
    }

    /// Found by the fuzzer: a multi-line literal string where a list belongs. The parser quotes the
    /// value with its inner quotes escaped, and none of it may reach the message.
    #[test]
    fn a_value_holding_quotes_is_not_echoed_either() {
        let secret = ["xoxb-", "2793640182-", "Qm7Zt2WkP9vXs4LbRn8YcJd3"].concat();
        let text = format!(
            "extend_default = true\ndisable = '''[\"{secret}\"]\n[allowlist]\npaths = \
             [\"fixtures/**\", \"{secret}/**\"]\nregexes = '''"
        );
        let e = Config::parse(&text, Path::new("k.toml"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains(&secret[5..]), "{e}");
        assert!(e.contains("expected a sequence"), "{e}");
    }
}
