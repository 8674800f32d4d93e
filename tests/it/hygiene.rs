//! Token hygiene: a history scan with --verify of a repository whose secrets entered and left on
//! known dates reports the exact exposure (removal commit and date, refs and HEAD still holding
//! each secret, days exposed), and the policy gates fail and pass as configured.

use serde_json::{Value, json};

use crate::common::{Fake, Reply, github, pick, slack_refresh};
use crate::gitfix::{Repo, slack_token};

/// `xoxe.xoxb-1-` + base64url of `1-2-<four numeric ids>-<64 hex>`: an expiring bot token.
fn slack_rotating() -> String {
    use base64::Engine as _;
    let id = || pick(b"123456789", 1) + &pick(b"0123456789", 12);
    let inner = format!(
        "1-2-{}-{}-{}-{}-{}",
        id(),
        id(),
        id(),
        id(),
        pick(b"0123456789abcdef", 64)
    );
    format!(
        "xoxe.xoxb-1-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(inner)
    )
}

struct Fixture {
    repo: Repo,
    slack_old: String,
    slack_kept: String,
    pat: String,
    commits: Vec<String>,
}

/// Day 1: a Slack token in a.env. Day 2: a GitHub token in b.env. Day 3: a.env loses its token.
/// Day 4: a refresh token beside the access token it renews, in z.env. A side branch holds a.env's
/// token still.
fn fixture() -> Fixture {
    let mut repo = Repo::new();
    let (slack_old, slack_kept, pat) = (slack_token(), slack_token(), github("ghp"));
    let mut commits = Vec::new();
    repo.write("a.env", format!("SLACK={slack_old}\n"));
    commits.push(repo.commit("day 1"));
    repo.write("b.env", format!("GH={pat}\nSLACK={slack_kept}\n"));
    commits.push(repo.commit("day 2"));
    repo.git(&["branch", "keeps-a"]);
    repo.write("a.env", "SLACK=${SLACK_TOKEN}\n");
    commits.push(repo.commit("day 3: remove the token"));
    repo.write(
        "z.env",
        format!(
            "SLACK_BOT_TOKEN={}\nSLACK_REFRESH_TOKEN={}\n",
            slack_rotating(),
            slack_refresh()
        ),
    );
    commits.push(repo.commit("day 4"));
    Fixture {
        repo,
        slack_old,
        slack_kept,
        pat,
        commits,
    }
}

/// Fakes: every Slack token is live; the GitHub token is live and its answer has no expiry header
/// (a token created without an expiry).
fn providers() -> (Fake, Fake) {
    let slack = Fake::start(|r| match r.path.as_str() {
        "/api/auth.test" => Reply::json(
            200,
            json!({"ok": true, "team": "Acme", "team_id": "T0ACME", "user": "deploybot", "user_id": "U0BOT"}),
        ),
        _ => Reply::empty(404),
    });
    let github = Fake::start(|r| match r.path.as_str() {
        "/user" => {
            Reply::json(200, json!({"login": "octo", "id": 7})).header("x-oauth-scopes", "repo")
        }
        _ => Reply::empty(404),
    });
    (slack, github)
}

fn scan(fx: &Fixture, fakes: &(Fake, Fake), extra: &[&str]) -> (i32, Value, String) {
    let out = assert_cmd::Command::cargo_bin("keysweep")
        .unwrap()
        .current_dir(&fx.repo.dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["scan", ".", "--history", "--verify", "--format", "json"])
        .args(["--endpoint", &format!("slack={}", fakes.0.url)])
        .args(["--endpoint", &format!("github={}", fakes.1.url)])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn finding<'a>(report: &'a Value, file: &str, prefix: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == file && f["secret"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} finding in {file}: {report:#}"))
}

fn days_since(date: &str) -> i64 {
    let t =
        time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339).unwrap();
    (time::OffsetDateTime::now_utc() - t).whole_days()
}

