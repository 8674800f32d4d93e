//! `keysweep install-hook`: a plain git pre-commit hook for people without the pre-commit framework.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use keysweep_core::source::git;

use crate::cli::InstallHookArgs;

/// Writes `pre-commit` into the repository's hooks directory (honouring `core.hooksPath`) and says
/// where on stderr. An existing hook is never replaced without `--force`: it may be someone's work.
pub fn run(args: &InstallHookArgs) -> Result<()> {
    let repo = git::open(&args.repo)?;
    let dir = hooks_dir(&repo)?;
    let hook = dir.join("pre-commit");
    if hook.symlink_metadata().is_ok() && !args.force {
        bail!(
            "{} already exists; pass --force to replace it, or add `keysweep scan --staged .` to it",
            hook.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let exe = std::env::current_exe().context("cannot locate the keysweep binary")?;
    // Replaced, not written through: with --force an existing hook may be a link to a file that
    // belongs to someone else (a tracked script, another tool's hook).
    let text = script(&exe);
    keysweep_core::atomic::write(&hook, keysweep_core::atomic::Access::Default, |out| {
        out.write_all(text.as_bytes())
    })?;
    make_executable(&hook)?;
    eprintln!("keysweep: installed pre-commit hook at {}", hook.display());
    Ok(())
}

/// Where git looks for hooks: `core.hooksPath` (relative to the working tree's top, as git runs hooks
/// there), else `hooks/` in the common git directory, shared by all linked worktrees.
fn hooks_dir(repo: &git2::Repository) -> Result<PathBuf> {
    let config = repo
        .config()
        .map_err(|e| anyhow::anyhow!("cannot read the repository's config: {}", e.message()))?;
    if let Ok(p) = config.get_path("core.hooksPath") {
        if p.is_absolute() {
            return Ok(p);
        }
        let base = repo.workdir().unwrap_or_else(|| repo.commondir());
        return Ok(base.join(p));
    }
    Ok(repo.commondir().join("hooks"))
}

/// The hook: runs the binary that installed it (or `keysweep` from PATH if that one has moved), and
/// says why a commit was stopped. Status 2 (the scan failed) blocks too: a hook that cannot check
/// must not let a commit through unchecked.
pub fn script(exe: &Path) -> String {
    let quoted = exe.to_string_lossy().replace('\'', r"'\''");
    format!(
        r#"#!/bin/sh
# keysweep pre-commit hook, installed by `keysweep install-hook`.
# Blocks a commit whose staged changes add a secret. A reviewed false positive: put
# `keysweep:allow` in a comment on its line. Skip the check once: git commit --no-verify
keysweep='{quoted}'
[ -x "$keysweep" ] || keysweep=keysweep
"$keysweep" scan --staged .
status=$?
if [ "$status" -eq 1 ]; then
    echo "keysweep: commit blocked: the staged changes add the secrets above." >&2
elif [ "$status" -ne 0 ]; then
    echo "keysweep: commit blocked: the secret scan failed (status $status)." >&2
fi
exit "$status"
"#
    )
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn force_replaces_a_linked_hook_and_leaves_its_target_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let hooks = repo.path().join("hooks");
        std::fs::create_dir_all(&hooks).unwrap();
        let shared = dir.path().join("team-hook.sh");
        std::fs::write(&shared, "#!/bin/sh\nexit 0\n").unwrap();
        std::os::unix::fs::symlink(&shared, hooks.join("pre-commit")).unwrap();
        let args = InstallHookArgs {
            repo: dir.path().to_path_buf(),
            force: false,
        };
        assert!(run(&args).is_err());
        run(&InstallHookArgs {
            force: true,
            ..args
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&shared).unwrap(),
            "#!/bin/sh\nexit 0\n"
        );
        let hook = hooks.join("pre-commit");
        let meta = hook.symlink_metadata().unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        assert!(
            std::fs::read_to_string(&hook)
                .unwrap()
                .contains("scan --staged .")
        );
    }

    #[test]
    fn script_quotes_the_binary_path() {
        let s = script(Path::new("/opt/it's here/keysweep"));
        assert!(s.contains(r"keysweep='/opt/it'\''s here/keysweep'"), "{s}");
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains("scan --staged ."));
    }
}
