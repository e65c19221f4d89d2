# partygroup task runner: README and CI call these targets and nothing else.
#   make run    venv + dependencies (+ Debian packages when root) + migrations + demo data + server + task worker
#   make test   the whole suite (SQLite by default; DATABASE_URL=postgres://… for PostgreSQL)
#   make lint   ruff (lint + format check) and the missing-migrations check
#   make bench  benchmarks on the city data set in PostgreSQL → docs/performance.md
#   make guide-screenshots  the user guide's screenshots (docs/guide/img/) from the browser journeys

PYTHON_BOOT ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
PY          := $(BIN)/python
STAMP       := $(VENV)/.installed
HOST        ?= 127.0.0.1
PORT        ?= 8000
# Runtime packages (PDF: a CJK font, HarfBuzz subsetting; poppler for pdftotext in tests).
SYSTEM_PACKAGES      := fonts-noto-cjk libharfbuzz-subset0 poppler-utils
# Browser tests drive Debian's Chromium through Playwright.
TEST_SYSTEM_PACKAGES := $(SYSTEM_PACKAGES) chromium
PYTEST_ARGS ?=
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/partygroup_bench

.PHONY: run install system-deps test-system-deps migrate demo test lint format bench clean guide-screenshots

$(STAMP): pyproject.toml
	$(PYTHON_BOOT) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Installs the Debian packages the app needs when run as root on Debian; otherwise says what to do.
system-deps:
	@./scripts/system-deps.sh $(SYSTEM_PACKAGES)

test-system-deps:
	@./scripts/system-deps.sh $(TEST_SYSTEM_PACKAGES)

migrate: install
	DEBUG=1 $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(PY) manage.py seed_demo --if-empty

# The server, and beside it the background-task worker the year-end export uses (scripts/run-dev.sh).
run: install system-deps demo
	./scripts/run-dev.sh $(PY) $(HOST) $(PORT)

test: install test-system-deps
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

# The user guide's screenshots (docs/guide/img/): the browser journeys again, writing the shots the
# guide shows (palette PNGs) there instead of tests/artifacts/screenshots/ (tests/browser/helpers.py).
guide-screenshots: install test-system-deps
	GUIDE_SCREENSHOTS=1 REQUIRE_BROWSER=1 $(BIN)/pytest -p no:xdist -m browser tests/browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# BENCH_ARGS: e.g. "--only import,rules" or "--reseed" (bench/run.py --help).
bench: install system-deps
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
