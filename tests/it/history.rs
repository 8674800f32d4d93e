//! `keysweep scan --history`: fixture repositories built at test time; each test asserts the exact
//! commit and path a secret is attributed to.

use crate::gitfix::{EMAIL, NAME, Repo, git_in, keysweep_json, sites, slack_token};

fn history(repo: &Repo, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["scan", "--history"];
    args.extend_from_slice(extra);
    args.push(".");
    keysweep_json(&repo.dir, &args)
}

fn one(file: &str, commit: &str, line: u64) -> Vec<(String, Option<String>, u64)> {
    vec![(file.to_string(), Some(commit.to_string()), line)]
}

#[test]
fn token_added_then_deleted_is_found_at_its_commit_with_author_and_date() {
    let mut r = Repo::new();
    r.write("README", "hello\n");
    r.commit("init");
    let tok = slack_token();
    r.write("config/app.env", format!("A=1\nSLACK={tok}\n"));
    let added = r.commit("add config");
    std::fs::remove_file(r.dir.join("config/app.env")).unwrap();
    r.commit("remove config");

    let (code, rep, _) = history(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("config/app.env", &added, 2));
    let f = &rep["findings"][0];
    assert_eq!(f["rule_id"], "slack-bot-token");
    assert_eq!(f["author"], NAME);
    assert_eq!(f["email"], EMAIL);
    assert_eq!(f["date"], "2024-01-02T12:00:00+01:00");
    assert_eq!(f["column"], 7);
    // Redacted by default, everywhere in the report.
    assert!(!rep.to_string().contains(&tok));

    // The working tree no longer holds it: a plain scan is clean.
    let (code, rep, _) = keysweep_json(&r.dir, &["scan", "."]);
    assert_eq!(code, 0, "{rep}");
}

