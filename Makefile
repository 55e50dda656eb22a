# leadscore: `make demo` runs the whole job on synthetic data; `make test` runs the tests.
# Both create the virtualenv and install the package the first time.

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= out/demo
LEADS  ?= 20000

.DEFAULT_GOAL := help

# The install says only errors (-qq): setuptools notes on every editable install that it uses
# a path finder, which is not a fault.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --quiet -e ".[dev]"
	touch $(STAMP)

## setup: create .venv and install leadscore with its test tools
setup: $(STAMP)

## demo: generate a synthetic world, validate it, train, score two nights, report, hand off and monitor (out/demo)
demo: $(STAMP)
	$(PY) -m leadscore.demo --out $(DEMO) --leads $(LEADS)

## test: run the test suite (everything, end-to-end runs included)
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile

## quick: the tests without the end-to-end runs marked slow (a quick loop while editing)
quick: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow"

## bench: features (A B A B against a reference query), training and scoring on two world shapes (about 40 min; BENCH_SIZES=200000 for a quick run)
bench: $(STAMP)
	$(PY) benchmarks/run.py

## pages: full-page screenshots of the demo's review and monitor pages in headless Chromium (out/demo/pages)
pages:
	python3 benchmarks/pages.py --demo $(DEMO)

## lint: ruff
lint: $(STAMP)
	$(VENV)/bin/ruff check features pipeline tests benchmarks notebooks
	$(VENV)/bin/ruff format --check features pipeline tests benchmarks notebooks

## help: list the targets
help:
	@grep -E '^## ' Makefile | sed 's/^## /  make /'

.PHONY: setup demo test quick bench pages lint help
