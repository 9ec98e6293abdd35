# CNC Copilot. `make run` on a fresh machine with only Python; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint migrate demo messages clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements/base.txt requirements/dev.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py create_role_groups

demo: migrate
	$(PY) manage.py create_demo_users
	$(PY) manage.py load_demo_shop
	$(PY) manage.py seed_demo_changeovers
	$(PY) manage.py load_demo_history
	$(PY) manage.py plan_demo_schedule

run: demo
	@echo "CNC Copilot at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(PY) manage.py run_shop --host $(HOST) --port $(PORT)

test: $(STAMP)
	CNC_TESTING=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

messages: $(STAMP)
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=var --ignore=static/vendor
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
