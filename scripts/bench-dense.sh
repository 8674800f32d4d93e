#!/usr/bin/env bash
# Worst-case inputs for the matching engine: files of SIZE (default 10 MB) dense with the rule pack's
# keywords (see bench_dense.py), scanned one at a time as files, then all together with -j, then as
# blobs in git history. Prints wall time and peak RSS for each, and the RSS of scanning an empty file
# (the baseline the budget is measured above). Fails when a file takes longer than --max-secs or
# grows RSS more than --max-mb above the baseline.
#
# usage: scripts/bench-dense.sh [--size BYTES] [--max-secs S] [--max-mb MB] [--workdir DIR]
set -euo pipefail
source "$(dirname "$0")/bench-common.sh"

SIZE=$((10 * 1000 * 1000))
MAX_SECS=0.5
MAX_MB=64
WORK="$REPO/bench-work/dense"
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE=$2; shift 2 ;;
        --max-secs) MAX_SECS=$2; shift 2 ;;
        --max-mb) MAX_MB=$2; shift 2 ;;
        --workdir) WORK=$2; shift 2 ;;
        *) die "unknown argument $1" ;;
    esac
done
need python3 "apt-get install python3"
need git "apt-get install git"
[ -x /usr/bin/time ] || die "/usr/bin/time not found; install it with: apt-get install time"
KEYSWEEP="${KEYSWEEP:-$REPO/target/release/keysweep}"
[ -x "$KEYSWEEP" ] || (cd "$REPO" && cargo build --release -q)

rm -rf "$WORK" && mkdir -p "$WORK/in"
mapfile -t KEYWORDS < <("$KEYSWEEP" rules list --format json |
    python3 -c 'import json,sys; print("\n".join(sorted({k for r in json.load(sys.stdin) for k in r["keywords"]})))')
python3 "$HERE/bench_dense.py" "$WORK/in" "$SIZE" "${KEYWORDS[@]}"
: > "$WORK/empty.txt"

# measure LABEL ARGS...: prints "secs peak_kb" of one keysweep run (exit codes 0 and 1 are fine).
measure() {
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$KEYSWEEP" scan -q --format json -o /dev/null "$@" \
        && true
    local rc=$?
    [ "$rc" -le 1 ] || die "$label: keysweep exited $rc"
    tail -n 1 "$WORK/time.txt"
}

machine_facts
read -r _ BASE_KB < <(measure baseline "$WORK/empty.txt")
echo "baseline RSS (empty file): $((BASE_KB / 1024)) MB"
printf '%-28s %8s %10s %12s\n' input seconds "peak MB" "above base"
worst_s=0; worst_mb=0; fails=0
for f in "$WORK"/in/*; do
    read -r secs kb < <(measure "$f" -j1 "$f")
    above=$(( (kb - BASE_KB) / 1024 ))
    printf '%-28s %8s %10s %12s\n' "$(basename "$f")" "$secs" "$((kb / 1024))" "$above"
    if awk "BEGIN {exit !($secs > $MAX_SECS)}" || [ "$above" -gt "$MAX_MB" ]; then
        fails=$((fails + 1))
    fi
    awk "BEGIN {exit !($secs > $worst_s)}" && worst_s=$secs
    [ "$above" -gt "$worst_mb" ] && worst_mb=$above
done
n=$(ls "$WORK/in" | wc -l)
read -r secs kb < <(measure all -j "$(nproc)" "$WORK/in")
echo "all $n files together, -j$(nproc): ${secs}s, peak $((kb / 1024)) MB"

git init -q "$WORK/repo"
cp "$WORK"/in/xo.txt "$WORK"/in/interleaved-line.txt "$WORK"/in/keyword-bodies.txt "$WORK/repo/"
git -C "$WORK/repo" add -A
git -C "$WORK/repo" -c user.name=b -c user.email=b@b.invalid commit -qm dense
read -r secs kb < <(measure history --history "$WORK/repo")
echo "history (3 dense blobs): ${secs}s, peak $((kb / 1024)) MB"

echo "worst single file: ${worst_s}s, $worst_mb MB above baseline (budget ${MAX_SECS}s, $MAX_MB MB); $fails over budget"
[ "$fails" -eq 0 ]
