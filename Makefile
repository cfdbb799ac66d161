# Redis with Python: `make lab` to learn, `make test` to check everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8888
PYTEST_WORKERS ?= auto
STAMP := $(VENV)/.installed

.PHONY: help install lab test test-fast lint check doctor bench strip progress clean

help:
	@echo "make lab      set up (first time ~10 s) and open the course in JupyterLab (PORT=$(PORT))"
	@echo "make test     lint, type checks and every test, on fakeredis and on a real redis-server"
	@echo "make doctor   what the course found: Python, packages, Redis"
	@echo "make bench    timings and memory, written to bench/REPORT.md and bench/report.png"
	@echo "make strip    store notebooks without outputs (run before committing a notebook)"

# uv installs the stack in seconds where pip takes a minute; pip is the fallback when uv cannot be had.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if command -v uv >/dev/null 2>&1; then UV=uv; \
	 elif $(BIN)/python -m pip install -q uv >/dev/null 2>&1; then UV=$(BIN)/uv; \
	 else UV=; fi; \
	 if [ -n "$$UV" ]; then $$UV pip install -q --python $(BIN)/python -e ".[test]"; \
	 else $(BIN)/python -m pip install -q -e ".[test]"; fi
	@touch $(STAMP)
	@echo "Installed the course into $(VENV)."

install: $(STAMP)

lab: install
	@echo "Opening JupyterLab at http://localhost:$(PORT)/lab/tree/00-welcome.ipynb (the full URL with its token follows)."
	@$(BIN)/python -m course_helpers doctor | tail -n 3 || true
	@cd notebooks && ../$(BIN)/jupyter lab 00-welcome.ipynb --port=$(PORT) $(if $(CI),--no-browser,) \
	  $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

doctor: install
	@$(BIN)/python -m course_helpers doctor

progress: install
	@$(BIN)/python -m course_helpers progress

lint: install
	$(BIN)/ruff check course_helpers tests scripts notebooks
	$(BIN)/ruff format --check course_helpers tests scripts notebooks
	$(BIN)/python scripts/strip_notebooks.py --check
	$(BIN)/mypy

# lint + types + every test: the single command to run before pushing
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

check: test

test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

bench: install
	$(BIN)/python scripts/bench.py

strip: install
	$(BIN)/ruff format -q notebooks
	$(BIN)/python scripts/strip_notebooks.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build *.egg-info
