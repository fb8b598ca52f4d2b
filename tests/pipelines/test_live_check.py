"""The live check: release and app-ci replay the app's recorded interactions against real deployments.

The deployments are a loopback HTTP server on 127.0.0.1 (tests/pipelines/scoring.py) that answers, like
an aad_token Azure ML endpoint, with the real MLflow model the `az` stub deployed, through MLflow's
scoring code. `replay` runs as the pipeline runs it, a real process with the token in its environment.
The release's Candidate stage installs the model's requirements.txt (already satisfied in `mlflow_python`)
and `verify`s the downloaded candidate. Before this change the release smoke-tested the idle slot with one
sample request (row count only), and app-ci compared signatures only: every failure below passed.
"""

from __future__ import annotations

import pytest

from tests.pipelines.azstub import token_for
from tests.pipelines.conftest import registered
from tests.pipelines.harness import StepFailed

PARAMS = {"modelName": "example-model", "modelVersion": "3", "environment": "dev", "eventId": "evt-1"}
TOKEN = token_for("https://ml.azure.com")
pytestmark = pytest.mark.filterwarnings("ignore")


def everything_printed(agent) -> str:
    return "".join(r["stdout"] + r["stderr"] for r in agent.log)


def serving(groups, env: str, deployments: dict[str, str], traffic: dict[str, int]) -> dict:
    """An endpoint in `env` whose deployments serve registry versions of example-model."""
    g = groups[f"example-{env}"]
    base = f"azureml://registries/{g['AML_REGISTRY']}/models/example-model/versions/"
    return {
        g["AML_ENDPOINT"]: {
            "workspace": g["AML_WORKSPACE"],
            "traffic": traffic,
            "auth_mode": "aad_token",
            "deployments": {n: {"model": base + v, "instance_type": "Standard_DS3_v2"} for n, v in deployments.items()},
        }
    }


def test_release_verifies_the_candidate_and_replays_the_app_against_the_idle_slot_before_traffic_moves(
    agent, seeds, groups, shop, mlflow_python, endpoints
):
    agent.python_bin = mlflow_python
    dev = groups["example-dev"]
    model = registered(shop("seeded"), "example-model", "3", {"job": "job-train-7"})
    agent.seed_state({"models": {f"workspace:{dev['AML_WORKSPACE']}": {"example-model:3": model}}})
    agent.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS)
    assert all(c["ok"] for c in agent.calls()), [c for c in agent.calls() if not c["ok"]]
    verify = next(r for r in agent.log if r["step"].startswith("Verify the candidate"))
    assert "COMPATIBLE: the app's 2 interaction(s) got answers it can read from model" in verify["stdout"]
    for env in ("staging", "prod"):
        g = groups[f"example-{env}"]
        assert agent.state()["endpoints"][g["AML_ENDPOINT"]]["traffic"] == {"blue": 100}
        staging = [c for c in agent.calls() if c["flags"].get("--workspace-name") == [g["AML_WORKSPACE"]]]
        order = [
            c["command"]
            for c in staging
            if c["command"] in ("ml online-deployment create", "ml online-endpoint update")
        ]
        assert order == ["ml online-deployment create", "ml online-endpoint update"]
        assert not [c for c in staging if c["command"] == "ml online-endpoint invoke"]  # replay, not the sample
    # Per environment: the two interactions to the idle slot by name, then two through the endpoint's traffic.
    routed = [(r["path"], r["headers"].get("azureml-model-deployment")) for r in endpoints.requests]
    staging_path = f"/{groups['example-staging']['AML_ENDPOINT']}/score"
    assert routed[:4] == [(staging_path, "blue")] * 2 + [(staging_path, None)] * 2
    assert len(routed) == 8 and all(r["headers"]["authorization"] == f"Bearer {TOKEN}" for r in endpoints.requests)
    tokens = [c for c in agent.calls() if c["command"] == "account get-access-token"]
    assert tokens and all(c["flags"]["--resource"] == ["https://ml.azure.com"] for c in tokens)
    assert TOKEN not in everything_printed(agent)