#[test]
fn token_only_on_an_unmerged_branch_and_branch_filter() {
    let mut r = Repo::new();
    r.write("a.txt", "base\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("notes/todo.md", format!("try {}\n", slack_token()));
    let c = r.commit("wip");
    r.git(&["checkout", "-q", "main"]);

    let (code, rep, _) = history(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("notes/todo.md", &c, 1));

    let (code, rep, _) = history(&r, &["--branch", "main"]);
    assert_eq!(code, 0, "{rep}");
    let (code, rep, _) = history(&r, &["--branch", "feature"]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("notes/todo.md", &c, 1));
}

#[test]
fn token_only_in_a_tagged_commit() {
    let mut r = Repo::new();
    r.write("a.txt", "base\n");
    let base = r.commit("init");
    r.write("release.cfg", format!("token = \"{}\"\n", slack_token()));
    let tagged = r.commit("release");
    r.git(&["tag", "-a", "v1.0", "-m", "v1.0"]);
    r.git(&["reset", "-q", "--hard", &base]);

    let (code, rep, _) = history(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("release.cfg", &tagged, 1));
    let (code, _, _) = history(&r, &["--branch", "main"]);
    assert_eq!(code, 0);
    let (code, rep, _) = history(&r, &["--branch", "v1.0"]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("release.cfg", &tagged, 1));
}

#[test]
fn renamed_file_keeps_its_first_path_and_an_edit_there_is_a_second_location() {
    let mut r = Repo::new();
    let tok = slack_token();
    r.write("old/name.txt", format!("x\n{tok}\n"));
    let first = r.commit("add");
    std::fs::create_dir(r.dir.join("new")).unwrap();
    r.git(&["mv", "old/name.txt", "new/name.txt"]);
    r.commit("rename");

    // Renamed only: the same blob, reported at the path and commit that introduced it.
    let (code, rep, _) = history(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("old/name.txt", &first, 2));

    // Edited at its new path: a new blob still holding the secret, a second location of one secret.
    r.write("new/name.txt", format!("x\n{tok}\nmore\n"));
    let edit = r.commit("edit");
    r.write("new/name.txt", format!("y\n{tok}\nmore\n"));
    r.commit("edit again: same secret, same path, not reported again");
    let (_, rep, _) = history(&r, &[]);
    assert_eq!(
        sites(&rep),
        vec![
            ("new/name.txt".to_string(), Some(edit.clone()), 2),
            ("old/name.txt".to_string(), Some(first.clone()), 2),
        ]
    );
    assert_eq!(rep["summary"]["secrets"], 1);
}

#[test]
fn same_blob_at_two_paths_is_read_once() {
    let mut r = Repo::new();
    let content = format!("k={}\n", slack_token());
    r.write("one.txt", &content);
    let first = r.commit("one");
    r.write("two.txt", &content);
    r.commit("copy");

    let (code, rep, _) = history(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("one.txt", &first, 1));
    assert_eq!(rep["summary"]["files_scanned"], 1, "one distinct blob");
}

#[test]
fn merges_attribute_to_the_branch_commit_or_to_the_merge_that_introduced_it() {
    let mut r = Repo::new();
    r.write("shared.txt", "a\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.write("topic.txt", format!("t={}\n", slack_token()));
    let on_topic = r.commit("topic work");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "m\n");
    r.commit("main work");
    r.git(&["merge", "-q", "--no-ff", "--no-commit", "topic"]);
    // The merge resolution itself adds a token: only the merge commit introduces that blob.
    r.write("merge-notes.txt", format!("m={}\n", slack_token()));
    r.git(&["add", "merge-notes.txt"]);
    let merge = r.commit_staged("merge topic");

    let (code, rep, _) = history(&r, &[]);
    assert_eq!(code, 1);
    let mut got = sites(&rep);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("merge-notes.txt".to_string(), Some(merge.clone()), 1),
            ("topic.txt".to_string(), Some(on_topic.clone()), 1),
        ]
    );
    // A pull request's range holds the branch's commits and the merge.
    let (_, rep, _) = history(&r, &["--range", &format!("{merge}~1..{merge}")]);
    let mut got = sites(&rep);
    got.sort();
    assert_eq!(got.len(), 2, "{got:?}");
    // With the topic side excluded, what the merge brings from it is not new: only the merge's own
    // blob is.
    let (code, rep, _) = history(&r, &["--range", &format!("{on_topic}..{merge}")]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("merge-notes.txt", &merge, 1));
}

#[test]
fn since_and_range_limit_to_what_those_commits_introduce() {
    let mut r = Repo::new();
    r.write("a.txt", format!("{}\n", slack_token()));
    let c1 = r.commit("c1");
    r.write("b.txt", format!("{}\n", slack_token()));
    let c2 = r.commit("c2");
    r.write("c.txt", format!("{}\n", slack_token()));
    let c3 = r.commit("c3");

    let (_, rep, _) = history(&r, &["--since", &c2]);
    assert_eq!(sites(&rep), one("c.txt", &c3, 1));
    let (_, rep, _) = history(&r, &["--range", &format!("{c1}..{c2}")]);
    assert_eq!(sites(&rep), one("b.txt", &c2, 1));
    let (code, rep, _) = history(&r, &["--range", &format!("{c3}..{c3}")]);
    assert_eq!(code, 0, "{rep}");
    let (code, _, err) = history(&r, &["--range", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("A..B"), "{err}");
}

#[test]
fn binary_and_oversized_blobs_are_counted_as_skipped() {
    let mut r = Repo::new();
    let mut bin = b"\x00\x01PNG".to_vec();
    bin.extend_from_slice(slack_token().as_bytes());
    r.write("logo.png", &bin);
    r.write(
        "big.txt",
        format!("{}\n{}", slack_token(), "z\n".repeat(2000)),
    );
    r.commit("assets");

    let (code, rep, _) = history(&r, &["--max-file-size", "1K"]);
    assert_eq!(code, 0, "{rep}");
    assert_eq!(rep["summary"]["skipped_binary"], 1);
    assert_eq!(rep["summary"]["skipped_large"], 1);
    assert_eq!(rep["summary"]["files_scanned"], 0);
}

#[test]
fn shallow_clone_warns_and_attributes_to_the_oldest_commit_it_has() {
    let mut r = Repo::new();
    r.write("s.txt", format!("{}\n", slack_token()));
    r.commit("old");
    r.write("t.txt", "later\n");
    let tip = r.commit("new");
    let url = format!("file://{}", r.dir.display());
    let shallow = r.sibling("shallow");
    git_in(
        r.dir.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            shallow.to_str().unwrap(),
        ],
    );

    let (code, rep, err) = keysweep_json(&shallow, &["scan", "--history", "."]);
    assert_eq!(code, 1);
    assert!(err.contains("shallow"), "{err}");
    assert_eq!(sites(&rep), one("s.txt", &tip, 1));
}

