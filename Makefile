# Zava Retail MCP. `make serve` and `make test` work on a fresh machine: they create .venv and
# install the project on first use, and are quick when it is already set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVE_PORT ?= 8000

.PHONY: serve test lint unit integration e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,dev]'
	touch $(STAMP)

# Streamable HTTP on 127.0.0.1:8000 (`make serve SERVE_PORT=N` for another port); prints the
# URL, a token per demo user and client snippets. Its data lives where every `zava-mcp` command
# looks by default (ZAVA_DATA_DIR, else the per-user data dir), so a token from a bare
# `zava-mcp token` is one this server accepts.
serve: $(STAMP)
	$(BIN)/zava-mcp serve --transport http --host 127.0.0.1 --port $(SERVE_PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The real MCP clients the e2e tests drive (the Inspector CLI, the MCP conformance suite with
# the Node 22 it brings), pinned by the committed package-lock.json files; installed on first
# use and again when a lock file changes.
E2E_NPM := tests/e2e/inspector/node_modules/.installed tests/e2e/conformance/node_modules/.installed

tests/e2e/%/node_modules/.installed: tests/e2e/%/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs node and npm for the e2e MCP clients" \
		"(Debian: apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --prefix tests/e2e/$* --no-audit --no-fund --loglevel=error
	touch $@

test: lint $(E2E_NPM)
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

bench: $(STAMP)
	$(BIN)/python bench/load_data.py --scale large
	$(BIN)/python bench/sql_guard.py
	$(BIN)/python bench/rls_overhead.py --scale large
	$(BIN)/python bench/tool_overhead.py
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/search_quality.py
	$(BIN)/python bench/vector_search.py --products 100000
	$(BIN)/python bench/soak.py --minutes 10

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
