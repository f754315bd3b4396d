# The two commands: `make run` (set up .venv, start the app) and `make test` (set up .venv, run the
# whole suite). Both install everything they need themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test lint bench browser-deps clean help

help:
	@echo "make run    - set up $(VENV) and start the app on http://localhost:$(PORT)"
	@echo "make test   - set up $(VENV) (and Chromium for the browser tests) and run the test suite"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - run the benchmark scripts under bench/"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing the pinned packages into $(VENV) (a few minutes the first time: torch, mediapipe, streamlit)"
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@
	@echo "$(VENV) is ready"

run: $(STAMP)
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Debian's Chromium drives the browser tests; install it when it is missing (needs root or sudo).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	} || echo "warning: could not install chromium; the browser tests will fail with a clear message"

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check slr_core tests bench app_pages app.py
	$(BIN)/ruff format --check slr_core tests bench app_pages app.py
	$(BIN)/mypy

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
