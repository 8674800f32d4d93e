//! One secret, wherever it was found: what verification, revocation, baselines and reports share.
//! A secret found in ten files is verified once, revoked once and counted once.

use std::collections::HashMap;

use crate::finding::{Finding, Verification};

/// Where a secret was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub commit: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(c) = &self.commit {
            write!(f, "@{}", &c[..c.len().min(12)])?;
        }
        Ok(())
    }
}

/// One distinct credential: a rule, the secret (and its companion), every place it was found.
#[derive(Debug, Clone)]
pub struct Secret {
    pub rule_id: String,
    pub provider: String,
    pub secret: String,
    pub pair: Option<String>,
    pub sha256: String,
    pub locations: Vec<Location>,
    pub verification: Option<Verification>,
}

impl Secret {
    /// The key secrets are grouped by: the same rule, secret and companion.
    pub fn key(f: &Finding) -> (&str, &str, Option<&str>) {
        (&f.rule_id, &f.secret, f.pair.as_deref())
    }
}

/// Groups findings into secrets, in order of first appearance, and returns for each finding the
/// index of its secret.
pub fn group(findings: &[Finding]) -> (Vec<Secret>, Vec<usize>) {
    let mut index: HashMap<(&str, &str, Option<&str>), usize> = HashMap::new();
    let mut secrets: Vec<Secret> = Vec::new();
    let mut of = Vec::with_capacity(findings.len());
    for f in findings {
        let at = Location {
            file: f.file.clone(),
            line: f.line,
            commit: f.commit.as_ref().map(|c| c.commit.clone()),
        };
        let i = *index.entry(Secret::key(f)).or_insert_with(|| {
            secrets.push(Secret {
                rule_id: f.rule_id.clone(),
                provider: f.provider.clone(),
                secret: f.secret.clone(),
                pair: f.pair.clone(),
                sha256: f.secret_sha256.clone(),
                locations: Vec::new(),
                verification: f.verification.clone(),
            });
            secrets.len() - 1
        });
        secrets[i].locations.push(at);
        of.push(i);
    }
    (secrets, of)
}
