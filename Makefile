# Cloud Architecture Notepad. On a fresh machine: `make book` builds the site,
# `make test` runs every test. Both create .venv and install what they need from
# the locks (pinned with hashes, compiled from pyproject.toml by `make lock`):
#   requirements.txt      runtime: what a kernel and the site build need (`make book`)
#   requirements-dev.txt  runtime + the `dev` extra: tests, lint, browser (`make test`)
#   requirements-dask.txt runtime + the `dask` extra: `--executor dask` (`make test`)
#   requirements-lab.txt  runtime + the `lab` extra: JupyterLab (`make lab`)
# A stamp named after the hash of a lock reinstalls it when the lock changes.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JOBS ?= $(shell nproc)
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
digest = $(shell cat $(1) 2>/dev/null | sha256sum | cut -c1-12)
RUNTIME := $(VENV)/.installed-runtime-$(call digest,requirements.txt pyproject.toml)
DEV := $(VENV)/.installed-dev-$(call digest,requirements-dev.txt requirements-dask.txt)
LAB := $(VENV)/.installed-lab-$(call digest,requirements-lab.txt)
# The one command every lock is compiled with (each lock's header repeats it).
COMPILE := pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes

.PHONY: help check-python venv dev book run test lint format bench lab lock linkcheck \
	clean system-deps hooks

help: ## list the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{ printf "make %-12s %s\n", $$1, $$2 }'

# Checked before a virtual environment is made: Python 3.11+ with `venv` (and its
# ensurepip, which Debian ships separately as python3-venv).
check-python: ## check that $(PYTHON) is Python 3.11+ with venv (before .venv exists)
	@if [ ! -x $(BIN)/python ]; then \
	  command -v $(PYTHON) >/dev/null 2>&1 || { \
	    echo "make: '$(PYTHON)' was not found: install Python 3.11 or newer, or run" \
	      "make PYTHON=/path/to/python3.11 $(MAKECMDGOALS)"; exit 1; }; \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	    echo "make: Python 3.11 or newer is needed, and '$(PYTHON)' is Python" \
	      "$$($(PYTHON) -c 'import platform; print(platform.python_version())')." \
	      "Install 3.11+, or run make PYTHON=/path/to/python3.11 $(MAKECMDGOALS)"; exit 1; }; \
	  $(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	    echo "make: '$(PYTHON) -m venv' is not available: install it (Debian or Ubuntu:" \
	      "apt-get install python3-venv), or run make PYTHON=/path/to/python3.11 $(MAKECMDGOALS)"; \
	    exit 1; }; \
	fi

$(RUNTIME): requirements.txt pyproject.toml | check-python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements.txt
	$(PIP) --no-deps -e .
	rm -f $(VENV)/.installed-runtime-*
	touch $@

$(DEV): $(RUNTIME) requirements-dev.txt requirements-dask.txt
	$(PIP) --require-hashes -r requirements-dev.txt -r requirements-dask.txt
	rm -f $(VENV)/.installed-dev-*
	touch $@

$(LAB): $(RUNTIME) requirements-lab.txt
	$(PIP) --require-hashes -r requirements-lab.txt
	rm -f $(VENV)/.installed-lab-*
	touch $@

venv: $(RUNTIME) ## create .venv with the runtime lock and cloudpad (editable)

dev: $(DEV) ## add the dev and dask locks to .venv (tests, lint, browser, Dask)

# Debian packages the browser tests need (headless Chromium); installed once
# (as root, or through sudo for a developer who is not).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps: ## install Debian's chromium for the browser tests (apt-get, as root or sudo)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian) for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

book: $(RUNTIME) ## execute every notebook (Papermill, cached) and build the site in _build/html
	$(BIN)/cloudpad build --jobs $(JOBS)

run: $(RUNTIME) ## execute every notebook through the cache, without rendering the site
	$(BIN)/cloudpad run --jobs $(JOBS)

lint: $(DEV) ## ruff check and ruff format --check (notebooks included)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV) ## format and fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(DEV) system-deps lint ## lint and run the whole test suite (installs everything it needs)
	$(BIN)/pytest -n $(JOBS) --dist loadfile --durations=15

bench: $(DEV) ## pipeline, tracking, availability, queueing and sweep benchmarks
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_availability.py
	$(BIN)/python benchmarks/bench_queueing.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_tracking.py

lab: $(LAB) ## JupyterLab with the project's environment, opened on notebooks/
	$(BIN)/jupyter lab notebooks/

# Recompile every lock from pyproject.toml, keeping the pins that still fit (pass
# LOCK_ARGS=--upgrade to move everything to the newest versions). The runtime lock
# constrains the others, so a package shared by two locks has one version.
lock: $(DEV) ## recompile the four locks from pyproject.toml (uv, with hashes)
	$(BIN)/uv $(COMPILE) $(LOCK_ARGS) -o requirements.txt
	$(BIN)/uv $(COMPILE) $(LOCK_ARGS) --extra dev -c requirements.txt -o requirements-dev.txt
	$(BIN)/uv $(COMPILE) $(LOCK_ARGS) --extra dask -c requirements-dev.txt \
	  -o requirements-dask.txt
	$(BIN)/uv $(COMPILE) $(LOCK_ARGS) --extra lab -c requirements-dev.txt \
	  -c requirements-dask.txt -o requirements-lab.txt

# The external links of the built book (Sphinx's linkcheck builder over the book
# `make book` staged in _build/src); the report goes to _build/linkcheck/.
linkcheck: $(RUNTIME) ## check the built book's external links (needs `make book` first)
	$(BIN)/python -m cloudpad.site.linkcheck

hooks: $(DEV) ## install nbstripout as a git filter (notebooks committed without outputs)
	$(BIN)/nbstripout --install --attributes .gitattributes

clean: ## remove _build (executed notebooks, cache, site)
	rm -rf _build
