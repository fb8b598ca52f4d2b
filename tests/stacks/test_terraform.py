"""The synthesized stacks against Terraform itself, as far as this machine allows.

- tf-schema-check (from ../shared, when present): every argument and block against the real
  provider schemas, offline.
- terraform validate: needs the provider binaries. The Terraform registry is unreachable here, so
  it runs only when MLOPS_KIT_TF_PLUGIN_DIR points at a `terraform providers mirror` folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SHARED

SCHEMA_CHECK = SHARED / "tools" / "tf-schema-check"
PLUGIN_DIR_VAR = "MLOPS_KIT_TF_PLUGIN_DIR"


@pytest.mark.skipif(not SCHEMA_CHECK.exists(), reason=f"{SCHEMA_CHECK} not present (only in the kit's own workspace)")
def test_schema_check_reports_no_problems(example_out):
    proc = subprocess.run([str(SCHEMA_CHECK), str(example_out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ": 0 problems" in proc.stdout


def _plugin_dir() -> Path | None:
    raw = os.environ.get(PLUGIN_DIR_VAR)
    if not raw:
        return None
    path = Path(raw)
    return path if any(path.glob("registry.terraform.io/hashicorp/azurerm/4.55.0")) else None


@pytest.mark.skipif(
    _plugin_dir() is None or shutil.which("terraform") is None,
    reason=f"terraform validate needs the azurerm 4.55.0 provider binary, which cannot be downloaded here "
    f"(no registry access): set {PLUGIN_DIR_VAR} to a `terraform providers mirror` folder to run it",
)
@pytest.mark.parametrize("stack", ["example-dev", "example-prod", "platform-bootstrap"])
def test_terraform_validate(example_out, tmp_path, stack):
    work = tmp_path / stack
    shutil.copytree(example_out / "stacks" / stack, work)
    env = {**os.environ, "TF_IN_AUTOMATION": "1"}
    init = subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", f"-plugin-dir={_plugin_dir()}"],
        cwd=work, capture_output=True, text=True, timeout=300, env=env,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    validate = subprocess.run(["terraform", "validate", "-no-color"], cwd=work, capture_output=True, text=True, env=env)
    assert validate.returncode == 0, validate.stdout + validate.stderr
