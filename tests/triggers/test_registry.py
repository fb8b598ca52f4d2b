"""The team's shared Azure ML registry (stack <team>-shared) and each environment's access to it."""

from __future__ import annotations

import json

import pytest
import yaml

from infra.model_registry import REGISTRY_TYPE, REGISTRY_USER_ROLE, registry_body
from tests.conftest import TEAMS, one, resources, synth_dir
from tests.triggers.helpers import ENV_STACKS, PRIVATE, PUBLIC, ref

SHARED = "example-shared"
PROD_SUB = "00000000-0000-0000-0000-0000000000d3"
REGISTRY_NAME = "mlr-mlk-example-shr-bbd4"
REGISTRY_ID = (f"/subscriptions/{PROD_SUB}/resourceGroups/rg-mlk-example-shr/providers/"
               f"Microsoft.MachineLearningServices/registries/{REGISTRY_NAME}")


def registry(stack: dict) -> dict:
    return {k: v for k, v in one(stack, "azapi_resource").items() if k != "//"}


def test_registry_in_the_host_environment_subscription(example):
    stack = example[SHARED]
    rg = one(stack, "azurerm_resource_group")
    assert rg["name"] == "rg-mlk-example-shr" and rg["location"] == "westeurope"
    reg = registry(stack)
    assert reg["type"] == REGISTRY_TYPE == "Microsoft.MachineLearningServices/registries@2025-06-01"
    assert reg["name"] == REGISTRY_NAME
    assert reg["parent_id"] == ref("azurerm_resource_group", "resource_group")
    assert reg["location"] == "westeurope"
    assert reg["identity"] == [{"type": "SystemAssigned"}]
    assert reg["lifecycle"] == {"prevent_destroy": True}
    assert reg["tags"]["env"] == "shared" and reg["tags"]["network"] == "private" and reg["tags"]["team"] == "example"
    # Providers: the host environment's (prod's) subscription, azapi pinned to 2.x.
    (azurerm,) = stack["provider"]["azurerm"]
    (azapi,) = stack["provider"]["azapi"]
    assert azurerm["subscription_id"] == azapi["subscription_id"] == PROD_SUB
    assert stack["terraform"]["required_providers"]["azapi"] == {"source": "Azure/azapi", "version": "~> 2.5"}
    assert stack["terraform"]["backend"]["azurerm"]["key"] == f"{SHARED}.tfstate"


def test_registry_body_private_host(example):
    body = registry(example[SHARED])["body"]
    assert body == registry_body("westeurope", True, "Standard_LRS")
    props = body["properties"]
    # prod (the host) is private, but dev and staging are public and must reach it: Entra ID + RBAC
    assert props["publicNetworkAccess"] == "Enabled"
    (region,) = props["regionDetails"]
    assert region["location"] == "westeurope"
    assert region["acrDetails"] == [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}]
    (storage,) = region["storageAccountDetails"]
    assert storage["systemCreatedStorageAccount"]["allowBlobPublicAccess"] is False


def test_registry_is_locked_when_hosted_in_prod(example):
    lock = one(example[SHARED], "azurerm_management_lock")
    assert lock["lock_level"] == "CanNotDelete" and lock["name"] == "lock-ml-registry"
    assert lock["scope"] == ref("azapi_resource", next(iter(resources(example[SHARED], "azapi_resource"))))


def test_registry_is_closed_when_every_environment_is_private(make_teams, tmp_path):
    team = yaml.safe_load((TEAMS / "example.yaml").read_text())
    network = team["environments"]["prod"]["network"]
    for env in ("dev", "staging"):
        team["environments"][env]["network"] = dict(network)
    out = synth_dir(make_teams({"example.yaml": yaml.safe_dump(team)}), tmp_path / "out", patterns=[SHARED])
    assert registry(out[SHARED])["body"]["properties"]["publicNetworkAccess"] == "Disabled"


def test_public_host_in_its_own_region_without_lock(make_teams, tmp_path):
    team = yaml.safe_load((TEAMS / "example.yaml").read_text())
    team["registry"] = {"host_environment": "dev", "location": "northeurope"}
    out = synth_dir(make_teams({"example.yaml": yaml.safe_dump(team)}), tmp_path / "out", patterns=[SHARED])
    stack = out[SHARED]
    reg = registry(stack)
    assert reg["body"]["properties"]["publicNetworkAccess"] == "Enabled"
    assert reg["location"] == "northeurope" and reg["body"]["properties"]["regionDetails"][0]["location"] == "northeurope"
    assert "azurerm_management_lock" not in stack.get("resource", {})
    assert stack["provider"]["azapi"][0]["subscription_id"] == team["environments"]["dev"]["subscription_id"]


def _registry_grants(stack: dict) -> list[dict]:
    return [r for r in resources(stack, "azurerm_role_assignment").values() if "registries/" in r["scope"]]


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_workspace_and_pipeline_identities_are_registry_users_and_nothing_more(example, stack_name):
    stack = example[stack_name]
    grants = _registry_grants(stack)
    assert {g["scope"] for g in grants} == {REGISTRY_ID}  # computed from config, same as the shared stack's
    assert {g["role_definition_name"] for g in grants} == {REGISTRY_USER_ROLE}
    ws = next(iter(resources(stack, "azurerm_machine_learning_workspace")))
    pipeline = next(a for a, r in resources(stack, "azurerm_user_assigned_identity").items()
                    if r["name"].startswith("id-mlk-example-pipelines-"))
    assert sorted(g["principal_id"] for g in grants) == sorted([
        ref("azurerm_machine_learning_workspace", ws, "identity[0].principal_id"),
        ref("azurerm_user_assigned_identity", pipeline, "principal_id"),
    ])
    assert all(g["principal_type"] == "ServicePrincipal" for g in grants)


def test_registry_private_endpoint_in_the_host_environment_only(example):
    def registry_endpoints(stack):
        return [e for e in resources(stack, "azurerm_private_endpoint").values()
                if e["private_service_connection"]["subresource_names"] == ["amlregistry"]]

    (endpoint,) = registry_endpoints(example[PRIVATE])
    assert endpoint["private_service_connection"]["private_connection_resource_id"] == REGISTRY_ID
    assert endpoint["private_dns_zone_group"]["private_dns_zone_ids"]  # privatelink.api.azureml.ms
    assert registry_endpoints(example[PUBLIC]) == [] and registry_endpoints(example["example-staging"]) == []


def test_deploy_order_bootstrap_shared_environments(example_out):
    from infra.config import load_org
    from stacks import stack_plan

    names = [p.name for p in stack_plan(load_org(TEAMS))]
    assert names.index("platform-bootstrap") < names.index(SHARED) < min(names.index(s) for s in ENV_STACKS)
    manifest = json.loads((example_out / "manifest.json").read_text())["stacks"]
    assert "platform-bootstrap" in manifest[SHARED]["dependencies"]
    for name in ENV_STACKS:
        assert SHARED in manifest[name]["dependencies"]
