"""release: one model version through the registry, then blue/green on each endpoint, run step by step.

The stages' bash steps run as the agent runs them, with `az` replaced by a stub that enforces the
az ml reference (tests/pipelines/azstub.py): names 3-32 characters, required flags, no
`--all-traffic`, no traffic to a deployment that has not passed `invoke --deployment-name`.
Before this change the release failed here on its first run: `--all-traffic`, deployment `v3`
(2 characters) and `az ml model update --registry-name` without `--resource-group`.
"""

from __future__ import annotations

import pytest

from tests.pipelines.conftest import registered
from tests.pipelines.harness import StepFailed

PARAMS = {"modelName": "example-model", "modelVersion": "3", "environment": "dev", "eventId": "evt-1"}


@pytest.fixture()
def release(agent, groups, model_files, app_v1):
    """A release with an app contract of version 1: the signature check and the sample-request smoke test
    (the fallback; the interactions' live check is tests/pipelines/test_live_check.py)."""
    agent.repos["app"] = app_v1
    dev = groups["example-dev"]
    agent.seed_state(
        {
            "models": {
                f"workspace:{dev['AML_WORKSPACE']}": {
                    "example-model:3": registered(
                        model_files, "example-model", "3", {"job": "job-train-7", "data_asset": "d:1"}
                    )
                }
            }
        }
    )
    return agent


def commands(agent, prefix: str = "ml online") -> list[tuple[str, dict]]:
    return [(c["command"], c["flags"]) for c in agent.calls() if c.get("command", "").startswith(prefix)]


def test_first_release_shares_once_then_deploys_blue_green_with_the_smoke_test_first(release, seeds, groups):
    release.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS)
    assert all(c["ok"] for c in release.calls()), [c for c in release.calls() if not c["ok"]]
    state = release.state()
    registry = groups["example-staging"]["AML_REGISTRY"]
    shared = state["models"][f"registry:{registry}"]
    assert list(shared) == ["example-model:4242"]  # registry-unique: this run's build id, not the workspace's 3
    assert shared["example-model:4242"]["tags"]["source"] == "job-train-7"
    for env in ("staging", "prod"):
        endpoint = state["endpoints"][groups[f"example-{env}"]["AML_ENDPOINT"]]
        assert endpoint["traffic"] == {"blue": 100}
        assert (
            endpoint["deployments"]["blue"]["model"]
            == f"azureml://registries/{registry}/models/example-model/versions/4242"
        )
    # In each environment: create at 0%, smoke-test that slot, then move traffic, then smoke-test the endpoint.
    staging = [
        (c, f)
        for c, f in commands(release)
        if f.get("--workspace-name") == [groups["example-staging"]["AML_WORKSPACE"]]
    ]
    order = [
        c + (" --deployment-name" if "--deployment-name" in f else "")
        for c, f in staging
        if "list" not in c and "show" not in c
    ]
    assert order == [
        "ml online-endpoint create",
        "ml online-deployment create",
        "ml online-endpoint invoke --deployment-name",
        "ml online-endpoint update",
        "ml online-endpoint invoke",
    ]
    warnings = [r["stdout"] for r in release.log if "records no interactions" in r["stdout"]]
    assert len(warnings) == 3  # Candidate (no verify), Deploy_staging and Deploy_prod (smoke test only)
    assert not [c for c in release.calls() if c["command"] == "account get-access-token"]


def test_the_share_runs_as_the_staging_identity_only(seeds):
    import yaml

    doc = yaml.safe_load((seeds / "templates" / "pipelines" / "release.yml").read_text())
    share = next(s for s in doc["stages"] if s["stage"] == "Share")
    step = next(s for s in share["jobs"][0]["steps"] if s.get("task") == "AzureCLI@2")
    assert step["inputs"]["azureSubscription"] == "arm-staging"
    writes = [
        s
        for st in doc["stages"]
        if st["stage"] != "Share"
        for j in st["jobs"]
        for s in (j.get("steps") or j["strategy"]["runOnce"]["deploy"]["steps"])
        if "--registry-name" in s.get("inputs", {}).get("inlineScript", "")
        and "model create" in s.get("inputs", {}).get("inlineScript", "")
    ]
    assert writes == []


