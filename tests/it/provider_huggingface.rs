//! Hugging Face is served by rule data alone (`[rule.verify]`, `[rule.revoke]` in
//! rules/huggingface.toml): verify, revoke and confirm through the binary against a fake Hub.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::common::*;

/// `hf_` + 34 letters.
fn hf_token() -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    loop {
        let t = format!("hf_{}", pick(letters, 34));
        if !keysweep_core::engine::filters::is_placeholder(&t) {
            return t;
        }
    }
}

/// A fake Hub: `whoami-v2` answers for the tokens in `live`, the revocation endpoint removes them.
fn hub(live: Vec<String>) -> (Fake, Arc<Mutex<Vec<String>>>) {
    let live = Arc::new(Mutex::new(live));
    let l = live.clone();
    let fake = Fake::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/api/whoami-v2") => {
            let tok = r.bearer().unwrap_or("").to_string();
            if l.lock().unwrap().contains(&tok) {
                Reply::json(
                    200,
                    json!({"type": "user", "name": "alice", "auth": {"type": "access_token",
                        "accessToken": {"displayName": "ci", "role": "write"}}}),
                )
            } else {
                Reply::json(
                    401,
                    json!({"error": "Invalid credentials in Authorization header"}),
                )
            }
        }
        ("POST", "/api/credentials/revoke") => {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            for c in body["credentials"].as_array().into_iter().flatten() {
                l.lock().unwrap().retain(|t| Some(t.as_str()) != c.as_str());
            }
            Reply::empty(202)
        }
        _ => Reply::empty(404),
    });
    (fake, live)
}

fn scan(env: &Env, fake: &Fake, extra: &[&str]) -> (String, String, i32) {
    let mut c = env.cmd();
    c.args([
        "scan",
        "--format",
        "json",
        "--verify-timeout",
        "2",
        "--journal",
    ])
    .arg(&env.journal)
    .args(["--endpoint", &format!("huggingface={}", fake.url)])
    .args(extra)
    .arg(&env.tree);
    run(c)
}

#[test]
fn hugging_face_tokens_are_verified_revoked_and_confirmed_from_rule_data() {
    let env = Env::new();
    let (live, dead) = (hf_token(), hf_token());
    env.write(
        "train.py",
        &format!("HF_TOKEN = \"{live}\"\nOLD = \"{dead}\"\n"),
    );
    let (fake, _) = hub(vec![live.clone()]);

    let (out, err, code) = scan(&env, &fake, &["--verify"]);
    assert_eq!(code, 1, "{err}");
    let st = statuses(&out);
    let live_v = &st.iter().find(|(_, s, _)| s == "live").unwrap().2;
    assert_eq!(live_v["identity"], "alice, user");
    assert_eq!(live_v["scopes"], json!(["write"]));
    assert!(st.iter().any(|(_, s, _)| s == "invalid"), "{out}");
    assert_eq!(fake.count("GET", "/api/whoami-v2"), 2);

    // Revoke: the plan, then --yes; the request carries the token in the JSON body and no
    // credentials of any kind.
    let (_, err, code) = scan(&env, &fake, &["--revoke", "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("confirmed dead"), "{err}");
    let revokes: Vec<Req> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/credentials/revoke")
        .collect();
    assert_eq!(revokes.len(), 1, "only the live token is revoked");
    assert!(revokes[0].header("authorization").is_none());
    let body: serde_json::Value = serde_json::from_str(&revokes[0].body).unwrap();
    assert_eq!(body, json!({"credentials": [live]}));
    assert_no_secrets(&[&live, &dead], &[&out, &err]);
    let journal = std::fs::read_to_string(&env.journal).unwrap();
    assert!(journal.contains("\"requested\""), "{journal}");
    assert_no_secrets(&[&live, &dead], &[&journal]);
}
