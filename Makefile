# Two commands: `make run` serves the app on SQLite with in-process jobs; `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := api:create_app

.PHONY: messages run test test-db test-services lint typecheck unit install migrate bench bench-pg erg clean

# constraints.txt pins every transitive dependency too, so installs are repeatable.
$(BIN)/flask: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# The OpenID Provider the single sign-on tests start (tests/oidc) runs on Node.js; only the
# tests need it, so `make run` does not install it. Without npm it is skipped here, and those
# tests skip with the reason (CI installs npm).
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/oidc --no-audit --no-fund && touch $@; \
	else echo "npm is not installed: skipping tests/oidc (the single sign-on tests will skip)"; fi

# The compiled catalogues (.mo) are built here from the committed .po files, never committed.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard web/translations/*/LC_MESSAGES/messages.po))
web/translations/%/LC_MESSAGES/messages.mo: web/translations/%/LC_MESSAGES/messages.po $(BIN)/flask
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

install: $(BIN)/flask $(CATALOGUES)

# Local secrets for the embedded default, made once and never committed.
.env:
	@$(PYTHON) -c "import secrets, base64; print('SECRET_KEY=' + secrets.token_urlsafe(48)); print('KEY_ENCRYPTION_KEY=' + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b'=').decode())" > .env
	@echo "wrote .env with a fresh SECRET_KEY and KEY_ENCRYPTION_KEY (keep it; it opens your data)"

migrate: install .env
	$(BIN)/flask db upgrade
	$(BIN)/flask keys init

run: migrate
	@echo "Allyloop is starting on http://localhost:$(PORT)/ (API docs: http://localhost:$(PORT)/api/openapi.json)"
	$(BIN)/flask run --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Everything on the embedded SQLite default. Tests that need redis-server, PostgreSQL or
# Chromium skip with the reason when those are not installed (and fail in CI).
unit: install $(OIDC_PROVIDER)
	env -u TEST_DATABASE_URL $(BIN)/pytest

# With TEST_DATABASE_URL set (.ci/run sets it), the database-backed suites run again on it.
test: lint typecheck unit
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-db; fi

# The database-backed suites against TEST_DATABASE_URL (a PostgreSQL URL). The tests on
# real services are left out here: they bring their own PostgreSQL and ran already.
test-db: install $(OIDC_PROVIDER)
	@test -n "$$TEST_DATABASE_URL" || (echo "set TEST_DATABASE_URL to a PostgreSQL URL" && false)
	@echo "== the integration and end-to-end suites again, on PostgreSQL"
	$(BIN)/pytest tests/integration tests/e2e --ignore=tests/integration/test_real_services.py

# Only the crash and outage tests: the Procfile's worker on real PostgreSQL and Redis.
test-services: install
	$(BIN)/pytest tests/integration/test_real_services.py tests/integration/test_rq_worker.py

# Loopback only, bounded, writes docs/benchmarks.md. Part (a) also runs on a throwaway
# PostgreSQL when its server binaries are installed.
bench: install
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
	  eval "$$(.ci/postgres start)" && trap '.ci/postgres stop "$$PGTMP"' EXIT && \
	  $(BIN)/python bench/run.py --postgres "$$TEST_DATABASE_URL"; \
	else $(BIN)/python bench/run.py; fi

# The production shape under load: gunicorn + RQ worker on a throwaway PostgreSQL and Redis,
# 200 recipients at once; writes its section of docs/benchmarks.md.
bench-pg: install
	$(BIN)/python bench/load_pg.py

# A simulated ERG of 8, 15 and 30 allies over 180 days, through the real code and pages (issue 14);
# loopback only, a few minutes; prints the figures that docs/erg.md records. Fails if any shown
# figure breaks the release rules. Page lengths need Chromium; without it: ARGS=--no-browser.
erg: install
	$(BIN)/python bench/erg.py $(ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache

# After changing wording: extract every message (code, templates, questionnaires) into the
# template, merge it into each language's catalogue, and compile. New and changed messages
# then show as untranslated or fuzzy in web/translations/*/LC_MESSAGES/messages.po, and
# tests/unit/test_translations.py fails until each is translated (and its fuzzy flag gone).
# Add a language with `pybabel init -i web/translations/messages.pot -d web/translations -l xx`
# and name it in api/i18n.py's LOCALES.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k N_ --no-location --sort-output -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-wrap --ignore-obsolete
	$(MAKE) --no-print-directory install
