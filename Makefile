# Every target bootstraps .venv itself: on a fresh machine with Python 3.11,
# `make test` or `make demo` is the very first command.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lab lint bench lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (sensoryprofile)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sensoryprofile report all --data data/sample --out reports --jobs 2

test: lint
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# ruff's linter, and the import contracts of pyproject.toml (the layers of
# ARCHITECTURE.md). The code is formatted by hand to 100 columns, not by
# `ruff format`, so the formatter is not a check here.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# The benchmarks' peers (polars, DuckDB) come with the `bench` extra, installed
# once into the same .venv (a stamp of its own, so `make test` stays lean).
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/scoring.py
	$(BIN)/python benchmarks/goals.py
	$(BIN)/python benchmarks/reports.py
	$(BIN)/python benchmarks/caseload.py

# Rebuild the lock file of exact versions from the current environment.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^sensoryprofile' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
