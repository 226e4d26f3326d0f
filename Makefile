# guanxi — everyday tasks. A fresh machine needs only python3.11 and GNU make: uv is used
# from PATH, or installed into .tools/ with pip the first time. See docs/development.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.ONESHELL:

PYTHON ?= python3.11
UV_ON_PATH := $(shell command -v uv 2>/dev/null)
ifeq ($(UV_ON_PATH),)
UV := .tools/bin/uv
UV_BOOTSTRAP := $(UV)
else
UV := $(UV_ON_PATH)
UV_BOOTSTRAP :=
endif
# uv must use the machine's Python 3.11, never download one.
export UV_PYTHON ?= $(PYTHON)
export UV_PYTHON_DOWNLOADS ?= never

VENV := .venv
GUANXI := $(VENV)/bin/guanxi
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
RUFF := $(VENV)/bin/ruff

# pytest-xdist processes per run (0 = no xdist).
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
# The PostgreSQL pass of `make test`; skipped when nothing answers there (fails under CI).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/guanxi
# `make bench` measures on its own database so the demo data stays as it is.
BENCH_DATABASE_URL ?= sqlite:///$(CURDIR)/var/bench.sqlite3
BENCH_PG_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/guanxi_bench
BENCH_ARGS ?=

.PHONY: help install migrate messages run worker test lint check-migrations test-sqlite \
	test-postgres check-deploy bench bench-postgres

help:
	@echo "make install      install dependencies into .venv (uv sync --frozen)"
	@echo "make run          install, migrate, demo data, worker + server on http://127.0.0.1:8000"
	@echo "make test         lint, migrations check, pytest on SQLite and PostgreSQL, deploy check"
	@echo "make lint         ruff check + ruff format --check"
	@echo "make bench        time list pages at 1,000 and 10,000 rows (SQLite; bench-postgres too)"
	@echo "make migrate      apply migrations (creates the PostgreSQL database if DATABASE_URL names one)"
	@echo "make messages     compile translation catalogs"

# --- setup -------------------------------------------------------------------------------

.tools/bin/uv:
	@echo "uv is not on PATH; installing it into .tools/"
	$(PYTHON) -m venv .tools || { echo "error: '$(PYTHON) -m venv' failed (on Debian: apt-get install python3.11-venv)" >&2; exit 1; }
	.tools/bin/pip install --quiet --disable-pip-version-check uv

install: $(UV_BOOTSTRAP)
	$(UV) sync --frozen --compile-bytecode --quiet

migrate: install
	if [[ "$${DATABASE_URL:-}" == postgres* ]]; then $(PY) scripts/pg_test_db.py ensure; fi
	$(GUANXI) migrate --noinput
	$(GUANXI) createcachetable

messages: install
	@if $(GUANXI) help compilemessages_py >/dev/null 2>&1; then
		$(GUANXI) compilemessages_py
	else
		echo "guanxi compilemessages_py is not available yet; translations stay uncompiled."
	fi

# --- running -----------------------------------------------------------------------------

run: migrate messages
	@$(GUANXI) seed --once
	echo "Starting the worker and the server; Ctrl-C stops both."
	$(GUANXI) worker &
	worker=$$!
	trap 'kill $$worker 2>/dev/null || true; wait $$worker 2>/dev/null || true' EXIT INT TERM
	$(GUANXI) runserver 127.0.0.1:8000

# --- checks ------------------------------------------------------------------------------

# Runs a pytest command; exit code 5 (nothing collected) fails with a message of its own.
define run_pytest
	rc=0; $(1) || rc=$$?
	if [[ $$rc == 5 ]]; then echo "error: pytest collected no tests" >&2; fi
	exit $$rc
endef

XDIST = $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS),)

test: install
	@echo "==> ruff"
	$(MAKE) --no-print-directory lint
	@echo "==> makemigrations --check"
	$(MAKE) --no-print-directory check-migrations
	@echo "==> compile translations (a clean clone has no .mo files)"
	$(MAKE) --no-print-directory messages
	@echo "==> pytest on SQLite (browser tests included)"
	$(MAKE) --no-print-directory test-sqlite
	@echo "==> pytest on PostgreSQL"
	$(MAKE) --no-print-directory test-postgres
	@echo "==> check --deploy (production settings)"
	$(MAKE) --no-print-directory check-deploy
	@echo "==> make test: all passed"

lint: install
	$(RUFF) check .
	$(RUFF) format --check .

check-migrations: install
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings.test \
		$(GUANXI) makemigrations --check --dry-run

test-sqlite: install
	$(call run_pytest,env -u DATABASE_URL $(PYTEST) $(XDIST) $(PYTEST_ARGS))

# The test databases are created here with LC_COLLATE 'C' / LC_CTYPE 'C.UTF-8' (Django
# cannot set a locale), and --reuse-db makes pytest-django migrate them instead.
test-postgres: install
	if ! $(PY) scripts/pg_test_db.py --url "$(TEST_DATABASE_URL)" check; then
		if [[ -n "$${CI:-}" ]]; then echo "error: CI is set and PostgreSQL is not reachable" >&2; exit 1; fi
		echo "PostgreSQL is not reachable: SKIPPING the PostgreSQL pass."
		exit 0
	fi
	$(PY) scripts/pg_test_db.py --url "$(TEST_DATABASE_URL)" test --workers $(PYTEST_WORKERS)
	$(call run_pytest,DATABASE_URL="$(TEST_DATABASE_URL)" $(PYTEST) $(XDIST) --reuse-db -m "not e2e" $(PYTEST_ARGS))

check-deploy: install
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings.prod \
		SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		ALLOWED_HOSTS=guanxi.example.com \
		$(GUANXI) check --deploy --fail-level WARNING

# --- benchmarks --------------------------------------------------------------------------

bench: install
	export DATABASE_URL="$(BENCH_DATABASE_URL)"
	if [[ "$$DATABASE_URL" == postgres* ]]; then $(PY) scripts/pg_test_db.py ensure; fi
	$(GUANXI) migrate --noinput -v 0
	$(GUANXI) createcachetable
	$(GUANXI) bench $(BENCH_ARGS)

bench-postgres:
	$(MAKE) --no-print-directory bench BENCH_DATABASE_URL="$(BENCH_PG_DATABASE_URL)"
