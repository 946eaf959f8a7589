# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= data/mfhc.duckdb
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: install run demo test browser bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: install
	$(BIN)/mfhc demo --db $(DB)

run: demo
	$(BIN)/mfhc serve --db $(DB) --host $(HOST) --port $(PORT)

# Debian's headless Chromium for tests/browser (installed when missing and we are root; else they skip).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

test: install browser
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis data/demo_source
