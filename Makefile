# `make run` and `make test` do all the set-up on a fresh machine (Python 3.11+).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.run: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

# torch==2.13.0 first: it resolves to the CPU wheel, so the diffusion extra pulls no CUDA build.
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,scale,diffusion]'
	@touch $@ $(VENV)/.run

run: $(VENV)/.run
	$(BIN)/kinema serve

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/kinema

bench: $(VENV)/.dev
	$(BIN)/python bench/bench_motion.py

clean:
	rm -rf $(VENV) .kinema .pytest_cache
