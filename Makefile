# FlorAI platform. Every target sets up the pinned virtualenv it needs by itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
STACK  ?= dev
STACKS := dev staging prod

DATA   ?= .data
MODELS ?= $(DATA)/models

.PHONY: help venv lock preview prices plan lint format test models serve ui bench manifests diff-manifests up drill

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The pinned kubectl (and every venv tool) first on PATH; Python output unbuffered so long steps
# show their progress as it happens, also through a pipe.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHONUNBUFFERED := 1
SYSTEM_PACKAGES = @$(PYTHON) platform/florai_dev/system_packages.py
NEED_PYTHON = @command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv)" >&2; exit 1; }

$(STAMP): requirements.lock pyproject.toml apps/pyproject.toml apps/ui/pyproject.toml platform/florai_dev/venv.py platform/florai_dev/tools.py
	$(NEED_PYTHON)
	$(SYSTEM_PACKAGES) venv
	@$(PYTHON) platform/florai_dev/venv.py $(VENV)
	@touch $@

venv: $(STAMP) ## create .venv from the hashed requirements.lock (torch CPU build), plus the pinned kubectl

lock: $(STAMP) ## re-resolve the pyproject declarations into the hashed locks (needs the package registries)
	$(PY) -m florai_dev.locks compile

preview: $(STAMP) ## offline preview of STACK (dev|staging|prod); FORMAT=json|markdown; ALLOW_REPLACE=database,...; LIVE=1
	$(PY) -m florai_infra.preview --stack $(STACK) $(if $(LIVE),--live) $(if $(FORMAT),--format $(FORMAT))

prices: $(STAMP) ## refresh platform/upstream/prices/aws-prices.json from the AWS Price List API (network + credentials)
	$(PY) -m florai_infra.cost.refresh

plan: $(STAMP) ## rewrite the committed plan snapshots (platform/plans/<stack>.json)
	$(PY) -m florai_infra.preview --write-plans $(STACKS)

MODEL_SOURCES := $(wildcard apps/florai/models/*.py apps/florai/catalogue/data/*.json)
$(MODELS)/.built: $(STAMP) $(MODEL_SOURCES)
	@echo "building the reference models into $(MODELS) (about 25 s; only when missing or stale)"
	$(PY) -m florai.models.reference --out $(MODELS)
	@touch $@

models: $(MODELS)/.built ## build the reference models (untrained stand-ins) into $(MODELS) when missing or stale

serve: models ## run every route in one process on 127.0.0.1:$${PORT:-8000} on embedded defaults
	FLORAI_MODELS_DIR=$(MODELS) FLORAI_DATA_DIR=$(DATA) $(PY) -m florai

ui: models ## the API (embedded defaults) and the web UI on 127.0.0.1:8501; prints both URLs; Ctrl-C stops both
	$(PY) -m florai_ui.local --models $(MODELS) --data $(DATA)

bench: models ## inference benchmarks: limit vs service vs naive baseline, measured in one run
	$(PY) apps/bench/run.py --models $(MODELS)

manifests: $(STAMP) ## render every environment's manifests (kubectl kustomize) into $(DATA)/manifests
	$(PY) -m florai_gitops.manifests render --out $(DATA)/manifests

diff-manifests: $(STAMP) ## rendered manifest diff per environment between BASE (default origin/main) and the work tree
	$(PY) -m florai_gitops.manifests diff --base $(or $(BASE),origin/main)

up: models ## API + Prometheus (project rules) + Alertmanager + webhook receiver on loopback; Ctrl-C stops all
	$(SYSTEM_PACKAGES) up
	$(PY) -m florai_testkit.live_stack --models $(MODELS)

drill: $(STAMP) ## rehearse the database point-in-time restore for real (full form); prints RPO and RTO
	$(SYSTEM_PACKAGES) drill
	$(PY) -m florai_ops.drill --full

lint: $(STAMP) ## ruff: lint and formatting check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## ruff: fix what can be fixed and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: ## the whole test suite (lint first); installs the Debian packages it needs (root or sudo)
	$(NEED_PYTHON)
	$(SYSTEM_PACKAGES) test
	@$(MAKE) --no-print-directory lint
	$(PY) -m pytest --durations=15
