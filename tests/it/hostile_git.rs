//! Hostile repositories, built by the tests: configuration that would run commands, truncated and
//! corrupt objects, refs that cannot be read. Nothing in a scanned repository may run a command,
//! hang a scan, or make it report "0 findings" for what it could not read.

use std::path::Path;
use std::time::Duration;

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

/// The loose object file of `oid`.
fn loose(r: &Repo, oid: &str) -> std::path::PathBuf {
    r.dir.join(".git/objects").join(&oid[..2]).join(&oid[2..])
}

/// Replaces a loose object with its first `n` bytes.
fn truncate(path: &Path, original: &[u8], n: usize) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
    }
    std::fs::write(path, &original[..n.min(original.len())]).unwrap();
}

/// keysweep in `dir` under a hard timeout: a hang fails the test instead of stalling it.
fn bounded(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut c = assert_cmd::Command::cargo_bin("keysweep").unwrap();
    c.current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .timeout(Duration::from_secs(20));
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed (a hang?): {stderr}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (code, json, stderr)
}

/// Fourteen truncation lengths of a loose blob, commit and tree (libgit2 spins for ever on most of
/// them): every scan ends, exits 2, and names the damaged object; the intact secret is still found.
#[test]
fn truncated_loose_objects_end_the_scan_with_an_error_never_a_hang() {
    let mut r = Repo::new();
    let body: String = (0..400)
        .map(|i| format!("line {i} of the secret file\n"))
        .collect();
    r.write("secret.txt", format!("{body}T={}\n", slack_token()));
    r.write("sub/other.txt", "x\n");
    r.write("kept.env", format!("K={}\n", slack_token()));
    let c = r.commit("one");
    let blob = r.git(&["rev-parse", "HEAD:secret.txt"]);
    let tree = r.git(&["rev-parse", "HEAD:sub"]);
    let mut tried = 0;
    for (what, oid) in [("blob", &blob), ("tree", &tree), ("commit", &c)] {
        let path = loose(&r, oid);
        let original = std::fs::read(&path).unwrap();
        let len = original.len();
        let mut cuts = vec![
            0,
            1,
            2,
            5,
            10,
            15,
            20,
            30,
            50,
            100,
            len / 2,
            len - 10,
            len - 4,
            len - 1,
        ];
        cuts.retain(|&n| n < len);
        cuts.dedup();
        for n in cuts {
            truncate(&path, &original, n);
            tried += 1;
            let (code, rep, err) = bounded(&r.dir, &["scan", "--history", "."]);
            assert_eq!(code, 2, "{what} cut to {n}: {err}");
            assert!(err.contains(&oid[..]), "{what} cut to {n}: {err}");
            assert_eq!(rep["summary"]["partial"], true, "{what} cut to {n}");
            if what == "blob" {
                assert_eq!(
                    rep["summary"]["not_read"][0],
                    format!("blob {oid} (secret.txt)"),
                    "{rep}"
                );
                assert_eq!(
                    sites(&rep),
                    vec![("kept.env".to_string(), Some(c.clone()), 1)]
                );
            }
            // The staged scan reads the same objects.
            let (code, _, err) = bounded(&r.dir, &["scan", "--staged", "."]);
            assert!(code == 0 || code == 2, "{what} cut to {n}: {err}");
        }
        truncate(&path, &original, len);
    }
    eprintln!("{tried} truncated objects tried");
    assert!(tried >= 38, "{tried}");
    let (code, _, err) = bounded(&r.dir, &["scan", "--history", "."]);
    assert_eq!(code, 1, "{err}");
}

