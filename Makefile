# xinyong — make run (install, build the demo city, serve) and make test (lint + suite on SQLite and PostgreSQL).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/xinyong/static/vendor
PYTEST_ARGS ?= -n 2
DEMO_SUBJECTS ?= 2000

.DEFAULT_GOAL := help
.PHONY: help install system-deps run demo test test-sqlite test-postgresql lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install: system-deps $(BIN)/.installed $(VENDOR)/.installed ## venv with Python deps, npm assets (and apt packages as root)

system-deps: ## Debian packages (fonts, poppler, chromium): installed when run as root, else listed
	@scripts/system-deps

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	@touch $@

run: install ## build the demo city into var/xinyong.db and serve http://127.0.0.1:8000
	$(BIN)/xinyong demo --subjects $(DEMO_SUBJECTS)

demo: run

lint: $(BIN)/.installed ## ruff
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations

format: $(BIN)/.installed
	$(BIN)/ruff check --fix src tests benchmarks migrations
	$(BIN)/ruff format src tests benchmarks migrations

test: install lint test-sqlite test-postgresql ## lint, then the whole suite on SQLite and on PostgreSQL

test-sqlite: install
	XINYONG_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgresql: install
	@scripts/ensure-postgres
	XINYONG_TEST_DB=postgresql $(BIN)/pytest $(PYTEST_ARGS)

bench: install ## benchmarks (ours vs the raw baseline in the same run)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean: ## remove the venv, npm modules, vendored assets and var/
	rm -rf $(VENV) node_modules $(VENDOR) var .pytest_cache .ruff_cache
