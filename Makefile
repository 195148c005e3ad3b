# Two commands on a fresh machine: `make run` (the product, locally) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/common

.PHONY: install run test lint invoke bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install  ## the local stack: moto + API Gateway emulator + real handlers on http://127.0.0.1:$(PORT)
	@exec $(BIN)/python -m narraforge.local serve --port $(PORT)

test: install  ## the whole suite: unit, integration (moto), pipeline (ASL under moto), e2e (HTTP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: install  ## ruff and cfn-lint
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

invoke: install  ## make invoke FN=auth EVENT=events/auth/register.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=<file>"; exit 2; }
	$(BIN)/python -m narraforge.local invoke $(FN) $(EVENT)

bench: install  ## benchmarks (see bench/README.md for what each measures and the latest figures)
	$(BIN)/python bench/pipeline_walltime.py
	$(BIN)/python bench/token_economy.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/time_to_novel.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/coldstart.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .local .aws-sam
