# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and
# install govkit into it on first use (and again whenever pyproject.toml changes).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SPARK  := $(VENV)/.installed-spark

.PHONY: demo test lint unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "govkit needs Python >= 3.11 (set PYTHON=python3.11)")'
	@echo "govkit: creating $(VENV) and installing govkit into it (first run only, about a minute)..."
	@$(PYTHON) -m venv $(VENV)
	@echo "govkit: [1/2] upgrading pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "govkit: [2/2] installing govkit and its libraries (SQLAlchemy, Presidio, spaCy model...)"
	@# Not --quiet: a quiet pip is silent for the whole install (30-60 s); this way it shows its progress.
	@$(BIN)/python -m pip install -e '.[test,lint]'
	@touch $(STAMP)
	@echo "govkit: installed; run it as $(BIN)/govkit, or 'source $(BIN)/activate' first for plain 'govkit'"

# The Spark tests run in `make test` (they are not skipped when pyspark is there) and mypy checks
# the Spark engine against pyspark's types; the demo does not use Spark, so `make demo` does not
# download pyspark (hundreds of MB).
$(SPARK): $(STAMP)
	@echo "govkit: installing the spark and delta extras for their tests (pyspark, deltalake; Java 17+ must be on the machine)"
	@$(BIN)/python -m pip install -e '.[test,lint,spark,delta]'
	@touch $(SPARK)

## demo: build the demo workspace in ./govkit-demo, scan it, write its audit report
demo: $(STAMP)
	@echo "govkit: building the demo in ./govkit-demo: $(BIN)/govkit demo"
	@$(BIN)/govkit demo

## test: lint, then the whole test suite (server tests need local PostgreSQL and MariaDB), one
## worker process per core (TEST_JOBS=0 runs in this one process); tests/conftest.py says which tests
## share state and run one after another in a single worker
TEST_JOBS ?= auto
test: lint
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadgroup

## lint: ruff and mypy (mypy reads pyspark's types, so lint installs the spark extra too)
lint: $(SPARK)
	$(BIN)/ruff check govkit tests benchmarks
	$(BIN)/mypy

## unit: the fast tests only
unit: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not server and not huge"

## bench: the benchmarks (minutes; not part of `make test`)
bench: $(STAMP)
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/scan_bench.py

clean:
	rm -rf $(VENV) govkit-demo .pytest_cache .mypy_cache .ruff_cache
