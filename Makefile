# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= data/mfhc.duckdb
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: install run demo test system-packages bench clean
SYSTEM_PACKAGES := chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

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

# Debian packages: headless Chromium (browser tests and the board pack's chart images), Pango
# (WeasyPrint) and poppler-utils (the board pack's tests). Installed when missing and we are root.
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	elif [ -n "$$missing" ]; then echo "missing Debian packages (install as root): $$missing"; fi

run: system-packages

test: install system-packages
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis data/demo_source
