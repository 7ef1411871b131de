#!/usr/bin/env bash
# `make test` (the README's test command, so CI): the whole suite on this Python and, beside it, the whole fast suite
# on every other supported Python found here (3.11–3.13, scripts/test_versions.sh): the check behind "Python
# 3.11–3.13 supported".
#
# The other versions run at the same time as the main suite, at the lowest CPU priority: the main suite keeps one of
# two cores busy most of the time (a test waits on its browser, server or JVM far more than it computes), so the
# version runs fill the idle core instead of adding their ~10 minutes each after it. Each version first installs its
# venv (minutes: pip downloads every wheel), then runs the fast suite (DuckDB only: no servers, no browser). Their
# output goes to build/test-versions.log; its summary (or, on a failure, the whole log) is printed at the end.
# Usage: scripts/test.sh [pytest args for the main suite…]
#   VERSION_TESTS="…"   what the other versions run (default: the whole fast suite); VERSIONS="3.12" limits the
#                       versions tried; VERSIONS=none runs none
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
mkdir -p build
here="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
others=""
for v in ${VERSIONS:-3.11 3.12 3.13}; do
  [ "$v" = "$here" ] || [ "$v" = none ] || others="$others $v"
done

# the versions test_versions.sh finds here (it says which it does not find)
found=""
[ -z "${others// /}" ] || found="$(VERSIONS="$others" FOUND_ONLY=1 bash scripts/test_versions.sh | tr '\n' ' ')"
found="${found% }"

versions_pid=""
log=build/test-versions.log
if [ -n "$found" ]; then
  echo "test: the fast suite on Python $found runs beside the main suite (log: $log)"
  # word splitting of VERSION_TESTS is intended: a list of paths or pytest arguments
  # shellcheck disable=SC2086
  VERSIONS="$found" nice -n 19 bash scripts/test_versions.sh ${VERSION_TESTS:-} >"$log" 2>&1 &
  versions_pid=$!
fi

status=0
"$PY" -m pytest -q -p no:cacheprovider --durations=30 "$@" || status=$?

if [ -n "$versions_pid" ]; then
  echo "test: waiting for the fast suite on Python $found"
  if wait "$versions_pid"; then
    # each version's venv and result line, and pytest's own summary line
    grep -E '^test-versions:|^[0-9]+ passed' "$log"
  else
    # pip's notes about this machine's absent local indexes are noise here
    grep -v '^WARNING: Location' "$log"
    echo "test: the fast suite failed on one of Python $found (above)" >&2
    status=1
  fi
fi
exit "$status"