/// A staged blob is looked up by its file name, not listed: when that file is cut short, or is a
/// FIFO or a symlink, the staged scan still ends, exits 2 and names the file; never a clean pass.
#[test]
fn a_damaged_staged_object_is_an_error_never_a_pass() {
    let mut r = Repo::new();
    r.write("old.txt", "x\n");
    r.commit("one");
    let body: String = (0..200).map(|i| format!("line {i}\n")).collect();
    r.write("new.env", format!("{body}T={}\n", slack_token()));
    r.git(&["add", "new.env"]);
    let oid = r.git(&["rev-parse", ":new.env"]);
    let path = loose(&r, &oid);
    let original = std::fs::read(&path).unwrap();
    let (code, _, err) = bounded(&r.dir, &["scan", "--staged", "."]);
    assert_eq!(code, 1, "{err}");
    let mut cases = 0;
    for n in [0, 10, original.len() / 2, original.len() - 1] {
        truncate(&path, &original, n);
        let (code, rep, err) = bounded(&r.dir, &["scan", "--staged", "."]);
        assert_eq!(code, 2, "cut to {n}: {err}");
        assert!(err.contains("new.env"), "cut to {n}: {err}");
        assert_eq!(rep["summary"]["partial"], true, "cut to {n}");
        cases += 1;
    }
    #[cfg(unix)]
    {
        let other = r.dir.join("elsewhere");
        std::fs::write(&other, &original).unwrap();
        for planted in ["fifo", "symlink"] {
            std::fs::remove_file(&path).unwrap();
            if planted == "fifo" {
                let made = std::process::Command::new("mkfifo").arg(&path).status();
                if !made.is_ok_and(|s| s.success()) {
                    continue;
                }
            } else {
                std::os::unix::fs::symlink(&other, &path).unwrap();
            }
            let (code, _, err) = bounded(&r.dir, &["scan", "--staged", "."]);
            assert_eq!(code, 2, "{planted}: {err}");
            assert!(err.contains("new.env"), "{planted}: {err}");
            cases += 1;
        }
    }
    assert!(cases >= 4);
}

