"""Fixtures for running the seeded pipelines: the rendered seed files, a clean venv, variable groups."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from infra.config import load_org
from infra.seeds import seed_files
from tests.conftest import ORG, team_named
from tests.pipelines.harness import Agent

MLMODEL = """flavors:
  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl}
signature:
  inputs: '[{"type": "long", "name": "age", "required": true}, {"type": "double", "name": "income", "required": true},
    {"type": "string", "name": "region", "required": false}]'
  outputs: '[{"type": "double", "name": "prediction", "required": true}]'
"""


@pytest.fixture(scope="session")
def team():
    org = load_org(ORG)
    return org, team_named(org)


@pytest.fixture(scope="session")
def seeds(team, tmp_path_factory) -> Path:
    """The example team's three repositories as the kit seeds them, on disk."""
    root = tmp_path_factory.mktemp("seeds")
    for repo, files in seed_files(*team).items():
        for path, content in files.items():
            (root / repo / path).parent.mkdir(parents=True, exist_ok=True)
            (root / repo / path).write_text(content)
    return root


@pytest.fixture(scope="session")
def clean_python(tmp_path_factory) -> Path:
    """bin/ of a venv with nothing installed: what UsePythonVersion@0 gives a job before its pip step."""
    venv = tmp_path_factory.mktemp("python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    return venv / "bin"


@pytest.fixture(scope="session")
def groups(team) -> dict[str, dict[str, str]]:
    """The variable groups `<team>-<env>` with the names the devops stack writes (stacks/devops.py)."""
    org, t = team
    out = {}
    for env in t.env_names:
        names, shared = org.namer(t, env), org.namer(t, t.registry.host_environment)
        lake = names.name("data_lake")
        trig = t.triggers.training
        out[f"{t.name}-{env}"] = {
            "AZURE_RESOURCE_GROUP": names.name("resource_group"),
            "AML_WORKSPACE": names.name("ml_workspace"),
            "AML_ENDPOINT": names.name("ml_endpoint"),
            "AML_COMPUTE": "cpu-cluster",
            "AML_REGISTRY": shared.name("ml_registry"),
            "TRAINING_DATA_ROOT": f"abfss://{trig.filesystem}@{lake}.dfs.core.windows.net/{trig.prefix}",
        }
    return out


@pytest.fixture()
def agent(tmp_path, seeds, groups, clean_python) -> Agent:
    repos = {"self": seeds / "model", "templates": seeds / "templates", "app": seeds / "app"}
    return Agent(root=tmp_path, repos=repos, groups=groups, python_bin=clean_python)


@pytest.fixture()
def model_files(tmp_path) -> Path:
    """An MLflow model folder (MLmodel with the starter model's signature), as `az ml model download` writes it."""
    folder = tmp_path / "model-files"
    folder.mkdir()
    (folder / "MLmodel").write_text(MLMODEL)
    (folder / "model.pkl").write_bytes(b"not a real pickle: never loaded here")
    return folder


def registered(files: Path, name: str, version: str, tags: dict[str, str]) -> dict:
    return {
        "name": name,
        "version": version,
        "tags": tags,
        "files": str(files),
        "creation_context": {"created_at": f"2025-12-31T00:00:{int(version) % 60:02d}"},
    }


def dump(obj) -> str:
    return json.dumps(obj)


@pytest.fixture()
def app_v1(tmp_path, seeds) -> Path:
    """The seeded app repo with a contractVersion 1 model-contract.json (fields only, no interactions)."""
    repo = tmp_path / "app-v1"
    shutil.copytree(seeds / "app", repo)
    contract = json.loads((repo / "model-contract.json").read_text())
    contract.pop("interactions")
    (repo / "model-contract.json").write_text(json.dumps({**contract, "contractVersion": 1}))
    return repo


@pytest.fixture(scope="session")
def mlflow_python(tmp_path_factory) -> Path:
    """bin/ of a venv that sees the kit's own packages (mlflow, scikit-learn): an agent after the model's
    requirements are installed. The pip step still runs; it finds every requirement already satisfied."""
    pytest.importorskip("mlflow")
    venv = tmp_path_factory.mktemp("mlflow-python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "kit-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


@pytest.fixture(scope="session")
def shop(tmp_path_factory):
    """Real MLflow models (tests/contract/scenario_models.py), each saved once per session."""
    pytest.importorskip("mlflow")
    from tests.contract.scenario_models import ModelShop

    return ModelShop(tmp_path_factory.mktemp("pipeline-models"))


@pytest.fixture()
def endpoints(agent):
    """Loopback scoring server for the stub's endpoints; `az ml online-endpoint show` points at it."""
    from tests.pipelines.scoring import Endpoints

    server = Endpoints(agent.az_state)
    agent.extra_env["AZ_STUB_SCORING_URI"] = server.uri
    yield server
    server.close()
