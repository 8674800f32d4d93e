//! SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps). One run; a rule entry for each rule
//! that fired, with how to revoke and rotate that provider's credential; one result per finding.
//!
//! No secret is ever written here, redacted or not, whatever `--show-secrets` says: SARIF files are
//! uploaded to third-party services and kept as build artifacts, and an alert needs the location, not
//! the value.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run,
    Tool, ToolComponent,
};

use super::{Printer, ReportOptions, Summary, remediation};
use crate::finding::Finding;
use crate::rules::{Confidence, Severity};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base every result's relative URI is resolved against: the scanned root.
pub const SRCROOT: &str = "%SRCROOT%";
/// Key of our fingerprint in `partialFingerprints`; bump the version if its derivation changes.
pub const FINGERPRINT_KEY: &str = "keysweep/v1";
const INFORMATION_URI: &str = match option_env!("CARGO_PKG_REPOSITORY") {
    Some(uri) if !uri.is_empty() => uri,
    _ => "https://github.com/keysweep/keysweep",
};

/// Characters kept as they are in a relative URI path: RFC 3986 unreserved characters and `/`.
/// Everything else, `:` and `%` included, is percent-encoded, so no path can read as a scheme or an
/// escape.
const PATH_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The SARIF log: written whole at the end.
pub struct Sarif<'a> {
    out: Box<dyn Write + 'a>,
    root: Option<std::path::PathBuf>,
    findings: Vec<Finding>,
}

impl<'a> Sarif<'a> {
    pub fn new(opts: &ReportOptions, out: Box<dyn Write + 'a>) -> Sarif<'a> {
        Sarif {
            out,
            root: opts.root.clone(),
            findings: Vec::new(),
        }
    }
}

impl Printer for Sarif<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.findings.push(f.clone());
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let log = build(&self.findings, self.root.as_deref());
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

pub fn build(findings: &[Finding], root: Option<&Path>) -> serde_sarif::sarif::Sarif {
    // Rules sorted by id so a result's ruleIndex does not depend on the order findings came in.
    let mut fired: BTreeMap<&str, &Finding> = BTreeMap::new();
    let mut best: BTreeMap<&str, Confidence> = BTreeMap::new();
    for f in findings {
        fired.entry(f.rule_id.as_str()).or_insert(f);
        let c = best.entry(f.rule_id.as_str()).or_insert(f.confidence);
        *c = (*c).max(f.confidence);
    }
    let index: BTreeMap<&str, i64> = fired.keys().zip(0..).map(|(id, i)| (*id, i)).collect();
    let rules: Vec<ReportingDescriptor> = fired.iter().map(|(id, f)| rule(f, best[id])).collect();
    let results: Vec<SarifResult> = findings
        .iter()
        .map(|f| result(f, index[f.rule_id.as_str()]))
        .collect();

    let driver = ToolComponent::builder()
        .name("keysweep")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(INFORMATION_URI)
        .rules(rules)
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(json!("unicodeCodePoints"))
        .build();
    if let Some(root) = root.and_then(root_uri) {
        run.original_uri_base_ids = Some(BTreeMap::from([(
            SRCROOT.to_string(),
            ArtifactLocation::builder()
                .uri(root)
                .description(text("The directory keysweep scanned."))
                .build(),
        )]));
    }
    serde_sarif::sarif::Sarif::builder()
        .schema(SCHEMA)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

fn text(s: impl Into<String>) -> Message {
    Message::builder().text(s.into()).build()
}

fn multiformat(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

pub fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium | Severity::Low => ResultLevel::Warning,
    }
}

/// GitHub's `security-severity`: a CVSS-like score as a string; ≥9 shows as critical, ≥7 high,
/// ≥4 medium, else low.
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// SARIF's `rank` (0 to 100, higher is more important) for a finding's confidence.
pub fn rank(confidence: Confidence) -> f64 {
    match confidence {
        Confidence::High => 90.0,
        Confidence::Medium => 50.0,
        Confidence::Low => 20.0,
    }
}

/// `slack-bot-token` -> `SlackBotToken`: SARIF rule names are conventionally Pascal case.
fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|first| first.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn sentence(s: &str) -> String {
    let s = s.trim_end();
    if s.ends_with(['.', '!', '?']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// A rule's entry; its `precision` is the best confidence among its findings in this run (code
/// scanning reads `precision` from the rule).
fn rule(f: &Finding, precision: Confidence) -> ReportingDescriptor {
    let mut extra = BTreeMap::new();
    extra.insert(
        "security-severity".to_string(),
        json!(security_severity(f.severity)),
    );
    extra.insert("precision".to_string(), json!(precision.as_str()));
    let properties = PropertyBag::builder()
        .tags(vec![
            "security".to_string(),
            "secret".to_string(),
            f.provider.clone(),
        ])
        .additional_properties(extra)
        .build();
    let help = MultiformatMessageString::builder()
        .text(remediation::help_text(&f.provider, &f.description))
        .markdown(remediation::help_markdown(&f.provider, &f.description))
        .build();
    ReportingDescriptor::builder()
        .id(f.rule_id.clone())
        .name(pascal_case(&f.rule_id))
        .short_description(multiformat(sentence(&f.description)))
        .full_description(multiformat(format!(
            "A {} credential ({}) committed to the code. Anyone who can read the code can use it \
             until it is revoked.",
            f.provider,
            f.description.trim_end_matches('.')
        )))
        .help(help)
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(f.severity)))
                .build(),
        )
        .properties(properties)
        .build()
}

