# Two commands do all the set-up on a fresh machine with python3:
#   make demo   - make .venv, install Abc, run the whole system under load and chaos for a
#                 minute on the embedded default, then audit it (abc demo)
#   make test   - make .venv, install Abc with its dev tools, Debian's chromium where missing
#                 (for the browser tests; root, or sudo without a password), run lint, types
#                 and tests
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: demo up test browser lint sim sim-long bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/abc demo

up: $(STAMP)
	$(BIN)/abc up

sim: $(STAMP)
	$(BIN)/abc sim --seeds 2000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy services tests bench protos deploy

test: browser lint
	$(BIN)/python -m pytest

# The browser tests drive /usr/bin/chromium (Debian's package) through Playwright's
# executable_path; .ci/ensure-chromium installs it with apt-get where it is missing.
browser:
	.ci/ensure-chromium

sim-long: $(STAMP)
	$(BIN)/abc sim --seeds 100000

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lab,dev,bench]'
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .abc .mypy_cache .ruff_cache .pytest_cache
