//! Credentials for the tests: the secret (and its companion) found by the built-in rule in its own
//! first example, so every test secret has its rule's full shape and passes its offline checks.
//! The examples are fake credentials of real shape; the fakes' answers are written from each
//! provider's documentation, never from the rule data.

use keysweep_core::engine::{Engine, filters::Allowlist};
use keysweep_core::rules::embedded_rule;

/// `(secret, pair)` of the first example of built-in rule `rule_id`.
pub fn example(rule_id: &str) -> (String, Option<String>) {
    let rule = embedded_rule(rule_id).unwrap_or_else(|| panic!("no rule {rule_id}"));
    let engine = Engine::new(vec![rule.clone()], Allowlist::default()).unwrap();
    for ex in &rule.examples {
        if let Some(m) = engine.find(ex.as_bytes()).into_iter().next() {
            assert!(
                rule.accepts(&m.secret),
                "{rule_id}: example secret not accepted"
            );
            return (m.secret, m.pair);
        }
    }
    panic!("{rule_id}: no example produces a finding")
}

/// A GitHub token of `prefix` made at run time: 30 random base62 characters and their CRC-32 in
/// base62 (GitHub's checksum), so that the rule accepts it.
pub fn github_token(prefix: &str, random: &str) -> String {
    assert_eq!(random.len(), 30);
    let check =
        keysweep_core::rules::validate::base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
    format!("{prefix}_{random}{}", String::from_utf8(check).unwrap())
}