fn result(f: &Finding, rule_index: i64) -> SarifResult {
    let region = Region::builder()
        .start_line(f.line as i64)
        .start_column(f.column as i64)
        .end_line(f.end_line as i64)
        .end_column(f.end_column as i64)
        .build();
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact_location(&f.file))
                .region(region)
                .build(),
        )
        .build();
    let mut result = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .rule_index(rule_index)
        .level(level(f.severity))
        .message(text(format!(
            "{} ({}) found; revoke and rotate it.",
            f.description.trim_end_matches('.'),
            f.provider
        )))
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            f.fingerprint.clone(),
        )]))
        .build();
    result.rank = Some(rank(f.confidence));
    let props = result_properties(f);
    result.properties = Some(PropertyBag::builder().additional_properties(props).build());
    result
}

fn result_properties(f: &Finding) -> BTreeMap<String, Value> {
    let mut props = BTreeMap::new();
    props.insert("confidence".to_string(), json!(f.confidence.as_str()));
    props.insert("precision".to_string(), json!(f.confidence.as_str()));
    if let Some(r) = &f.confidence_reason {
        props.insert("confidence_reason".to_string(), json!(r));
    }
    if let Some(c) = f.path_class {
        props.insert("path_class".to_string(), json!(c.as_str()));
    }
    if !f.details.is_empty() {
        props.insert("details".to_string(), json!(f.details));
    }
    if let Some(c) = &f.commit {
        props.insert("commit".to_string(), json!(c.commit));
        props.insert("author".to_string(), json!(c.author));
        props.insert("date".to_string(), json!(c.date));
    }
    if let Some(v) = &f.verification {
        // Verification never holds the secret, only what the provider said about it.
        props.insert(
            "verification".to_string(),
            serde_json::to_value(v).unwrap_or(Value::Null),
        );
    }
    props
}

/// A relative path becomes a percent-encoded URI reference against `%SRCROOT%`; an absolute path (a
/// file named on the command line) becomes a `file:` URI of its own.
fn artifact_location(file: &str) -> ArtifactLocation {
    let path = Path::new(file);
    if path.is_absolute()
        && let Ok(url) = url::Url::from_file_path(path)
    {
        return ArtifactLocation::builder().uri(url.to_string()).build();
    }
    ArtifactLocation::builder()
        .uri(relative_uri(file))
        .uri_base_id(SRCROOT)
        .build()
}

