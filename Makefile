# stochsyn — the only set-up anyone needs: `make demo`, `make test`, `make bench`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FMNIST_DIR := /usr/share/datasets/fashion-mnist
# BENCH=name runs only benchmarks/bench_name.py
BENCH ?=

.PHONY: all venv data demo test bench clean

all: test

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	@touch $@

venv: $(STAMP)

# Fashion-MNIST comes from Debian's package; installed only when we are root and it is missing.
data:
	@if [ ! -d $(FMNIST_DIR) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian package dataset-fashion-mnist"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
	    || echo "warning: could not install dataset-fashion-mnist; Fashion-MNIST tests will be skipped"; \
	fi

demo: $(STAMP)
	$(BIN)/stochsyn demo

# lint (ruff: the rules in pyproject.toml), types (mypy: the packages listed there), then
# the tests and the docstring examples (pytest --doctest-modules)
test: $(STAMP) data
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: $(STAMP) data
	@set -e; for f in benchmarks/bench_$(if $(BENCH),$(BENCH),*).py; do \
	  echo "=== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
