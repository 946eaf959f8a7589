# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= data/mfhc.duckdb
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: install run demo test bench clean

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

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis data/demo_source