#[test]
fn empty_repository_is_clean() {
    let r = Repo::new();
    let (code, rep, err) = history(&r, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(rep["summary"]["files_scanned"], 0);
}

#[test]
fn bare_repository_and_linked_worktree() {
    let mut r = Repo::new();
    r.write("k.txt", format!("{}\n", slack_token()));
    let c = r.commit("k");
    let bare = r.bare_clone("bare.git");
    let (code, rep, _) = keysweep_json(&bare, &["scan", "--history", "."]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("k.txt", &c, 1));

    let wt = r.sibling("linked");
    r.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    let (code, rep, _) = keysweep_json(&wt, &["scan", "--history", "."]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("k.txt", &c, 1));

    let (code, _, err) = keysweep_json(&bare, &["scan", "--history", "--include-worktree", "."]);
    assert_eq!(code, 2);
    assert!(err.contains("no working tree"), "{err}");
}

#[test]
fn include_worktree_merges_committed_secrets_and_adds_uncommitted_ones() {
    let mut r = Repo::new();
    r.write("app.env", format!("T={}\n", slack_token()));
    let c = r.commit("add");
    r.write("local.env", format!("U={}\n", slack_token()));

    let (code, rep, _) = history(&r, &["--include-worktree"]);
    assert_eq!(code, 1);
    assert_eq!(
        sites(&rep),
        vec![
            ("app.env".to_string(), Some(c.clone()), 1),
            ("local.env".to_string(), None, 1),
        ]
    );
    assert_eq!(rep["summary"]["secrets"], 2);
    // History alone does not read the working tree.
    let (_, rep, _) = history(&r, &[]);
    assert_eq!(sites(&rep), one("app.env", &c, 1));
}

#[test]
fn path_allowlist_applies_to_paths_in_history() {
    let mut r = Repo::new();
    r.write("keysweep.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    let content = format!("{}\n", slack_token());
    r.write("fixtures/creds.txt", &content);
    r.commit("fixture");
    r.write("src/creds.txt", &content);
    let copied = r.commit("copy out of fixtures");

    let (code, rep, _) = history(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(sites(&rep), one("src/creds.txt", &copied, 1));
}

#[test]
fn missing_objects_are_reported_and_skipped() {
    let mut r = Repo::new();
    r.write("gone.txt", "this blob will go missing\n");
    r.write("kept.txt", format!("{}\n", slack_token()));
    let c = r.commit("two files");
    let oid = r.git(&["rev-parse", "HEAD:gone.txt"]);
    let obj = r.dir.join(".git/objects").join(&oid[..2]).join(&oid[2..]);
    std::fs::remove_file(obj).unwrap();

    // Partial: the report is written, and the exit code fails closed unless asked otherwise.
    let (code, rep, err) = history(&r, &[]);
    assert_eq!(code, 2);
    assert!(err.contains(&oid) && err.contains("gone.txt"), "{err}");
    assert_eq!(rep["summary"]["partial"], true);
    assert_eq!(sites(&rep), one("kept.txt", &c, 1));
    let (code, _, _) = history(&r, &["--allow-partial"]);
    assert_eq!(code, 1);
}
