#!/usr/bin/env bash
# `make test` (the README's test command, so CI): the whole suite on this Python, then the version check on every
# other supported Python found here (3.11–3.13, scripts/test_versions.sh).
#
# The other versions' venvs (a fresh one takes minutes: pip downloads every wheel) are installed in the background,
# at low priority, while the main suite runs; each then runs VERSION_TESTS, the fast suite's core: the definitions
# home, the whole KPI compiler and catalog (golden SQL for DuckDB, PostgreSQL and Spark included), the display
# layer, the project façade and the public API (about 410 tests, 1.5 min per version). `make test-versions` runs the
# whole fast suite on each version; it is too long to repeat per version inside CI's 30-minute budget.
# Usage: scripts/test.sh [pytest args for the main suite…]
#   VERSION_TESTS="…"   what the other versions run (default below); VERSIONS="3.12" limits the versions tried
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
mkdir -p build
here="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
others=""
for v in ${VERSIONS:-3.11 3.12 3.13}; do
  [ "$v" = "$here" ] || others="$others $v"
done
tests="${VERSION_TESTS:-tests/definitions tests/kpis tests/display tests/test_project.py tests/test_public_api.py tests/test_engine.py}"

# the versions test_versions.sh finds here (it says which it does not find)
found=""
[ -z "${others// /}" ] || found="$(VERSIONS="$others" FOUND_ONLY=1 bash scripts/test_versions.sh | tr '\n' ' ')"
found="${found% }"

prepare_pid=""
if [ -n "$found" ]; then
  echo "test: installing venvs for Python $found in the background (log: build/test-versions-install.log)"
  PREPARE=1 VERSIONS="$found" nice -n 19 bash scripts/test_versions.sh >build/test-versions-install.log 2>&1 &
  prepare_pid=$!
fi

status=0
"$PY" -m pytest -q -p no:cacheprovider --durations=30 "$@" || status=$?

if [ -n "$prepare_pid" ]; then
  # pip's notes about this machine's absent local indexes are noise here
  if ! wait "$prepare_pid"; then
    grep -v '^WARNING: Location' build/test-versions-install.log
    echo "test: installing the venvs for Python $found failed" >&2
    exit 1
  fi
  grep '^test-versions:' build/test-versions-install.log
  # word splitting of $tests is intended: a list of paths
  # shellcheck disable=SC2086
  VERSIONS="$found" bash scripts/test_versions.sh $tests || status=1
fi
exit "$status"
