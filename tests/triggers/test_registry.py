"""The team's shared Azure ML registry (stack <team>-shared) and each environment's access to it."""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from infra.model_registry import (
    REGISTRY_READER_ACTIONS,
    REGISTRY_TYPE,
    REGISTRY_USER_ROLE,
    ROLE_ID_NAMESPACE,
    registry_body,
)
from tests.conftest import TEAMS, one, resources, synth_dir
from tests.triggers.helpers import ENV_STACKS, PRIVATE, PUBLIC, ref

SHARED = "example-shared"
PROD_SUB = "00000000-0000-0000-0000-0000000000d3"
REGISTRY_NAME = "mlr-mlk-example-shr-bbd4"
SHARED_RG_ID = f"/subscriptions/{PROD_SUB}/resourceGroups/rg-mlk-example-shr"
REGISTRY_ID = f"{SHARED_RG_ID}/providers/Microsoft.MachineLearningServices/registries/{REGISTRY_NAME}"
READER_ROLE = f"mlops-kit registry reader ({REGISTRY_NAME})"


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
    assert body == registry_body(["westeurope"], True, "Standard_LRS")
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
    prod = team["environments"]["prod"]
    for env in ("dev", "staging"):  # private like prod (agent pool too), each in its own virtual network
        network = {k: v.replace("vnet-prod", f"vnet-{env}") if isinstance(v, str) else v
                   for k, v in prod["network"].items()}  # (a network links one DNS zone per name)
        team["environments"][env].update({k: v for k, v in prod.items() if k not in ("subscription_id", "network")})
        team["environments"][env]["network"] = network
    out = synth_dir(make_teams({"example.yaml": yaml.safe_dump(team)}), tmp_path / "out", patterns=[SHARED])
    assert registry(out[SHARED])["body"]["properties"]["publicNetworkAccess"] == "Disabled"


def test_public_host_in_its_own_region_without_lock(make_teams, tmp_path):
    team = yaml.safe_load((TEAMS / "example.yaml").read_text())
    team["registry"] = {"host_environment": "dev", "location": "northeurope"}
    out = synth_dir(make_teams({"example.yaml": yaml.safe_dump(team)}), tmp_path / "out", patterns=[SHARED])
    stack = out[SHARED]
    reg = registry(stack)
    assert reg["body"]["properties"]["publicNetworkAccess"] == "Enabled"
    assert reg["location"] == "northeurope"
    # the registry's own region first, then the environments' region, each once
    assert [r["location"] for r in reg["body"]["properties"]["regionDetails"]] == ["northeurope", "westeurope"]
    assert "azurerm_management_lock" not in stack.get("resource", {})
    assert stack["provider"]["azapi"][0]["subscription_id"] == team["environments"]["dev"]["subscription_id"]


def test_registry_regions_cover_every_environment_location(make_teams, tmp_path):
    """Workspaces use registry assets only in regions the registry is replicated to."""
    team = yaml.safe_load((TEAMS / "example.yaml").read_text())
    team["environments"]["staging"]["location"] = "northeurope"
    team["environments"]["dev"]["location"] = "northeurope"
    out = synth_dir(make_teams({"example.yaml": yaml.safe_dump(team)}), tmp_path / "out", patterns=[SHARED])
    reg = registry(out[SHARED])
    regions = reg["body"]["properties"]["regionDetails"]
    assert [r["location"] for r in regions] == ["westeurope", "northeurope"]  # host (prod) first, once each
    assert reg["location"] == regions[0]["location"]
    for region in regions:  # each region gets its own system-created storage and Premium container registry
        assert region["acrDetails"] == [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}]
        (storage,) = region["storageAccountDetails"]
        assert storage["systemCreatedStorageAccount"]["allowBlobPublicAccess"] is False


@pytest.mark.parametrize("regions", [[], ["westeurope", "westeurope"]])
def test_registry_body_refuses_invalid_regions(regions):
    with pytest.raises(ValueError, match="region"):
        registry_body(regions, True, "Standard_LRS")


def _registry_grants(stack: dict) -> dict[str, dict]:
    return {a: r for a, r in resources(stack, "azurerm_role_assignment").items() if "/registries/" in r["scope"]}


