//! `keysweep scan --staged`: only what the staged change adds, read from the index.

use crate::gitfix::{Repo, keysweep_json, keysweep_json_env, sites, slack_token};

/// Scans the staged change twice: as usual (git lists the changes) and with no git on PATH (libgit2
/// reads the index), and insists both give the same report.
fn staged(repo: &Repo) -> (i32, serde_json::Value, String) {
    let with_git = keysweep_json(&repo.dir, &["scan", "--staged", "."]);
    let no_bin = tempfile::tempdir().unwrap();
    let (code, report, stderr) = keysweep_json_env(
        &repo.dir,
        &["scan", "--staged", "."],
        &[("PATH", no_bin.path().as_os_str())],
    );
    assert_eq!(code, with_git.0, "exit codes differ without git: {stderr}");
    assert_eq!(
        report["findings"], with_git.1["findings"],
        "findings differ without git: {stderr}"
    );
    with_git
}

fn at(file: &str, line: u64) -> Vec<(String, Option<String>, u64)> {
    vec![(file.to_string(), None, line)]
}

#[test]
fn staged_unstaged_and_committed_tokens() {
    let mut r = Repo::new();
    let committed = slack_token();
    r.write("app.cfg", format!("a = 1\nold = {committed}\n"));
    r.commit("init");

    // An unrelated staged edit of a file that already holds a committed token does not block.
    r.write("app.cfg", format!("a = 2\nold = {committed}\n"));
    r.git(&["add", "app.cfg"]);
    let (code, rep, err) = staged(&r);
    assert_eq!(code, 0, "{rep} {err}");

    // A token in the working tree but not staged is not part of the commit.
    r.write("unstaged.txt", format!("{}\n", slack_token()));
    r.write(
        "app.cfg",
        format!("a = 2\nold = {committed}\nnew = {}\n", slack_token()),
    );
    let (code, rep, _) = staged(&r);
    assert_eq!(code, 0, "{rep}");

    // Staged: reported at its line in the staged file, redacted.
    let tok = slack_token();
    r.write(
        "app.cfg",
        format!("a = 3\nold = {committed}\nx\nnew = {tok}\n"),
    );
    r.git(&["add", "app.cfg"]);
    let (code, rep, _) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), at("app.cfg", 4));
    assert!(!rep.to_string().contains(&tok));
    assert_eq!(rep["summary"]["files_scanned"], 1);
}

#[test]
fn token_staged_then_removed_from_the_working_tree_is_caught() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.write(
        "deploy.sh",
        format!("#!/bin/sh\nexport T={}\n", slack_token()),
    );
    r.git(&["add", "deploy.sh"]);
    r.write("deploy.sh", "#!/bin/sh\n");
    let (code, rep, _) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), at("deploy.sh", 2));
}

#[test]
fn before_the_first_commit_everything_staged_is_new() {
    let r = Repo::new();
    r.write(
        "src/main.rs",
        format!("fn main() {{}}\n// {}\n", slack_token()),
    );
    r.write("README", "hi\n");
    r.git(&["add", "-A"]);
    let (code, rep, err) = staged(&r);
    assert_eq!(code, 1, "{err}");
    assert_eq!(sites(&rep), at("src/main.rs", 2));
}

#[test]
fn renames_report_only_what_the_rename_changes() {
    let mut r = Repo::new();
    let old = slack_token();
    let mut body: String = (1..=40).map(|i| format!("line {i}\n")).collect();
    body.push_str(&format!("k = {old}\n"));
    r.write("conf/a.env", &body);
    r.commit("init");

    std::fs::create_dir(r.dir.join("settings")).unwrap();
    r.git(&["mv", "conf/a.env", "settings/a.env"]);
    let (code, rep, _) = staged(&r);
    assert_eq!(code, 0, "a pure rename adds nothing: {rep}");

    body.push_str(&format!("k2 = {}\n", slack_token()));
    r.write("settings/a.env", &body);
    r.git(&["add", "settings/a.env"]);
    let (code, rep, _) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), at("settings/a.env", 42));
}

