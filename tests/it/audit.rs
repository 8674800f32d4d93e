//! `keysweep audit` and `keysweep merge`: shards played by concurrent local processes against
//! repositories served as `file://` URLs merge to exactly what one unsharded run gives, and an
//! interrupted shard resumes without scanning again what it finished.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

use crate::gitfix::{Repo, slack_token};

/// Six repositories with one or two secrets each in their history; the list names four by
/// `file://` URL and two by path.
fn repositories(tmp: &Path) -> (Vec<Repo>, PathBuf) {
    let mut repos = Vec::new();
    let mut list = String::from("# the organisation\n");
    for i in 0..6 {
        let mut r = Repo::new();
        r.write("app.env", format!("TOKEN={}\n", slack_token()));
        r.commit("add config");
        if i % 2 == 0 {
            r.write("app.env", "TOKEN=${TOKEN}\n");
            r.write(
                &format!("svc{i}/.env"),
                format!("SLACK={}\n", slack_token()),
            );
            r.commit("move the secret");
        }
        let bare = r.bare_clone(&format!("svc{i}.git"));
        if i < 4 {
            list.push_str(&format!("file://{}\n", bare.display()));
        } else {
            list.push_str(&format!("{}\n", bare.display()));
        }
        repos.push(r);
    }
    let path = tmp.join("repos.txt");
    std::fs::write(&path, list).unwrap();
    (repos, path)
}

fn keysweep() -> Command {
    let mut c = Command::cargo_bin("keysweep").unwrap();
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

fn audit(list: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let o = keysweep()
        .arg("audit")
        .arg(list)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The merged JSON report of a results directory, without its timing.
fn merged(dir: &Path) -> Value {
    let o = keysweep()
        .arg("merge")
        .arg(dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["summary"]["duration_ms"] = Value::Null;
    v
}

fn results(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    v.sort();
    v
}

#[test]
fn shards_merge_to_the_unsharded_result_and_resume_where_they_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let (_repos, list) = repositories(tmp.path());

    let whole = tmp.path().join("whole");
    let (code, err) = audit(&list, &whole, &["--quiet"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(results(&whole).len(), 6);
    let expected = merged(&whole);
    assert_eq!(expected["findings"].as_array().unwrap().len(), 9);
    // No secret in full, and every finding says which repository it is from.
    for f in expected["findings"].as_array().unwrap() {
        assert!(f["secret"].as_str().unwrap().ends_with("***"), "{f}");
        assert!(f["file"].as_str().unwrap().contains("svc"), "{f}");
    }

    // Three shards as three concurrent processes, one through JOB_COMPLETION_INDEX.
    let sharded = tmp.path().join("sharded");
    let mut children: Vec<std::process::Child> = (0..3)
        .map(|k| {
            let mut c = keysweep();
            c.arg("audit")
                .arg(&list)
                .arg("--out")
                .arg(&sharded)
                .arg("--quiet");
            if k == 2 {
                c.args(["--shards", "3"]).env("JOB_COMPLETION_INDEX", "2");
            } else {
                c.args(["--shard", &format!("{k}/3")]);
            }
            c.spawn().unwrap()
        })
        .collect();
    for c in &mut children {
        let status = c.wait().unwrap();
        assert!(matches!(status.code(), Some(0 | 1)), "{status}");
    }
    assert_eq!(
        results(&sharded).len(),
        6,
        "every repository in exactly one shard"
    );
    assert_eq!(merged(&sharded), expected);
    // SARIF of the same results.
    let o = keysweep()
        .arg("merge")
        .arg(&sharded)
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 9);

    // A shard killed after two repositories: the finished ones are kept, the rest redone. A file
    // cut short (a copy interrupted elsewhere) is not taken as finished.
    let files = results(&whole);
    let kept: Vec<(PathBuf, std::time::SystemTime)> = files[..2]
        .iter()
        .map(|p| (p.clone(), std::fs::metadata(p).unwrap().modified().unwrap()))
        .collect();
    std::fs::remove_file(&files[2]).unwrap();
    let text = std::fs::read_to_string(&files[3]).unwrap();
    std::fs::write(&files[3], &text[..text.len() / 2]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (code, err) = audit(&list, &whole, &["--resume"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("4 already done"), "{err}");
    for (p, t) in kept {
        assert_eq!(
            std::fs::metadata(&p).unwrap().modified().unwrap(),
            t,
            "{}",
            p.display()
        );
    }
    assert_eq!(merged(&whole), expected);
}

#[test]
fn clone_urls_never_print_credentials_and_broken_lines_fail_the_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = ["ghp_", "Zq3xT0bW9mYk2LsV8nRf4HcJ1pDgA70l2NqR"].concat();
    let list = tmp.path().join("repos.txt");
    std::fs::write(
        &list,
        format!("https://ci:{secret}@127.0.0.1:9/org/private.git\n/nonexistent/repo\n"),
    )
    .unwrap();
    let (code, err) = audit(&list, &tmp.path().join("out"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains(&secret[4..]), "{err}");
    assert!(
        err.contains("https://***@127.0.0.1:9/org/private.git"),
        "{err}"
    );
    assert!(err.contains("2 repositories could not be audited"), "{err}");
    let (code, err) = audit(&list, &tmp.path().join("out"), &["--shard", "3/3"]);
    assert_eq!(code, 2);
    assert!(err.contains("below the count"), "{err}");
}
