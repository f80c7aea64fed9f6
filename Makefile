# courtav: `make run` starts the server on the embedded default; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.testenv: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.runtime

# Browser libraries (hls.js) come from the npm registry, never from a CDN.
node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

run: $(VENV)/.runtime node_modules/.installed
	$(BIN)/courtav serve

lint: $(VENV)/.testenv
	$(BIN)/ruff check .

typecheck: $(VENV)/.testenv
	$(BIN)/mypy

pytest: $(VENV)/.testenv node_modules/.installed
	$(BIN)/pytest -q -rs

test: lint typecheck pytest

bench: $(VENV)/.testenv
	$(BIN)/python benchmarks/status_api.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
