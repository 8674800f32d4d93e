#!/usr/bin/env bash
# The gate step of keysweep's GitHub Action: fails the job on findings when asked to.
#   KEYSWEEP_STATUS    the scan's exit status (0 clean, 1 findings)
#   KEYSWEEP_FAIL      auto (fail only when a baseline is given: the findings are then new ones),
#                      always, never
#   KEYSWEEP_BASELINE  the baseline input
set -euo pipefail
status=${KEYSWEEP_STATUS:-2}
case "${KEYSWEEP_FAIL:-auto}" in
always) fail=1 ;;
never) fail=0 ;;
auto) if [ -n "${KEYSWEEP_BASELINE:-}" ]; then fail=1; else fail=0; fi ;;
*) echo "keysweep-action: fail-on-findings must be auto, always or never" >&2; exit 2 ;;
esac
if [ "$status" = 1 ] && [ "$fail" = 1 ]; then
    echo "keysweep-action: new secrets found (see the code-scanning alerts or the log above)" >&2
    exit 1
fi
if [ "$status" != 0 ] && [ "$status" != 1 ]; then
    echo "keysweep-action: the scan failed (status $status)" >&2
    exit "$status"
fi
exit 0
