//! Rule files as written, and rules compiled for the engine.

use std::fmt;
use std::sync::{Arc, OnceLock};

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::request::{RequestSpec, RevokeSpec, VerifySpec};
use super::validate::Validator;
use crate::error::{Error, Result};

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

/// How sure keysweep is that a finding is a real credential: `high` when a checksum or decoded
/// structure confirms it (or its prefix is unique to the provider), `medium` when it was found by
/// context or its structure is unfamiliar, `low` when it is well-formed but unlikely to work (an
/// expired JWT).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    #[default]
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule file as written on disk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub provider: String,
    /// How the provider's API is reached; honoured only in the embedded pack.
    #[serde(default)]
    pub api: Option<ApiSpec>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// A provider's API as the embedded pack describes it: which Rust adapter serves its rules, or the
/// compiled-in base URL its declarative `verify`/`revoke` requests go to, and what an owner does by
/// hand. Trusted data: a config or a rule file read at run time can never carry it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    /// A Rust adapter of the provider crate, for flows that are more than one request.
    #[serde(default)]
    pub adapter: Option<String>,
    /// The default base URL (https) of declarative requests; `--endpoint PROVIDER=URL` overrides it.
    #[serde(default)]
    pub base: Option<String>,
    /// Where an owner revokes or rolls the credential by hand.
    #[serde(default)]
    pub console: Option<String>,
    /// How to revoke and rotate this provider's credentials, as markdown steps (SARIF help, plans).
    #[serde(default)]
    pub remediation: Option<String>,
    /// Other hosts of the provider, by name, for requests that say `host = "NAME"` (an OAuth host
    /// next to the API host). `--endpoint PROVIDER=URL` overrides them all.
    #[serde(default)]
    pub hosts: std::collections::BTreeMap<String, String>,
    /// Bases tried after `base`, in order, while the answer says the secret is not accepted: the
    /// same API in other regions or sites (EU, US3, ...), where a key works in one only.
    #[serde(default)]
    pub regions: Vec<String>,
    /// The provider has no public host (each customer has its own: `https://<org>.okta.com`), so
    /// nothing is sent unless the person running keysweep names one with `--endpoint`; this text
    /// says what to name. Never taken from a scanned file.
    #[serde(default)]
    pub needs_endpoint: Option<String>,
    /// Why some or all of the provider's secrets cannot be checked without side effects or more
    /// than the secret (shown instead of a bare "no verifier").
    #[serde(default)]
    pub no_check: Option<String>,
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
    /// Confidence of a finding that no validator confirmed (default high: a prefix unique to the
    /// provider); a passing validator raises it to high, an unfamiliar structure caps it at medium.
    #[serde(default)]
    pub confidence: Confidence,
    /// Why the rule's findings have less than high confidence (shown with them).
    #[serde(default)]
    pub confidence_reason: Option<String>,
    /// Why the regression corpus (tests/wild) has fewer than three real samples of this rule.
    #[serde(default)]
    pub public_samples: Option<String>,
    /// Name of an offline validator in `validate.rs` (checksums, structure).
    #[serde(default)]
    pub validator: Option<String>,
    /// Bytes after a keyword hit that the regex may cover.
    #[serde(default)]
    pub window: Option<usize>,
    /// Bytes before a keyword hit that the regex may cover (for context keywords after the secret).
    #[serde(default)]
    pub lookbehind: Option<usize>,
    /// The secret's own shape, anchored, for rules whose `regex` needs surrounding context (a
    /// variable name): what a secret must look like to be sent to its provider.
    #[serde(default)]
    pub shape: Option<String>,
    /// A companion secret that must (or may) appear near the match, e.g. AWS's secret access key.
    #[serde(default)]
    pub pair: Option<PairSpec>,
    /// How long a credential of this kind lives by design (`12 hours`), for kinds that expire or
    /// rotate on their own: reported as the finding's `lifetime` detail.
    #[serde(default)]
    pub lifetime: Option<String>,
    /// A declarative read-only verification request (embedded pack only).
    #[serde(default)]
    pub verify: Option<VerifySpec>,
    /// A declarative revocation request (embedded pack only).
    #[serde(default)]
    pub revoke: Option<RevokeSpec>,
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
    pub confidence: Confidence,
    pub confidence_reason: Option<String>,
    pub public_samples: Option<String>,
    pub validator: Option<Validator>,
    pub window: usize,
    pub lookbehind: usize,
    pub shape: Option<LazyRegex>,
    pub pair: Option<Pair>,
    pub lifetime: Option<String>,
    /// Declarative requests: present only on rules of the embedded pack.
    pub verify: Option<Arc<RequestSpec>>,
    pub revoke: Option<Arc<RequestSpec>>,
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
    /// The error says what is wrong, not the pattern (a custom rule's pattern may embed a secret).
    pub fn new(pattern: &str) -> std::result::Result<LazyRegex, String> {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .map_err(|e| match e {
                regex_syntax::Error::Parse(p) => {
                    format!("{} (at offset {})", p.kind(), p.span().start.offset)
                }
                regex_syntax::Error::Translate(t) => {
                    format!("{} (at offset {})", t.kind(), t.span().start.offset)
                }
                _ => "invalid regex".to_string(),
            })?;
        Ok(LazyRegex::unchecked(pattern))
    }

    /// A pattern known to parse (the built-in pack's, which the test suite compiles).
    pub(crate) fn unchecked(pattern: &str) -> LazyRegex {
        LazyRegex {
            pattern: pattern.to_string(),
            compiled: OnceLock::new(),
        }
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
            let re = compile_regex(&self.pattern).unwrap_or_else(|_| {
                panic!("rule regex failed to compile after passing its syntax check")
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

impl Rule {
    /// Whether `secret`, alone, has this rule's full shape: its `shape` (or, without one, its regex)
    /// matches the whole of it, and its validator passes. Nothing that fails this is ever sent to a
    /// provider, whatever rule id a finding carries.
    pub fn accepts(&self, secret: &str) -> bool {
        let bytes = secret.as_bytes();
        let whole = match &self.shape {
            Some(_) => self.fits_shape(bytes),
            None => {
                let group = self.regex.secret_group();
                self.regex.get().captures_iter(bytes).any(|c| {
                    c.get(group)
                        .is_some_and(|m| m.start() == 0 && m.end() == bytes.len())
                })
            }
        };
        whole && self.validator.is_none_or(|v| v.check(bytes))
    }
}

impl Rule {
    /// Whether `secret` matches the rule's `shape` whole (true for a rule without one). A rule may
    /// search more loosely than its shape (a token cut short by its author); such findings are
    /// reported at medium confidence.
    pub fn fits_shape(&self, secret: &[u8]) -> bool {
        self.shape.as_ref().is_none_or(|shape| {
            shape
                .get()
                .find(secret)
                .is_some_and(|m| m.start() == 0 && m.end() == secret.len())
        })
    }
}

impl RuleSpec {
    fn error(&self, origin: &str, field: Option<&'static str>, msg: impl Into<String>) -> Error {
        Error::Rule {
            origin: origin.to_string(),
            id: self.id.clone(),
            field,
            msg: msg.into(),
        }
    }

    /// Checks and compiles the rule. `origin` names the file for error messages.
    pub fn compile(&self, file_provider: Option<&str>, origin: &str) -> Result<Rule> {
        self.compile_with(file_provider, origin, true)
    }

    /// As [`RuleSpec::compile`], for the pack compiled into the binary: its patterns are not parsed
    /// at load (a fifth of a pre-commit run's time); the test suite compiles every one of them.
    pub(crate) fn compile_built_in(
        &self,
        file_provider: Option<&str>,
        origin: &str,
    ) -> Result<Rule> {
        self.compile_with(file_provider, origin, false)
    }

    fn compile_with(
        &self,
        file_provider: Option<&str>,
        origin: &str,
        check_syntax: bool,
    ) -> Result<Rule> {
        let lazy = |pattern: &str| {
            if check_syntax {
                LazyRegex::new(pattern)
            } else {
                Ok(LazyRegex::unchecked(pattern))
            }
        };
        let id = self.id.trim();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            // Not quoted: it is not an identifier, so it could be anything.
            return Err(Error::Rule {
                origin: origin.to_string(),
                id: "(invalid id)".to_string(),
                field: Some("id"),
                msg: "must be lowercase letters, digits, `-` or `_`".into(),
            });
        }
        let provider = match (&self.provider, file_provider) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => p.to_string(),
            (None, None) => return Err(self.error(origin, Some("provider"), "is missing")),
        };
        let regex = lazy(&self.regex)
            .map_err(|e| self.error(origin, Some("regex"), format!("does not compile: {e}")))?;
        if self.keywords.iter().any(|k| k.trim().len() < 2) {
            return Err(self.error(
                origin,
                Some("keywords"),
                "needs keywords of 2 or more characters (the prefilter runs rules only near their \
                 keywords)",
            ));
        }
        if self.keywords.is_empty() && self.validator.is_none() && self.min_entropy.is_none() {
            return Err(self.error(
                origin,
                Some("keywords"),
                "is empty: a rule without keywords runs on every byte, so it needs a validator or \
                 a min_entropy that rejects nearly every candidate",
            ));
        }
        let validator = match &self.validator {
            None => None,
            Some(name) => Some(Validator::by_name(name).ok_or_else(|| {
                self.error(
                    origin,
                    Some("validator"),
                    format!("unknown validator (known: {})", Validator::NAMES.join(", ")),
                )
            })?),
        };
        let shape = match &self.shape {
            None => None,
            Some(s) => {
                if !s.starts_with('^') || !s.ends_with('$') {
                    return Err(self.error(origin, Some("shape"), "must be anchored with ^ and $"));
                }
                Some(lazy(s).map_err(|e| {
                    self.error(origin, Some("shape"), format!("does not compile: {e}"))
                })?)
            }
        };
        let pair = match &self.pair {
            None => None,
            Some(p) => {
                let re = lazy(&p.regex).map_err(|e| {
                    self.error(origin, Some("pair.regex"), format!("does not compile: {e}"))
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
            return Err(self.error(
                origin,
                Some("min_entropy"),
                "must be between 0 and 8 bits per byte",
            ));
        }
        let verify = match &self.verify {
            None => None,
            Some(v) => Some(Arc::new(
                v.compile()
                    .map_err(|e| self.error(origin, Some("verify"), e))?,
            )),
        };
        let revoke = match &self.revoke {
            None => None,
            Some(v) => Some(Arc::new(
                v.compile()
                    .map_err(|e| self.error(origin, Some("revoke"), e))?,
            )),
        };
        Ok(Rule {
            id: id.to_string(),
            provider,
            description: self.description.clone(),
            severity: self.severity,
            regex,
            keywords: self.keywords.clone(),
            min_entropy: self.min_entropy,
            confidence: self.confidence,
            confidence_reason: self.confidence_reason.clone(),
            public_samples: self.public_samples.clone(),
            validator,
            window: self.window.unwrap_or(DEFAULT_WINDOW),
            lookbehind: self.lookbehind.unwrap_or(DEFAULT_LOOKBEHIND),
            shape,
            pair,
            lifetime: self.lifetime.clone(),
            verify,
            revoke,
            examples: self.examples.clone(),
            negative_examples: self.negative_examples.clone(),
            origin: origin.to_string(),
        })
    }
}
