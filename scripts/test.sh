#!/usr/bin/env bash
# The README's test command: install from the locks, lint, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
