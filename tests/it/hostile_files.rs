//! Hostile trees and inputs, built by the tests: names that would drive a terminal, FIFOs and devices,
//! limits at their extremes, text a binary sniff would skip, allow markers on minified lines, names
//! that look like other paths. Each test would fail on the code before the hardening.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::common::*;

/// Runs `keysweep` with `args` in `dir` under a timeout; returns (stdout, stderr, code).
fn run_in(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let mut c = keysweep();
    c.current_dir(dir)
        .args(args)
        .timeout(Duration::from_secs(30));
    run(c)
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Every escape sequence in `s` is a colour (SGR) sequence; no other control character but `\n`.
fn only_colour_and_newlines(s: &str) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            0x1b => {
                let rest = &b[i + 1..];
                assert!(rest.first() == Some(&b'['), "a non-CSI escape: {s:?}");
                let end = rest[1..]
                    .iter()
                    .position(|c| !(c.is_ascii_digit() || *c == b';'))
                    .unwrap();
                assert_eq!(rest[1 + end], b'm', "a non-colour sequence: {s:?}");
                i += 2 + end;
            }
            b'\n' => {}
            c => assert!(c >= 0x20 && c != 0x7f, "control byte {c:#x} in {s:?}"),
        }
        i += 1;
    }
    for bidi in ['\u{202e}', '\u{2066}', '\u{200f}', '\u{2028}'] {
        assert!(!s.contains(bidi), "a bidi or separator control in {s:?}");
    }
}

#[cfg(unix)]
#[test]
fn names_authors_and_descriptions_cannot_drive_the_terminal() {
    let dir = tree();
    let t = dir.path();
    // A name that moves the cursor up, returns, erases the screen and prints a fake all-clear; a
    // name with a newline that forges a finding line; a bidi override that reverses a name.
    let names = [
        "x\x1b[99A\r\x1b[J0 findings (0 distinct secrets) in 1 files.env",
        "two\nfake.env:1:1  slack-bot-token (high)  xoxb-0***.env",
        "bidi\u{202e}vne.txt",
        "osc\x1b]0;pwned\x07\u{9b}31m.env",
    ];
    for n in names {
        write(t, n, format!("T={}\n", slack_token()));
    }
    // A config from the scanned tree whose rule description carries escapes.
    write(
        t,
        "keysweep.toml",
        format!(
            "[[rules]]\nid = \"acme-live-key\"\nprovider = \"acme\"\n\
             description = \"Acme \\u001b[2J\\u001b[H key\\r\\nforged line\"\n\
             regex = '''\\b(acme_live_[b-z2-8]{{28}})\\b'''\nkeywords = [\"acme_live_\"]\n\
             examples = [\"k = {}\"]\n",
            acme_token()
        ),
    );
    write(t, "acme.cfg", format!("k = {}\n", acme_token()));
    // A dangling link with a hostile name: its warning goes to stderr.
    std::os::unix::fs::symlink(t.join("gone"), t.join("warn\x1b[2K\nforged: 0 findings")).unwrap();
    for color in ["never", "always"] {
        let (out, err, code) = run_in(
            t,
            &["scan", ".", "--color", color, "--follow", "--allow-partial"],
        );
        assert_eq!(code, 1, "{err}");
        only_colour_and_newlines(&out);
        only_colour_and_newlines(&err);
        // One location line per finding, each followed by its indented detail line.
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 10, "{out}");
        for pair in lines.chunks(2) {
            assert!(
                !pair[0].starts_with(' ') && pair[1].starts_with("    "),
                "{out}"
            );
        }
        assert!(out.contains("\\x1b[99A\\r\\x1b[J0 findings"), "{out}");
        assert!(out.contains("two\\nfake.env"), "{out}");
        assert!(out.contains("bidi\\u{202e}vne.txt"), "{out}");
        assert!(
            out.contains("Acme \\x1b[2J\\x1b[H key\\r\\nforged line"),
            "{out}"
        );
        assert!(err.contains("warn\\x1b[2K\\nforged"), "{err}");
    }
}

#[test]
fn commit_authors_are_escaped_in_history_output() {
    let r = crate::gitfix::Repo::new();
    r.write("a.env", format!("T={}\n", slack_token()));
    r.git(&["add", "-A"]);
    let out = std::process::Command::new("git")
        .current_dir(&r.dir)
        .args(["commit", "-qm", "x"])
        .env("GIT_AUTHOR_NAME", "Eve\x1b[1A\x1b[2K\u{202e}")
        .env("GIT_AUTHOR_EMAIL", "eve@x\x1b]8;;http://evil\x07")
        .env("GIT_COMMITTER_NAME", "c")
        .env("GIT_COMMITTER_EMAIL", "c@c")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (out, err, code) = run_in(&r.dir, &["scan", "--history", "."]);
    assert_eq!(code, 1, "{err}");
    only_colour_and_newlines(&out);
    assert!(out.contains("Eve\\x1b[1A\\x1b[2K\\u{202e}"), "{out}");
}

