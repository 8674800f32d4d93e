//! Where a newly minted secret goes: `file:PATH` (written atomically, mode 0600), `exec:COMMAND`
//! (the JSON on the command's stdin; a non-zero exit is a failed delivery) or `stdout` (JSON).
//!
//! Before delivery the new secret is written to a recovery file (0600) beside the journal, and that
//! file is removed once delivery succeeded: a failed delivery or a crash leaves the secret there,
//! never lost and never in a log.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::files;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    File(PathBuf),
    Exec(String),
    Stdout,
}

impl Sink {
    pub fn parse(spec: &str) -> Result<Sink, String> {
        if spec == "stdout" {
            return Ok(Sink::Stdout);
        }
        if let Some(p) = spec.strip_prefix("file:") {
            if p.is_empty() {
                return Err("--sink file: needs a path (file:PATH)".into());
            }
            return Ok(Sink::File(PathBuf::from(p)));
        }
        if let Some(c) = spec.strip_prefix("exec:") {
            if c.trim().is_empty() {
                return Err("--sink exec: needs a command (exec:COMMAND)".into());
            }
            return Ok(Sink::Exec(c.to_string()));
        }
        Err("--sink: expected file:PATH, exec:COMMAND or stdout".into())
    }

    /// Delivers `payload`. An error means the sink does not have the secret. An `exec:` command
    /// runs without the environment variables named in `hide` (those that held the old secret and
    /// the client secret).
    pub fn deliver(&self, payload: &Value, hide: &[&str]) -> Result<(), String> {
        let mut text = serde_json::to_vec_pretty(payload).map_err(|e| e.to_string())?;
        text.push(b'\n');
        match self {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(&text)
                    .and_then(|_| out.flush())
                    .map_err(|e| format!("cannot write the new secret to stdout: {e}"))
            }
            Sink::File(path) => files::write_private(path, &text),
            Sink::Exec(cmd) => {
                let mut command = shell(cmd);
                for var in hide {
                    command.env_remove(var);
                }
                let mut child = command
                    .stdin(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("sink command could not be started: {e}"))?;
                let wrote = child
                    .stdin
                    .take()
                    .map(|mut i| i.write_all(&text))
                    .unwrap_or(Ok(()));
                let status = child
                    .wait()
                    .map_err(|e| format!("sink command did not finish: {e}"))?;
                if !status.success() {
                    return Err(format!("sink command failed ({status})"));
                }
                wrote.map_err(|e| format!("sink command did not read the new secret: {e}"))
            }
        }
    }

    /// Where the secret went, for messages.
    pub fn describe(&self) -> String {
        match self {
            Sink::Stdout => "stdout".to_string(),
            Sink::File(p) => format!("file {}", p.display()),
            Sink::Exec(_) => "the sink command".to_string(),
        }
    }
}

fn shell(cmd: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", cmd]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", cmd]);
        c
    }
}

/// Writes `payload` to a new recovery file (0600) in `dir`, named `<tag>-...json`, and returns its
/// path. The name is made unique by creating the file (tempfile creates it with `O_EXCL`, 0600):
/// `scan --rotate` mints several secrets within one second, and one recovery file must never
/// replace another.
pub fn write_recovery(dir: &Path, tag: &str, payload: &Value) -> Result<PathBuf, String> {
    files::create_private_dir(dir)?;
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut text = serde_json::to_vec_pretty(payload).map_err(|e| e.to_string())?;
    text.push(b'\n');
    let mut file = tempfile::Builder::new()
        .prefix(&format!("{tag}-{stamp}-"))
        .suffix(".json")
        .tempfile_in(dir)
        .map_err(|e| {
            // tempfile's message names the file it tried; the directory is what the user knows.
            let kind = std::io::Error::from(e.kind());
            format!("cannot create a recovery file in {}: {kind}", dir.display())
        })?;
    file.write_all(&text)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| format!("cannot write {}: {e}", file.path().display()))?;
    let (_, path) = file.keep().map_err(|e| e.to_string())?;
    Ok(path)
}

/// Whether a recovery file could be written in `dir` now, safely: checked before anything is
/// minted. The directory must be a real directory (not a link), owned by whoever runs keysweep and
/// writable by nobody else: a `recovery/` planted beside a journal in a shared directory would hand
/// the new secret to its owner.
pub fn check_recovery_dir(dir: &Path) -> Result<(), String> {
    files::create_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(dir)
            .map_err(|e| format!("cannot check {}: {e}", dir.display()))?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if !m.file_type().is_dir() || m.uid() != me || m.mode() & 0o022 != 0 {
            return Err(format!(
                "recovery files cannot be written safely in {}: it must be a directory owned by \
                 you and writable by nobody else; nothing was minted",
                dir.display()
            ));
        }
    }
    tempfile::Builder::new()
        .prefix(".keysweep-check-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            let kind = std::io::Error::from(e.kind());
            format!(
                "recovery files cannot be written in {}: {kind}",
                dir.display()
            )
        })
}

/// A recovery file in `dir` written with `tag`, if one is left.
pub fn find_recovery(dir: &Path, tag: &str) -> Option<PathBuf> {
    let prefix = format!("{tag}-");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
}

/// Recovery files live in `recovery/` beside the journal.
pub fn recovery_dir(journal: &Path) -> PathBuf {
    journal
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("recovery")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn recovery_files_written_in_one_second_do_not_replace_each_other() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("recovery");
        let a = write_recovery(&rec, "slack", &serde_json::json!({"n": 1})).unwrap();
        let b = write_recovery(&rec, "slack", &serde_json::json!({"n": 2})).unwrap();
        assert_ne!(a, b);
        assert!(std::fs::read_to_string(&a).unwrap().contains("1"));
        assert!(std::fs::read_to_string(&b).unwrap().contains("2"));
        let mode = std::fs::metadata(&a).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn parses_sinks() {
        assert_eq!(Sink::parse("stdout").unwrap(), Sink::Stdout);
        assert_eq!(
            Sink::parse("file:/tmp/x").unwrap(),
            Sink::File("/tmp/x".into())
        );
        assert_eq!(Sink::parse("exec:cat").unwrap(), Sink::Exec("cat".into()));
        assert!(Sink::parse("file:").is_err());
        assert!(Sink::parse("https://x").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn file_sink_is_private_and_exec_failure_is_an_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("new.json");
        Sink::File(p.clone())
            .deliver(&serde_json::json!({"k": "v"}), &[])
            .unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(std::fs::read_to_string(&p).unwrap().contains("\"v\""));
        assert!(
            Sink::Exec("cat >/dev/null; exit 3".into())
                .deliver(&serde_json::json!({}), &[])
                .is_err()
        );
        assert!(
            Sink::Exec("cat >/dev/null".into())
                .deliver(&serde_json::json!({}), &[])
                .is_ok()
        );
        // The variables that held the old secret do not reach the command.
        // SAFETY: a test of its own process's environment, no other thread reads this variable.
        unsafe { std::env::set_var("KEYSWEEP_TEST_OLD_SECRET", "old") };
        assert!(
            Sink::Exec("cat >/dev/null; test -z \"$KEYSWEEP_TEST_OLD_SECRET\"".into())
                .deliver(&serde_json::json!({}), &["KEYSWEEP_TEST_OLD_SECRET"])
                .is_ok()
        );
    }
}
