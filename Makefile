# `make` alone lists the targets. Every target that needs Python bootstraps .venv first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# The stamp is newer than requirements.txt once the lock is installed; an older stamp re-syncs.
VENV_STAMP := $(VENV)/.installed
UV_VERSION := $(shell sed -n 's/^uv==//p' requirements.txt)

# The checkout's own package comes first on the path (also for the notebook kernels, which
# inherit it), so a second checkout never renders with another checkout's code.
export PYTHONPATH := $(CURDIR)/src

# Every table the schema lists (a missing one must fail loudly, not be skipped) and the rest.
TABLES := $(sort $(addprefix data/,$(shell sed -n 's/.*"path": *"\([^"/]*\.csv\)".*/\1/p' data/datapackage.json)))
DATA := data/datapackage.json data/README.md $(sort $(TABLES) $(wildcard data/*.csv)) $(wildcard scenarios/*.yaml)
SRC := $(shell find src -type f \( -name '*.py' -o -name '*.j2' -o -name '*.json' -o -name '*.css' \) 2>/dev/null)
# Build output goes to build/ and reports/ unless HAITI_MSS_BUILD_DIR / HAITI_MSS_REPORTS_DIR
# point elsewhere (the drills use a temporary folder, never the checkout).
BUILD := $(or $(HAITI_MSS_BUILD_DIR),build)
REPORTS := $(or $(HAITI_MSS_REPORTS_DIR),reports)
VALIDATED := $(BUILD)/validated.stamp
# `make report` renders on every core; `make report JOBS=1` renders one report at a time.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: axe help report validate test test-quick lint lab lock clean bench

help: ## Show this list of targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV_STAMP): requirements.txt pyproject.toml
	@echo "==> Setting up $(VENV) from requirements.txt (first run only; about 20 s)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(UV) pip sync --quiet --python $(PY) --compile-bytecode requirements.txt
	@$(UV) pip install --quiet --python $(PY) --no-deps --editable .
	@$(PY) -m haiti_mss kernel 2>/dev/null
	@if git rev-parse --git-dir >/dev/null 2>&1; then $(VENV)/bin/nbstripout --install >/dev/null 2>&1 || true; fi
	@touch $@

$(VALIDATED): $(DATA) $(SRC) $(VENV_STAMP)
	@echo "==> Validating data/"
	@$(PY) -m haiti_mss validate
	@mkdir -p $(@D) && touch $@

# A table the schema lists but the checkout lacks: let the validator say so, with the rest.
$(TABLES):
	@$(PY) -m haiti_mss validate

validate: $(VALIDATED) ## Check every table in data/ against its schema and the cross-table rules

# The rendered reports depend on the notebooks, the parameter files, the data and scenarios,
# and the package. When any of them is newer than reports/index.html, `render-all` renders
# exactly the reports that are out of date (it checks each one against its own inputs), in
# worker processes that each load papermill and nbconvert once, then the summaries and the
# index. A run with nothing changed stops at make's timestamp check.
$(REPORTS)/index.html: $(wildcard notebooks/[0-9]*.ipynb) $(wildcard params/*.yaml) $(DATA) $(SRC) requirements.txt $(VALIDATED)
	@$(PY) -m haiti_mss render-all --jobs $(JOBS)

# Reports are written atomically by the renderer; make must never delete one it was updating
# when interrupted (the old or the new complete file stays).
.PRECIOUS: $(REPORTS)/index.html

report: ## Validate the data, render every report variant, write reports/index.html
	@mkdir -p $(BUILD)
	@flock -n -E 75 $(BUILD)/report.lock $(MAKE) -s --no-print-directory $(REPORTS)/index.html; rc=$$?; \
	  if [ $$rc -eq 75 ]; then echo "make report: another make report is running in this" \
	    "checkout ($(BUILD)/report.lock is held); nothing was changed. Try again when it ends." >&2; fi; \
	  exit $$rc
	@echo "Reports: $(abspath $(REPORTS))/index.html"

test: $(VENV_STAMP) ## Run the whole test suite (renders, drills and browser checks included)
	@$(PY) -m pytest

test-quick: $(VENV_STAMP) ## Everyday tests: unit, schema, rules, model, as-of (no full renders, no drills)
	@$(PY) -m pytest -m "not slow and not drill and not browser"

lint: $(VENV_STAMP) ## Check style with ruff (code and notebooks)
	@$(VENV)/bin/ruff check src tests benchmarks notebooks

AXE_VERSION := 4.10.2
axe: ## Install axe-core (pinned) from npm for the accessibility check in `make test`
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (apt-get install npm)"; exit 1; }
	@npm install --silent --no-audit --no-fund --prefix build/node axe-core@$(AXE_VERSION)
	@echo "axe-core $(AXE_VERSION) in build/node"

lab: $(VENV_STAMP) ## Open JupyterLab on notebooks/ with the project kernel
	@$(VENV)/bin/jupyter lab --notebook-dir=notebooks --allow-root

bench: $(VENV_STAMP) ## Measure model throughput and report rendering (writes reports/bench/bench.json)
	@$(PY) benchmarks/bench.py

lock: ## Recompile requirements.txt (the full lock) from requirements.in
	@command -v uv >/dev/null || $(PYTHON) -m pip install --quiet uv
	@uv pip compile --quiet --python $(PYTHON) --override overrides.txt requirements.in -o requirements.txt
	@echo "requirements.txt: $$(grep -c '==' requirements.txt) pinned packages"

clean: ## Remove build output (reports/, build/); never touches data/
	@rm -rf build reports/*/ reports/index.html
	@echo "Removed build/ and rendered reports"
