# Two commands for a fresh machine:
#   make run    set up, then run the main job
#   make test   set up, then run the test suite (what CI runs)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Mesa 3.5 needs Python >= 3.12: take python3.12 from PATH or from pyenv
PYTHON312 := $(shell command -v python3.12 2>/dev/null || ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | tail -1)

.PHONY: setup run test browser lint bench screenshot classroom

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found (install it or put python3.12 on PATH)"; exit 1; }
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/lifecircle experiment experiments/policy_comparison.toml
	$(VENV)/bin/lifecircle compare results/policy_comparison

# the browser tests need Debian's chromium and solara's browser assets (from the npm registry)
browser: setup
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	$(PY) -m viz.assets

test: browser
	$(VENV)/bin/ruff check model experiments validation lifecircle mapdata viz tests benchmarks
	$(PY) -m pytest -q -p no:cacheprovider

bench: setup
	$(PY) benchmarks/bench_choice.py

# the README's picture of the browser view (tests never write it)
screenshot: browser
	$(PY) -m viz.screenshot docs/viz-screenshot.png

# server CPU and memory with 1, 10 and 30 browser sessions (minutes; see the README)
classroom: browser
	$(PY) benchmarks/bench_classroom.py
