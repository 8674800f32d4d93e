//! A mutation fuzzer for the parsers of files keysweep reads from untrusted places: `keysweep.toml`,
//! rule files, baselines and `.keysweepignore`. It runs on the stable toolchain: each round takes a
//! seed file, applies random byte-level and token-level mutations, and feeds the result to the
//! parser. Two properties must hold for every input: no panic, and no error message that repeats a
//! value from the input (the seeds carry a marker secret wherever a value can go).
//!
//! `cargo test` runs a short round (`KEYSWEEP_FUZZ_ITERS`, default 1500); CI runs it for a bounded
//! time with `KEYSWEEP_FUZZ_SECS=60`. A failure prints the seed to replay it (`KEYSWEEP_FUZZ_SEED`).

use std::path::Path;
use std::time::{Duration, Instant};

use keysweep_core::config::Config;
use keysweep_core::rules::parse_rule_file;
use keysweep_core::suppress::{Baseline, IgnoreList};

/// Stands in for a secret wherever the seeds hold a value; must never reach an error message.
const MARKER: &str = "zqxMARKERsecret7731";

fn config_seeds() -> Vec<String> {
    vec![
        format!(
            "extend_default = true\ndisable = [\"{MARKER}\"]\n[allowlist]\npaths = [\"fixtures/**\", \"{MARKER}/**\"]\n\
             regexes = ['''^{MARKER}$''']\nstopwords = [\"{MARKER}\"]\n[revoke]\nrules = [\"{MARKER}\"]\n"
        ),
        format!(
            "[[rules]]\nid = \"acme-key\"\nprovider = \"acme\"\ndescription = \"Acme\"\nseverity = \"high\"\n\
             regex = '''\\b(acme_[a-z0-9]{{16}})\\b'''\nkeywords = [\"acme_\"]\nmin_entropy = 3.0\n\
             examples = [\"k = acme_{MARKER}\"]\nnegative_examples = [\"{MARKER}\"]\n\
             [rules.pair]\nregex = '''({MARKER})'''\ndistance = 64\nrequired = false\n"
        ),
    ]
}

fn rule_seeds() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut seeds: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .take(12)
        .collect();
    seeds.push(format!(
        "provider = \"p\"\n[[rule]]\nid = \"x\"\ndescription = \"d\"\nregex = '''({MARKER}[a-z]{{4}})'''\n\
         keywords = [\"{MARKER}\"]\nvalidator = \"{MARKER}\"\nshape = '''^{MARKER}$'''\nexamples = [\"{MARKER}abcd\"]\n"
    ));
    seeds
}

fn baseline_seeds() -> Vec<String> {
    vec![format!(
        "{{\"version\": 1, \"entries\": [{{\"path\": \"{MARKER}.env\", \"rule_id\": \"{MARKER}\", \
         \"secret_sha256\": \"{}\"}}]}}",
        "ab".repeat(32)
    )]
}

fn ignore_seeds() -> Vec<String> {
    vec![format!(
        "# known\n0f1e2d3c4b5a69788796a5b4c3d2e1f0  # {MARKER}\n{MARKER}\n"
    )]
}

const TOKENS: &[&str] = &[
    "\n",
    "\"",
    "'",
    "'''",
    "[",
    "]",
    "[[rules]]",
    "[rules.pair]",
    "[[rule]]",
    "[api]",
    "=",
    "{",
    "}",
    ",",
    "\\",
    "\0",
    "\r\n",
    "#",
    ".",
    "\u{202e}",
    "\u{fffd}",
    "0",
    "-1",
    "1e999",
    "true",
    "regex = ",
    "keywords = ",
    "examples = ",
    "verify",
    "(?",
    ")",
    "{1000000}",
    "(a*)*",
    MARKER,
];

