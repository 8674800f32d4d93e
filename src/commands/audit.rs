//! `keysweep audit`: the whole history of many repositories, one JSON Lines file per repository,
//! split into stable shards for schedulers (a GitHub Actions matrix, a Kubernetes Indexed Job) and
//! resumable: a repository whose file exists is done.
//!
//! Repositories are local paths or clone URLs. A URL is cloned with `git clone --mirror` into a
//! temporary directory, with hooks, `ext::` transports and credential prompts disabled, and any
//! credentials in the URL are never printed. A scanned repository's own `keysweep.toml` is not read:
//! an audit must not let a repository allowlist its own secrets (`--config` applies one config to
//! all).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use keysweep_core::config::Config;
use keysweep_core::finding::sha256_hex;
use keysweep_core::report::json::JsonFinding;
use keysweep_core::scan::{self as core_scan, ScanOptions, Scanner};
use keysweep_core::source::git::history::HistoryOptions;
use keysweep_core::stats::Stats;
use serde_json::json;

use super::scan::{context, verify_findings};
use crate::cli::AuditArgs;
use crate::ui::Ui;

/// One line of the repository list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// As written in the list.
    pub spec: String,
    /// The name of its results file, stable for the spec: `<name>-<hash>`.
    pub id: String,
}

impl Repo {
    fn new(spec: &str) -> Repo {
        let name: String = spec
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .rsplit(['/', ':', '\\'])
            .next()
            .unwrap_or("repo")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let hash = &sha256_hex(spec.as_bytes())[..12];
        Repo {
            spec: spec.to_string(),
            id: format!("{}-{hash}", if name.is_empty() { "repo" } else { &name }),
        }
    }

    fn is_url(&self) -> bool {
        self.spec.contains("://") || (self.spec.contains('@') && self.spec.contains(':'))
    }

    /// The spec as it may be printed: no credentials.
    pub fn shown(&self) -> String {
        redact_url(&self.spec)
    }

    /// Which shard of `n` this repository belongs to: from its spec, so adding repositories to the
    /// list never moves the others.
    fn shard(&self, n: u32) -> u32 {
        let h = sha256_hex(self.spec.as_bytes());
        (u64::from_str_radix(&h[..12], 16).unwrap_or(0) % u64::from(n)) as u32
    }
}

/// `https://user:token@host/x` -> `https://***@host/x`.
pub fn redact_url(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &s[..scheme + 3], &s[at..]),
        _ => s.to_string(),
    }
}

/// The repositories of a list: one per line, `#` comments and blank lines ignored, duplicates once.
pub fn read_list(text: &str) -> Vec<Repo> {
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| seen.insert(l.to_string()))
        .map(Repo::new)
        .collect()
}

/// `K/N` from `--shard`, or `JOB_COMPLETION_INDEX`/`N` with `--shards N`.
fn shard(args: &AuditArgs) -> Result<Option<(u32, u32)>> {
    let parse = |k: &str, n: &str| -> Result<(u32, u32)> {
        let (k, n): (u32, u32) = (
            k.trim().parse().context("shard index must be a number")?,
            n.trim().parse().context("shard count must be a number")?,
        );
        if n == 0 || k >= n {
            bail!("shard {k}/{n}: the index counts from 0 and must be below the count");
        }
        Ok((k, n))
    };
    match (&args.shard, args.shards) {
        (Some(s), None) => {
            let (k, n) = s
                .split_once('/')
                .context("--shard must look like K/N, e.g. 0/4")?;
            parse(k, n).map(Some)
        }
        (None, Some(n)) => {
            let k = std::env::var("JOB_COMPLETION_INDEX").context(
                "--shards N takes the shard index from JOB_COMPLETION_INDEX (set by Kubernetes \
                 Indexed Jobs); it is not set: use --shard K/N",
            )?;
            parse(&k, &n.to_string()).map(Some)
        }
        (None, None) => Ok(None),
        (Some(_), Some(_)) => bail!("--shard and --shards are exclusive"),
    }
}

