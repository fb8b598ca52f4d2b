"""shared/tools/tf-schema-check finds no problem in a stack that uses every azuredevops binding."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ._paths import SCHEMA_CHECK

pytestmark = pytest.mark.skipif(
    not SCHEMA_CHECK.is_file(), reason=f"tf-schema-check not found at {SCHEMA_CHECK} (shared/ is not beside the repo)"
)


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCHEMA_CHECK), str(path)], capture_output=True, text=True)


def test_every_azuredevops_binding_passes_the_schema_check(bindings_out, ado_doc):
    run = run_check(bindings_out / "stacks" / "ado")
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout
    assert summary.endswith(": 0 problems"), summary
    instances = sum(len(v) for section in ("resource", "data") for v in ado_doc[section].values())
    checked, total = re.search(r"(\d+)/(\d+) blocks checked", summary).groups()
    assert int(checked) == int(total) == instances, summary


def test_the_schema_check_would_catch_a_wrong_argument(bindings_out, tmp_path):
    """Control: the same stack with a misspelt argument and a missing block fails the check."""
    doc = json.loads((bindings_out / "stacks" / "ado" / "cdk.tf.json").read_text())
    doc["resource"]["azuredevops_project"]["project"]["visiblity"] = "private"
    del doc["resource"]["azuredevops_git_repository"]["model_repo"]["initialization"]
    broken = tmp_path / "cdk.tf.json"
    broken.write_text(json.dumps(doc))
    run = run_check(broken)
    assert run.returncode == 1
    assert "'visiblity' is not an argument" in run.stdout
    assert "required block 'initialization' is missing" in run.stdout
