"""The checker as the kit seeds it: the templates repo's contract/ folder and the app repo's contract,
run as the pipeline step runs them, against the seeded model and a deliberately broken one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from infra.config import load_org
from infra.seeds import seed_files
from tests.conftest import ORG, team_named

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    org = load_org(ORG)
    files = seed_files(org, team_named(org))
    root = tmp_path_factory.mktemp("seeded")
    for repo in ("templates", "app"):
        for path, content in files[repo].items():
            if path.startswith("contract/") or path == "model-contract.json":
                (root / repo / path).parent.mkdir(parents=True, exist_ok=True)
                (root / repo / path).write_text(content)
    return root


def _verify(seeded, model_dir):
    env = {k: v for k, v in os.environ.items() if k != "TF_BUILD"}
    cmd = [sys.executable, str(seeded / "templates" / "contract" / "contract_check.py"), "verify"]
    cmd += ["--app", str(seeded / "app" / "model-contract.json"), "--model-dir", str(model_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_templates_repo_carries_the_verifier_beside_the_checker(seeded):
    assert sorted(p.name for p in (seeded / "templates" / "contract").iterdir()) == [
        "contract_check.py",
        "contract_verify.py",
        "model-contract.schema.json",
    ]


def test_seeded_app_and_model_pass_and_a_broken_model_names_the_interaction(seeded, models):
    ok = _verify(seeded, models("seeded"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = _verify(seeded, models("wrap-series"))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "BREAKING: interaction 'two customers, one without a region'" in broken.stdout
    assert "got a record with field(s) prediction" in broken.stdout


def _model_ci_verify_step(team_files):
    import yaml

    doc = yaml.safe_load(team_files["templates"]["pipelines/model-ci.yml"])
    (job,) = doc["stages"][0]["jobs"]
    names = [s.get("displayName", s.get("checkout", "")) for s in job["steps"]]
    return job, names


@pytest.fixture(scope="module")
def team_files():
    org = load_org(ORG)
    return seed_files(org, team_named(org))


def test_model_ci_verifies_the_sample_model_after_training_it(team_files):
    job, names = _model_ci_verify_step(team_files)
    assert "app" in names
    train = names.index("Train on the sample (a test only) and export the model contract")
    assert names.index("Verify the sample model against the app's recorded interactions") == train + 1
    publish = next(s for s in job["steps"] if s.get("task") == "PublishTestResults@2")
    assert "model-contract-interactions.xml" in publish["inputs"]["testResultsFiles"]


@pytest.mark.parametrize("model", ["seeded", "needs-tenure"])
def test_model_ci_verify_step_runs_as_the_agent_runs_it(team_files, seeded, models, tmp_path, model):
    """The step's bash, with the pipeline variables of a job workspace, on the seeded checkouts."""
    import shutil

    job, _ = _model_ci_verify_step(team_files)
    step = next(s for s in job["steps"] if s.get("displayName", "").startswith("Verify the sample model"))
    work = tmp_path / "work"
    for repo in ("templates", "app"):
        shutil.copytree(seeded / repo, work / repo)
    (work / "model").mkdir()
    shutil.copytree(models(model), work / "tmp" / "sample-model")
    script = (
        step["script"]
        .replace("$(Pipeline.Workspace)", str(work))
        .replace("$(Agent.TempDirectory)", str(work / "tmp"))
        .replace("$(Common.TestResultsDirectory)", str(work / "results"))
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_BUILD"}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        ["bash", "-c", script], cwd=work / "model", capture_output=True, text=True, env=env, timeout=120
    )
    assert (done.returncode, model) == ((0, "seeded") if model == "seeded" else (1, "needs-tenure")), done.stdout
    assert (work / "results" / "model-contract-interactions.xml").exists()
    if model != "seeded":
        assert "columns are missing: {'tenure'}" in done.stdout