pub fn run(args: &AuditArgs) -> Result<bool> {
    let text = if args.list.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read the list from stdin")?
    } else {
        std::fs::read_to_string(&args.list)
            .with_context(|| format!("cannot read {}", args.list.display()))?
    };
    let mut repos = read_list(&text);
    if let Some((k, n)) = shard(args)? {
        repos.retain(|r| r.shard(n) == k);
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let config = Config::discover(args.input.config.as_deref(), None)?;
    let scanner = Scanner::new(&config)?;
    let cx = if args.verify.verify {
        Some(context(&args.verify)?)
    } else {
        None
    };
    let (mut found, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    for repo in &repos {
        let path = args.out.join(format!("{}.jsonl", repo.id));
        if args.resume && complete(&path) {
            skipped += 1;
            continue;
        }
        if !args.quiet {
            eprintln!(
                "keysweep: auditing {}",
                keysweep_core::text::escape(&repo.shown())
            );
        }
        match audit_one(repo, args, &scanner, cx.as_ref(), &path) {
            Ok(n) => found += n,
            Err(e) => {
                failed += 1;
                eprintln!(
                    "keysweep: error: {}: {}",
                    keysweep_core::text::escape(&repo.shown()),
                    keysweep_core::text::escape(&redact_url(&format!("{e:#}")))
                );
            }
        }
    }
    if !args.quiet {
        eprintln!(
            "keysweep: audit: {} repositor{} in this shard, {skipped} already done, {failed} failed; {found} finding{} written to {}",
            repos.len(),
            if repos.len() == 1 { "y" } else { "ies" },
            if found == 1 { "" } else { "s" },
            args.out.display()
        );
    }
    if failed > 0 {
        bail!(
            "{failed} repositor{} could not be audited (see above)",
            if failed == 1 { "y" } else { "ies" }
        );
    }
    Ok(found > 0)
}

/// A results file is complete when its last line is the summary (files are written whole, so a
/// killed run leaves none; this also refuses a truncated file copied from elsewhere).
fn complete(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .is_some_and(|v| v.get("summary").is_some())
}

fn audit_one(
    repo: &Repo,
    args: &AuditArgs,
    scanner: &Scanner,
    cx: Option<&keysweep_provider::Context>,
    out: &Path,
) -> Result<usize> {
    let started = Instant::now();
    let clone_dir;
    let at: PathBuf = if repo.is_url() {
        clone_dir = tempfile::Builder::new()
            .prefix(".clone-")
            .tempdir_in(&args.out)
            .context("cannot create a clone directory")?;
        let dest = clone_dir.path().join("repo.git");
        clone(&repo.spec, &dest)?;
        dest
    } else {
        PathBuf::from(&repo.spec)
    };
    let stats = Stats::default();
    let ui = Ui::new(true);
    let opts = ScanOptions {
        no_ignore: args.input.no_ignore,
        follow: false,
        max_file_size: args.input.max_file_size,
        threads: args.input.threads(),
        display: keysweep_core::source::PathDisplay::new(None),
        allow_base: None,
    };
    let hopts = HistoryOptions {
        max_file_size: args.input.max_file_size,
        ..HistoryOptions::default()
    };
    let mut findings = core_scan::history(scanner, &at, &hopts, &opts, false, &stats, &ui)?;
    core_scan::normalize(&mut findings);
    if let Some(cx) = cx {
        verify_findings(cx, &mut findings);
    }
    let summary = core_scan::summary(&stats, &findings, 0, started);
    let shown = repo.shown();
    keysweep_core::atomic::write(out, keysweep_core::atomic::Access::Default, |w| {
        for f in &findings {
            let mut v = serde_json::to_value(JsonFinding::from_finding(f, false))?;
            v["repo"] = json!(shown);
            serde_json::to_writer(&mut *w, &v)?;
            writeln!(w)?;
        }
        serde_json::to_writer(&mut *w, &json!({ "summary": summary, "repo": shown }))?;
        writeln!(w)
    })?;
    Ok(findings.len())
}

/// `git clone --mirror` of `url` into `dest`, with nothing the remote or the environment configures
/// able to run a command or ask for a password, and nothing printed that could hold a credential.
fn clone(url: &str, dest: &Path) -> Result<()> {
    let out = Command::new("git")
        .args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "protocol.ext.allow=never",
            "-c",
            "credential.interactive=never",
            "clone",
            "--mirror",
            "--quiet",
            "--no-hardlinks",
            "--",
            url,
        ])
        .arg(dest)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("SSH_ASKPASS", "true")
        .env_remove("GIT_SSH_COMMAND")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run git to clone")?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.lines().last().unwrap_or("").trim();
        bail!(
            "git clone failed: {}",
            redact_url(&said.replace(url, &redact_url(url)))
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_shards_and_names() {
        let repos = read_list(
            "# org\nhttps://x.example/a.git\n\n/srv/b  # local\nhttps://x.example/a.git\n",
        );
        assert_eq!(repos.len(), 2);
        assert!(repos[0].id.starts_with("a-"));
        assert!(repos[1].id.starts_with("b-"));
        // Every repository is in exactly one shard, whatever the count.
        for n in 1..6 {
            for r in &repos {
                assert_eq!((0..n).filter(|&k| r.shard(n) == k).count(), 1);
            }
        }
        assert_eq!(
            redact_url(&["https://ci:", "glpat-x", "@gitlab.example/a.git"].concat()),
            "https://***@gitlab.example/a.git"
        );
    }
}
