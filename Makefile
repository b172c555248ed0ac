# MediTrack — the two commands a newcomer needs: `make run` and `make test`. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 8000
WS_PORT ?= $(shell echo $$(($(PORT) + 1)))

# Settings used by checks that run outside pytest (pytest has its own defaults in pyproject.toml).
CHECK_ENV := SECRET_KEY=$${SECRET_KEY:-check-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz} DEBUG=0 SECURE_SSL_REDIRECT=0
# A production-like environment for `check --deploy`.
DEPLOY_ENV := DEBUG=0 SECRET_KEY=deploy-check-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	ALLOWED_HOSTS=meditrack.example.com SECURE_SSL_REDIRECT=1

# Local development: DEBUG on, console email, CORS for a Vite dev server. Values in .env win.
DEV_ENV := DEBUG=$${DEBUG:-1} PORT=$(PORT) PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)} \
	EMAIL_BACKEND=$${EMAIL_BACKEND:-core.mail.DevMailboxBackend} \
	REMINDER_SWEEP_SECONDS=$${REMINDER_SWEEP_SECONDS:-60} \
	CORS_ORIGINS=$${CORS_ORIGINS:-http://localhost:5173,http://127.0.0.1:5173} \
	WEBSOCKET_URL=$${WEBSOCKET_URL:-ws://127.0.0.1:$(WS_PORT)/ws/events/}

ifneq (,$(wildcard .env))
include .env
export
endif

.PHONY: help install run web worker beat migrate superuser test lint format check schema clean bench bench-api bench-reminders bench-export bench-profile tour

# Variables a target's help text names: `make help` shows their values, not their names.
HELP_VARS = PORT WS_PORT BENCH_REMINDERS_DB BENCH_EXPORT_DB BENCH_DB

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sed $(foreach v,$(HELP_VARS),-e 's|\$$($(v))|$($(v))|g') \
		| awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the pinned dependencies

migrate: $(STAMP) ## Apply database migrations
	$(DEV_ENV) $(PY) manage.py migrate --noinput

# The processes `make run` starts, one "name=command" each (scripts/run.sh starts and stops them).
RUN_PROCESSES := \
	"worker=$(VENV)/bin/celery -A config worker --loglevel=info --pool=threads --concurrency=4" \
	"beat=$(VENV)/bin/celery -A config beat --loglevel=info" \
	"ws=$(VENV)/bin/daphne -b 127.0.0.1 -p $(WS_PORT) config.asgi:application" \
	"web=$(PY) manage.py runserver 127.0.0.1:$(PORT)"

run: migrate ## Start web + ws + Celery worker + beat on the embedded default (http://127.0.0.1:$(PORT)/api/docs/)
	@echo "Starting MediTrack (web, ws, worker, beat)…"
	@$(DEV_ENV) READY_PORT=$(PORT) \
		READY_MESSAGE="MediTrack on http://127.0.0.1:$(PORT)/api/docs/, live events on ws://127.0.0.1:$(WS_PORT)/ws/events/  (Ctrl-C stops them all)" \
		scripts/run.sh $(RUN_PROCESSES)

tour: $(STAMP) ## Run the README's API tour against `make run` (start it first; BASE_URL=… for another server)
	$(DEV_ENV) scripts/tour.sh $${BASE_URL:-http://127.0.0.1:$(PORT)}

superuser: $(STAMP) ## Create an admin account for /admin/
	$(DEV_ENV) $(PY) manage.py createsuperuser

lint: $(STAMP) ## Ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: $(STAMP) ## Django checks, migrations up to date, deploy check, OpenAPI schema validation
	$(CHECK_ENV) $(PY) manage.py check --fail-level WARNING
	$(CHECK_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(CHECK_ENV) $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

schema: $(STAMP) ## Write the OpenAPI schema to schema.yml
	$(CHECK_ENV) $(PY) manage.py spectacular --validate --fail-on-warn --file schema.yml

test: lint check ## The whole suite, plus lint and Django's checks
	$(PY) -m pytest

BENCH_REMINDERS_DB ?= meditrack_bench_reminders
bench-reminders: $(STAMP) ## Benchmark the reminder sweep on local PostgreSQL (100k medications; own DB $(BENCH_REMINDERS_DB))
	@createdb -h 127.0.0.1 -U postgres $(BENCH_REMINDERS_DB) 2>/dev/null || true
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_REMINDERS_DB) LOG_LEVEL=WARNING $(CHECK_ENV) $(PY) bench/bench_reminders.py

BENCH_EXPORT_DB ?= meditrack_bench_export
bench-export: $(STAMP) ## Benchmark the exports (JSON, CSV, FHIR) of a patient with 5 years of data (< 5 s each; own DB $(BENCH_EXPORT_DB))
	@createdb -h 127.0.0.1 -U postgres $(BENCH_EXPORT_DB) 2>/dev/null || true
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_EXPORT_DB) REDIS_URL= LOG_LEVEL=WARNING ALLOWED_HOSTS=testserver \
		$(CHECK_ENV) $(PY) bench/bench_export.py

# Benchmark: its own PostgreSQL database and Redis DB number, production settings (DEBUG off, no Gemini).
BENCH_PGHOST ?= 127.0.0.1
BENCH_PGPORT ?= 5432
BENCH_PGUSER ?= postgres
BENCH_DB ?= meditrack_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/4
BENCH_ARGS ?=
BENCH_ENV := BENCH_PGHOST=$(BENCH_PGHOST) BENCH_PGPORT=$(BENCH_PGPORT) BENCH_PGUSER=$(BENCH_PGUSER) \
	BENCH_DB=$(BENCH_DB) BENCH_REDIS_URL=$(BENCH_REDIS_URL) \
	DATABASE_URL=postgres://$(BENCH_PGUSER)@$(BENCH_PGHOST):$(BENCH_PGPORT)/$(BENCH_DB) REDIS_URL=$(BENCH_REDIS_URL) \
	DEBUG=0 SECRET_KEY=bench-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	ALLOWED_HOSTS=127.0.0.1,localhost GEMINI_API_KEY= LOG_LEVEL=WARNING MEDITRACK_VAR_DIR=var/bench \
	EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend

bench: bench-reminders bench-api bench-export ## All benchmarks: the reminder sweep, the read endpoints, the exports; fails when a target is missed

bench-api: $(STAMP) ## Load-test the read endpoints (gunicorn + PostgreSQL + Redis, wrk)
	@$(BENCH_ENV) bench/api_prepare.sh
	$(BENCH_ENV) $(PY) -m bench.api $(BENCH_ARGS)

bench-profile: $(STAMP) ## Where the time of one uncached request goes, per endpoint (on the bench database; BENCH_ARGS=--seed first)
	$(BENCH_ENV) READ_CACHE_SECONDS=0 $(PY) -m bench.profile $(BENCH_ARGS)

clean: ## Remove local state (SQLite database, broker queue, beat schedule); keeps .venv
	rm -rf var staticfiles
