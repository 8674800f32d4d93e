#!/usr/bin/env bash
# Finding counts of keysweep, Kingfisher and betterleaks on real repositories, trees and full
# histories: the figures behind the README's precision table. Not a timed benchmark.
#
# Usage: scripts/bench-precision.sh [options] NAME...
#   NAME                 a repository under --repos: NAME/ is its checkout, NAME.git a bare clone
#                        with every branch and tag (e.g. cargo symfony git)
#   --repos DIR          where the repositories are (default: bench-work/repos in the checkout)
#   --out DIR            where reports go (default: bench-work/precision)
#   --keysweep BIN       keysweep binary (default: target/release/keysweep, built if missing)
#   --skip TOOL          leave a tool out (repeatable): kingfisher, betterleaks
#   --reuse              keep reports already in --out instead of rerunning their tool
#
# Peers run with verification and update checks off, inside `unshare -n` when available. Kingfisher
# runs at its default confidence (medium), betterleaks with all its rules. keysweep's counts are also
# split by confidence and by path class (test, docs, example).
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
source "$(dirname "$0")/bench-common.sh"

REPOS="$REPO/bench-work/repos" OUT="$REPO/bench-work/precision" KEYSWEEP="" SKIP=" " REUSE=0
NAMES=()
while [ $# -gt 0 ]; do
    case $1 in
        --repos) REPOS=$2; shift ;;
        --out) OUT=$2; shift ;;
        --keysweep) KEYSWEEP=$2; shift ;;
        --skip) SKIP+="$2 "; shift ;;
        --reuse) REUSE=1 ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) NAMES+=("$1") ;;
    esac
    shift
done
[ ${#NAMES[@]} -gt 0 ] || die "name at least one repository (see --help)"
need python3 "apt-get install python3"
if [ -z "$KEYSWEEP" ]; then
    KEYSWEEP="$REPO/target/release/keysweep"
    [ -x "$KEYSWEEP" ] || (cd "$REPO" && cargo build --release >&2)
fi
mkdir -p "$OUT"
skipped() { [[ "$SKIP" == *" $1 "* ]]; }
fresh() { [ "$REUSE" = 0 ] || [ ! -s "$1" ]; }

for name in "${NAMES[@]}"; do
    tree="$REPOS/$name" bare="$REPOS/$name.git"
    [ -d "$tree" ] && [ -d "$bare" ] || die "$tree and $bare must both exist"
    for mode in tree history; do
        report="$OUT/keysweep-$name-$mode.json"
        if fresh "$report"; then
            note "keysweep $name $mode"
            if [ "$mode" = tree ]; then
                $NONET "$KEYSWEEP" scan -q --format json -o "$report" "$tree" || true
            else
                $NONET "$KEYSWEEP" scan -q --history --format json -o "$report" "$bare" || true
            fi
        fi
        if ! skipped kingfisher && command -v kingfisher >/dev/null; then
            report="$OUT/kingfisher-$name-$mode.json"
            if fresh "$report"; then
                note "kingfisher $name $mode"
                if [ "$mode" = tree ]; then
                    $NONET kingfisher scan "$tree" --git-history none --exclude .git --no-validate \
                        --no-update-check -f json -o "$report" >/dev/null 2>&1 || true
                else
                    $NONET kingfisher scan "$bare" --git-history full --no-validate \
                        --no-update-check -f json -o "$report" >/dev/null 2>&1 || true
                fi
            fi
        fi
        if ! skipped betterleaks && command -v betterleaks >/dev/null; then
            report="$OUT/betterleaks-$name-$mode.json"
            if fresh "$report"; then
                note "betterleaks $name $mode"
                if [ "$mode" = tree ]; then
                    # Every top-level entry but .git: betterleaks' fs mode has no exclude flag.
                    mapfile -t entries < <(find "$tree" -mindepth 1 -maxdepth 1 ! -name .git | sort)
                    $NONET betterleaks fs "${entries[@]}" --no-banner --no-color --exit-code 0 \
                        -o "$report" >/dev/null 2>&1 || true
                else
                    $NONET betterleaks git "$bare" --no-banner --no-color --exit-code 0 \
                        -o "$report" >/dev/null 2>&1 || true
                fi
            fi
        fi
    done
done

python3 - "$OUT" "${NAMES[@]}" <<'EOF'
import collections, json, os, sys

out, names = sys.argv[1], sys.argv[2:]


def load(tool, name, mode):
    path = os.path.join(out, f"{tool}-{name}-{mode}.json")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        return json.load(f).get("findings") or []


print("| repository | mode | keysweep | by confidence (high/medium/low) | in test, docs, example files | Kingfisher | betterleaks |")
print("|---|---|---|---|---|---|---|")
for name in names:
    for mode in ("tree", "history"):
        ks = load("keysweep", name, mode)
        kf = load("kingfisher", name, mode)
        bl = load("betterleaks", name, mode)
        conf = collections.Counter(f.get("confidence", "high") for f in ks or [])
        classed = sum(1 for f in ks or [] if f.get("path_class"))
        cell = lambda x: "–" if x is None else str(len(x))
        print(f"| {name} | {mode} | {cell(ks)} | {conf['high']}/{conf['medium']}/{conf['low']} "
              f"| {classed} | {cell(kf)} | {cell(bl)} |")
print()
print("keysweep findings by rule:")
for name in names:
    for mode in ("tree", "history"):
        rules = collections.Counter(f["rule_id"] for f in load("keysweep", name, mode) or [])
        listing = ", ".join(f"{r} {n}" for r, n in sorted(rules.items())) or "none"
        print(f"  {name} {mode}: {listing}")
EOF
