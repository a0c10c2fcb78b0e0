# The two commands a newcomer needs: `make demo` and `make test` (both install what they need).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench

$(BIN)/jobgraph: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# GraphiQL's browser assets and the Node test client, pinned by package-lock.json.
install: $(BIN)/jobgraph node_modules/.package-lock.json

demo: install
	$(BIN)/jobgraph demo

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

# The federation tests' own Node tools (@apollo/composition, @apollo/gateway).
FEDERATION_NODE := tests/federation/node

$(FEDERATION_NODE)/node_modules/.package-lock.json: $(FEDERATION_NODE)/package.json $(FEDERATION_NODE)/package-lock.json
	npm ci --prefix $(FEDERATION_NODE) --no-audit --no-fund --loglevel=error
	touch $@

install: $(FEDERATION_NODE)/node_modules/.package-lock.json

# Gateway benchmarks (simulators and gateway as processes; wrk when installed): bench/README.md.
bench: install
	$(BIN)/python -m bench
