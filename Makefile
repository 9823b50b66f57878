# Pnyx — the two commands a newcomer needs are `make demo` and `make test`; `make help` lists all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_MODULES := contracts/node_modules
STAMP_PY := $(VENV)/.installed
STAMP_JS := $(NODE_MODULES)/.installed
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help setup artifacts check-artifacts lint format types test test-unit test-integration test-e2e demo demo-oracles demo-vote chain devnet apps bench-gas bench-latency bench-throughput bench-oracles bench-selection reproduce-selection clean

help: ## List every target
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP_PY): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(STAMP_JS): contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --silent --no-audit --no-fund
	@touch $@

setup: $(STAMP_PY) $(STAMP_JS) ## Install what is missing: the virtualenv, Python and npm dependencies

artifacts: setup ## Recompile the contracts (solc-js) and regenerate the Python error classes
	cd contracts && node build.js
	$(BIN)/python -m pnyx.chain.codegen

check-artifacts: setup ## Fail if the committed artifacts are not what the sources compile to
	cd contracts && node build.js --check
	$(BIN)/python -m pnyx.chain.codegen --check

lint: setup ## ruff (lint + format check) and the import-layer rules
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/lint-imports

format: setup ## Format the Python sources
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

types: setup ## mypy --strict on src/
	$(BIN)/mypy

test: setup lint types ## Lint, type-check and run every test (unit, integration, e2e)
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests

test-unit: setup ## Only the tests that need no chain
	$(BIN)/pytest -m unit tests

test-integration: setup ## Only the tests against a real anvil
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m integration tests

test-e2e: setup ## Only the end-to-end tests (devnet + CLI)
	$(BIN)/pytest -m e2e tests

demo: setup ## Start a devnet (chain, market, result store, scheduler, 3 workers) and run two tasks with pnyx run
	$(BIN)/pnyx demo

demo-oracles: setup ## The betting dApp through the four oracle types: push/pull x inbound/outbound, PoCo-fed and aggregated results
	$(BIN)/python -m examples.betting.demo

demo-vote: setup ## A 50-voter referendum: verifiably selected workers, secret-shared votes, on-chain tally, audit
	$(BIN)/pnyx vote demo

chain: setup ## Start anvil with the protocol deployed (Ctrl-C stops it)
	$(BIN)/pnyx chain up

devnet: setup ## Start the whole local network and keep it running (Ctrl-C stops everything)
	$(BIN)/pnyx devnet up

apps: ## Rebuild the example WASM app (needs clang-14 and wasi-libc from Debian)
	$(MAKE) -C apps/wordcount-wasm

bench-gas: setup ## Gas per task vs iExec PoCo (writes benchmarks/results/gas.json)
	$(BIN)/python benchmarks/gas.py

bench-latency: setup ## Seconds and blocks from pnyx run to the result, 1-s blocks (benchmarks/results/latency.json)
	$(BIN)/python benchmarks/latency.py

bench-throughput: setup ## Tasks/s of one pool with 8 workers vs the chain's gas capacity (benchmarks/results/throughput.json)
	$(BIN)/python benchmarks/throughput.py

bench-oracles: setup ## Gas per oracle update for 4, 7, 15 nodes vs Chainlink (benchmarks/results/oracles.json)
	$(BIN)/python benchmarks/oracles.py

bench-selection: setup ## Time of AN numbering + selection of 100 workers among 10^4 participants (benchmarks/results/selection.json)
	$(BIN)/python benchmarks/selection.py

reproduce-selection: setup ## The paper's experiment on ego-Facebook: largest clique, random vs distancing (docs/selection-reproduction.png)
	$(BIN)/python benchmarks/reproduce_selection.py

clean: ## Remove the virtualenv, node_modules and caches
	rm -rf $(VENV) $(NODE_MODULES) .mypy_cache .ruff_cache .pytest_cache .hypothesis