pub fn relative_uri(file: &str) -> String {
    utf8_percent_encode(file, PATH_ESCAPES).to_string()
}

/// `file:///abs/root/`: absolute and ending in `/`, as SARIF requires of a base URI.
fn root_uri(root: &Path) -> Option<String> {
    let abs = std::fs::canonicalize(root).ok()?;
    url::Url::from_directory_path(abs).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded_relative_references() {
        assert_eq!(relative_uri("src/a b.txt"), "src/a%20b.txt");
        assert_eq!(relative_uri("c:odd#name%.env"), "c%3Aodd%23name%25.env");
        assert_eq!(relative_uri("dir/ü.txt"), "dir/%C3%BC.txt");
        assert_eq!(pascal_case("slack-bot-token"), "SlackBotToken");
        assert_eq!(pascal_case("aws_key--id"), "AwsKeyId");
    }

    fn finding(rule: &str, sev: Severity) -> Finding {
        let secret = ["tok", "_", "Zq3xT0bW9mYk2LsV8nRf"].concat();
        Finding {
            rule_id: rule.to_string(),
            provider: "acme".to_string(),
            description: "Acme token".to_string(),
            severity: sev,
            file: "a b/c.txt".to_string(),
            line: 3,
            column: 5,
            end_line: 3,
            end_column: 28,
            secret_sha256: crate::finding::sha256_hex(secret.as_bytes()),
            fingerprint: crate::finding::fingerprint(rule, "a b/c.txt", &secret, None),
            secret,
            pair: None,
            confidence: Confidence::Medium,
            confidence_reason: Some("found by context".to_string()),
            details: BTreeMap::from([("exp".to_string(), "2030-01-01T00:00:00Z".to_string())]),
            path_class: Some(crate::path_class::PathClass::Test),
            commit: Some(crate::finding::CommitInfo {
                commit: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".to_string(),
                author: "A. Dev".to_string(),
                email: "dev@localhost".to_string(),
                date: "2026-01-02T03:04:05Z".to_string(),
            }),
            verification: Some(crate::finding::Verification::with_detail(
                crate::finding::Status::Revoked,
                "token_revoked",
            )),
            exposure: None,
        }
    }

    #[test]
    fn history_and_verification_go_to_result_properties() {
        let findings = vec![
            finding("zeta", Severity::Low),
            finding("alpha", Severity::Critical),
        ];
        let log = serde_json::to_value(build(&findings, None)).unwrap();
        let text = log.to_string();
        assert!(!text.contains(&findings[0].secret));
        let run = &log["runs"][0];
        assert!(run.get("originalUriBaseIds").is_none());
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "alpha");
        let r = &run["results"][0];
        assert_eq!(r["ruleId"], "zeta");
        assert_eq!(r["ruleIndex"], 1);
        assert_eq!(r["level"], "warning");
        assert_eq!(run["results"][1]["level"], "error");
        let p = &r["properties"];
        assert_eq!(p["commit"], "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
        assert_eq!(p["author"], "A. Dev");
        assert_eq!(p["date"], "2026-01-02T03:04:05Z");
        assert_eq!(p["verification"]["status"], "revoked");
        assert_eq!(p["verification"]["detail"], "token_revoked");
        assert_eq!(p["confidence"], "medium");
        assert_eq!(p["precision"], "medium");
        assert_eq!(p["path_class"], "test");
        assert_eq!(p["details"]["exp"], "2030-01-01T00:00:00Z");
        assert_eq!(r["rank"], 50.0);
        assert_eq!(
            run["tool"]["driver"]["rules"][1]["properties"]["precision"],
            "medium"
        );
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "a%20b/c.txt"
        );
    }

    #[test]
    fn severity_mapping() {
        assert_eq!(level(Severity::Critical), ResultLevel::Error);
        assert_eq!(level(Severity::Medium), ResultLevel::Warning);
        assert_eq!(security_severity(Severity::Low), "3.0");
        assert_eq!(sentence("Slack bot token"), "Slack bot token.");
    }
}
