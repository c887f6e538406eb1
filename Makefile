# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and
# install govkit into it on first use (and again whenever pyproject.toml changes).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "govkit needs Python >= 3.11 (set PYTHON=python3.11)")'
	@echo "govkit: creating $(VENV) and installing govkit into it (first run only, about a minute)..."
	@$(PYTHON) -m venv $(VENV)
	@echo "govkit: [1/2] upgrading pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "govkit: [2/2] installing govkit and its libraries (SQLAlchemy, Presidio, spaCy model...)"
	@$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	@touch $(STAMP)
	@echo "govkit: installed; run it as $(BIN)/govkit, or 'source $(BIN)/activate' first for plain 'govkit'"

## demo: build the demo workspace in ./govkit-demo, scan it, write its audit report
demo: $(STAMP)
	@echo "govkit: building the demo in ./govkit-demo: $(BIN)/govkit demo"
	@$(BIN)/govkit demo

## test: lint, then the whole test suite (server tests need local PostgreSQL and MariaDB)
test: lint
	$(BIN)/python -m pytest

## lint: ruff and mypy
lint: $(STAMP)
	$(BIN)/ruff check govkit tests benchmarks
	$(BIN)/mypy

## unit: the fast tests only
unit: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not server"

## bench: the benchmarks (minutes; not part of `make test`)
bench: $(STAMP)
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/scan_bench.py

clean:
	rm -rf $(VENV) govkit-demo .pytest_cache .mypy_cache .ruff_cache
