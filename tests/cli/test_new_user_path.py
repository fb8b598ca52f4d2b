"""A new user's first hour, through the real `mlops-kit` entry point: new-team -> validate -> synth.

Runs in fresh interpreters like a shell session would, on a copy of the fixture org, and synthesizes only the
new team's stacks into a temporary folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from tests.conftest import ORG, REPO

G = "cccccccc-0000-0000-0000-00000000000"
SUB = "dddddddd-0000-0000-0000-0000000000"


def mlops_kit(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scripts.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def test_new_team_validate_synth(tmp_path):
    teams = tmp_path / "teams"
    shutil.copytree(ORG, teams)
    created = mlops_kit(
        "new-team", "churn", "--teams", teams, "--yes",
        "--display-name", "Churn prediction", "--cost-center", "CC-7",
        "--data-scientists", G + "1", "--app-developers", G + "2", "--approvers", G + "3",
        "--dev-subscription", SUB + "01", "--prod-subscription", SUB + "03",
    )
    assert created.returncode == 0, created.stderr
    assert f"created {teams}/churn.yaml" in created.stdout

    validated = mlops_kit("validate", "--teams", teams)
    assert validated.returncode == 0, validated.stderr
    assert "2 team file(s): churn, example" in validated.stdout

    packaged = mlops_kit("package")  # the trigger function's zip: built, or up to date (no pip)
    assert packaged.returncode == 0 and packaged.stdout.startswith("ok "), packaged.stderr

    out = tmp_path / "cdktf.out"
    synthesized = mlops_kit("synth", "churn-*", "--teams", teams, "--out", out)
    assert synthesized.returncode == 0, synthesized.stderr
    stacks = sorted(p.name for p in (out / "stacks").iterdir())
    assert stacks == ["churn-dev", "churn-devops", "churn-prod", "churn-shared"]
    for stack in stacks:
        assert stack in synthesized.stdout  # the per-stack summary
        doc = json.loads((out / "stacks" / stack / "cdk.tf.json").read_text())
        assert doc["resource"], stack
    dev = json.loads((out / "stacks" / "churn-dev" / "cdk.tf.json").read_text())
    assert dev["terraform"]["backend"]["azurerm"]["key"] == "churn-dev.tfstate"
    assert "Traceback" not in created.stderr + validated.stderr + packaged.stderr + synthesized.stderr
