# Tessera: `make demo` and `make test` are the two set-up commands on a fresh machine.
# The virtualenv is reused while pyproject.toml is unchanged (VENV can point outside the checkout,
# as CI does, so clean clones share one install).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
DEPS_STAMP := $(VENV)/.deps-$(shell sha256sum pyproject.toml | cut -c1-16)
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DAGSTER_HOME ?= $(abspath $(or $(TESSERA_HOME),.tessera))/dagster

.PHONY: install demo test test-fast dev live up down bench notebooks clean

$(DEPS_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing Tessera and its pinned dependencies into $(VENV) (about 3 minutes the first time)"
	@start=$$(date +%s); \
	$(BIN)/pip install --quiet --upgrade pip && \
	$(BIN)/pip install --quiet -e '.[dev]' && \
	rm -f $(VENV)/.deps-* && touch $@ && \
	echo "==> installed in $$(( $$(date +%s) - start ))s"

install: $(DEPS_STAMP)
	@# the checkout itself (editable) even when the venv is shared between clones
	@$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . >/dev/null 2>&1 || $(BIN)/pip install --quiet --no-deps -e .

demo: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/tessera demo

test: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

notebooks: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/tessera notebooks

# The edit-test loop: pure and single-area tests (no dbt builds, CLI subprocesses or notebooks), about 2 minutes.
test-fast: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/python -m pytest tests -m "not slow" -q $(PYTEST_ARGS)

dev: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/tessera up
	$(BIN)/dagster dev

# Live mode: one process streams the source's changes and refreshes every derived store in seconds.
live: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/tessera up
	$(BIN)/tessera live

up: install
	$(BIN)/tessera up

down: install
	$(BIN)/tessera down

bench: install
	$(BIN)/tessera bench ingest
	$(BIN)/tessera bench embed

clean:
	-$(BIN)/tessera down
	rm -rf .tessera
