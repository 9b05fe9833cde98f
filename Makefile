# Every target bootstraps .venv itself: on a fresh machine with Python 3.11,
# `make test` or `make demo` is the very first command.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JupyterLab lives in a venv of its own: its dependencies (jsonschema's format
# checkers) would slow every process that renders a report. Its kernel is
# .venv's Python, so the notebooks run exactly as the reports are rendered.
LAB       := .venv-lab
LAB_STAMP := $(LAB)/.installed

.PHONY: demo test test-fast lab lint bench lock clean i18n browser

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test,redcap,dask]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (sensoryprofile)" >/dev/null
	# the package's bytecode, as pip writes it for every package it installs: an
	# editable install has none, and where PYTHONDONTWRITEBYTECODE is set every
	# command and report kernel would compile its modules again (0.1 to 0.2 s)
	$(BIN)/python -m compileall -q sensoryprofile
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sensoryprofile report all --data data/sample --out reports --jobs 2 --cohort

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

# The browser tests (tests/browser/) drive headless Chromium through Selenium:
# Debian's chromium and chromium-driver (the same version, so the driver always
# fits the browser) and the fonts the reports name. Run as root, this installs
# them with apt-get (CI does, in .ci/run); otherwise it says what to install.
# Without them the browser tests are skipped, and say why.
BROWSER_PACKAGES := chromium chromium-driver fonts-dejavu-core fonts-liberation
BROWSER_FILES    := /usr/bin/chromium /usr/bin/chromedriver \
                    /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
browser:
	@missing=""; for f in $(BROWSER_FILES); do [ -e "$$f" ] || missing="$$missing $$f"; done; \
	if [ -z "$$missing" ]; then \
	  echo "browser: $$(/usr/bin/chromium --version 2>/dev/null), $$(/usr/bin/chromedriver --version | cut -d' ' -f1-2)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "browser: installing $(BROWSER_PACKAGES) (missing:$$missing)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; \
	else \
	  echo "browser: missing$$missing; as root: apt-get install $(BROWSER_PACKAGES)" \
	       "(the browser tests are skipped without them)"; \
	fi

$(LAB_STAMP): $(STAMP) requirements.lock
	test -x $(LAB)/bin/python || $(PYTHON) -m venv $(LAB)
	$(LAB)/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock 'jupyterlab>=4.0'
	$(BIN)/python -m ipykernel install --prefix $(LAB) --name python3 --display-name "Python 3 (sensoryprofile)" >/dev/null
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(LAB)/bin/jupyter lab notebooks/

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
	$(BIN)/python benchmarks/imports.py
	$(BIN)/python benchmarks/distributed.py

# The family report's gettext catalogs (docs/family-report.md): extract the
# messages from the code into the template, merge them into every language's
# .po file, then check that each compiles (into a temporary folder: no .mo
# file is kept; the package compiles the .po files in memory).
LOCALE := sensoryprofile/reports/locale
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
BABEL_EXTRACT := -F babel.cfg -k N_ -c TRANSLATORS: --add-location=file --sort-by-file \
	--no-wrap --project sensoryprofile --version $(VERSION) \
	--copyright-holder "sensoryprofile contributors (CC0)"

i18n: $(STAMP)
	$(BIN)/pybabel extract $(BABEL_EXTRACT) -o $(LOCALE)/sensoryprofile.pot .
	$(BIN)/pybabel update -D sensoryprofile -i $(LOCALE)/sensoryprofile.pot -d $(LOCALE) --no-wrap
	tmp=$$(mktemp -d) && for po in $(LOCALE)/*/LC_MESSAGES/sensoryprofile.po; do \
		$(BIN)/pybabel compile --statistics -D sensoryprofile -i "$$po" -o "$$tmp/check.mo" \
		|| { rm -rf "$$tmp"; exit 1; }; done; rm -rf "$$tmp"

# Rebuild the lock file of exact versions from both environments (.venv with
# every extra, and .venv-lab).
lock: $(STAMP) $(LAB_STAMP)
	{ $(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check; \
	  $(LAB)/bin/python -m pip freeze --disable-pip-version-check; } \
	  | grep -v '^sensoryprofile' | sort -u -f > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) $(LAB) .pytest_cache .ruff_cache .hypothesis
