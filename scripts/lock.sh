#!/usr/bin/env bash
# Re-resolve the venv from pyproject.toml's pins and rewrite requirements.lock (all transitive pins).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3.11 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q pip==25.3
"$tmp/venv/bin/pip" install -q ".[dev]"
{
  echo "# Every Python package of the kit's venv, pinned (direct pins are in pyproject.toml)."
  echo "# Regenerate after changing pyproject.toml: scripts/lock.sh"
  "$tmp/venv/bin/pip" freeze --exclude-editable | grep -vi '^mlops-kit'
} > requirements.lock
rm -rf "$tmp"
echo "requirements.lock: $(grep -vc '^#' requirements.lock) packages"