/// Writes `data` into the FIFO at `path` from another thread (opening blocks until a reader comes).
#[cfg(unix)]
fn feed(path: &Path, data: Vec<u8>) -> std::thread::JoinHandle<()> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
            let _ = f.write_all(&data);
        }
    })
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[cfg(unix)]
#[test]
fn fifos_in_a_tree_are_skipped_and_fifos_named_by_the_user_are_read() {
    let dir = tree();
    let t = dir.path();
    let tok = slack_token();
    write(t, "tree/real.env", format!("T={tok}\n"));
    // No writer will ever open these: reading one would block the scan for ever.
    mkfifo(&t.join("tree/trap.env"));
    std::os::unix::fs::symlink(t.join("tree/trap.env"), t.join("tree/link.env")).unwrap();
    for extra in [&[][..], &["--follow"][..], &["--no-ignore", "-j", "1"][..]] {
        let mut args = vec!["scan", "tree", "-f", "json"];
        args.extend_from_slice(extra);
        let (out, err, code) = run_in(t, &args);
        assert_eq!(code, 1, "{err}");
        let rep = json(&out);
        assert_eq!(reported(&rep).len(), 1, "{rep}");
        assert!(
            rep["summary"]["skipped_special"].as_u64().unwrap() >= 1,
            "{rep}"
        );
    }

    // A FIFO named on the command line is what the user asked to scan: it is read.
    let fifo = t.join("named.fifo");
    mkfifo(&fifo);
    let writer = feed(&fifo, format!("A=1\nT={tok}\n").into_bytes());
    let (out, err, code) = run_in(t, &["scan", "named.fifo", "-f", "json"]);
    writer.join().unwrap();
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        locations(&json(&out)),
        vec![("named.fifo".to_string(), 2, "slack-bot-token".to_string())]
    );

    // /dev/stdin and process substitution, the same way.
    let mut c = keysweep();
    c.current_dir(t)
        .args(["scan", "/dev/stdin", "-f", "json"])
        .write_stdin(format!("T={tok}\n"))
        .timeout(Duration::from_secs(30));
    let (out, err, code) = run(c);
    assert_eq!(code, 1, "{err}");
    assert_eq!(reported(&json(&out)).len(), 1);
    let bin = assert_cmd::cargo::cargo_bin("keysweep");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' scan <(printf 'T=%s\\n' '{tok}') -f json",
            bin.display()
        ))
        .current_dir(t)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        reported(&json(&String::from_utf8_lossy(&out.stdout))).len(),
        1
    );

    // An endless device is read only up to the size limit.
    let (out, err, code) = run_in(
        t,
        &["scan", "/dev/zero", "--max-file-size", "1K", "-f", "json"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["summary"]["skipped_large"], 1);
}

