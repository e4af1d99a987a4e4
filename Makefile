# Neurosymbolic explanations, reproduced.
#   make book                               environment + every chapter (default profile) + HTML
#   make test                               environment + the test suite
#   make test-fast                          the unit tests only (no chapter, browser, subprocess or real data): under a minute
#   make chapter C=ltn_crash PROFILE=paper  one chapter with a profile, then rebuild the HTML
#   make book CHAPTERS="ltn_crash smug"     a book of some chapters; FORCE=1 re-executes up-to-date ones
#   make serve [PORT=8000]                  serve the built book on http://127.0.0.1:8000 for local reading
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= default
# Idle OpenMP threads sleep instead of spinning: the compiled kernels (nesy._C) and torch
# share libgomp and the cores, and spinning threads slowed both 20-500x on a loaded machine.
export OMP_WAIT_POLICY ?= PASSIVE
# Exact torch build: on this project's machines it is taken from the local disk.
TORCH := torch==2.14.1 torchvision==0.29.1
ENV_STAMP := $(VENV)/.nesy-env
NODE_STAMP := node_modules/.nesy-npm

.PHONY: env book test test-fast chapter bench clean serve

CSRC := $(shell find csrc -name '*.cpp' -o -name '*.h' 2>/dev/null)

$(ENV_STAMP): pyproject.toml setup.py $(CSRC)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet --no-build-isolation -e ".[book,dev]"
	# Reference implementation for the rule tests and bench/rules.py only. --no-deps: its
	# metadata pins numpy<2, but its compiled module does not use numpy.
	$(PY) -m pip install --quiet --no-deps dimlpfidex==1.0.1
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

env: $(ENV_STAMP) $(NODE_STAMP)

# CHAPTERS="ltn_crash smug" builds a partial book; FORCE=1 re-executes chapters whose recorded
# run is still up to date (by default they are reused: nesy.book.reuse).
RUN_FLAGS = $(if $(FORCE),--force)
book: env
	$(PY) -m nesy.book all --profile $(PROFILE) $(if $(CHAPTERS),--chapters $(CHAPTERS)) $(RUN_FLAGS)

test: env
	$(PY) -m pytest

test-fast: env
	$(PY) -m pytest -m "not slow and not browser and not integration"

chapter: env
	@test -n "$(C)" || { echo "usage: make chapter C=<chapter> [PROFILE=default|paper]"; exit 2; }
	$(PY) -m nesy.book run $(C) --profile $(PROFILE) $(RUN_FLAGS)
	$(PY) -m nesy.book build

# The built book on 127.0.0.1 only (Ctrl-C stops it); it needs `make book` first, not the venv's
# packages, so any python3 serves it when .venv is missing.
PORT ?= 8000
serve:
	@test -f book/_build/html/index.html || { echo "no built book at book/_build/html: run make book first" >&2; exit 1; }
	@echo "serving book/_build/html on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m http.server $(PORT) --bind 127.0.0.1 --directory book/_build/html

clean:
	rm -rf book/_build book/*.ipynb book/results book/figures book/vendor
