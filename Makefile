# The commands a developer runs are the commands CI runs (.ci/run calls `make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every dependency (runtime, test and postgres extras) pinned with hashes by pip-tools;
# `make lock` refreshes it from pyproject.toml. The Dockerfile installs from it too.
LOCK := requirements.lock
TOOLS := .venv-tools
# e.g. `make lock LOCK_ARGS=--upgrade` (everything) or `LOCK_ARGS='--upgrade-package httpx'`
LOCK_ARGS ?=

.PHONY: demo test lint install lock clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Run the main job on the embedded default (SQLite, the in-process mock).
demo: $(STAMP)
	$(BIN)/stafett demo

## Run the test suite.
test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict adapter

## Re-resolve requirements.lock from pyproject.toml (after changing a dependency).
lock:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet pip-tools
	$(TOOLS)/bin/pip-compile --quiet --extra test --extra postgres --generate-hashes \
	  --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
	  $(LOCK_ARGS) --output-file $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
