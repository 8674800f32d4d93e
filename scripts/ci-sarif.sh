#!/usr/bin/env bash
# Validates keysweep's SARIF with Microsoft's SARIF multitool, using the SARIF and GitHub rule kinds.
#
# It scans a throwaway tree of freshly generated fake tokens (a file with a space and a `#` in its
# path, a custom medium-severity rule from a keysweep.toml), the committed fixtures/sarif tree and a
# clean tree, validates each SARIF log and fails on any validator result of level `error`. Warnings
# and notes are printed, not fatal.
#
# Needs: cargo, npm (registry access on the first run only), python3.
# Environment: KEYSWEEP (binary to test; default: build target/debug/keysweep),
#              SARIF_MULTITOOL_DIR (npm install cache; default ~/.cache/keysweep/sarif-multitool).
set -euo pipefail

MULTITOOL_VERSION=5.7.0
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${SARIF_MULTITOOL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/keysweep/sarif-multitool}
# The platform binary, called directly: the npm wrapper hands its arguments to a shell, which splits
# `Gh;Sarif` at the `;`.
multitool="$cache/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"

if [ ! -x "$multitool" ]; then
    echo "ci-sarif: installing @microsoft/sarif-multitool@$MULTITOOL_VERSION into $cache" >&2
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-audit --no-fund --silent \
        "@microsoft/sarif-multitool@$MULTITOOL_VERSION" >&2
fi

if [ -z "${KEYSWEEP:-}" ]; then
    (cd "$root" && cargo build --quiet)
    KEYSWEEP="$root/target/debug/keysweep"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Fake tokens of real shape from a random source; never committed anywhere.
python3 - "$work" <<'PY'
import os, secrets, string, sys

work = sys.argv[1]
alnum = string.ascii_letters + string.digits

def pick(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))

def slack():
    return f"xoxb-{pick('23456789', 11)}-{pick('23456789', 13)}-{pick(alnum, 24)}"

def acme():
    return f"acme_live_{pick('bcdfghjkmnpqrstvwxz2345678', 28)}"

tree = os.path.join(work, "tree")
os.makedirs(os.path.join(tree, "config dir"))
os.makedirs(os.path.join(work, "clean"))
with open(os.path.join(tree, "app.env"), "w") as f:
    f.write(f"SLACK_BOT_TOKEN={slack()}\n")
with open(os.path.join(tree, "config dir", "prod#1.yaml"), "w") as f:
    f.write(f"# deploy settings\nslack:\n  token: \"{slack()}\"\nacme: {acme()}\n")
with open(os.path.join(tree, "keysweep.toml"), "w") as f:
    f.write(f"""[[rules]]
id = "acme-live-key"
provider = "acme"
description = "Acme live API key"
severity = "medium"
regex = '''\\b(acme_live_[b-z2-8]{{28}})\\b'''
keywords = ["acme_live_"]
examples = ["key = {acme()}"]
""")
with open(os.path.join(work, "clean", "README.txt"), "w") as f:
    f.write("nothing to see here\n")
PY

validate() {
    local name=$1 in=$2 expect_results=$3
    local out="$work/$name.validation.sarif"
    "$multitool" validate --rule-kind "Gh;Sarif" --level "Error;Warning;Note" \
        --output "$out" "$in" >"$work/$name.log" 2>&1 || {
        cat "$work/$name.log" >&2
        echo "ci-sarif: $name: the multitool failed to run" >&2
        return 1
    }
    # The multitool exits 0 even when it reports errors: read its results.
    python3 - "$name" "$in" "$out" "$expect_results" <<'PY'
import json, sys

name, log_path, out_path, expect = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
log = json.load(open(log_path))
results = log["runs"][0].get("results", [])
if len(results) != expect:
    sys.exit(f"ci-sarif: {name}: expected {expect} results in the keysweep log, found {len(results)}")
validation = json.load(open(out_path))
run = validation["runs"][0]
if not all(i.get("executionSuccessful") for i in run.get("invocations", [])):
    sys.exit(f"ci-sarif: {name}: the validator did not run successfully")
errors = 0
for r in run.get("results", []):
    level = r.get("level", "warning")
    args = r.get("message", {}).get("arguments", [])
    print(f"ci-sarif: {name}: {level:7} {r['ruleId']}: {' | '.join(map(str, args))}")
    errors += level == "error"
if errors:
    sys.exit(f"ci-sarif: {name}: {errors} validation error(s)")
print(f"ci-sarif: {name}: valid ({len(results)} results)")
PY
}

scan() {
    local tree=$1 out=$2 want=$3 rc=0
    "$KEYSWEEP" scan "$tree" --format sarif --output "$out" --quiet || rc=$?
    if [ "$rc" != "$want" ]; then
        echo "ci-sarif: keysweep scan $tree exited $rc, expected $want" >&2
        return 1
    fi
}

scan "$work/tree" "$work/findings.sarif" 1
# Two Slack tokens and the Acme key (the Acme rule's own example in keysweep.toml is not reported).
validate findings "$work/findings.sarif" 3
scan "$root/fixtures/sarif" "$work/fixture.sarif" 1
validate fixture "$work/fixture.sarif" 3
scan "$work/clean" "$work/clean.sarif" 0
validate clean "$work/clean.sarif" 0

# The check itself must be able to fail: a log with an invalid URI has to be rejected.
python3 - "$work/findings.sarif" "$work/broken.sarif" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "C:\\not a uri"
json.dump(log, open(sys.argv[2], "w"))
PY
if validate broken "$work/broken.sarif" 3 >"$work/broken.out" 2>&1; then
    cat "$work/broken.out" >&2
    echo "ci-sarif: a broken log passed validation: the check is not working" >&2
    exit 1
fi
echo "ci-sarif: ok"
