# Shared by the bench-*.sh scripts: tool discovery, the no-network wrapper and timing helpers.
# shellcheck shell=bash

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The checkout the scripts live in (bench-work/ and target/ go there).
REPO="$(cd "$HERE/.." && pwd)"
export REPO

die() { echo "error: $*" >&2; exit 2; }
note() { echo "== $*" >&2; }

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found; install it with: $2"
}

# Third-party scanners must never reach the network: run every tool (keysweep too, so all pay the same
# wrapper) in a fresh network namespace where only a downed loopback exists. Without unshare (not
# root), rely on the tools' own flags (verification and update checks off), which are always passed.
if unshare -n true 2>/dev/null; then
    NONET="unshare -n"
else
    NONET=""
    note "unshare -n unavailable: relying on each tool's no-network flags"
fi

# Total bytes of the regular files under a directory (apparent sizes).
tree_bytes() {
    find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}'
}

# bench NAME RUNS WARMUP COMMAND: hyperfine timing, peak RSS of every run appended to rss-NAME.txt.
bench() {
    local name=$1 runs=$2 warmup=$3 cmd=$4
    rm -f "$OUT/rss-$name.txt" "$OUT/hf-$name.json"
    note "$name: $cmd"
    hyperfine --style basic --ignore-failure --warmup "$warmup" --runs "$runs" \
        --export-json "$OUT/hf-$name.json" -n "$name" \
        "/usr/bin/time -f %M -a -o $OUT/rss-$name.txt $NONET $cmd" >&2
}

machine_facts() {
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "keysweep: $("$KEYSWEEP" --version 2>/dev/null || echo missing) ($KEYSWEEP)"
    for t in rg kingfisher betterleaks detect-secrets git hyperfine; do
        command -v "$t" >/dev/null 2>&1 && echo "$t: $("$t" --version 2>&1 | head -1)"
    done
}
