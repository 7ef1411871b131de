#!/usr/bin/env bash
# `make test` (the README's test command, so CI): the whole suite on this Python and, beside it, the fast suite on
# every other supported Python found here (3.11–3.13, scripts/test_versions.sh).
#
# The other versions run in one background job at low priority while the main suite runs, one version after the
# other: create and install its venv (pip downloads every wheel: minutes; installs are sequential because
# setuptools writes src/revalign.egg-info during an editable install, so two at once race), then run the fast
# suite (`make test-fast`: DuckDB only, no test marked slow — about 2,080 tests). The main suite leaves one core
# mostly idle (it waits on Spark, PostgreSQL, the browser and subprocesses), which is where the versions run.
# Usage: scripts/test.sh [pytest args for the main suite…]
#   VERSION_TESTS="…"   limit what the other versions run (default: the whole fast suite)
#   VERSIONS="3.12"     limit the versions tried
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
mkdir -p build
here="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
others=""
for v in ${VERSIONS:-3.11 3.12 3.13}; do
  [ "$v" = "$here" ] || others="$others $v"
done

# the versions test_versions.sh finds here (it says which it does not find)
found=""
[ -z "${others// /}" ] || found="$(VERSIONS="$others" FOUND_ONLY=1 bash scripts/test_versions.sh | tr '\n' ' ')"
found="${found% }"

versions_pid=""
log=build/test-versions.log
if [ -n "$found" ]; then
  echo "test: the fast suite on Python $found runs in the background (log: $log)"
  # word splitting of VERSION_TESTS is intended: a list of paths
  # shellcheck disable=SC2086
  VERSIONS="$found" nice -n 19 bash scripts/test_versions.sh ${VERSION_TESTS:-} >"$log" 2>&1 &
  versions_pid=$!
fi

status=0
"$PY" -m pytest -q -p no:cacheprovider --durations=30 "$@" || status=$?

if [ -n "$versions_pid" ]; then
  echo "test: waiting for the fast suite on Python $found"
  if wait "$versions_pid"; then
    # pip's notes about this machine's absent local indexes are noise; the summary lines say what ran
    grep -E '^test-versions:|^[0-9]+ passed|^=+ .*(passed|failed)' "$log"
  else
    grep -v '^WARNING: Location' "$log"
    echo "test: the fast suite failed on another Python (above)" >&2
    status=1
  fi
fi
exit "$status"
