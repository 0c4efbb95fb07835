# Campus: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test test-unit test-browser install lint format messages bench bench-import bench-mallette bench-selfdiag bench-communities bench-feedback180 bench-analytics bench-boosts eval collectstatic check-deploy clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make run: embedded Postgres + Redis, migrations, demo data, Celery worker and beat, web server.
run: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) $(PY) manage.py run

## make test: the whole suite on throw-away embedded services (browser tests when Chromium exists).
test: $(STAMP)
	$(PY) -m ruff check .
	@tmp=$$(mktemp -d /tmp/campus-test.XXXXXX); \
	trap 'rm -rf "$$tmp"' EXIT; \
	export CAMPUS_DATA_DIR="$$tmp" CAMPUS_TESTING=1; \
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "Missing migrations: run manage.py makemigrations"; exit 1; }; \
	$(PY) -m pytest -m "not browser" -q --create-db -n 2 --dist loadfile $(PYTEST_ARGS) || exit $$?; \
	if [ -x /usr/bin/chromium ]; then \
		$(PY) -m pytest -m browser -q $(PYTEST_ARGS) || exit $$?; \
	else \
		if [ -n "$$CI" ]; then echo "Chromium is missing on CI: browser tests cannot run"; exit 1; fi; \
		echo "Chromium not found (/usr/bin/chromium): browser tests skipped. apt-get install -y chromium"; \
	fi

test-unit: $(STAMP)
	CAMPUS_TESTING=1 $(PY) -m pytest -m "not browser" -q -n 2 --dist loadfile $(PYTEST_ARGS)

test-browser: $(STAMP)
	CAMPUS_TESTING=1 $(PY) -m pytest -m browser -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## make messages: refresh the French catalogue (locale/fr) after adding or changing a plural
## string. Needs GNU gettext (apt-get install -y gettext); commit the .po and the .mo it writes.
## Source strings are French, so each plural entry gets its own msgid / msgid_plural as msgstr
## (the catalogue only brings the French rule: singular for 0 and 1) and every other msgstr is
## emptied. POT-Creation-Date is dropped so that unchanged sources give an unchanged catalogue.
PO := locale/fr/LC_MESSAGES/django.po
messages: $(STAMP)
	@command -v msgfmt >/dev/null || { echo "GNU gettext is missing: apt-get install -y gettext"; exit 1; }
	$(PY) manage.py makemessages --locale fr --add-location=file --no-wrap --no-obsolete \
		--ignore=var --ignore=tests --ignore=bench --ignore=static --ignore=staticfiles \
		--ignore=test-results --ignore=media --ignore='*.egg-info'
	msgattrib --clear-fuzzy --clear-previous --no-wrap -o $(PO) $(PO)
	msgfilter --keep-header --no-wrap -i $(PO) -o $(PO) sh -c 'cat >/dev/null; \
		if [ -n "$${MSGFILTER_MSGID_PLURAL+x}" ]; then \
		if [ "$$MSGFILTER_PLURAL_FORM" = 0 ]; then printf %s "$$MSGFILTER_MSGID"; \
		else printf %s "$$MSGFILTER_MSGID_PLURAL"; fi; fi'
	sed -i '/^"POT-Creation-Date: /d' $(PO)
	msgfmt --check -o locale/fr/LC_MESSAGES/django.mo $(PO)

## make bench: performance measurements (not run by make test).
bench: bench-import bench-mallette bench-selfdiag bench-communities bench-feedback180 bench-analytics bench-boosts

bench-import: $(STAMP)
	@tmp=$$(mktemp -d /tmp/campus-bench.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	CAMPUS_DATA_DIR="$$tmp" $(PY) bench/bench_import.py $(BENCH_ARGS)

## make eval: AI quality on ../shared/eval (PII scrubbing; retrieval once the library exists).
eval: $(STAMP)
	@tmp=$$(mktemp -d /tmp/campus-eval.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	export CAMPUS_DATA_DIR="$$tmp"; \
	$(PY) manage.py migrate --verbosity 0 && $(PY) manage.py ai_eval $(EVAL_ARGS)

bench-mallette: $(STAMP)
	@tmp=$$(mktemp -d /tmp/campus-bench.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	CAMPUS_DATA_DIR="$$tmp" $(PY) bench/bench_mallette.py $(BENCH_ARGS)

bench-selfdiag: $(STAMP)
	@tmp=$$(mktemp -d /tmp/campus-bench.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	CAMPUS_DATA_DIR="$$tmp" $(PY) bench/bench_selfdiag.py $(BENCH_ARGS)

bench-communities: $(STAMP)
	@tmp=$$(mktemp -d /tmp/campus-bench.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	CAMPUS_DATA_DIR="$$tmp" $(PY) bench/bench_communities.py $(BENCH_ARGS)

bench-feedback180: $(STAMP)
	@tmp=$$(mktemp -d /tmp/campus-bench.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	CAMPUS_DATA_DIR="$$tmp" $(PY) bench/bench_feedback180.py $(BENCH_ARGS)

bench-analytics: $(STAMP)
	@tmp=$$(mktemp -d /tmp/campus-bench.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	CAMPUS_DATA_DIR="$$tmp" $(PY) bench/bench_analytics.py $(BENCH_ARGS)

## make bench-boosts: the live room with 500 participants (BENCH_ARGS="--results-shown ...").
bench-boosts: $(STAMP)
	@tmp=$$(mktemp -d /tmp/campus-bench.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	CAMPUS_DATA_DIR="$$tmp" $(PY) bench/bench_boosts.py $(BENCH_ARGS)

check-deploy: $(STAMP)
	DATABASE_URL=postgres://campus:x@localhost/campus REDIS_URL=redis://localhost:6379/0 \
	SECRET_KEY=$$($(PY) -c "import secrets; print(secrets.token_urlsafe(50))") DEBUG=0 \
	ALLOWED_HOSTS=campus.example.org $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles
