# The two commands a newcomer needs: `make demo` and `make test` (both install what they need).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The browser tests launch Debian's chromium by this path (tests/service/test_service_browser.py).
CHROMIUM ?= /usr/bin/chromium
# What the chromium step looks at; overridable so tests can stand in for another machine.
OS_RELEASE ?= /etc/os-release
# The Redis tests start Debian's redis-server by this path (tests/shared_state/conftest.py).
REDIS_SERVER ?= /usr/bin/redis-server
# The replica tests put two gateways behind Debian's haproxy by this path (tests/replicas/).
HAPROXY ?= /usr/sbin/haproxy
EUID ?= $(shell id -u)
SUDO_OK ?= detect
# pytest-xdist workers: one per core, at least 2, at most 4 (the servers each test starts need a core);
# idle workers steal queued tests, so a few long tests do not leave one worker finishing alone.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); \
	[ "$$n" -lt 2 ] && n=2; [ "$$n" -gt 4 ] && n=4; echo $$n)

.PHONY: install prerequisites chromium redis-server haproxy demo test lint bench

# Stop at once, before any download, when the machine lacks what no Makefile can install.
prerequisites:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "make: Python 3.11+ is needed as '$(PYTHON)' (or run: make PYTHON=python3.11 ...)" >&2; \
	    exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' \
	  2>/dev/null && command -v npm >/dev/null || \
	  { echo "make: Node.js 20+ with npm is needed on the PATH" >&2; exit 1; }

# A Debian package the tests need, $(call apt_package,PACKAGE,PATH,WHO): installed with apt-get
# where root or passwordless sudo allows it; anywhere else `make` stops here, before the suite
# runs, with the one command to run.
define apt_package
	@if [ -x "$(2)" ]; then exit 0; fi; \
	if ! grep -qsE '^ID(_LIKE)?=.*\b(debian|ubuntu)\b' "$(OS_RELEASE)"; then \
	  echo "make: $(3) need Debian's $(1) at $(2);" \
	    "run them on Debian or Ubuntu (make demo works here)" >&2; exit 1; \
	fi; \
	if [ "$(EUID)" = 0 ]; then sudo=; \
	elif [ "$(SUDO_OK)" = yes ] || { [ "$(SUDO_OK)" = detect ] && sudo -n true 2>/dev/null; }; \
	then sudo=sudo; \
	else \
	  echo "make: $(3) need Debian's $(1) at $(2); run:" >&2; \
	  echo "  sudo apt-get install -y $(1)" >&2; exit 1; \
	fi; \
	echo "make: installing Debian's $(1) with apt-get"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null && \
	test -x "$(2)"
endef

chromium:
	$(call apt_package,chromium,$(CHROMIUM),the browser tests)

# For the shared-cache tests.
redis-server:
	$(call apt_package,redis-server,$(REDIS_SERVER),the Redis tests)

# For the replica tests: a real load balancer in front of two `jobgraph serve` processes.
haproxy:
	$(call apt_package,haproxy,$(HAPROXY),the replica tests)

$(BIN)/jobgraph: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The federation tests' own Node tools (@apollo/composition, @apollo/gateway).
FEDERATION_NODE := tests/federation/node

$(FEDERATION_NODE)/node_modules/.package-lock.json: $(FEDERATION_NODE)/package.json $(FEDERATION_NODE)/package-lock.json
	npm ci --prefix $(FEDERATION_NODE) --no-audit --no-fund --loglevel=error
	touch $@

# Persisted-query clients for tests/http (Apollo Client's link, urql's exchange).
HTTP_NODE := tests/http/node

$(HTTP_NODE)/node_modules/.package-lock.json: $(HTTP_NODE)/package.json $(HTTP_NODE)/package-lock.json
	npm ci --prefix $(HTTP_NODE) --no-audit --no-fund --loglevel=error
	touch $@

# GraphiQL's browser assets (node_modules) are all the demo needs besides .venv.
DEMO_DEPS := $(BIN)/jobgraph node_modules/.package-lock.json

# The checks come first so that a missing prerequisite stops `make` before any download.
install: prerequisites chromium redis-server haproxy $(DEMO_DEPS) \
	$(FEDERATION_NODE)/node_modules/.package-lock.json $(HTTP_NODE)/node_modules/.package-lock.json

demo: prerequisites $(DEMO_DEPS)
	$(BIN)/jobgraph demo

test: install
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

# Gateway benchmarks (simulators and gateway as processes; wrk when installed): bench/README.md.
bench: install
	$(BIN)/python -m bench
