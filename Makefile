# The two quick-start commands are `make run` and `make test`; both set up what they need.
# The interpreter of the virtualenv: the system's Python when it is 3.11+ with venv, else the first
# python3 on PATH. A distribution's build (Debian, Ubuntu, Fedora; also the official Docker images)
# is optimised by profile (PGO) and at link time (LTO); a plain source build, such as pyenv's
# default, spent 10 % more CPU on an order (bench/results/2026-12-07-issue-22-interpreter.md).
# `make PYTHON=...` chooses another; an existing .venv keeps its own until `make clean`.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
	>/dev/null 2>&1 && echo $(SYSTEM_PYTHON) || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
TEST_WORKERS ?= 2   # pytest-xdist processes, each with its own test database

# Python caches what it compiles (__pycache__, ignored by git), and pytest the test modules it rewrites
# for its assertions, even where the environment says not to (PYTHONDONTWRITEBYTECODE=1 here): without
# the cache every process compiles the app again, and every test process rewrites 350 test modules
# (a third of collecting the suite; manage.py, worker and server subprocesses each compile the app).
export PYTHONDONTWRITEBYTECODE :=

.PHONY: setup run test test-fast check format bench worker beat clean openapi fuzz simulate simulate-workers

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed
	$(PY) tools/fetch_static.py
	$(PY) -m compileall -q -j 0 erp inventory sales procurement manufacturing integrations tools bench

# HOST and PORT also tell the app where it is served (PUBLIC_BASE_URL: the webhook addresses it shows).
run: export HOST := $(HOST)
run: export PORT := $(PORT)
# The demo company's approval thresholds in its suppliers' other currencies (procurement/demo.py).
run: export PURCHASE_APPROVAL_THRESHOLDS ?= EUR=4500,SEK=50000,JPY=750000
run: setup
	@echo "==> Migrating the database (SQLite: db.sqlite3)"
	$(PY) manage.py migrate --noinput
	@echo "==> Loading the demo data"
	$(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/, API: http://$(HOST):$(PORT)/api/v1/docs)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=20 $(PYTEST_ARGS)

# Local runs: the test databases are kept between runs (created and migrated once; on SQLite in
# files .test-db*.sqlite3). After a model change, run `make test` (or add --create-db) once.
test-fast: setup
	TEST_DATABASE_NAME=.test-db.sqlite3 $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --reuse-db $(PYTEST_ARGS)

check: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .
	DATABASE_URL=sqlite:///:memory: $(PY) manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# A simulated business day through every connector's fake, with faults, on a throwaway SQLite database,
# tasks in process on a simulated clock; the drift report goes to artifacts/simulation.json (exit 1 on
# drift): make simulate ORDERS=1000
ORDERS ?= 200
SEED   ?= 1
FAULTS ?= default
TOOLS  ?= all
simulate: setup
	rm -f artifacts/simulate.sqlite3
	DATABASE_URL=sqlite:///artifacts/simulate.sqlite3 CELERY_BROKER_URL= $(PY) manage.py migrate --noinput -v 0
	DATABASE_URL=sqlite:///artifacts/simulate.sqlite3 CELERY_BROKER_URL= LOG_LEVEL=WARNING $(PY) manage.py simulate_day \
		--orders $(ORDERS) --seed $(SEED) --faults $(FAULTS) --tools $(TOOLS)

# The same day on PostgreSQL (a fresh database, SIM_DB) with a real Celery worker on Redis that the day
# kills once with SIGKILL mid-task and starts again (what CI runs): make simulate-workers ORDERS=120
# SIM_TEMPLATE names a migrated database to copy instead of migrating a new one (CI passes the tests').
SIM_DB       ?= erp_simulation
SIM_BROKER   ?= redis://127.0.0.1:6379/14
SIM_TEMPLATE ?=
SIM_ENV    := DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(SIM_DB) CELERY_BROKER_URL=$(SIM_BROKER) LOG_LEVEL=WARNING
simulate-workers: setup
	dropdb --if-exists -h 127.0.0.1 -U postgres $(SIM_DB)
	createdb -h 127.0.0.1 -U postgres $(if $(SIM_TEMPLATE),--template $(SIM_TEMPLATE)) $(SIM_DB)
	$(SIM_ENV) $(PY) manage.py migrate --noinput -v 0
	$(SIM_ENV) $(PY) manage.py simulate_day --orders $(ORDERS) --seed $(SEED) --faults $(FAULTS) --tools $(TOOLS) \
		--out artifacts/simulation-workers.json

openapi: setup
	$(PY) manage.py openapi_schema

# Schemathesis against a live server on a throwaway database, beyond CI's seeds: make fuzz SEED=7 EXAMPLES=200
fuzz: setup
	$(PY) tools/fuzz_live.py $(if $(SEED),--seed $(SEED)) $(if $(EXAMPLES),--examples $(EXAMPLES)) $(FUZZ_ARGS)

# Every scenario against its target on a fresh PostgreSQL database (erp_bench; needs pgbench and Redis),
# the table also in artifacts/bench.json; exit 1 when a target is missed twice: make bench BENCH_ARGS=--quick
bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

worker: setup
	$(BIN)/celery -A erp worker -Q default,integrations -l info

beat: setup
	$(BIN)/celery -A erp beat -l info

clean:
	rm -rf $(VENV) staticfiles erp/static/vendor .mypy_cache .ruff_cache .pytest_cache .test-db*.sqlite3*
