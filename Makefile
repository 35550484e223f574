# Switchboard — every command a developer or CI needs. The virtual environment is created and kept in sync here,
# so a fresh machine needs only Python 3.11, Node and the package registries.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
BACKEND := backend
VENV := $(BACKEND)/.venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Under CI the suite talks to the real services on loopback (and fails when they are unreachable).
ifeq ($(CI),true)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export REDIS_URL ?= redis://127.0.0.1:6379/0
endif

.PHONY: help install frontend-install test-frontend run test lint fmt e2e fuzz bench services worker beat build-frontend migrate seed clean compose-env certs

help:
	@echo "make run      install, migrate, seed the demo agency and serve http://$(HOST):$(PORT) (embedded defaults)"
	@echo "make test     the whole suite: backend (CI=true: against PostgreSQL and Redis on 127.0.0.1), web app, browser tests"
	@echo "make test-frontend   the web app's typecheck, lint, Vitest and Playwright browser tests only"
	@echo "make lint     ruff check, ruff format --check, mypy, import contracts, makemigrations --check, spectacular --validate, check --deploy"
	@echo "make fmt      ruff format + ruff check --fix"
	@echo "make bench    benchmarks under bench/ (needs PostgreSQL and Redis)"
	@echo "make worker | beat   Celery worker / beat (needs REDIS_URL)"
	@echo "make e2e     tests marked live (real daphne/Redis on loopback)"
	@echo "make fuzz     schemathesis over every operation of /api/schema/ against a served, seeded app"
	@echo "make services   start local PostgreSQL and Redis on 127.0.0.1"
	@echo "make build-frontend | migrate | seed | clean"
	@echo "make compose-env   a .env for docker compose's local profile (http://localhost:8080, fresh secrets)"
	@echo "make certs         a self-signed nginx/certs/{fullchain,privkey}.pem for testing the TLS profile"

# .env in the repository root, when present, is read by the commands that serve or run jobs (shell syntax:
# KEY=value, quote values with spaces). Its values take precedence over variables already exported in the shell.
LOAD_ENV = set -a; [ ! -f $(CURDIR)/.env ] || . $(CURDIR)/.env; set +a;

$(STAMP): $(BACKEND)/pyproject.toml
	@echo "==> [1/2] Python virtual environment in $(VENV)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --upgrade pip
	@echo "==> [2/2] Backend dependencies (the first time takes a few minutes; pip shows each package)"
	@set -o pipefail; $(VENV)/bin/python -m pip install --progress-bar on -e '$(BACKEND)[dev]' \
		| { grep -v '^Requirement already satisfied' || true; }
	@touch $(STAMP)

install: $(STAMP)

# Local commands on the embedded defaults: DEBUG=false would refuse the development keys (config/settings.py).
migrate seed: export DEBUG ?= true
migrate: install
	@echo "==> Database migrations"
	@$(LOAD_ENV) cd $(BACKEND) && $(BIN)/python manage.py migrate --noinput -v 0

seed: migrate
	@$(LOAD_ENV) cd $(BACKEND) && $(BIN)/python manage.py seed_demo

FRONTEND_STAMP := frontend/node_modules/.installed

$(FRONTEND_STAMP): frontend/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20.19+ to build the web app"; exit 1; }
	@echo "==> Web app dependencies (npm ci)"
	@cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $(FRONTEND_STAMP)

frontend-install: $(FRONTEND_STAMP)

build-frontend:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory frontend-install && echo "==> Web app build" \
		&& cd frontend && npm run --silent build -- --logLevel warn; \
	else echo "npm not found: serving without the web app (install Node.js 20.19+ and run make build-frontend)"; fi

run: export DEBUG ?= true
run: seed build-frontend
	@$(LOAD_ENV) cd $(BACKEND) && $(BIN)/python manage.py collectstatic --noinput -v 0
	@echo "Serving on http://$(HOST):$(PORT)  (API docs: /api/docs/  admin: /admin/  WebSocket: /ws/messages/)"
	@$(LOAD_ENV) cd $(BACKEND) && exec $(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: install frontend-install
	cd $(BACKEND) && $(BIN)/python -m tests.preflight
	cd $(BACKEND) && $(BIN)/pytest -q $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-frontend

# The web app: types, lint, Vitest, then the browser tests in Debian's Chromium against a backend they start
# (frontend/e2e/server.mjs: build, fresh SQLite, seed_demo, daphne). Never downloads a browser.
test-frontend: frontend-install
	cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent api:check && npm test --silent
	cd frontend && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm run --silent e2e

# mypy's configuration is [tool.mypy] in backend/pyproject.toml; it runs with DEBUG=true because its Django plugin
# loads config.settings, which refuses the development keys under DEBUG=false.
lint: install
	cd $(BACKEND) && $(BIN)/ruff check . ../bench && $(BIN)/ruff format --check . ../bench
	cd $(BACKEND) && DEBUG=true $(BIN)/mypy
	cd $(BACKEND) && $(BIN)/lint-imports --no-cache
	cd $(BACKEND) && $(BIN)/python manage.py makemigrations --check --dry-run
	cd $(BACKEND) && $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	cd $(BACKEND) && DEBUG=false SECRET_KEY=lint-$$(date +%s)-a-long-random-production-secret-key-value-xyz \
		FIELD_ENCRYPTION_KEY=$$($(BIN)/python -c 'from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())') \
		ALLOWED_HOSTS=inbox.example.com DATABASE_URL=postgres://switchboard@db.invalid:5432/switchboard \
		REDIS_URL=redis://redis.invalid:6379/0 $(BIN)/python manage.py check --deploy --fail-level WARNING

fmt: install
	cd $(BACKEND) && $(BIN)/ruff format . ../bench && $(BIN)/ruff check --fix . ../bench

e2e: install
	cd $(BACKEND) && $(BIN)/pytest -q -m live $(PYTEST_ARGS)

# Serves the app on its own database (CI: PostgreSQL `fuzz` beside the test database, Redis db 9; else SQLite) and
# runs every operation of the schema as a seeded tenant's owner (backend/tests/fuzz.py, docs/security.md).
fuzz: install
	cd $(BACKEND) && $(BIN)/python -m tests.fuzz $(FUZZ_ARGS)

bench: install
	$(BIN)/python bench/ingest.py

services:
	@pg_isready -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 ping || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no

worker: install
	$(LOAD_ENV) cd $(BACKEND) && $(BIN)/celery -A config worker --loglevel=INFO --concurrency=$${CELERY_CONCURRENCY:-4}

beat: install
	$(LOAD_ENV) cd $(BACKEND) && $(BIN)/celery -A config beat --loglevel=INFO

compose-env:
	@$(PYTHON) tools/compose_env.py .env

certs:
	@mkdir -p nginx/certs
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
		-keyout nginx/certs/privkey.pem -out nginx/certs/fullchain.pem

clean:
	rm -rf $(VENV) $(BACKEND)/db.sqlite3 $(BACKEND)/staticfiles
