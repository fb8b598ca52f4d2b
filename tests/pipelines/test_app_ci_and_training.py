"""app-ci reads what is live from endpoint traffic; training registers data, a pinned environment, and gates on the champion.

Steps run as the agent runs them (tests/pipelines/harness.py) with the recording `az` stub.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.pipelines.conftest import registered
from tests.pipelines.harness import StepFailed


@pytest.fixture()
def app_agent(agent, app_v1):
    """app-ci in an app repo whose contract has no interactions: the static check only (with a warning);
    the replay against live deployments is tests/pipelines/test_live_check.py."""
    agent.repos["self"] = app_v1  # app-ci lives in the app repo
    return agent


def live_endpoint(groups, env: str, registry_version: str | None, traffic: int = 100) -> dict:
    g = groups[f"example-{env}"]
    model = f"azureml://registries/{g['AML_REGISTRY']}/models/example-model/versions/{registry_version}"
    return {
        g["AML_ENDPOINT"]: {
            "workspace": g["AML_WORKSPACE"],
            "traffic": {"blue": traffic},
            "deployments": {"blue": {"model": model, "instance_type": "Standard_DS3_v2"}},
        }
    }


def test_app_ci_checks_the_model_that_takes_traffic(app_agent, seeds, groups, model_files):
    registry = groups["example-staging"]["AML_REGISTRY"]
    app_agent.seed_state(
        {
            "endpoints": live_endpoint(groups, "staging", "7"),
            "models": {f"registry:{registry}": {"example-model:7": registered(model_files, "example-model", "7", {})}},
        }
    )
    app_agent.run(seeds / "templates" / "pipelines" / "app-ci.yml", stages=["ContractCheck"])
    out = "".join(r["stdout"] for r in app_agent.log)
    assert "staging: checking against example-model:7 (blue)" in out and "prod: no endpoint" in out
    assert "checked against 1 live model(s) on 1 released environment(s)" in out
    assert "records no interactions: the live models get the static check only" in out


def test_app_ci_fails_when_an_endpoint_serves_nothing(app_agent, seeds, groups):
    app_agent.seed_state({"endpoints": live_endpoint(groups, "prod", "7", traffic=0)})
    with pytest.raises(StepFailed, match="exists but no deployment takes traffic"):
        app_agent.run(seeds / "templates" / "pipelines" / "app-ci.yml", stages=["ContractCheck"])


def test_app_ci_fails_when_the_live_model_breaks_the_app(app_agent, seeds, groups, model_files):
    (model_files / "MLmodel").write_text(
        (model_files / "MLmodel").read_text().replace('"name": "age"', '"name": "years"')
    )
    registry = groups["example-prod"]["AML_REGISTRY"]
    app_agent.seed_state(
        {
            "endpoints": live_endpoint(groups, "prod", "9"),
            "models": {f"registry:{registry}": {"example-model:9": registered(model_files, "example-model", "9", {})}},
        }
    )
    with pytest.raises(StepFailed):
        app_agent.run(seeds / "templates" / "pipelines" / "app-ci.yml", stages=["ContractCheck"])


def training_run(agent, seeds, groups, model_files, evaluation: dict, champion: bool):
    g = groups["example-dev"]
    state = {}
    if champion:
        state["models"] = {
            f"registry:{g['AML_REGISTRY']}": {"example-model:11": registered(model_files, "example-model", "11", {})}
        }
    agent.seed_state(state)
    agent.extra_env |= {"AZ_STUB_JOB_MODEL": str(model_files), "AZ_STUB_EVALUATION": json.dumps(evaluation)}
    agent.run(
        seeds / "templates" / "pipelines" / "training.yml",
        {"dataPath": g["TRAINING_DATA_ROOT"] + "2026/01/", "eventId": "evt-9", "environment": "dev"},
    )
    return agent.state()


def test_training_registers_data_and_a_pinned_environment_and_links_the_model_to_both(
    agent, seeds, groups, model_files
):
    state = training_run(
        agent, seeds, groups, model_files, {"candidate": {"rmse": 0.9}, "champion": {"rmse": 1.0}}, True
    )
    from infra.seeds import TRAINING_IMAGE

    conda = (seeds / "model" / "environment" / "conda.yml").read_bytes()
    env_version = hashlib.sha256(conda + TRAINING_IMAGE.encode()).hexdigest()[:16]
    assert list(state["environments"]) == [f"example-model-train:{env_version}"]
    assert list(state["data"]) == ["example-model-data:4242"]
    job = next(iter(state["jobs"].values()))["spec"]
    assert job["environment"] == f"azureml:example-model-train:{env_version}" and "@latest" not in json.dumps(job)
    assert job["inputs"]["training_data"]["path"] == "azureml:example-model-data:4242"
    assert job["inputs"]["champion"]["path"].endswith("/models/example-model/versions/11")
    model = state["models"][f"workspace:{groups['example-dev']['AML_WORKSPACE']}"]["example-model:1"]
    assert model["tags"]["data_asset"] == "example-model-data:4242" and model["tags"]["job"] == "job-0001"


def test_training_keeps_the_champion_when_the_candidate_is_worse(agent, seeds, groups, model_files):
    state = training_run(
        agent, seeds, groups, model_files, {"candidate": {"rmse": 1.2}, "champion": {"rmse": 1.0}}, True
    )
    assert not state["models"].get(f"workspace:{groups['example-dev']['AML_WORKSPACE']}")
    assert any("not registered: keep" in r["stdout"] for r in agent.log)


def test_training_refuses_data_outside_the_environments_lake(agent, seeds, groups, model_files):
    agent.extra_env |= {"AZ_STUB_JOB_MODEL": str(model_files), "AZ_STUB_EVALUATION": "{}"}
    other = groups["example-prod"]["TRAINING_DATA_ROOT"]
    with pytest.raises(StepFailed, match="outside this environment's training data"):
        agent.run(
            seeds / "templates" / "pipelines" / "training.yml",
            {"dataPath": other + "x/", "eventId": "evt-9", "environment": "dev"},
        )
    assert agent.calls() == []


def test_model_ci_contract_check_needs_no_install(agent, seeds):
    """The ContractCheck stage runs the stdlib checker in the clean venv: nothing installed, nothing needed."""
    agent.artifacts.mkdir(parents=True)
    (agent.artifacts / "contract").mkdir()
    (agent.artifacts / "contract" / "model-contract.model.json").write_text(
        (seeds / "model" / "contract" / "model-contract.model.json").read_text()
    )
    agent.run(seeds / "templates" / "pipelines" / "model-ci.yml", stages=["ContractCheck"])
    assert agent.log[-1]["rc"] == 0
