# The CAST War Room platform. `make run` and `make test` do all set-up on a fresh machine.
# Python 3.11 to 3.13: e.g. `make test PYTHON=python3.13 VENV=.venv-3.13`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PACKAGES := -e shared -e services/registry -e services/reporting -e services/aggregator -e services/web -e cli

.PHONY: install system-packages run demo test lint format bench asyncapi assets clean

install: $(VENV)/.installed

$(VENV)/.installed: constraints.txt requirements-dev.txt shared/pyproject.toml services/*/pyproject.toml cli/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt $(PACKAGES) -r requirements-dev.txt
	touch $@

# Debian's python3 makes a venv only with its python3-venv package; without it, virtualenv
# (installed beside the venv, not into the externally managed system Python) makes one.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV) $(VENV).tools \
	    && $(PYTHON) -m pip install --quiet --target $(VENV).tools 'virtualenv>=20.26,<22' \
	    && PYTHONPATH=$(VENV).tools $(PYTHON) -m virtualenv --quiet $(VENV) && rm -rf $(VENV).tools; }

run: install
	$(BIN)/warroom up

demo: install  # a realistic data set loaded into the running platform (`make run`)
	$(BIN)/warroom demo

test: install system-packages
	$(BIN)/python -m pytest

# Debian packages the tests use (the README's recipes run curl and jq; the browser tests,
# tests/web, drive Chromium headless with Thai fonts), installed when missing.
SYSTEM_PACKAGES := curl jq chromium fonts-thai-tlwg
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	    echo "installing Debian packages: $$missing"; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

asyncapi: install  # docs/asyncapi.json from the event models (the suite fails while it is stale)
	$(BIN)/warroom asyncapi --output docs/asyncapi.json

assets: install  # the website's pinned browser files (services/web/warroom_web/static/vendor) from npm
	$(BIN)/python -m warroom_web.assets

clean:
	rm -rf $(VENV) $(VENV).tools .pytest_cache .mypy_cache .ruff_cache
