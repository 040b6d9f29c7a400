# briefwatch — the two set-up commands of the README:
#   make demo   creates .venv, installs briefwatch, ingests the bundled example pages (v1, then
#               an edited v2) through the Prefect ingest flow into a SQLite store, prints the report
#   make test   creates .venv, installs briefwatch with its test tools, runs lint, types and tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: demo test install install-dev lint typecheck pytest eval bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,eval]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/briefwatch demo

lint: install
	$(BIN)/ruff check briefwatch parsers store flows tests bench eval deploy reliability
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

test: lint typecheck pytest

eval: install
	$(BIN)/python -m eval.run_all

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) briefwatch-demo .pytest_cache .mypy_cache .ruff_cache