def test_a_live_slot_that_breaks_the_app_never_gets_traffic_and_is_removed(agent, seeds, groups, shop, endpoints):
    """The candidate gate passed (or was bypassed), but the deployed slot answers records: replay exits 1."""
    g = groups["example-staging"]
    registry = f"registry:{g['AML_REGISTRY']}"
    agent.seed_state(
        {
            "endpoints": serving(groups, "staging", {"blue": "8"}, {"blue": 100}),
            "models": {
                registry: {
                    "example-model:8": registered(shop("seeded"), "example-model", "8", {}),
                    "example-model:9": registered(shop("wrap-frame2"), "example-model", "9", {}),
                }
            },
        }
    )
    agent.outputs[("Share", "Share", "share", "version")] = "9"
    with pytest.raises(StepFailed, match="green failed its live check"):
        agent.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS, stages=["Deploy_staging"])
    out = everything_printed(agent)
    assert "BREAKING: " in out and "got a record with field(s) prediction, interval" in out
    endpoint = agent.state()["endpoints"][g["AML_ENDPOINT"]]
    assert endpoint["traffic"] == {"blue": 100} and list(endpoint["deployments"]) == ["blue"]
    assert not [c for c in agent.calls() if c["command"] == "ml online-endpoint update"]
    assert [r["headers"].get("azureml-model-deployment") for r in endpoints.requests] == ["green", "green"]
    assert TOKEN not in everything_printed(agent)


def test_a_candidate_whose_answers_break_the_app_never_reaches_the_registry(agent, seeds, groups, shop, mlflow_python):
    """Its signature passes the static check (an output added), but its answers turn into records."""
    agent.python_bin = mlflow_python
    dev = groups["example-dev"]
    model = registered(shop("wrap-frame2"), "example-model", "3", {"job": "job-train-7"})
    agent.seed_state({"models": {f"workspace:{dev['AML_WORKSPACE']}": {"example-model:3": model}}})
    with pytest.raises(StepFailed, match="Verify the candidate") as failed:
        agent.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS)
    assert "interaction 'two customers, one without a region'" in str(failed.value)
    check = next(r for r in agent.log if r["step"].startswith("Download the candidate"))
    assert check["rc"] == 0  # the static stage alone would have let it through
    assert not [c for c in agent.calls() if c["command"] in ("ml model create", "ml online-deployment create")]


def test_app_ci_replays_the_app_against_each_live_deployment_and_fails_on_a_break(
    agent, seeds, groups, shop, endpoints
):
    agent.repos["self"] = seeds / "app"
    staging, prod = groups["example-staging"], groups["example-prod"]
    assert staging["AML_REGISTRY"] == prod["AML_REGISTRY"]
    agent.seed_state(
        {
            "endpoints": {
                **serving(groups, "staging", {"blue": "8"}, {"blue": 100}),
                **serving(groups, "prod", {"blue": "8", "green": "9"}, {"blue": 90, "green": 10}),
            },
            "models": {
                f"registry:{staging['AML_REGISTRY']}": {
                    "example-model:8": registered(shop("seeded"), "example-model", "8", {}),
                    "example-model:9": registered(shop("wrap-frame2"), "example-model", "9", {}),
                }
            },
        }
    )
    with pytest.raises(StepFailed) as failed:
        agent.run(seeds / "templates" / "pipelines" / "app-ci.yml", stages=["ContractCheck"])
    assert "prod" in str(failed.value)
    out = everything_printed(agent)
    assert "staging: replaying the app's interactions against blue" in out
    assert "prod: replaying the app's interactions against green" in out
    assert "BREAKING: " in out and "(deployment green) gives answers the app cannot use" in out
    assert "checked against 3 live model(s) on 2 released environment(s)" in out
    routed = [(r["path"], r["headers"].get("azureml-model-deployment")) for r in endpoints.requests]
    assert routed == [(f"/{staging['AML_ENDPOINT']}/score", "blue")] * 2 + [
        (f"/{prod['AML_ENDPOINT']}/score", d) for d in ("blue", "blue", "green", "green")
    ]
    assert TOKEN not in everything_printed(agent)
