#!/usr/bin/env bash
# The scan step of keysweep's GitHub Action (action.yml). Reads what the event changed from the
# runner's environment, scans it, writes SARIF, and records the exit status for the gate step.
#
# Inputs come from the environment only (never interpolated into the script by the workflow):
#   KEYSWEEP_PATH        the repository to scan (default .)
#   KEYSWEEP_MODE        auto | history | tree  (auto: decided by the event, below)
#   KEYSWEEP_BASELINE    a baseline file; findings it records are not reported
#   KEYSWEEP_SARIF       where the SARIF goes (default: $RUNNER_TEMP/keysweep.sarif)
#   KEYSWEEP_ARGS        extra arguments, split on whitespace
#   KEYSWEEP_BIN         the keysweep binary (default: keysweep on PATH)
#   GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_OUTPUT, RUNNER_TEMP: set by the runner
#
# What is scanned:
#   push                 the commits the push added: before..after; a new branch (before is the zero
#                        id) is scanned from where it left the default branch, or whole if that
#                        cannot be found; a before that is not in the clone (a force push) means
#                        the whole history of after
#   pull_request[_target] base..head of the pull request
#   schedule, workflow_dispatch, other   the full history (all branches and tags in the clone)
# History needs the commits: check out with `fetch-depth: 0`.
set -euo pipefail

path=${KEYSWEEP_PATH:-.}
mode=${KEYSWEEP_MODE:-auto}
sarif=${KEYSWEEP_SARIF:-${RUNNER_TEMP:-/tmp}/keysweep.sarif}
event=${GITHUB_EVENT_NAME:-}
zero=0000000000000000000000000000000000000000

note() { echo "keysweep-action: $*" >&2; }

# A field of the event payload (a JSON path such as pull_request.base.sha), empty when absent.
field() {
    [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ] || return 0
    python3 - "$GITHUB_EVENT_PATH" "$1" <<'PY'
import json, sys
value = json.load(open(sys.argv[1], encoding="utf-8"))
for key in sys.argv[2].split("."):
    value = value.get(key) if isinstance(value, dict) else None
print(value if isinstance(value, str) else "")
PY
}

is_commit() { [ -n "$1" ] && git -C "$path" cat-file -e "$1^{commit}" 2>/dev/null; }
is_sha() { [[ $1 =~ ^[0-9a-f]{40}$ ]]; }

args=(scan "$path" --format sarif --output "$sarif")
case "$mode" in
history) args+=(--history) ;;
tree) ;;
auto)
    case "$event" in
    push)
        before=$(field before)
        after=$(field after)
        is_sha "$after" || after=HEAD
        if [ "$before" = "$zero" ] || [ -z "$before" ]; then
            # A new branch: from where it left the default branch, if the clone knows it.
            default=$(field repository.default_branch)
            base=""
            if [ -n "$default" ] && is_commit "origin/$default"; then
                base=$(git -C "$path" merge-base "origin/$default" "$after" 2>/dev/null || true)
            fi
            if [ -n "$base" ] && [ "$base" != "$(git -C "$path" rev-parse "$after")" ]; then
                args+=(--history --range "$base..$after")
            else
                note "new branch: scanning the whole history of $after"
                args+=(--history --range "$zero..$after")
            fi
        elif is_sha "$before" && is_commit "$before"; then
            args+=(--history --range "$before..$after")
        else
            note "push base $before is not in this clone (force push or shallow checkout): scanning the whole history of $after"
            args+=(--history --range "$zero..$after")
        fi
        ;;
    pull_request | pull_request_target)
        base=$(field pull_request.base.sha)
        head=$(field pull_request.head.sha)
        is_sha "$head" || head=HEAD
        if is_sha "$base" && is_commit "$base"; then
            args+=(--history --range "$base..$head")
        else
            note "pull request base is not in this clone: scanning the whole history of $head"
            args+=(--history --range "$zero..$head")
        fi
        ;;
    *) args+=(--history) ;;
    esac
    ;;
*)
    note "unknown mode $mode (auto, history or tree)"
    exit 2
    ;;
esac
if [ -n "${KEYSWEEP_BASELINE:-}" ]; then
    args+=(--baseline "$KEYSWEEP_BASELINE")
fi
if [ -n "${KEYSWEEP_ARGS:-}" ]; then
    # Word splitting on purpose: extra flags, separated by spaces.
    # shellcheck disable=SC2206
    extra=($KEYSWEEP_ARGS)
    args+=("${extra[@]}")
fi

note "keysweep ${args[*]}"
status=0
"${KEYSWEEP_BIN:-keysweep}" "${args[@]}" || status=$?
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "exit-code=$status"
        echo "sarif=$sarif"
    } >>"$GITHUB_OUTPUT"
fi
# 0: clean, 1: findings (the gate step decides), anything else: the scan itself failed.
if [ "$status" -gt 1 ]; then
    exit "$status"
fi
exit 0
