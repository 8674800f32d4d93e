//! Embeds every `rules/*.toml` of the workspace into the library, so the default rule pack needs no
//! files at run time.

use std::{env, fs, path::Path};

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").unwrap();
    let dir = Path::new(&manifest).join("../../rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("rules/ directory at the workspace root")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    let mut out = String::from("pub static EMBEDDED_RULES: &[(&str, &str)] = &[\n");
    for n in &names {
        let path = dir.join(n);
        println!("cargo:rerun-if-changed={}", path.display());
        check_api(&path);
        out.push_str(&format!(
            "    ({n:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("embedded_rules.rs"),
        out,
    )
    .unwrap();
}

/// A rule file whose rules carry `verify` or `revoke` requests must say where they go: an `[api]`
/// with an https `base`, a Rust `adapter` (which has its own compiled-in base), or `needs_endpoint`
/// (the user names the host). Checked here so a pack without a destination does not build.
fn check_api(path: &Path) {
    let text = fs::read_to_string(path).unwrap();
    let doc: toml::Table = match toml::from_str(&text) {
        Ok(t) => t,
        Err(_) => return, // reported with its line by the loader's tests
    };
    let has_requests = doc
        .get("rule")
        .and_then(|r| r.as_array())
        .is_some_and(|rules| {
            rules.iter().any(|r| {
                r.as_table()
                    .is_some_and(|t| t.contains_key("verify") || t.contains_key("revoke"))
            })
        });
    if !has_requests {
        return;
    }
    let api = doc.get("api").and_then(|a| a.as_table());
    let base = api.and_then(|a| a.get("base")).and_then(|b| b.as_str());
    let adapter = api.and_then(|a| a.get("adapter"));
    let user_named = api.is_some_and(|a| a.contains_key("needs_endpoint"));
    match (base, adapter) {
        (Some(b), _) if b.starts_with("https://") => {}
        (None, Some(_)) => {}
        (None, None) if user_named => {}
        _ => panic!(
            "{}: rules with `verify` or `revoke` need `[api] base = \"https://...\"` (or an adapter)",
            path.display()
        ),
    }
}
