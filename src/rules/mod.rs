//! The rule model: loading rule files, checking them, and compiling them for the engine.
//!
//! A rule file is TOML: a top-level `provider` and one `[[rule]]` table per rule. See `rules/README.md`
//! for the schema. The default pack (`rules/*.toml`) is embedded at build time by `build.rs`.

pub mod validate;

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// Bytes examined after a keyword hit when a rule names no `window`.
pub const DEFAULT_WINDOW: usize = 512;
/// Bytes examined before a keyword hit when a rule names no `lookbehind`.
pub const DEFAULT_LOOKBEHIND: usize = 64;
/// Bytes around a match searched for a rule's companion secret when `pair.distance` is not set.
pub const DEFAULT_PAIR_DISTANCE: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// One rule file as written on disk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub provider: String,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// A rule as written on disk (also the schema of `[[rules]]` in keysweep.toml, which names its
/// provider per rule).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    /// Set by the rule file's top-level `provider`; custom rules in a config give it per rule.
    #[serde(default)]
    pub provider: Option<String>,
    pub description: String,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// The secret is the capture group named `secret`, else group 1, else the whole match.
    pub regex: String,
    /// Literal byte strings; the regex runs only near one of them. Matched case-insensitively.
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// Name of an offline validator in `validate.rs` (checksums, structure).
    #[serde(default)]
    pub validator: Option<String>,
    /// Bytes after a keyword hit that the regex may cover.
    #[serde(default)]
    pub window: Option<usize>,
    /// Bytes before a keyword hit that the regex may cover (for context keywords after the secret).
    #[serde(default)]
    pub lookbehind: Option<usize>,
    /// A companion secret that must (or may) appear near the match, e.g. AWS's secret access key.
    #[serde(default)]
    pub pair: Option<PairSpec>,
    /// Strings each of which must produce a finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Strings none of which may produce a finding of this rule.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_severity() -> Severity {
    Severity::High
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    /// The companion's regex; its secret is group `secret`, else group 1, else the whole match.
    pub regex: String,
    /// Bytes before and after the main match in which the companion is searched.
    #[serde(default)]
    pub distance: Option<usize>,
    /// Without a companion there is no finding (default true).
    #[serde(default = "yes")]
    pub required: bool,
    /// Minimum entropy of the companion.
    #[serde(default)]
    pub min_entropy: Option<f64>,
}

fn yes() -> bool {
    true
}

/// A compiled rule, ready for the engine.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub provider: String,
    pub description: String,
    pub severity: Severity,
    pub regex: LazyRegex,
    pub keywords: Vec<String>,
    pub min_entropy: Option<f64>,
    pub validator: Option<validate::Validator>,
    pub window: usize,
    pub lookbehind: usize,
    pub pair: Option<Pair>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// Where the rule came from (the embedded pack's file name, or a config path), for messages.
    pub origin: String,
}

#[derive(Debug, Clone)]
pub struct Pair {
    pub regex: LazyRegex,
    pub distance: usize,
    pub required: bool,
    pub min_entropy: Option<f64>,
}

/// Compiles with ASCII semantics: `\b`, `\w` and `\d` mean their ASCII forms, which is what token
/// alphabets are, and it lets patterns match inside invalid UTF-8.
pub fn compile_regex(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(1 << 24)
        .build()
}

/// A rule's regex, checked for syntax when the rule loads and compiled on first use. Most rules never
/// see their keyword in a small scan (a pre-commit hook's few staged files), and compiling all of
/// them up front would be most of such a run's time.
#[derive(Debug, Clone)]
pub struct LazyRegex {
    pattern: String,
    compiled: OnceLock<(Regex, usize)>,
}

impl LazyRegex {
    /// Parses `pattern` with the settings [`compile_regex`] uses, so syntax errors surface at load.
    pub fn new(pattern: &str) -> Result<LazyRegex> {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)?;
        Ok(LazyRegex {
            pattern: pattern.to_string(),
            compiled: OnceLock::new(),
        })
    }

    /// Compiles now; rule loaders call this where a failure must be an error rather than a panic
    /// later (custom rules and `rules check` do it through their examples as well).
    pub fn force(&self) -> std::result::Result<&Regex, regex::Error> {
        if let Some((re, _)) = self.compiled.get() {
            return Ok(re);
        }
        let re = compile_regex(&self.pattern)?;
        let group = secret_group(&re);
        Ok(&self.compiled.get_or_init(|| (re, group)).0)
    }

    pub fn get(&self) -> &Regex {
        &self.compiled().0
    }

    /// The capture group holding the secret: `secret`, else group 1, else the whole match.
    pub fn secret_group(&self) -> usize {
        self.compiled().1
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    fn compiled(&self) -> &(Regex, usize) {
        self.compiled.get_or_init(|| {
            // Syntax was checked at load and every embedded rule is compiled by the pack's tests;
            // what is left is the size limit, which only a pathological custom rule can reach.
            let re = compile_regex(&self.pattern).unwrap_or_else(|e| {
                panic!("rule regex failed to compile after passing its syntax check: {e}")
            });
            let group = secret_group(&re);
            (re, group)
        })
    }
}

