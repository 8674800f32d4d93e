#!/usr/bin/env bash
# The install step of keysweep's GitHub Action: the keysweep wheel into a virtual environment of its
# own in the runner's temporary directory (the scan step calls it by path; PATH is left alone).
#   KEYSWEEP_VERSION  the release to install from PyPI
#   KEYSWEEP_WHEEL    a wheel (path or URL) to install instead
set -euo pipefail
venv="${RUNNER_TEMP:?}/keysweep-venv"
python3 -m venv "$venv"
if [ -n "${KEYSWEEP_WHEEL:-}" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$KEYSWEEP_WHEEL"
else
    "$venv/bin/pip" install --quiet --disable-pip-version-check "keysweep==${KEYSWEEP_VERSION:?}"
fi
"$venv/bin/keysweep" --version
