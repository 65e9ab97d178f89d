# The CAST War Room platform. `make run` and `make test` do all set-up on a fresh machine.
# Python 3.11 to 3.13: e.g. `make test PYTHON=python3.13 VENV=.venv-3.13`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PACKAGES := -e shared -e services/registry -e services/reporting -e services/aggregator -e services/web -e cli

.PHONY: install run test browser lint format bench asyncapi assets clean

# The browser tests (tests/web) drive Debian's Chromium, with Thai fonts, headless.
BROWSER_PACKAGES := chromium fonts-thai-tlwg jq curl

install: $(VENV)/.installed

$(VENV)/.installed: constraints.txt requirements-dev.txt shared/pyproject.toml services/*/pyproject.toml cli/pyproject.toml
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --user --quiet virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt $(PACKAGES) -r requirements-dev.txt
	touch $@

run: install
	$(BIN)/warroom up

test: install browser
	$(BIN)/python -m pytest

browser:  # installs the Debian packages the browser tests need, when missing (as root)
	@missing=$$(for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing $$missing (apt-get)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "The browser tests need the Debian packages:" $$missing "- run: sudo apt-get install" $$missing >&2; \
			exit 1; \
		fi; \
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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