/// Trees nested without end (3,000 deep here; a hostile pack can even list a tree inside itself, since
/// ids are not re-hashed on read): the walk stops at its depth limit and names the tree it did not
/// enter; the scan is partial, never a crash, and the secret outside the nest is still found.
#[test]
fn trees_nested_past_the_depth_limit_are_reported_never_a_crash() {
    let r = Repo::new();
    let repo = git2::Repository::open(&r.dir).unwrap();
    let odb = repo.odb().unwrap();
    let deep = odb
        .write(
            git2::ObjectType::Blob,
            format!("T={}\n", slack_token()).as_bytes(),
        )
        .unwrap();
    let top = odb
        .write(
            git2::ObjectType::Blob,
            format!("K={}\n", slack_token()).as_bytes(),
        )
        .unwrap();
    let mut b = repo.treebuilder(None).unwrap();
    b.insert("a.env", deep, 0o100644).unwrap();
    let mut tree = b.write().unwrap();
    for _ in 0..3000 {
        let mut b = repo.treebuilder(None).unwrap();
        b.insert("d", tree, 0o040000).unwrap();
        tree = b.write().unwrap();
    }
    let mut b = repo.treebuilder(None).unwrap();
    b.insert("d", tree, 0o040000).unwrap();
    b.insert("top.env", top, 0o100644).unwrap();
    let root = repo.find_tree(b.write().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@localhost").unwrap();
    let c = repo
        .commit(Some("HEAD"), &sig, &sig, "deep", &root, &[])
        .unwrap();
    let (code, rep, err) = bounded(&r.dir, &["scan", "--history", "."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nested more than"), "{err}");
    assert_eq!(rep["summary"]["partial"], true, "{rep}");
    assert_eq!(
        sites(&rep),
        vec![("top.env".to_string(), Some(c.to_string()), 1)]
    );
}

/// A pack cut short or with bytes flipped, and refs whose targets are gone: never "0 findings in 0
/// blobs" with exit 0. Each unreadable object or ref is counted and named.
#[test]
fn corrupt_packs_and_dangling_refs_are_errors_not_clean_scans() {
    let mut r = Repo::new();
    for i in 0..3 {
        let lines: String = (0..300).map(|l| format!("{i} {l} filler text\n")).collect();
        r.write(
            &format!("f{i}.txt"),
            format!("{lines}T={}\n", slack_token()),
        );
        r.commit(&format!("c{i}"));
    }
    r.git(&["gc", "-q"]);
    let pack_dir = r.dir.join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .unwrap();
    let original = std::fs::read(&pack).unwrap();
    let len = original.len();
    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    for n in [
        0,
        12,
        32,
        100,
        len / 3,
        len / 2,
        len - 40,
        len - 20,
        len - 1,
    ] {
        variants.push((format!("cut to {n}"), original[..n].to_vec()));
    }
    for at in [len / 4, len / 2, (3 * len) / 4, len - 30] {
        let mut v = original.clone();
        for b in &mut v[at..at + 8] {
            *b ^= 0x5a;
        }
        variants.push((format!("bytes flipped at {at}"), v));
    }
    for (what, bytes) in &variants {
        truncate(&pack, bytes, bytes.len());
        let (code, rep, err) = bounded(&r.dir, &["scan", "--history", "."]);
        assert_eq!(code, 2, "{what}: {rep} {err}");
        assert_eq!(rep["summary"]["partial"], true, "{what}");
        assert!(
            !rep["summary"]["not_read"].as_array().unwrap().is_empty(),
            "{what}: {rep}"
        );
    }
    truncate(&pack, &original, len);
    let (code, rep, _) = bounded(&r.dir, &["scan", "--history", "."]);
    assert_eq!(code, 1);
    assert_eq!(rep["summary"]["errors"], 0);

    // A ref to an object that does not exist is named, not dropped.
    std::fs::write(
        r.dir.join(".git/refs/heads/ghost"),
        "0123456789abcdef0123456789abcdef01234567\n",
    )
    .unwrap();
    let (code, rep, err) = bounded(&r.dir, &["scan", "--history", "."]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        rep["summary"]["not_read"][0],
        "ref refs/heads/ghost (0123456789abcdef0123456789abcdef01234567)"
    );
    assert_eq!(rep["findings"].as_array().unwrap().len(), 3);
    let (code, _, _) = bounded(&r.dir, &["scan", "--history", "--allow-partial", "."]);
    assert_eq!(code, 1);
}

#[test]
fn a_push_that_creates_a_branch_scans_the_branch() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.write("b.env", format!("T={}\n", slack_token()));
    let c = r.commit("leak");
    let zeros = "0".repeat(40);
    let (code, rep, err) = keysweep_json(
        &r.dir,
        &[
            "scan",
            "--history",
            "--range",
            &format!("{zeros}..HEAD"),
            ".",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(sites(&rep), vec![("b.env".to_string(), Some(c), 1)]);
}

#[test]
fn a_range_base_the_clone_does_not_have_scans_the_whole_branch_and_says_so() {
    let mut r = Repo::new();
    r.write("old.env", format!("T={}\n", slack_token()));
    let first = r.commit("old secret");
    r.write("new.env", format!("T={}\n", slack_token()));
    let c = r.commit("new secret");
    // After a force push, `before` names a commit that exists nowhere in this clone.
    let gone = "f".repeat(40);
    let (code, rep, err) = keysweep_json(
        &r.dir,
        &[
            "scan",
            "--history",
            "--range",
            &format!("{gone}..HEAD"),
            ".",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not in this repository"), "{err}");
    assert_eq!(
        sites(&rep),
        vec![
            ("new.env".to_string(), Some(c), 1),
            ("old.env".to_string(), Some(first), 1)
        ]
    );
    // A base that is not a commit id at all is still a mistake.
    let (code, _, err) = keysweep_json(
        &r.dir,
        &["scan", "--history", "--range", "nosuch..HEAD", "."],
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn git_scans_from_a_subdirectory_use_the_repository_config() {
    let mut r = Repo::new();
    r.write("keysweep.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    r.write("fixtures/fake.env", format!("T={}\n", slack_token()));
    r.write("src/app.env", format!("T={}\n", slack_token()));
    r.write("src/old.env", format!("T={}\n", slack_token()));
    r.commit("init");
    let sub = r.dir.join("src");
    let (code, rep, err) = keysweep_json(&sub, &["scan", "--history", "."]);
    assert_eq!(code, 1, "{err}");
    let files: Vec<String> = sites(&rep).into_iter().map(|s| s.0).collect();
    assert_eq!(files, ["src/app.env", "src/old.env"]);
    // A .keysweepignore at the repository's top applies too.
    let fp = rep["findings"][1]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    r.write(".keysweepignore", format!("{fp}\n"));
    let (code, rep, _) = keysweep_json(&sub, &["scan", "--history", "."]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep).len(), 1);
    assert_eq!(rep["summary"]["suppressed"], 1);
    // Staged, from the subdirectory.
    r.write("fixtures/more.env", format!("T={}\n", slack_token()));
    r.git(&["add", "-A"]);
    let (code, rep, err) = keysweep_json(&sub, &["scan", "--staged", "."]);
    assert_eq!(code, 0, "{rep} {err}");
    assert_eq!(rep["summary"]["skipped_allowlisted"], 1);
}