fn mutate(rng: &mut fastrand::Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..rng.usize(1..8) {
        let at = rng.usize(..=data.len());
        match rng.u8(..8) {
            0 if !data.is_empty() => {
                let i = rng.usize(..data.len());
                data[i] ^= 1 << rng.u8(..8);
            }
            1 => data.insert(at, rng.u8(..)),
            2 => {
                let t = TOKENS[rng.usize(..TOKENS.len())].as_bytes();
                data.splice(at..at, t.iter().copied());
            }
            3 if !data.is_empty() => {
                let end = (at + rng.usize(1..32)).min(data.len());
                data.drain(at.min(end)..end);
            }
            4 if !data.is_empty() => {
                let end = (at + rng.usize(1..64)).min(data.len());
                let piece = data[at.min(end)..end].to_vec();
                data.splice(at..at, piece.repeat(rng.usize(1..4)));
            }
            5 if !other.is_empty() => {
                let from = rng.usize(..other.len());
                let end = (from + rng.usize(1..200)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            6 => data.truncate(at),
            _ => {}
        }
    }
    data
}

/// An error without the names of unknown fields it quotes: a field name is not a value.
fn without_field_names(err: &str) -> String {
    let mut out = String::new();
    let mut rest = err;
    while let Some(i) = rest.find("unknown field `") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "unknown field `".len()..];
        rest = after.find('`').map_or("", |j| &after[j + 1..]);
    }
    out.push_str(rest);
    out
}

/// Runs `parse` on `input`; an error must not repeat the marker.
fn check(
    what: &str,
    input: &[u8],
    parse: impl FnOnce(&str) -> Option<String>,
) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&text)));
    match outcome {
        Err(_) => Err(format!("{what}: panic on input {text:?}")),
        Ok(Some(err)) if without_field_names(&err).contains(MARKER) => Err(format!(
            "{what}: error repeats a value: {err:?} on input {text:?}"
        )),
        Ok(_) => Ok(()),
    }
}

fn parse_config(text: &str) -> Option<String> {
    let cfg = match Config::parse(text, Path::new("k.toml")) {
        Ok(c) => c,
        Err(e) => return Some(e.to_string()),
    };
    // The later checks read the same untrusted values.
    cfg.rules()
        .err()
        .or_else(|| cfg.allowlist().err())
        .or_else(|| cfg.path_allowlist().err())
        .map(|e| e.to_string())
}

#[test]
fn parsers_survive_mutated_input_and_never_echo_values() {
    let secs: u64 = std::env::var("KEYSWEEP_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let iters: u64 = std::env::var("KEYSWEEP_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let seed: u64 = std::env::var("KEYSWEEP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    let until = (secs > 0).then(|| Instant::now() + Duration::from_secs(secs));

    // The parsers' own panics are caught; keep the test output readable.
    std::panic::set_hook(Box::new(|_| {}));
    let configs = config_seeds();
    let rule_files = rule_seeds();
    let baselines = baseline_seeds();
    let ignores = ignore_seeds();
    let mut n = 0u64;
    let mut failures = Vec::new();
    loop {
        match until {
            Some(t) if Instant::now() >= t => break,
            None if n >= iters => break,
            _ => {}
        }
        let pick = |rng: &mut fastrand::Rng, v: &[String]| v[rng.usize(..v.len())].clone();
        let outcome = match n % 4 {
            0 => {
                let (a, b) = (pick(&mut rng, &configs), pick(&mut rng, &rule_files));
                let input = mutate(&mut rng, a.as_bytes(), b.as_bytes());
                check("config", &input, parse_config)
            }
            1 => {
                let (a, b) = (pick(&mut rng, &rule_files), pick(&mut rng, &configs));
                let input = mutate(&mut rng, a.as_bytes(), b.as_bytes());
                check("rule file", &input, |t| {
                    parse_rule_file(t, "r.toml").err().map(|e| e.to_string())
                })
            }
            2 => {
                let a = pick(&mut rng, &baselines);
                let input = mutate(&mut rng, a.as_bytes(), a.as_bytes());
                check("baseline", &input, |t| {
                    Baseline::parse(t, Path::new("b.json"))
                        .err()
                        .map(|e| e.to_string())
                })
            }
            _ => {
                let a = pick(&mut rng, &ignores);
                let input = mutate(&mut rng, a.as_bytes(), a.as_bytes());
                check("ignore file", &input, |t| {
                    IgnoreList::parse(t, Path::new(".keysweepignore"))
                        .err()
                        .map(|e| e.to_string())
                })
            }
        };
        if let Err(f) = outcome {
            failures.push(f);
            if failures.len() >= 5 {
                break;
            }
        }
        n += 1;
    }
    let _ = std::panic::take_hook();
    assert!(
        failures.is_empty(),
        "fuzzing with KEYSWEEP_FUZZ_SEED={seed} failed after {n} inputs:\n{}",
        failures.join("\n")
    );
    eprintln!("fuzz: {n} inputs, seed {seed}");
}
