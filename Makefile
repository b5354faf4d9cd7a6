# primer_sf — every target sets itself up on a fresh machine (Python 3.11 on the PATH).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Local runs default to DEBUG with the bundled emulator; set variables in .env to change that.
-include .env
export

.PHONY: install install-dev demo test test-all lint format migrate makemigrations check run web worker worker-loads emulator browser bench

# The site's and the worker's packages (requirements.txt) and the emulator's, which the demo runs
# (requirements-emulator.txt includes requirements.txt). A production install needs only the first.
$(VENV)/.runtime: requirements.txt requirements-emulator.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-emulator.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime ## runtime and emulator dependencies into .venv
install-dev: $(VENV)/.dev ## runtime and test dependencies into .venv

demo: install ## the main job: set up, then run the demo story
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py demo

# Two tiers: `make test` leaves out the long end-to-end tests (@pytest.mark.slow: the soak, the
# killed worker, the demo-profile load, the big downloads, the benchmark's quick run) and takes
# 1-3 minutes; `make test-all` runs them too. DATABASE_URL picks the database; PYTEST_ARGS adds
# options (e.g. PYTEST_ARGS="-n 2" for two processes with pytest-xdist).
test: install-dev browser ## lint, then every test but the long end-to-end ones (under 3 minutes)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -m "not slow" -n 2 $(PYTEST_ARGS)

test-all: install-dev browser ## lint, then every test, the long end-to-end ones too (5-10 minutes)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput

makemigrations: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py makemigrations

check: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py check
	DEBUG=$${DEBUG:-true} $(PY) manage.py makemigrations --check --dry-run

run: migrate ## the site (:8000), a worker and the emulator (:8765) together; Ctrl-C stops all
	DEBUG=$${DEBUG:-true} $(PY) scripts/run_all.py

web: migrate ## only the site on http://127.0.0.1:8000
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:8000

worker: migrate ## the django-q2 cluster that runs every sync (every incremental one, with INGESTION_LOADS_QUEUE set), below the site's CPU priority
	DEBUG=$${DEBUG:-true} nice -n 10 $(PY) manage.py qcluster

worker-loads: migrate ## the cluster serving INGESTION_LOADS_QUEUE: initial loads, resyncs, data deletions
	test -n "$$INGESTION_LOADS_QUEUE" || { echo "set INGESTION_LOADS_QUEUE first"; exit 1; }
	DEBUG=$${DEBUG:-true} Q_CLUSTER_NAME=$$INGESTION_LOADS_QUEUE nice -n 10 $(PY) manage.py qcluster

emulator: install ## only the Salesforce org emulator on http://127.0.0.1:8765 (demo profile)
	$(PY) -m emulator --host 127.0.0.1 --port 8765 --profile demo

# The benchmark's own database, dropped and recreated by each run (DATABASE_URL, if set, is used
# as it is instead). BENCH_ARGS passes options, e.g. BENCH_ARGS="--part latency".
BENCH_DATABASE_URL := postgres://postgres@127.0.0.1:5432/primer_sf_bench

bench: install ## the whole-pipeline benchmark (~8 min): bench/RESULTS.md and bench/results.json
	@if [ -z "$$DATABASE_URL" ]; then $(PY) -m bench.database recreate $(BENCH_DATABASE_URL); fi
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} DEBUG=$${DEBUG:-true} $(PY) -m bench $(BENCH_ARGS)

browser: ## Debian's Chromium for the browser tests (driven by Playwright)
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
