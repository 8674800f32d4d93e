//! Property tests of the engine: the keyword prefilter and its windows never lose or invent a match
//! compared with running every rule's regex over the whole buffer; lines and columns agree with a
//! naive count; redaction never shows more than it promises.

use proptest::prelude::*;

use super::*;
use crate::finding::redact;
use crate::rules::parse_rule_file;

/// Rules with prefixes that nest (`tok_`, `pre.tok_`), share a keyword, and one with a long window.
const RULES: &str = r#"
provider = "t"
[[rule]]
id = "inner"
description = "d"
regex = '''\b(tok_[a-z0-9]{12})\b'''
keywords = ["tok_"]
window = 24
lookbehind = 0
[[rule]]
id = "outer"
description = "d"
regex = '''\b(pre\.tok_[a-z0-9]{12})\b'''
keywords = ["pre.tok_"]
[[rule]]
id = "shared"
description = "d"
regex = '''\b(key-[A-Z]{8}-[0-9]{4})\b'''
keywords = ["key-"]
window = 8
[[rule]]
id = "ctx"
description = "d"
regex = '''(?i:secret)\s*=\s*([0-9a-f]{16})\b'''
keywords = ["secret"]
window = 40
lookbehind = 4
"#;

fn engine() -> Engine {
    Engine::new(
        parse_rule_file(RULES, "props").unwrap(),
        Allowlist::default(),
    )
    .unwrap()
}

/// What the engine must find: every rule's regex over the whole buffer, through the same checks.
fn reference(e: &Engine, data: &[u8]) -> Vec<Match> {
    let mut found = Vec::new();
    for (ri, rule) in e.rules.iter().enumerate() {
        let group = rule.regex.secret_group();
        for caps in rule.regex.get().captures_iter(data) {
            let Some(m) = caps.get(group) else { continue };
            if let Some(hit) = e.confirm(ri, data, m.start(), m.end(), data) {
                found.push(hit);
            }
        }
    }
    reduce_overlaps(&mut found, &e.rules);
    found
}

/// Text made of fragments that form tokens, near misses, keywords without tokens and noise.
fn haystack() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        "[a-z0-9]{12}".prop_map(|b| format!("tok_{b}")),
        "[a-z0-9]{12}".prop_map(|b| format!("pre.tok_{b}")),
        ("[A-Z]{8}", "[0-9]{4}").prop_map(|(a, b)| format!("key-{a}-{b}")),
        "[0-9a-f]{16}".prop_map(|h| format!("SECRET = {h}")),
        Just("tok_".to_string()),
        Just("key-".to_string()),
        Just("pre.".to_string()),
        "[ \n=\"'.,:;_-]{1,3}".prop_map(|s| s),
        "[a-zA-Z0-9]{1,20}".prop_map(|s| s),
    ];
    proptest::collection::vec(fragment, 0..60).prop_map(|v| v.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn windows_find_what_a_whole_buffer_pass_finds(data in haystack()) {
        let e = engine();
        prop_assert_eq!(e.find(&data), reference(&e, &data));
    }

    #[test]
    fn lines_and_columns_agree_with_a_naive_count(
        text in "[a-zé\n ]{0,200}",
        picks in proptest::collection::vec((0usize..200, 1usize..8), 0..6),
    ) {
        let data = text.as_bytes();
        // Spans on character boundaries, sorted and disjoint, as the engine produces them.
        let bounds: Vec<usize> = (0..=data.len()).filter(|&i| text.is_char_boundary(i)).collect();
        let mut spans: Vec<(usize, usize)> = picks
            .iter()
            .filter_map(|&(a, len)| {
                let s = *bounds.get(a % bounds.len().max(1))?;
                let e = *bounds.iter().find(|&&b| b >= s + len)?;
                Some((s, e))
            })
            .collect();
        spans.sort_unstable();
        spans.dedup_by(|b, a| b.0 < a.1);
        let matches: Vec<Match> = spans
            .iter()
            .map(|&(s, e)| Match { rule: 0, start: s, end: e, ..Match::default() })
            .collect();
        let (located, _) = lines::locate(data, matches, engine().rules());
        prop_assert_eq!(located.len(), spans.len());
        for (l, &(s, e)) in located.iter().zip(&spans) {
            let before = &text[..s];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
            prop_assert_eq!((l.line, l.column), (line, column));
            let through = &text[..e];
            prop_assert_eq!(l.end_line, through.matches('\n').count() + 1);
        }
    }

    #[test]
    fn redaction_keeps_at_most_a_quarter_and_never_the_secret(secret in "[a-zA-Z0-9_./+=-]{0,120}") {
        let shown = redact(&secret);
        prop_assert!(shown.ends_with("***"));
        let kept = shown.chars().count() - 3;
        prop_assert!(kept <= secret.chars().count() / 4 && kept <= 6);
        if secret.chars().count() >= 4 {
            prop_assert!(!shown.contains(&secret));
        }
    }
}
