#!/usr/bin/env bash
# Builds the keysweep wheel (the binary packaged by maturin, `bindings = "bin"`) into DIR.
#
# Usage: scripts/build-wheel.sh [DIR]      (default: target/wheels)
# Needs: maturin (pip install maturin), a Rust toolchain. The wheel is tagged for the oldest manylinux
# the binary's glibc symbols allow; `pip install DIR/keysweep-*.whl` then gives the `keysweep` command.
set -euo pipefail
checkout=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
out=$(realpath -m "${1:-$checkout/target/wheels}")
mkdir -p "$out"
cd "$checkout/packaging/pypi"
maturin build --release --out "$out"
ls -l "$out"/keysweep-*.whl
