#!/usr/bin/env bash
# End-to-end test of .pre-commit-hooks.yaml with the real pre-commit framework (pip install pre-commit).
#
# A temporary repository's .pre-commit-config.yaml points at this checkout at its HEAD commit (pre-commit
# clones that commit, so only committed content is tested). For every hook, a commit (or a
# `pre-commit run --all-files` / `--files`) adding a token must be blocked with the finding shown
# redacted, and a clean one must pass:
#   keysweep, keysweep-files-rust    language rust: pre-commit builds keysweep with cargo
#   keysweep-system                  the binary pre-commit built, put on PATH
#   keysweep-python, keysweep-files  language python: pre-commit installs the keysweep wheel; the wheel
#                                    comes from KEYSWEEP_WHEEL_DIR (built by scripts/build-wheel.sh),
#                                    served to pip as the only package index (no PyPI)
# The first-run time of each environment is printed. Needs no network beyond crates.io (and PyPI for
# setuptools, downloaded into the wheel directory). Removes everything it created except cargo's
# build cache (KEYSWEEP_PRECOMMIT_TARGET_DIR, default target/ci-precommit in this checkout).
set -euo pipefail

checkout=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
rev=$(git -C "$checkout" rev-parse HEAD)
command -v pre-commit >/dev/null || { echo "ci-precommit: pre-commit is not installed (pip install pre-commit)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="$work/pre-commit-home"
export CARGO_TARGET_DIR="${KEYSWEEP_PRECOMMIT_TARGET_DIR:-$checkout/target/ci-precommit}"
# `cargo install` builds the release profile; thin LTO on a shared CI machine only costs time here,
# and behaviour does not depend on it.
export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
# Keep the user's global git config (hooks paths, signing) out of the test repository.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

fail() { echo "ci-precommit: FAIL: $*" >&2; exit 1; }

# A random Slack bot token of the real shape, free of the placeholder patterns the engine drops.
fake_token() {
    local t
    while :; do
        t="xoxb-$(tr -dc '1-9' </dev/urandom | head -c 10)-$(tr -dc '0-9' </dev/urandom | head -c 13)-$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24)"
        if ! printf '%s' "$t" | grep -Eiq 'example|your|sample|dummy|placeholder|redacted|changeme|123456789|abcdefghij|([[:alnum:]])\1{5}'; then
            printf '%s' "$t"
            return
        fi
    done
}

repo="$work/repo"
git init -q -b main "$repo"
cd "$repo"
git config user.name "CI" && git config user.email "ci@localhost.invalid" && git config commit.gpgsign false

write_config() {
    cat >.pre-commit-config.yaml <<EOF
repos:
  - repo: $checkout
    rev: $rev
    hooks:
      - id: $1
EOF
}

# Asserts that committing the staged change is blocked and shows the finding at $2 (file:line),
# redacted: never the token $1 in full.
expect_blocked() {
    local token=$1 at=$2 out="$work/out"
    if git commit -q -m "add a secret" >"$out" 2>&1; then
        cat "$out" >&2
        fail "a commit adding a token went through"
    fi
    grep -q "slack-bot-token" "$out" || { cat "$out" >&2; fail "the finding is not shown"; }
    grep -q "^$at:" "$out" || { cat "$out" >&2; fail "the finding's location is not shown"; }
    if grep -qF "$token" "$out"; then fail "the token was printed in full"; fi
    grep -qF "${token:0:6}***" "$out" || { cat "$out" >&2; fail "the redacted token is not shown"; }
}

echo "ci-precommit: building the keysweep hook from $checkout at $rev (first run compiles the crate)"
start=$(date +%s)
write_config keysweep
git add .pre-commit-config.yaml
pre-commit install -t pre-commit >/dev/null
pre-commit install-hooks
echo "ci-precommit: hook environment ready in $(( $(date +%s) - start ))s"

git commit -q -m "pre-commit config" || fail "a clean commit was blocked"

token=$(fake_token)
printf 'APP=demo\nSLACK_BOT_TOKEN=%s\n' "$token" >app.env
git add app.env
expect_blocked "$token" app.env:2
git rm -q --cached app.env && rm app.env

echo "hello" >README
git add README
git commit -q -m "clean change" || fail "a clean commit was blocked"

# The system hook, with the binary pre-commit just built on PATH.
bin=$(find "$PRE_COMMIT_HOME" -path '*/bin/keysweep' -type f | head -n 1)
[ -n "$bin" ] || fail "pre-commit did not build keysweep"
write_config keysweep-system
git add .pre-commit-config.yaml
PATH="$(dirname "$bin"):$PATH" git commit -q -m "system hook" || fail "a clean commit was blocked (system hook)"
token=$(fake_token)
printf 'SLACK_BOT_TOKEN=%s\n' "$token" >other.env
git add other.env
PATH="$(dirname "$bin"):$PATH" expect_blocked "$token" other.env:1
other_token=$token
git rm -q --cached other.env

# ---- the wheel-based hooks -------------------------------------------------------------------------
wheels=${KEYSWEEP_WHEEL_DIR:-}
if [ -z "$wheels" ]; then
    echo "ci-precommit: KEYSWEEP_WHEEL_DIR not set: skipping the python hooks" >&2
    exit 1
fi
# pip builds the hook package (setuptools) and installs the keysweep wheel from this directory only.
python3 -m pip download --quiet --disable-pip-version-check --dest "$wheels" setuptools wheel
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheels"

write_config keysweep-python
git add .pre-commit-config.yaml
start=$(date +%s)
pre-commit install-hooks
echo "ci-precommit: keysweep-python environment ready in $(( $(date +%s) - start ))s (installs the wheel)"
git commit -q -m "python hook" || fail "a clean commit was blocked (python hook)"
token=$(fake_token)
printf 'X=1\nSLACK_BOT_TOKEN=%s\n' "$token" >py.env
git add py.env
expect_blocked "$token" py.env:2
git rm -q --cached py.env && rm py.env

# The file hooks: the repository already holds a secret in a committed file (other.env, committed
# with --no-verify); `pre-commit run --all-files` and `--files` must find it.
git add other.env
git commit -q --no-verify -m "a secret committed without the hook"
for hook in keysweep-files keysweep-files-rust; do
    write_config "$hook"
    git add .pre-commit-config.yaml
    git commit -q --no-verify -m "$hook"
    start=$(date +%s)
    pre-commit install-hooks
    echo "ci-precommit: $hook environment ready in $(( $(date +%s) - start ))s"
    out="$work/out"
    if pre-commit run --all-files >"$out" 2>&1; then
        cat "$out" >&2
        fail "$hook: pre-commit run --all-files passed on a repository holding a secret"
    fi
    grep -q "^other.env:1:" "$out" || { cat "$out" >&2; fail "$hook: the committed secret is not shown"; }
    if grep -qF "$other_token" "$out"; then fail "$hook: the token was printed in full"; fi
    if pre-commit run --files README >"$out" 2>&1; then :; else cat "$out" >&2; fail "$hook: --files README (clean) failed"; fi
    if pre-commit run --files other.env >"$out" 2>&1; then fail "$hook: --files other.env passed"; fi
done

echo "ci-precommit: OK"