#[test]
fn deletions_binaries_and_allowlisted_paths_add_nothing() {
    let mut r = Repo::new();
    r.write(
        "keysweep.toml",
        "[allowlist]\npaths = [\"tests/fixtures/**\"]\n",
    );
    r.write("gone.txt", format!("{}\n", slack_token()));
    r.commit("init");
    r.git(&["rm", "-q", "gone.txt"]);
    let mut bin = b"\x00\x01\x02".to_vec();
    bin.extend_from_slice(slack_token().as_bytes());
    r.write("blob.bin", &bin);
    r.write("tests/fixtures/fake.env", format!("{}\n", slack_token()));
    r.git(&["add", "-A"]);
    let (code, rep, _) = staged(&r);
    assert_eq!(code, 0, "{rep}");
    assert_eq!(rep["summary"]["skipped_binary"], 1);
    assert_eq!(rep["summary"]["skipped_allowlisted"], 1);
}

#[test]
fn staged_needs_an_index() {
    let mut r = Repo::new();
    r.write("a", "a\n");
    r.commit("a");
    let bare = r.bare_clone("b.git");
    let (code, _, err) = keysweep_json(&bare, &["scan", "--staged", "."]);
    assert_eq!(code, 2);
    assert!(err.contains("bare"), "{err}");
}

/// `git commit` with hooks enabled; returns (success, combined output).
fn commit_with_hooks(r: &Repo, msg: &str) -> (bool, String) {
    let out = std::process::Command::new("git")
        .current_dir(&r.dir)
        .args(["-c", "user.name=T", "-c", "user.email=t@tests.invalid"])
        .args(["commit", "-q", "-m", msg])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn keysweep(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    use assert_cmd::cargo::CommandCargoExt;
    std::process::Command::cargo_bin("keysweep")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn installed_hook_blocks_a_commit_that_adds_a_token_and_passes_a_clean_one() {
    let r = Repo::new();
    let out = keysweep(&r.dir, &["install-hook"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(r.dir.join(".git/hooks/pre-commit").is_file());

    r.write("ok.txt", "nothing to see\n");
    r.git(&["add", "ok.txt"]);
    let (ok, text) = commit_with_hooks(&r, "clean");
    assert!(ok, "{text}");

    let tok = slack_token();
    r.write("leak.env", format!("T={tok}\n"));
    r.git(&["add", "leak.env"]);
    let (ok, text) = commit_with_hooks(&r, "leak");
    assert!(!ok, "the commit went through: {text}");
    assert!(
        text.contains("leak.env:1:3") && text.contains("slack-bot-token"),
        "{text}"
    );
    assert!(text.contains("commit blocked"), "{text}");
    assert!(!text.contains(&tok), "the hook printed the secret: {text}");

    // An existing hook is kept unless --force.
    let out = keysweep(&r.dir, &["install-hook"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = keysweep(&r.dir, &["install-hook", "--force"]);
    assert!(out.status.success());
}

#[test]
fn install_hook_honours_core_hooks_path() {
    let r = Repo::new();
    r.git(&["config", "core.hooksPath", "tools/hooks"]);
    let out = keysweep(&r.dir, &["install-hook", "."]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hook = r.dir.join("tools/hooks/pre-commit");
    let script = std::fs::read_to_string(&hook).unwrap();
    assert!(script.contains("scan --staged ."), "{script}");
    assert!(!r.dir.join(".git/hooks/pre-commit").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111);
    }
}

#[test]
fn during_a_conflicted_merge_the_staged_files_are_still_checked() {
    let mut r = Repo::new();
    r.write("c.txt", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "other"]);
    r.write("c.txt", "theirs\n");
    r.commit("theirs");
    r.git(&["checkout", "-q", "main"]);
    r.write("c.txt", "ours\n");
    r.commit("ours");
    let merge = std::process::Command::new("git")
        .current_dir(&r.dir)
        .args([
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@tests.invalid",
            "merge",
            "-q",
            "other",
        ])
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge should conflict");
    r.write("fix.sh", format!("export T={}\n", slack_token()));
    r.git(&["add", "fix.sh"]);
    let (code, rep, err) = staged(&r);
    assert_eq!(code, 1, "{err}");
    assert_eq!(sites(&rep), at("fix.sh", 1));
}
