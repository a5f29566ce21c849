# `make run` sets up .venv and runs the demo on the bundled sample site;
# `make test` sets up .venv and runs the whole test suite.
# Dependencies: ranges in pyproject.toml, exact hashed versions in requirements.lock (`make lock`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check
# Extra pip-compile options for `make lock`, e.g. LOCK_ARGS=--upgrade or LOCK_ARGS="--upgrade-package Scrapy".
LOCK_ARGS ?=

.PHONY: setup lock run test test-fast bench lint typecheck screenshots clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "collegesearch needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)

# The lock holds the whole tree, transitive dependencies and the build backend (setuptools) included,
# each with its hashes; the project itself then installs without dependencies and without build
# isolation, so that step needs no network. `pip check` catches a lock that lags pyproject.toml.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@$(PIP) check >/dev/null || { $(PIP) check; echo "requirements.lock does not satisfy pyproject.toml: run 'make lock'" >&2; exit 1; }
	@touch $(STAMP)

setup: $(STAMP)

# Regenerate requirements.lock from pyproject.toml (runtime dependencies, the dev extra, the build
# backend). Versions already in the lock are kept unless LOCK_ARGS asks for upgrades. Needs the
# package index that pip is configured with; writes no index address into the lock. Needs only
# pip-tools in .venv, so it works while the lock lags pyproject.toml (when `make setup` would stop).
lock: | $(BIN)/python
	@test -x $(BIN)/pip-compile || $(PIP) install --quiet --require-hashes -r requirements.lock
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --extra dev --all-build-deps \
		--generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
		--output-file requirements.lock $(LOCK_ARGS) pyproject.toml

run: setup
	$(BIN)/collegesearch demo

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow and not browser"

bench: setup
	$(BIN)/python -m bench

# The README's pictures of Compare and Follow (docs/*.png), over the browser tests' hand-made records; needs chromium.
screenshots: setup
	$(BIN)/python -m tests.browser.screenshots

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy collegesearch model ops crawler indexer webapp catalog

clean:
	rm -rf $(VENV) build dist *.egg-info