def _pipeline(stack: dict) -> str:
    address = next(a for a, r in resources(stack, "azurerm_user_assigned_identity").items()
                   if r["name"].startswith("id-mlk-example-pipelines-"))
    return ref("azurerm_user_assigned_identity", address, "principal_id")


def test_registry_reader_role_is_read_only_and_deterministic(example):
    (role,) = resources(example[SHARED], "azurerm_role_definition").values()
    assert role["name"] == READER_ROLE
    assert role["permissions"] == [{"actions": list(REGISTRY_READER_ACTIONS)}]
    assert REGISTRY_READER_ACTIONS == ("Microsoft.MachineLearningServices/registries/read",
                                       "Microsoft.MachineLearningServices/registries/assets/read")
    # custom roles are assignable at resource group scope: the shared group, which holds only the registry
    assert role["scope"] == role["assignable_scopes"][0] == ref("azurerm_resource_group", "resource_group")
    assert role["role_definition_id"] == str(uuid.uuid5(ROLE_ID_NAMESPACE, REGISTRY_ID.lower()))


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_workspaces_read_the_registry(example, stack_name):
    stack = example[stack_name]
    (ws,) = [f"azapi_resource.{a}." for a, r in resources(stack, "azapi_resource").items()
             if r["type"].startswith("Microsoft.MachineLearningServices/workspaces@")]
    (grant,) = [g for g in _registry_grants(stack).values() if ws in g["principal_id"]]
    assert grant["principal_id"].endswith("principal_id}")
    assert grant["scope"] == REGISTRY_ID  # computed from config, same as the shared stack's
    assert grant["role_definition_name"] == READER_ROLE and grant["principal_type"] == "ServicePrincipal"


def test_only_the_staging_pipeline_identity_writes_to_the_registry(example):
    """AzureML Registry User can write and delete assets: one promotion identity, behind a checked connection."""
    writers = {name: [g for g in _registry_grants(example[name]).values()
                      if g["role_definition_name"] != READER_ROLE] for name in ENV_STACKS}
    (writer,) = writers.pop("example-staging")
    assert writer["role_definition_name"] == REGISTRY_USER_ROLE
    assert writer["principal_id"] == _pipeline(example["example-staging"]) and writer["scope"] == REGISTRY_ID
    assert writers == {"example-dev": [], "example-prod": []}
    for name in ("example-dev", "example-prod"):  # read-only there
        (grant,) = [g for g in _registry_grants(example[name]).values() if g["principal_id"] == _pipeline(example[name])]
        assert grant["role_definition_name"] == READER_ROLE


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_no_environment_reaches_into_another(example, stack_name):
    """The release downloads the candidate with the source environment's connection and creates it in the
    registry with the promotion connection, so no identity needs a role in another environment."""
    literal = [r for r in resources(example[stack_name], "azurerm_role_assignment").values()
               if r["scope"].startswith("/subscriptions/")]
    assert literal and all(r["scope"] == REGISTRY_ID for r in literal)


@pytest.mark.parametrize("envs", [("dev",), ("dev", "prod"), ("dev", "staging"), ("dev", "staging", "prod")])
def test_the_registry_writer_is_the_plans_promoter(envs):
    """The release's Share stage runs with arm-<promoter> (infra/plan.py); the registry grants its write role to
    the same environment, read from the same function."""
    from infra.config import Team, load_org
    from infra.model_registry import registry_ref

    team = yaml.safe_load((TEAMS / "example.yaml").read_text())
    team["environments"] = {e: v for e, v in team["environments"].items() if e in envs}
    team["registry"] = {"host_environment": envs[-1]}
    model = Team.model_validate(team)
    assert registry_ref(load_org(TEAMS), model).promotion_env == ("staging" if "staging" in envs else envs[-1])


def test_promotion_falls_to_prod_without_staging(make_teams, tmp_path):
    team = yaml.safe_load((TEAMS / "example.yaml").read_text())
    del team["environments"]["staging"]
    out = synth_dir(make_teams({"example.yaml": yaml.safe_dump(team)}), tmp_path / "out",
                    patterns=["example-dev", "example-prod"])
    roles = {name: {g["role_definition_name"] for g in _registry_grants(out[name]).values()
                    if g["principal_id"] == _pipeline(out[name])} for name in out}
    assert roles == {"example-dev": {READER_ROLE}, "example-prod": {REGISTRY_USER_ROLE}}


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