#[test]
fn history_reports_exposure_removal_and_ownership() {
    let fx = fixture();
    let fakes = providers();
    let (code, report, err) = scan(&fx, &fakes, &[]);
    assert_eq!(code, 1, "{err}");

    // Removed on day 3: the removal commit and date, and the days between; a side branch still
    // holds it, HEAD does not.
    let old = finding(&report, "a.env", "xoxb");
    assert_eq!(old["commit"], fx.commits[0].as_str());
    assert_eq!(old["date"], fx.repo.date_of(1));
    let e = &old["exposure"];
    assert_eq!(e["at_head"], false, "{old:#}");
    assert_eq!(e["removed_commit"], fx.commits[2].as_str());
    assert_eq!(e["removed_date"], fx.repo.date_of(3));
    assert_eq!(e["refs"], json!(["keeps-a"]));
    assert_eq!(old["exposure_days"], 2);
    assert_eq!(old["verification"]["status"], "live");

    // Still there: at HEAD on both branches, exposed since day 2.
    let kept = finding(&report, "b.env", "xoxb");
    assert_eq!(kept["exposure"]["at_head"], true);
    assert_eq!(kept["exposure"]["refs"], json!(["keeps-a", "main"]));
    assert_eq!(kept["exposure"]["paths"], json!(["b.env"]));
    assert!(kept["exposure"].get("removed_commit").is_none());
    let expected = days_since(&fx.repo.date_of(2));
    let got = kept["exposure_days"].as_i64().unwrap();
    assert!(
        got == expected || got == expected + 1,
        "{got} vs {expected}"
    );

    // The GitHub token: live, owned by `octo`, never expiring.
    let pat = finding(&report, "b.env", "ghp_");
    assert_eq!(pat["verification"]["never_expires"], true);
    assert!(
        pat["verification"]["identity"]
            .as_str()
            .unwrap()
            .contains("octo")
    );

    // Nothing in the report gives a secret away.
    let text = report.to_string();
    for s in [&fx.slack_old, &fx.slack_kept, &fx.pat] {
        assert!(!text.contains(s.as_str()));
    }
}

#[test]
fn policy_gates_fail_and_pass_as_configured() {
    let fx = fixture();
    let fakes = providers();
    let gates = |report: &Value| -> Vec<(String, String)> {
        report["summary"]["policy_failures"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| {
                        (
                            v["gate"].as_str().unwrap().to_string(),
                            v["rule_id"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };

    // Live tokens that never expire: the GitHub token only.
    let (code, report, err) = scan(&fx, &fakes, &["--fail-on", "live-never-expiring"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        gates(&report),
        [("live-never-expiring".to_string(), "github-pat".to_string())]
    );
    assert!(
        err.contains("live, and the provider says it never expires"),
        "{err}"
    );

    // A generous exposure limit passes (exit 0 although there are findings); a tight one fails for
    // the secrets still exposed since 2024, and for the removed one only if it stayed long enough.
    let (code, report, err) = scan(&fx, &fakes, &["--max-exposure-days", "100000"]);
    assert_eq!(code, 0, "{err}");
    assert!(gates(&report).is_empty());
    assert!(err.contains("every gate passed"), "{err}");
    let (code, report, _) = scan(&fx, &fakes, &["--max-exposure-days", "30"]);
    assert_eq!(code, 1);
    let failed = gates(&report);
    assert!(failed.iter().all(|(g, _)| g == "max-exposure-days"));
    assert!(failed.iter().any(|(_, r)| r == "github-pat"), "{failed:?}");
    let removed_early = report["summary"]["policy_failures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["at"] == "a.env:1");
    assert!(
        !removed_early,
        "a.env's token was exposed 2 days: {report:#}"
    );

    // A refresh token beside the access token it renews.
    let (code, report, _) = scan(&fx, &fakes, &["--fail-on", "refresh-with-access"]);
    assert_eq!(code, 1);
    assert_eq!(
        gates(&report),
        [(
            "refresh-with-access".to_string(),
            "slack-refresh-token".to_string()
        )]
    );

    // The same gates from keysweep.toml.
    fx.repo
        .write("keysweep.toml", "[policy]\nfail_on_live = true\n");
    let (code, report, _) = scan(&fx, &fakes, &[]);
    assert_eq!(code, 1);
    assert!(gates(&report).iter().all(|(g, _)| g == "live"));
    fx.repo
        .write("keysweep.toml", "[policy]\nmax_exposure_days = 100000\n");
    let (code, _, _) = scan(&fx, &fakes, &[]);
    assert_eq!(code, 0);
}
