"""model-ci end to end, installs included: opt-in, because its pip step downloads ~500 MB (mlflow, sklearn, pandas).

    MLOPS_KIT_PIPELINE_INSTALLS=1 .venv/bin/python -m pytest tests/pipelines/test_model_ci_full.py -q

Runs every bash step of the rendered model-ci in a fresh venv, as the hosted agent does after
UsePythonVersion@0: install requirements.txt + requirements-dev.txt, ruff, the model repo's own tests
(train.py on a missing `age`, a folder without CSVs, the declared signature, the champion score,
conda.yml == requirements.txt), the sample training run, then the contract check in a second clean
venv with nothing installed. The default suite covers the contract stage alone (test_app_ci_and_training.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("MLOPS_KIT_PIPELINE_INSTALLS") != "1",
    reason="downloads the model's pinned requirements: set MLOPS_KIT_PIPELINE_INSTALLS=1",
)


def test_model_ci_runs_green_in_a_fresh_venv(agent, seeds, tmp_path):
    venv = tmp_path / "agent-python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    agent.python_bin = venv / "bin"
    agent.step_timeout = 3600  # the install step downloads and unpacks mlflow, sklearn, pandas
    agent.run(seeds / "templates" / "pipelines" / "model-ci.yml")
    assert [r["rc"] for r in agent.log] == [0] * len(agent.log)
    assert (agent.artifacts / "contract" / "model-contract.model.json").exists()
