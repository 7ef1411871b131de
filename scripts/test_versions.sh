#!/usr/bin/env bash
# Runs the fast suite (`make test-fast`: DuckDB only, no test marked slow) on every supported Python found on this
# machine, each in its own venv
# with `pip install -e .[dev,spark]` under constraints.txt (spark: the fast suite compiles Spark SQL without a
# Spark session, which needs pyspark's Ibis compiler): the check behind "Python 3.11–3.13 supported".
# `make test-versions` runs it this way; `make test` (scripts/test.sh, so CI) runs it on every other version in the
# background while the main suite runs.
# Usage: scripts/test_versions.sh [pytest args…]   (default: the whole fast suite; Spark, PostgreSQL and browser
#        tests are always left out: they need servers, not a Python; so are tests marked slow, which the main
#        suite runs)
#   PREPARE=1          only create and install the venvs (no tests)
#   FOUND_ONLY=1       only print the versions found here, one a line (what scripts/test.sh will check)
#   VERSIONS="3.12 3.13"  which versions to try (default: 3.11 3.12 3.13)
#   EXTRAS=dev,spark      which extras to install (crosscheck adds the optional cross-checks)
#   VENVS=DIR             where the venvs live (default: build/venvs; reused, so a second run is quick)
set -euo pipefail
cd "$(dirname "$0")/.."
versions="${VERSIONS:-3.11 3.12 3.13}"
venvs="${VENVS:-build/venvs}"
extras="${EXTRAS:-dev,spark}"
fast="not spark and not postgres and not browser and not slow"
failed=()
tried=0
for v in $versions; do
  py=""
  # a pyenv shim on PATH may exist without that version being active: take the first candidate that runs
  for candidate in "$(command -v "python$v" || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v"*/bin/python"$v"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
      py="$candidate"
      break
    fi
  done
  if [ -z "$py" ]; then
    echo "test-versions: python$v not found, skipped" >&2
    continue
  fi
  if [ "${FOUND_ONLY:-0}" = "1" ]; then
    echo "$v"
    continue
  fi
  tried=$((tried + 1))
  env="$venvs/py$v"
  start=$(date +%s)
  echo "test-versions: $("$py" --version) → $env"
  [ -x "$env/bin/python" ] || "$py" -m venv "$env"
  "$env/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[$extras]"
  if [ "${PREPARE:-0}" = "1" ]; then
    echo "test-versions: Python $v installed in $(($(date +%s) - start)) s"
    continue
  fi
  if "$env/bin/python" -m pytest -q -p no:cacheprovider -m "$fast" "$@"; then
    echo "test-versions: Python $v passed in $(($(date +%s) - start)) s"
  else
    echo "test-versions: Python $v FAILED after $(($(date +%s) - start)) s"
    failed+=("$v")
  fi
done
[ "${FOUND_ONLY:-0}" = "1" ] && exit 0
if [ "$tried" -eq 0 ]; then
  echo "test-versions: no supported Python found ($versions)" >&2
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "test-versions: failed on Python ${failed[*]}" >&2
  exit 1
fi
