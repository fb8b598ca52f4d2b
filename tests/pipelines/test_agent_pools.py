"""Each stage runs on its environment's agent pool; a private environment without one is one config error."""

from __future__ import annotations

import yaml

from infra.config import ConfigError, load_org
from tests.conftest import ORG


def test_a_private_environment_without_an_agent_pool_is_one_line(make_teams):
    text = (ORG / "example.yaml").read_text().replace("    agent_pool: example-prod-agents", "    # no pool")
    teams = make_teams({"example.yaml": text})
    try:
        load_org(teams)
    except ConfigError as e:
        (line,) = [x for x in e.lines if "agent_pool" in x]
        assert line.startswith(f"{teams / 'example.yaml'}: environments.prod.agent_pool:") and "Fix:" in line
    else:
        raise AssertionError("a private environment without agent_pool was accepted")


def test_stages_pick_their_environments_pool(seeds):
    release = yaml.safe_load((seeds / "templates" / "pipelines" / "release.yml").read_text())
    pools = {s["stage"]: s["pool"] for s in release["stages"]}
    assert pools["Deploy_prod"] == {"name": "example-prod-agents"}  # private prod: its pool inside the VNet
    assert pools["Deploy_staging"] == pools["Share"] == {"vmImage": "ubuntu-24.04"}
    assert pools["Candidate"] == {  # chosen at compile time from the run's `environment`
        "${{ if eq(parameters.environment, 'dev') }}": {"vmImage": "ubuntu-24.04"},
        "${{ if eq(parameters.environment, 'staging') }}": {"vmImage": "ubuntu-24.04"},
        "${{ if eq(parameters.environment, 'prod') }}": {"name": "example-prod-agents"},
    }
    for name in ("model-ci", "app-ci"):
        doc = yaml.safe_load((seeds / "templates" / "pipelines" / f"{name}.yml").read_text())
        assert {str(s["pool"]) for s in doc["stages"]} == {str({"vmImage": "ubuntu-24.04"})}


def test_every_job_sets_up_python_before_any_pip_install(seeds):
    for path in sorted((seeds / "templates" / "pipelines").glob("*.yml")):
        for stage in yaml.safe_load(path.read_text())["stages"]:
            for job in stage["jobs"]:
                steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
                text = [yaml.safe_dump(s) for s in steps]
                pip = [i for i, t in enumerate(text) if "pip install" in t]
                python = [i for i, s in enumerate(steps) if s.get("task") == "UsePythonVersion@0"]
                assert not pip or (python and python[0] < pip[0]), (path.name, stage["stage"])
                assert not any("python3 -m pip" in t for t in text), (path.name, stage["stage"])
