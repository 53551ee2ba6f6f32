# Zava Retail MCP. `make serve` and `make test` work on a fresh machine: they create .venv and
# install the project on first use, and are quick when it is already set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ZAVA_DATA_DIR ?= $(CURDIR)/.data
# The head office analyst sees every store; pick another id from `zava-mcp users`.
export ZAVA_USER_ID ?= 5ba86bc5-6c7d-4d93-9337-3175bdc44ad8

.PHONY: serve test lint unit integration e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/zava-mcp serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

bench: $(STAMP)
	$(BIN)/python bench/load_data.py
	$(BIN)/python bench/sql_guard.py

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
