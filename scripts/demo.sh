#!/usr/bin/env bash
# The README's demo command: install, package the trigger function, synthesize the example team, scan it with checkov.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/mlops-kit validate
.venv/bin/mlops-kit package
.venv/bin/mlops-kit synth "$@"
.venv/bin/mlops-kit scan
