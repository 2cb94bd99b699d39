# Task runner. `make run` = set up, build the demo index, serve; `make test` = set up and run the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
INDEX ?= indexes/default
SCREEN := var/safety/screen.npz

.PHONY: setup run serve index screen calibrate test test-fast lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU build; anything else would pull several GB of CUDA wheels
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $@

setup: $(STAMP)

$(SCREEN): $(STAMP) app/safety/data/benign_sensitive.jsonl app/safety/train.py app/safety/screen.py app/safety/ngrams.py
	$(BIN)/guideground safety train --out $(SCREEN) --cases-out var/safety/test_cases.jsonl

screen: $(SCREEN)

index: setup
	$(BIN)/guideground ingest guidelines/ --index $(INDEX)

run: setup screen index
	$(BIN)/guideground serve --index $(INDEX)

serve: run

calibrate: setup
	$(BIN)/guideground calibrate

test: setup screen
	$(BIN)/python -m pytest -q

test-fast: setup screen
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check app ingest tests bench
	$(BIN)/mypy

bench: setup screen
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/retrieval_bench.py
	$(BIN)/guideground ingest ../shared/data/guidelines --index var/bench/shared-index --quiet
	$(BIN)/python bench/query_bench.py --index var/bench/shared-index

clean:
	rm -rf $(VENV) var indexes/default .pytest_cache
