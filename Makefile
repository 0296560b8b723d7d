# CareLoop: `make run` for a first run, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
export CARELOOP_ENV ?= development

.PHONY: run test lint install migrate seed translations messages bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel -q compile -f -d app/translations

messages: $(STAMP)  # after changing user-facing text: extract, update the catalogues, then translate what is new
	$(BIN)/pybabel -q extract --no-wrap -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -o app/translations/messages.pot .
	$(BIN)/pybabel -q update --no-wrap -i app/translations/messages.pot -d app/translations --no-fuzzy-matching
	$(BIN)/python scripts/untranslated.py

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed demo

run: seed
	@echo ""
	@echo "CareLoop is starting:"
	@echo "  http://demo.localhost:5000    http://harbor.localhost:5000    (directory: http://localhost:5000)"
	@echo ""
	CARELOOP_EMBEDDED_WORKER=1 PUBLIC_PORT=5000 $(FLASK) run --host 127.0.0.1 --port 5000 --no-reload

lint: $(STAMP)  # ruff and mypy read their settings from pyproject.toml
	$(BIN)/ruff check app tenants tests scripts
	$(BIN)/mypy

test: install lint
	$(BIN)/python scripts/run_tests.py $(ARGS)

bench: install  # each script seeds its own database and prints its figures; one at a time: make bench-tagging
	$(BIN)/python scripts/bench_patients.py
	$(BIN)/python scripts/bench_tagging.py
	$(BIN)/python scripts/bench_booking.py
	$(BIN)/python scripts/bench_dashboard.py
	$(BIN)/python scripts/bench_questionnaires.py
	$(BIN)/python scripts/bench_risk.py
	$(BIN)/python scripts/bench_reports.py

screenshots: install  # docs/screenshots/: each role's main pages and the patient side on a phone
	$(BIN)/python scripts/screenshots.py

bench-%: install
	$(BIN)/python scripts/bench_$*.py

clean:
	rm -rf $(VENV) instance/careloop.db* instance/storage
