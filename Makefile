# Carepath: `make run` serves the demo agency at http://127.0.0.1:8000; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint chromium bench vendor clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/carepath db upgrade
	$(BIN)/carepath demo
	$(BIN)/carepath serve --host 127.0.0.1 --port 8000 --with-worker

# Browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Lint (ruff), format check (ruff), types (mypy, engine/ strict), then every test.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint chromium
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/engine.py

# Rebuild web/static/vendor/ (bpmn-js, bpmn-js-differ, axe-core) from assets-src/package-lock.json. Needs Node 20+
# and npm; the built files are committed, so `make run` and `make test` never need Node.
vendor:
	cd assets-src && npm ci --no-audit --no-fund && npm run build:vendor

clean:
	rm -rf $(VENV) instance .pytest_cache
