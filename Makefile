# Zava Retail MCP. `make serve` and `make test` work on a fresh machine: they create .venv and
# install the project on first use, and are quick when it is already set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ZAVA_DATA_DIR ?= $(CURDIR)/.data

.PHONY: serve test lint unit integration e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Streamable HTTP on 127.0.0.1:8000; prints the URL, a token per demo user and client snippets.
serve: $(STAMP)
	$(BIN)/zava-mcp serve --transport http --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
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

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
