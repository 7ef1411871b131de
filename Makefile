# revalign — one entry point per job. `make demo` and `make test` do all set-up themselves.
PY ?= python3
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup setup-test demo test test-fast test-versions lint fix bench docs screenshots serve

setup:            ## install revalign and its runtime dependencies (pinned by constraints.txt; no Spark)
	bash scripts/setup.sh runtime

setup-test:       ## install everything the tests need (pip, chromium, postgresql, java)
	bash scripts/setup.sh test

demo: setup       ## simulated company → KPIs → dashboard (the README's first command)
	$(PY) -m revalign.interfaces.cli demo

test: setup-test  ## the whole suite (DuckDB, a real PostgreSQL, a local Spark, a real browser); beside it the fast suite on Python 3.11–3.13
	PYTHON=$(PY) bash scripts/test.sh

test-fast:        ## DuckDB only, no test marked slow (what CI runs on every other Python)
	$(PY) -m pytest -q -m "not spark and not postgres and not browser and not slow"

test-versions:    ## the whole fast suite on every supported Python found (3.11–3.13), a venv each
	bash scripts/test_versions.sh

lint:
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench
	$(PY) -m mypy

fix:
	$(PY) -m ruff check --fix src tests bench
	$(PY) -m ruff format src tests bench

bench: setup-test ## benchmarks → docs/benchmarks.md
	$(PY) -m bench.run

docs:             ## regenerate generated docs (model, KPI glossary, CLI)
	$(PY) -m revalign.interfaces.cli docs

screenshots: setup-test ## refresh docs/screenshots/ (every page at laptop and phone width, in Debian's Chromium)
	REVALIGN_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q -p no:cacheprovider -m browser \
		tests/interfaces/browser/test_dashboard.py tests/interfaces/browser/test_homes.py \
		tests/interfaces/browser/test_planner.py

serve: setup
	$(PY) -m revalign.interfaces.cli serve
