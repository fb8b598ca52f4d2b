"""Least-privilege roles of one environment (infra/identity.py's role table), read from the synthesized JSON."""

from __future__ import annotations

import json

import pytest

from infra.identity import LIVE_MODEL_CHECK_ACTIONS
from tests.conftest import resources
from tests.stacks.test_environment_security import workspace_address

ENV_STACKS = ("example-dev", "example-staging", "example-prod")
DATA_SCIENTISTS = "11111111-1111-1111-1111-111111111111"
WORKSPACE_ROLES = {"Storage Blob Data Contributor", "Storage File Data Privileged Contributor"}


def _grants(stack: dict) -> list[dict]:
    return list(resources(stack, "azurerm_role_assignment").values())


def _address(stack: dict, rtype: str, name_prefix: str) -> str:
    (address,) = [a for a, r in resources(stack, rtype).items() if str(r.get("name", "")).startswith(name_prefix)]
    return address


def _principals(stack: dict) -> dict[str, str]:
    pipeline = _address(stack, "azurerm_user_assigned_identity", "id-mlk-example-pipelines-")
    (compute,) = resources(stack, "azurerm_machine_learning_compute_cluster")
    return {
        "pipeline": "${azurerm_user_assigned_identity." + pipeline + ".principal_id}",
        "compute": "${azurerm_machine_learning_compute_cluster." + compute + ".identity[0].principal_id}",
        "data scientists": DATA_SCIENTISTS,
    }


def _workspace_storage(stack: dict) -> str:
    return "${azurerm_storage_account." + _address(stack, "azurerm_storage_account", "stmlkexample") + ".id}"


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_identity_datastores_roles_on_the_workspace_storage(example, stack_name):
    """Shared keys off + identity datastores: uploads, `az ml model create --path` and Studio need both roles."""
    stack = example[stack_name]
    storage = _workspace_storage(stack)
    principals = _principals(stack)
    users = ("pipeline", "compute", "data scientists") if stack_name == "example-dev" else ("pipeline", "compute")
    for who in users:
        roles = {g["role_definition_name"] for g in _grants(stack)
                 if g["principal_id"] == principals[who] and g["scope"] == storage}
        assert roles == WORKSPACE_ROLES, (stack_name, who)
    if stack_name != "example-dev":  # data scientists only read staging and prod (Reader on the resource group)
        assert not [g for g in _grants(stack) if g["principal_id"] == DATA_SCIENTISTS and g["scope"] == storage]


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_no_acr_push(example, stack_name):
    """Nothing pushes images (the seeded pipelines submit jobs and deployments); the compute still pulls."""
    stack = example[stack_name]
    roles = [(g.get("role_definition_name"), g["principal_id"]) for g in _grants(stack)]
    assert not [r for r, _ in roles if r in {"AcrPush", "Contributor", "Owner"}]
    assert ("AcrPull", _principals(stack)["compute"]) in roles


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_lake_roles_sit_on_the_filesystems_never_the_account_or_dead_letter(example, stack_name):
    stack = example[stack_name]
    containers = resources(stack, "azurerm_storage_container")
    lake = _address(stack, "azurerm_storage_account", "dlsmlkexample")
    filesystems = {"${azurerm_storage_container." + a + ".id}": c["name"] for a, c in containers.items()
                   if c["storage_account_id"] == "${azurerm_storage_account." + lake + ".id}"
                   and c["name"] != "eventgrid-deadletter"}
    assert sorted(filesystems.values()) == ["curated", "raw"]
    principals = _principals(stack)
    lake_refs = ("azurerm_storage_account." + lake + ".", "eventgrid-deadletter", "data_lake_dead_letter")
    ours = set(principals.values())
    for g in _grants(stack):
        if g["principal_id"] in ours:  # the trigger's and Event Grid's own grants are infra/triggers.py's
            assert not any(x in g["scope"] for x in lake_refs), g
    expected = {(principals["pipeline"], "Storage Blob Data Reader"), (principals["compute"], "Storage Blob Data Reader")}
    if stack_name == "example-dev":  # data scientists land and curate data in dev
        expected.add((DATA_SCIENTISTS, "Storage Blob Data Contributor"))
    for scope in filesystems:
        assert {(g["principal_id"], g["role_definition_name"]) for g in _grants(stack) if g["scope"] == scope} == expected


@pytest.mark.parametrize("stack_name", ["example-staging", "example-prod"])
def test_app_ci_can_read_the_live_models_of_later_environments(example, stack_name):
    """app-ci (arm-dev) reads staging's and prod's endpoints: the dev pipeline identity gets Reader there."""
    stack = example[stack_name]
    (lookup_address,) = [a for a, d in stack["data"]["azapi_resource"].items() if "dev_pipeline_identity" in a]
    lookup = stack["data"]["azapi_resource"][lookup_address]
    assert lookup["resource_id"].endswith("/userAssignedIdentities/id-mlk-example-pipelines-dev")
    assert "/resourceGroups/rg-mlk-example-dev/" in lookup["resource_id"]
    readers = [g for g in _grants(stack) if lookup_address in g["principal_id"]]
    assert len(readers) == 1 and readers[0]["scope"] == "${azapi_resource." + workspace_address(stack) + ".id}"
    (definition_address,) = [a for a in resources(stack, "azurerm_role_definition") if "live_model_reader" in a]
    assert readers[0]["role_definition_id"] == (
        "${azurerm_role_definition." + definition_address + ".role_definition_resource_id}")
    (permissions,) = resources(stack, "azurerm_role_definition")[definition_address]["permissions"]
    # list/show endpoints and deployments, and score them (replay): nothing that writes or reads keys
    assert sorted(permissions["actions"]) == sorted(LIVE_MODEL_CHECK_ACTIONS)
    assert all(a.endswith(("/read", "/score/action")) for a in permissions["actions"])
    assert not permissions.get("data_actions")


def test_later_environments_deploy_after_dev(example_out):
    """The dev identity must exist before staging and prod look it up."""
    manifest = json.loads((example_out / "manifest.json").read_text())["stacks"]
    for env in ("staging", "prod"):
        assert "example-dev" in manifest[f"example-{env}"]["dependencies"]
    assert "example-staging" not in manifest["example-dev"]["dependencies"]
