#!/usr/bin/env bash
# Regenerates the README's capability tables from `keysweep providers --format markdown` (a test
# fails when they differ). Usage: scripts/readme-providers.sh [KEYSWEEP_BIN]
set -euo pipefail
checkout=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
bin=${1:-$checkout/target/debug/keysweep}
python3 - "$checkout/README.md" "$("$bin" providers --format markdown)" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
start = "<!-- generated: keysweep providers --format markdown -->\n"
end = "<!-- end of generated tables -->"
text = open(path, encoding="utf-8").read()
a = text.index(start) + len(start)
b = text.index(end, a)
open(path, "w", encoding="utf-8").write(text[:a] + table + "\n" + text[b:])
PY
