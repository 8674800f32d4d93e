//! `keysweep providers`: the capability matrix, and the README's copy of it.

use serde_json::Value;

use crate::common::*;

fn providers(format: &str) -> String {
    let env = Env::new();
    let mut c = env.cmd();
    c.args(["providers", "--format", format]);
    let (out, err, code) = run(c);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn the_readme_carries_the_generated_tables() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = "<!-- generated: keysweep providers --format markdown -->\n";
    let end = "<!-- end of generated tables -->";
    let from = readme.find(start).expect("README marker") + start.len();
    let to = readme[from..].find(end).expect("README end marker") + from;
    assert!(
        readme[from..to] == providers("markdown"),
        "README.md's capability tables differ from `keysweep providers --format markdown`: \
         paste its output between the markers"
    );
}

#[test]
fn at_least_forty_providers_verify_and_fifteen_revoke() {
    let doc: Value = serde_json::from_str(&providers("json")).unwrap();
    let totals = &doc["totals"];
    assert!(totals["verify"].as_u64().unwrap() >= 40, "{totals}");
    assert!(totals["revoke"].as_u64().unwrap() >= 15, "{totals}");
    let rows = doc["providers"].as_array().unwrap();
    assert_eq!(rows.len() as u64, totals["providers"].as_u64().unwrap());
    let verifying = rows
        .iter()
        .filter(|r| !r["verify"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(verifying as u64, totals["verify"].as_u64().unwrap());
    let okta = rows.iter().find(|r| r["provider"] == "okta").unwrap();
    assert_eq!(okta["needs_endpoint"], "https://<org>.okta.com");
    let human = providers("human");
    assert!(
        human.lines().last().unwrap().contains("providers:"),
        "{human}"
    );
}