fn secret_group(re: &Regex) -> usize {
    if let Some(i) = re.capture_names().position(|n| n == Some("secret")) {
        i
    } else if re.captures_len() > 1 {
        1
    } else {
        0
    }
}

impl RuleSpec {
    /// Checks and compiles the rule. `origin` names the file for error messages.
    pub fn compile(&self, file_provider: Option<&str>, origin: &str) -> Result<Rule> {
        let id = self.id.trim();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            bail!(
                "{origin}: rule id {:?} must be lowercase letters, digits, `-` or `_`",
                self.id
            );
        }
        let provider = match (&self.provider, file_provider) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => p.to_string(),
            (None, None) => bail!("{origin}: rule `{id}`: field `provider` is missing"),
        };
        let regex = LazyRegex::new(&self.regex)
            .with_context(|| format!("{origin}: rule `{id}`: field `regex` does not compile"))?;
        if self.keywords.is_empty() || self.keywords.iter().any(|k| k.trim().len() < 2) {
            bail!(
                "{origin}: rule `{id}`: field `keywords` needs at least one keyword of 2 or more characters \
                 (the prefilter runs rules only near their keywords)"
            );
        }
        let validator = match &self.validator {
            None => None,
            Some(name) => Some(validate::Validator::by_name(name).with_context(|| {
                format!(
                    "{origin}: rule `{id}`: field `validator`: unknown validator {name:?} (known: {})",
                    validate::Validator::NAMES.join(", ")
                )
            })?),
        };
        let pair = match &self.pair {
            None => None,
            Some(p) => {
                let re = LazyRegex::new(&p.regex).with_context(|| {
                    format!("{origin}: rule `{id}`: field `pair.regex` does not compile")
                })?;
                Some(Pair {
                    regex: re,
                    distance: p.distance.unwrap_or(DEFAULT_PAIR_DISTANCE),
                    required: p.required,
                    min_entropy: p.min_entropy,
                })
            }
        };
        if let Some(e) = self.min_entropy
            && !(0.0..=8.0).contains(&e)
        {
            bail!(
                "{origin}: rule `{id}`: field `min_entropy` must be between 0 and 8 bits per byte"
            );
        }
        Ok(Rule {
            id: id.to_string(),
            provider,
            description: self.description.clone(),
            severity: self.severity,
            regex,
            keywords: self.keywords.clone(),
            min_entropy: self.min_entropy,
            validator,
            window: self.window.unwrap_or(DEFAULT_WINDOW),
            lookbehind: self.lookbehind.unwrap_or(DEFAULT_LOOKBEHIND),
            pair,
            examples: self.examples.clone(),
            negative_examples: self.negative_examples.clone(),
            origin: origin.to_string(),
        })
    }
}

/// Parses and compiles a rule file's text.
pub fn parse_rule_file(text: &str, origin: &str) -> Result<Vec<Rule>> {
    let file: RuleFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    if file.rules.is_empty() {
        bail!("{origin}: no [[rule]] tables");
    }
    file.rules
        .iter()
        .map(|r| r.compile(Some(&file.provider), origin))
        .collect()
}

pub fn load_rule_file(path: &Path) -> Result<Vec<Rule>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rule file {}", path.display()))?;
    parse_rule_file(&text, &path.display().to_string())
}

// (name, contents) of every file in rules/, generated by build.rs.
include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// The default rule pack compiled into the binary.
pub fn default_rules() -> Result<Vec<Rule>> {
    let mut all = Vec::new();
    for (name, text) in EMBEDDED_RULES {
        all.extend(parse_rule_file(text, &format!("rules/{name}"))?);
    }
    check_unique(&all)?;
    Ok(all)
}

pub fn check_unique(rules: &[Rule]) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for r in rules {
        if let Some(prev) = seen.insert(r.id.as_str(), r.origin.as_str()) {
            bail!(
                "rule id `{}` is defined twice ({} and {})",
                r.id,
                prev,
                r.origin
            );
        }
    }
    Ok(())
}