def test_second_release_goes_to_the_idle_slot_and_deletes_the_old_one(release, seeds, groups):
    release.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS)
    release.build_id = "4243"
    release.seed_state(
        release.state()
        | {
            "models": {
                **release.state()["models"],
                **{
                    f"workspace:{groups['example-dev']['AML_WORKSPACE']}": {
                        **release.state()["models"][f"workspace:{groups['example-dev']['AML_WORKSPACE']}"],
                        "example-model:4": {
                            **release.state()["models"][f"workspace:{groups['example-dev']['AML_WORKSPACE']}"][
                                "example-model:3"
                            ],
                            "version": "4",
                            "tags": {"job": "job-train-8"},
                        },
                    }
                },
            }
        }
    )
    release.run(seeds / "templates" / "pipelines" / "release.yml", {**PARAMS, "modelVersion": "4"})
    endpoint = release.state()["endpoints"][groups["example-prod"]["AML_ENDPOINT"]]
    assert endpoint["traffic"] == {"green": 100} and list(endpoint["deployments"]) == ["green"]
    assert endpoint["deployments"]["green"]["model"].endswith("/versions/4243")


def test_a_replayed_event_reuses_the_shared_version_and_a_rerun_changes_nothing(release, seeds, groups):
    release.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS)
    before = release.state()
    release.build_id = "5000"  # the replay is a new run: a new build id, the same source job
    release.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS)
    after = release.state()
    registry = groups["example-staging"]["AML_REGISTRY"]
    assert list(after["models"][f"registry:{registry}"]) == ["example-model:4242"]
    assert after["endpoints"] == before["endpoints"]
    assert any("nothing to do" in r["stdout"] for r in release.log if r["stage"] == "Deploy_prod")


def test_a_failed_smoke_test_keeps_the_live_slot_and_removes_the_new_one(release, seeds, groups):
    release.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS)
    release.build_id = "4243"
    workspace = f"workspace:{groups['example-dev']['AML_WORKSPACE']}"
    state = release.state()
    state["models"][workspace]["example-model:4"] = {
        **state["models"][workspace]["example-model:3"],
        "version": "4",
        "tags": {"job": "job-train-9"},
    }
    release.seed_state(state)
    release.extra_env["AZ_STUB_BROKEN"] = "green"
    with pytest.raises(StepFailed, match="failed its live check"):
        release.run(seeds / "templates" / "pipelines" / "release.yml", {**PARAMS, "modelVersion": "4"})
    endpoint = release.state()["endpoints"][groups["example-staging"]["AML_ENDPOINT"]]
    assert endpoint["traffic"] == {"blue": 100} and list(endpoint["deployments"]) == ["blue"]
    # Re-running after the fix deploys it.
    release.extra_env.pop("AZ_STUB_BROKEN")
    release.run(
        seeds / "templates" / "pipelines" / "release.yml",
        {**PARAMS, "modelVersion": "4"},
        stages=["Candidate", "Share", "Deploy_staging"],
    )
    endpoint = release.state()["endpoints"][groups["example-staging"]["AML_ENDPOINT"]]
    assert endpoint["traffic"] == {"green": 100}


def test_a_model_that_breaks_the_app_contract_never_reaches_the_registry(release, seeds, groups, model_files):
    (model_files / "MLmodel").write_text(
        (model_files / "MLmodel").read_text().replace('"name": "income"', '"name": "salary"')
    )
    with pytest.raises(StepFailed, match="Candidate"):
        release.run(seeds / "templates" / "pipelines" / "release.yml", PARAMS)
    assert not [c for c in release.calls() if c.get("command") == "ml model create"]