#[test]
fn the_largest_size_limit_reads_every_file() {
    let dir = tree();
    write(dir.path(), "a.env", format!("T={}\n", slack_token()));
    let (code, rep, err) = scan_json(&[
        dir.path().to_str().unwrap(),
        "--max-file-size",
        "18446744073709551615",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(rep["summary"]["files_scanned"], 1);
    assert!(rep["summary"]["bytes_scanned"].as_u64().unwrap() > 0);
}

#[test]
fn ignored_entries_are_counted() {
    let dir = tree();
    let t = dir.path();
    write(t, ".gitignore", "build/\n*.log\n");
    write(t, "build/out.env", format!("T={}\n", slack_token()));
    write(t, "build/more/deep.env", "x\n");
    write(t, "debug.log", format!("T={}\n", slack_token()));
    write(t, "sub/trace.log", "x\n");
    write(t, "src/ok.txt", "nothing\n");
    let (code, rep, _) = scan_json(&[t.to_str().unwrap()]);
    assert_eq!(code, 0);
    // build/ counts once; debug.log and sub/trace.log once each.
    assert_eq!(rep["summary"]["skipped_ignored"], 3, "{rep}");
    let (code, rep, _) = scan_json(&[t.to_str().unwrap(), "--no-ignore"]);
    assert_eq!(code, 1);
    assert_eq!(rep["summary"]["skipped_ignored"], 0, "{rep}");
}

#[test]
fn utf16_files_with_a_bom_are_scanned() {
    let dir = tree();
    let tok = slack_token();
    let text = format!("# saved by a Windows editor\r\nSLACK_TOKEN={tok}\r\n");
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    write(dir.path(), "le.env", le);
    write(dir.path(), "be.env", be);
    // UTF-16 without a BOM is not guessed at: it stays binary.
    write(
        dir.path(),
        "nobom.env",
        text.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>(),
    );
    let (code, rep, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        locations(&rep),
        vec![
            ("be.env".to_string(), 2, "slack-bot-token".to_string()),
            ("le.env".to_string(), 2, "slack-bot-token".to_string()),
        ]
    );
    assert_eq!(rep["findings"][0]["column"], 13);
    assert_eq!(rep["summary"]["skipped_binary"], 1);
    assert!(!rep.to_string().contains(&tok));
}

#[test]
fn one_allow_marker_on_a_minified_line_allows_one_secret() {
    let dir = tree();
    let (a, b, c) = (slack_token(), slack_token(), slack_token());
    write(
        dir.path(),
        "bundle.min.js",
        format!("var a=\"{a}\",b=\"{b}\"/*keysweep:allow*/,c=\"{c}\";\n"),
    );
    let (code, rep, err) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let cols: Vec<u64> = rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["column"].as_u64().unwrap())
        .collect();
    assert_eq!(cols.len(), 2, "{rep}");
    assert_eq!(cols[0], 8);
    assert_eq!(rep["summary"]["allowed_inline"], 1);
    // Naming the rule allows every secret of that rule on the line.
    write(
        dir.path(),
        "bundle.min.js",
        format!("var a=\"{a}\",b=\"{b}\",c=\"{c}\"; // keysweep:allow slack-bot-token\n"),
    );
    let (code, rep, err) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(rep["summary"]["allowed_inline"], 3);
    let (_, err, _) = run_in(dir.path(), &["scan", "."]);
    assert!(err.contains("3 allowed inline"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_backslash_is_part_of_a_name_not_a_separator() {
    let dir = tree();
    let t = dir.path();
    write(
        t,
        "keysweep.toml",
        "[allowlist]\npaths = [\"fixtures/**\"]\n",
    );
    write(t, "fixtures/real.env", format!("T={}\n", slack_token()));
    write(t, "fixtures\\leak.env", format!("T={}\n", slack_token()));
    let (out, err, code) = run_in(t, &["scan", ".", "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        reported(&json(&out)),
        vec![(
            "fixtures\\leak.env".to_string(),
            "slack-bot-token".to_string()
        )]
    );
}

#[test]
fn several_directories_keep_their_own_paths() {
    let dir = tree();
    let t = dir.path();
    write(t, "a/.env", format!("T={}\n", slack_token()));
    write(t, "b/.env", format!("T={}\n", slack_token()));
    write(t, "c.env", format!("T={}\n", slack_token()));
    let (out, err, code) = run_in(t, &["scan", "a", "./b", "c.env", "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let files: Vec<String> = reported(&json(&out)).into_iter().map(|(f, _)| f).collect();
    assert_eq!(files, ["a/.env", "b/.env", "c.env"]);
    // SARIF points each alert at its own file under the current directory.
    let (out, _, _) = run_in(t, &["scan", "a", "b", "-f", "sarif"]);
    let log = json(&out);
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(uris, ["a/.env", "b/.env"]);
    let root = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    let want = format!("{}/", std::fs::canonicalize(t).unwrap().display());
    assert!(root.ends_with(&want), "{root} vs {want}");
    // --root makes them relative to another directory.
    let (out, _, _) = run_in(t, &["scan", "a", "--root", "a", "-f", "json"]);
    assert_eq!(reported(&json(&out))[0].0, ".env");
}

#[cfg(unix)]
#[test]
fn fifos_planted_as_ignore_files_do_not_hang_the_walk() {
    let dir = tree();
    let t = dir.path();
    let tok = slack_token();
    write(t, "top/a.env", format!("T={tok}\n"));
    write(t, "top/sub/b.env", format!("T={}\n", slack_token()));
    write(t, "top/nested/.git/info/.keep", "");
    write(t, "top/nested/c.env", format!("T={}\n", slack_token()));
    mkfifo(&t.join("top/sub/.ignore"));
    mkfifo(&t.join("top/nested/.git/info/exclude"));
    let (out, err, code) = run_in(t, &["scan", "top", "-f", "json"]);
    assert_eq!(code, 2, "{err}");
    let rep = json(&out);
    assert_eq!(
        reported(&rep),
        vec![("top/a.env".to_string(), "slack-bot-token".to_string())]
    );
    let mut named = rep["summary"]["not_read"].as_array().unwrap().clone();
    named.sort_by_key(|v| v.to_string());
    assert_eq!(named, vec!["top/nested", "top/sub"], "{err}");
    // At the root: nothing can be walked safely, and it says so.
    mkfifo(&t.join("top/.gitignore"));
    let (_, err, code) = run_in(t, &["scan", "top"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(".gitignore is not a regular file"), "{err}");
    // Without ignore files the tree is read, FIFOs skipped.
    let (out, err, code) = run_in(t, &["scan", "top", "--no-ignore", "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(reported(&json(&out)).len(), 3);
}
