# Cloud Architecture Notepad. On a fresh machine: `make book` builds the site,
# `make test` runs every test. Both create .venv and install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
JOBS ?= $(shell nproc)

.PHONY: help venv book run test lint format bench lab clean system-deps hooks

help:
	@echo "make book    execute every notebook (Papermill, cached) and build the site in _build/html"
	@echo "make test    lint and run the whole test suite (installs everything it needs)"
	@echo "make bench   pipeline, availability, queueing and sweep benchmarks"
	@echo "make lab     JupyterLab with the project's environment"
	@echo "make clean   remove _build (executed notebooks, cache, site)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

# Debian packages the browser tests need (headless Chromium); installed once
# (as root, or through sudo for a developer who is not).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian) for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

book: $(STAMP)
	$(BIN)/cloudpad build --jobs $(JOBS)

run: $(STAMP)
	$(BIN)/cloudpad run --jobs $(JOBS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) system-deps lint
	$(BIN)/pytest -n $(JOBS) --dist loadfile --durations=15

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_availability.py
	$(BIN)/python benchmarks/bench_queueing.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_tracking.py

$(VENV)/.lab: $(STAMP) requirements-lab.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-lab.txt
	touch $@

lab: $(VENV)/.lab
	$(BIN)/jupyter lab notebooks/

hooks: $(STAMP)
	$(BIN)/nbstripout --install --attributes .gitattributes

clean:
	rm -rf _build
