#!/usr/bin/env bash
# Installs everything revalign and its tests need on a fresh Debian 12 / Python 3.11 machine:
#   - Debian packages: chromium (browser tests), postgresql (Postgres backend tests), a JDK (Spark),
#     wrk (the dashboard page benchmark's load generator)
#   - the package itself, its dependencies at the exact versions of constraints.txt (pyproject.toml holds the
#     ranges; the pins are what CI and the benchmarks run with), and for tests the [spark,dev,crosscheck] extras
# Usage: scripts/setup.sh [runtime|test]
#   runtime (make setup, make demo, make serve): the package alone: no Spark, no test tools, no Debian packages
#   test    (make test, make bench): everything the whole suite needs
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-test}"
PY="${PYTHON:-python3}"

need_apt=()
if [ "$what" = "test" ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || need_apt+=(postgresql)
  command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
  command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

target="."
[ "$what" = "test" ] && target=".[spark,dev,crosscheck]"
# Always let pip check the pins: cheap when satisfied, and a machine prepared by an older commit gets new ones.
echo "setup: pip install -c constraints.txt -e $target"
"$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore -c constraints.txt -e "$target"
