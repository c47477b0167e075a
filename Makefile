# fitroom: the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test bench fmt lint typecheck unit install install-dev pg-tools node-deps chromium clean

# A stamp per lock-file content: installs run again only when a lock changes.
RUN_STAMP := $(VENV)/.run-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.lock requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
# The pages' npm dependencies (three.js), installed exactly as package-lock.json says.
NODE_STAMP := node_modules/.fitroom-$(shell cat package.json package-lock.json | cksum | cut -d' ' -f1)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"

$(RUN_STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.lock
	$(BIN)/pip install -q -r requirements-dev.lock
	@touch $@

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm (Node.js 18+) is needed for the pages' three.js"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: $(NODE_STAMP)

## make run: install, migrate, seed the demo store, serve on http://$(HOST):$(PORT)
run: install node-deps
	$(BIN)/fitroom db upgrade
	$(BIN)/fitroom demo seed
	$(BIN)/fitroom serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

## make test: format check, lint, type check, then the test suite
test: install-dev pg-tools node-deps chromium
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

## PostgreSQL server binaries for the PostgreSQL tests, where apt can install them.
pg-tools:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1)) ; } || \
	  echo "note: PostgreSQL server binaries not available; the PostgreSQL tests will be skipped"

## Debian's chromium for the browser tests (tests/web), where apt can install it.
chromium:
	@command -v chromium >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1)) ; } || \
	  echo "note: chromium not available (needs root and apt); the browser tests will be skipped"

## make bench: benchmarks; figures go to bench/results/*.md and the README
bench: install-dev node-deps chromium
	$(BIN)/python bench/recommend_latency.py
	$(BIN)/python bench/recsys_latency.py --requests 1000 --rounds 3
	$(BIN)/python bench/recsys_latency.py --requests 1000 --rounds 3 --workers 2 --out recsys_latency_2workers
	$(BIN)/python bench/recsys_scoring.py --rounds 3 --exports 3
	$(BIN)/python bench/ansur_coverage.py
	$(BIN)/python bench/returns_learning.py
	$(BIN)/python bench/superres_quality_speed.py --runs 20 --threads 1 2
	$(BIN)/python bench/compress_superres.py chain
	$(BIN)/python bench/web_pages.py --runs 5
	$(BIN)/python bench/body_scan.py --runs 15
	$(BIN)/python bench/tryon_quality_speed.py --runs 20
	$(BIN)/python bench/tryon_live.py --frames 100 --rounds 3
	# Recommendation quality: about 1 h (Beauty) + 1.5 h (Sports) on 2 cores.
	$(BIN)/python bench/recsys_quality.py --datasets amazon_beauty --out recsys_quality_beauty
	$(BIN)/python bench/recsys_quality.py --datasets amazon_sports --out recsys_quality_sports

fmt: install-dev
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

clean:
	rm -rf $(VENV) var node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis
