"""Helpers shared by the contract tests (a uniquely named module, so that importing it can
never pick up another directory's conftest)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTRACT_DIR = REPO / "infra" / "assets" / "contract"
SCRIPT = CONTRACT_DIR / "contract_check.py"
SCHEMA_FILE = CONTRACT_DIR / "model-contract.schema.json"
EXAMPLE_APP = CONTRACT_DIR / "examples" / "app-model-contract.json"
EXAMPLE_MODEL = CONTRACT_DIR / "examples" / "model-contract.model.json"


def load_script():
    name = "contract_check_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def field(doc, side, name):
    return next(f for f in doc[side] if f["name"] == name)


class Result:
    def __init__(self, code, out, err, junit=None):
        self.code, self.out, self.err, self.junit = code, out, err, junit

    def lines_about(self, side, name):
        prefix = f"{side} '{name}':"
        return [line.strip()[2:] for line in self.out.splitlines() if line.strip().startswith(f"- {prefix}")]


def run_cli(*args, cwd=None, env=None):
    """Run the script as a real process with the test interpreter."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
