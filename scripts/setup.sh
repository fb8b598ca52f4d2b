#!/usr/bin/env bash
# Install everything the kit needs into .venv/ and node_modules/ from the pinned lock files.
# Idempotent: re-running after `git pull` only installs what the locks changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || { echo "error: mlops-kit needs Python 3.11 (found $("$PY" --version)). Fix: install 3.11 or set PYTHON=" >&2; exit 2; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.mlops-kit-lock
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages from requirements.lock (first run takes a minute)"
  .venv/bin/python -m pip install -q pip==25.3
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
want_npm=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat node_modules/.mlops-kit-lock 2>/dev/null)" != "$want_npm" ]; then
  echo "setup: installing cdktf-cli from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want_npm" > node_modules/.mlops-kit-lock
fi
