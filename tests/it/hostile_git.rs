//! Hostile repositories, built by the tests: configuration that would run commands, truncated and
//! corrupt objects, refs that cannot be read. Nothing in a scanned repository may run a command,
//! hang a scan, or make it report "0 findings" for what it could not read.

use std::path::Path;

use assert_cmd::cargo::CommandCargoExt;

use crate::gitfix::{Repo, keysweep_json, keysweep_json_env, sites, slack_token};

/// A script that leaves `marker` behind when something runs it.
fn tripwire(dir: &Path, name: &str, marker: &Path) -> String {
    let script = dir.join(name);
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho ran >> '{}'\ncat >/dev/null\n",
            marker.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script.display().to_string()
}

/// Every repository setting that names a command git could run while keysweep reads the staged
/// change, each pointing at a tripwire.
fn arm(r: &Repo, marker: &Path) {
    let hooks = r.sibling("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for hook in [
        "pre-commit",
        "post-index-change",
        "post-checkout",
        "reference-transaction",
        "fsmonitor-watchman",
    ] {
        tripwire(&hooks, hook, marker);
    }
    let t = tripwire(&r.sibling("."), "evil.sh", marker);
    for (k, v) in [
        ("core.fsmonitor", t.as_str()),
        ("core.hooksPath", hooks.to_str().unwrap()),
        ("core.pager", t.as_str()),
        ("pager.diff", t.as_str()),
        ("diff.external", t.as_str()),
        ("diff.evil.textconv", t.as_str()),
        ("diff.evil.command", t.as_str()),
        ("filter.evil.clean", t.as_str()),
        ("filter.evil.smudge", t.as_str()),
        ("filter.evil.process", t.as_str()),
        ("core.sshCommand", t.as_str()),
        ("credential.helper", t.as_str()),
        ("core.askPass", t.as_str()),
        ("core.editor", t.as_str()),
    ] {
        r.git(&["config", k, v]);
    }
    r.write(".gitattributes", "* diff=evil filter=evil\n");
}

#[test]
fn staged_scans_run_nothing_the_repository_configures() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    let tok = slack_token();
    r.write("app.env", format!("T={tok}\n"));
    r.git(&["add", "app.env"]);
    let marker = r.sibling("ran");
    arm(&r, &marker);

    // The trap is real: git itself runs the repository's fsmonitor on a plain `git diff --cached`.
    let _ = std::process::Command::new("git")
        .current_dir(&r.dir)
        .args(["diff", "--cached", "--raw"])
        .output()
        .unwrap();
    assert!(marker.exists(), "the tripwire did not fire for git itself");
    std::fs::remove_file(&marker).unwrap();

    // keysweep, through git and through libgit2 (no git on PATH), and with a pager-friendly
    // environment that names commands too.
    let no_bin = tempfile::tempdir().unwrap();
    let t = r.sibling("evil.sh");
    for env in [
        vec![
            ("GIT_PAGER", t.as_os_str()),
            ("PAGER", t.as_os_str()),
            ("GIT_EXTERNAL_DIFF", t.as_os_str()),
        ],
        vec![("PATH", no_bin.path().as_os_str())],
    ] {
        let (code, rep, err) = keysweep_json_env(&r.dir, &["scan", "--staged", "."], &env);
        assert_eq!(code, 1, "{rep} {err}");
        assert_eq!(sites(&rep), vec![("app.env".to_string(), None, 1)]);
        assert!(!marker.exists(), "a repository-configured command ran");
        // Human output goes through the same path.
        let out = std::process::Command::cargo_bin("keysweep")
            .unwrap()
            .current_dir(&r.dir)
            .envs(env.iter().copied())
            .args(["scan", "--staged", ".", "--color", "always"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(!marker.exists(), "a repository-configured command ran");
    }
    // History scans and install-hook read the same repository.
    let (code, _, err) = keysweep_json(&r.dir, &["scan", "--history", "--include-worktree", "."]);
    assert_ne!(code, 2, "{err}");
    assert!(!marker.exists(), "a repository-configured command ran");
}
