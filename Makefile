# nemstream — `make run` runs the system, `make test` checks it. Both set up what they need.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
# Debian packages the tests need (installed with apt-get when missing; root or sudo).
APT_PACKAGES ?= openssl chromium
SAMPLES_DIR ?= $(shell $(UV) run --quiet python -c "from nemstream_testing import find_samples_dir; print(find_samples_dir() or '')" 2>/dev/null)
MIRROR_PORT ?= 8089

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

.PHONY: uv
uv: ## Install uv from PyPI if it is missing
	@command -v $(UV) >/dev/null 2>&1 || $(PYTHON) -m pip install --user --quiet uv

.PHONY: apt
apt: ## Install the Debian packages the tests need, if any are missing
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

.PHONY: setup
setup: uv apt ## Create the virtual environment from uv.lock
	@$(UV) sync --all-packages --locked --quiet

.PHONY: samples
samples: setup ## Find the real NEMWeb samples, or download a small current set into .cache/
	@$(UV) run --quiet python -m nemstream_testing.fetch

.PHONY: lint
lint: setup ## ruff (lint and format check)
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .

.PHONY: typecheck
typecheck: setup ## mypy --strict over libs, services, tests and benchmarks
	@$(UV) run mypy

# Coverage floor: the figure measured when it was set (raise it as tests grow, never lower it).
COVERAGE_FLOOR ?= 83

.PHONY: pytest
pytest: setup ## The test suite with coverage (fails under COVERAGE_FLOOR %)
	@$(UV) run pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

.PHONY: test-unit
test-unit: setup ## Unit tests only: no servers, under a minute
	@$(UV) run pytest -m "not integration and not e2e" -q

.PHONY: test-faults
test-faults: setup samples ## The fault-injection tests of the README's fault matrix
	@$(UV) run pytest -m faults -v

.PHONY: test
test: setup samples lint typecheck pytest ## Everything CI runs: set-up, lint, types, tests

.PHONY: run
run: samples ## The whole stack (NATS, fetchers, writer, aggregator, alerts, mailer) on the samples via the mirror (LIVE=1: NEMWeb)
	@if [ -n "$(LIVE)" ]; then \
	  echo "nemstream on the live NEMWeb (Ctrl-C stops)"; \
	  $(UV) run nemstream up; \
	elif [ -n "$(SAMPLES_DIR)" ]; then \
	  echo "nemstream offline: the samples in $(SAMPLES_DIR) released one by one (Ctrl-C stops)"; \
	  NEMSTREAM_SAMPLES_DIR="$(SAMPLES_DIR)" $(UV) run nemstream up --offline --mirror-port $(MIRROR_PORT); \
	else \
	  echo "no samples here: running on the live NEMWeb (Ctrl-C stops)"; \
	  $(UV) run nemstream up; \
	fi

.PHONY: bench-parse
bench-parse: setup ## Parse throughput beside NEMOSIS and bare polars
	@$(UV) run --with nemosis python benchmarks/parse.py

.PHONY: bench-latency
bench-latency: setup ## File-to-event latency beside a 4.5-minute poll; backfill throughput
	@$(UV) run python benchmarks/latency.py

.PHONY: bench-scale
bench-scale: setup ## Build the scale store (5 y of 30-min, 1 y of 5-min SCADA; .cache/bench)
	@$(UV) run python benchmarks/scale.py

.PHONY: bench-queries
bench-queries: setup ## Dashboard queries on the scale store beside one-big-file pandas/DuckDB; RSS
	@$(UV) run --with pandas --with pyarrow python benchmarks/queries.py

.PHONY: bench-alerts
bench-alerts: setup ## Price file on the mirror to SMS request at a local Twilio endpoint
	@$(UV) run python benchmarks/alerts.py

.PHONY: bench-dashboard
bench-dashboard: setup ## Dashboard page loads (1 and 10 sessions), stored → visible, RSS
	@$(UV) run python benchmarks/dashboard.py

.PHONY: bench-api
bench-api: setup ## HTTP API: cached prices, uncached generation, SSE fan-out to 1,000 clients beside NATS
	@$(UV) run --with aiohttp python benchmarks/api.py

.PHONY: bench-forecasts
bench-forecasts: setup ## Forecast queries on a year of generated runs beside polars (p50/p95)
	@$(UV) run python benchmarks/forecasts.py

.PHONY: bench-early-warning
bench-early-warning: setup samples ## Forecast warnings' lead over the dispatch price on the real sample day
	@$(UV) run python benchmarks/early_warning.py

.PHONY: schemas
schemas: setup ## Regenerate proto_schemas/ from the message contracts
	@$(UV) run nemstream schemas export

.PHONY: format
format: setup ## Apply ruff's fixes and formatting
	@$(UV) run ruff check --fix .
	@$(UV) run ruff format .
