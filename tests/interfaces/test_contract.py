"""The interface contract (infra/interfaces.py): every Azure construct declares it and applies it.

Each construct of infra/ is classified below: it takes the contract (CONTRACT: a factory that builds
it with given Interfaces), or it is exempt with a reason. A new construct that is neither fails
`test_every_construct_is_classified`.
For each contract construct, every input it supports is synthesized and found on its resource, and
every input it refuses is refused at construction with the reason it declares.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest
from cdktf import TerraformResource, TerraformStack
from cdktf import Testing as CdktfTesting
from constructs import Construct

import infra
from infra.container_registry import ContainerRegistryProps, TeamContainerRegistry
from infra.data_lake import DataLake, DataLakeProps
from infra.event_flow import (
    DeliveryPolicy,
    DevopsTarget,
    EventSources,
    FunctionNetwork,
    ResourceGroupRef,
    Telemetry,
    TriggerNames,
)
from infra.function_app import FlexFunctionApp, FlexFunctionAppProps
from infra.identity import PipelineIdentity, PipelineIdentityProps
from infra.interfaces import (
    INTERFACE_NAMES,
    Diagnostics,
    Interfaces,
    Lock,
    PrivateLink,
    RoleAssignment,
    Supports,
)
from infra.key_vault import KeyVaultProps, TeamKeyVault
from infra.ml_workspace import MlWorkspace, MlWorkspaceProps
from infra.model_registry import ModelRegistry, ModelRegistryProps, RegistryAccess, RegistryAccessProps, RegistryRef
from infra.monitoring import Monitoring, MonitoringProps
from infra.network import PrivateNetwork, PrivateNetworkProps
from infra.private_dns import ZONE_NAMES
from infra.triggers import PipelineTriggers, PipelineTriggersProps

RG, LOC = "rg-contract", "westeurope"
RG_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-contract"
SUBNET = RG_ID + "/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet-pe"
LAW = RG_ID + "/providers/Microsoft.OperationalInsights/workspaces/log-contract"
LINK = PrivateLink(RG, LOC, SUBNET, {z: f"{RG_ID}/providers/Microsoft.Network/privateDnsZones/{z}" for z in ZONE_NAMES})
REF = RegistryRef(name="mlrcontract", resource_group_name=RG, subscription_id="0" * 8, location=LOC, host_env="dev",
                  private=True)
GROUP = ResourceGroupRef(RG, RG_ID, LOC)
EVENT_NAMES = TriggerNames(function_app="func-contract", plan="asp-contract", storage="stfncontract",
                           package_storage="stpkcontract", identity="id-trigger-contract", lake_topic="evgt-lake",
                           ml_topic="evgt-ml")
LAKE_ID = RG_ID + "/providers/Microsoft.Storage/storageAccounts/dlscontract"
WS_ID = RG_ID + "/providers/Microsoft.MachineLearningServices/workspaces/mlw-contract"


def _function_network(i: Interfaces) -> FunctionNetwork | None:
    """The app's outbound subnet comes with the placement (event_flow.check_network)."""
    return FunctionNetwork(SUBNET.replace("snet-pe", "snet-fn")) if i.private else None


def _triggers(s: Construct, i: Interfaces) -> PipelineTriggers:
    return PipelineTriggers(s, "triggers", PipelineTriggersProps(
        resource_group=GROUP, names=EVENT_NAMES,
        sources=EventSources(LAKE_ID, WS_ID, "raw", "training/", "_SUCCESS", "contract-model"),
        delivery=DeliveryPolicy(3, 60, "eventgrid-deadletter", LAKE_ID + "/containers/eventgrid-deadletter"),
        devops=DevopsTarget("https://dev.azure.com/contoso", "contract", "contract-training", "contract-release",
                            "\\contract", "dev"),
        telemetry=Telemetry("InstrumentationKey=00000000-0000-0000-0000-000000000000", "appi", False),
        interfaces=i, network=_function_network(i),
    ))

Factory = Callable[[Construct, Interfaces], Construct]

CONTRACT: dict[type, Factory] = {
    TeamKeyVault: lambda s, i: TeamKeyVault(s, "kv", KeyVaultProps("kv-contract", RG, LOC, "tenant", interfaces=i)),
    TeamContainerRegistry: lambda s, i: TeamContainerRegistry(
        s, "acr", ContainerRegistryProps("crcontract", RG, LOC, interfaces=i)
    ),
    DataLake: lambda s, i: DataLake(s, "lake", DataLakeProps("dlscontract", RG, LOC, ["raw"], interfaces=i)),
    MlWorkspace: lambda s, i: MlWorkspace(s, "ml", MlWorkspaceProps(
        workspace_name="mlw-contract", storage_name="stcontract", resource_group_name=RG, resource_group_id=RG_ID,
        location=LOC, application_insights_id="appi", key_vault_id="kv", container_registry_id="acr", interfaces=i,
        isolation_mode="AllowInternetOutbound", high_business_impact=False, vm_size="Standard_DS3_v2",
        vm_priority="LowPriority", max_nodes=1, idle_seconds_before_scale_down=1800,
    )),
    Monitoring: lambda s, i: Monitoring(s, "mon", MonitoringProps(RG, LOC, "log-contract", "appi-contract", interfaces=i)),
    PrivateNetwork: lambda s, i: PrivateNetwork(s, "net", PrivateNetworkProps(RG, LOC, SUBNET, {}, interfaces=i)),
    PipelineIdentity: lambda s, i: PipelineIdentity(s, "id", PipelineIdentityProps("id-contract", RG, LOC, interfaces=i)),
    ModelRegistry: lambda s, i: ModelRegistry(s, "reg", ModelRegistryProps(
        name="mlrcontract", resource_group_id=RG_ID, location=LOC, public_network_access=False, interfaces=i,
        reader_role_name="reader", reader_role_uuid="6f0c1e7a-4b1d-5c3e-9a8f-2d7b0c4e1a95",
    )),
    RegistryAccess: lambda s, i: RegistryAccess(s, "access", RegistryAccessProps("dev", REF, interfaces=i)),
    PipelineTriggers: _triggers,
    FlexFunctionApp: lambda s, i: FlexFunctionApp(s, "app", FlexFunctionAppProps(
        resource_group=GROUP, names=EVENT_NAMES, plan_id="plan", identity_id="uai", identity_principal_id="uai-p",
        app_settings={"EVENT_QUEUE_NAME": "pipeline-events"}, interfaces=i, network=_function_network(i),
    )),
}

_DEVOPS = "Azure DevOps, not Azure Resource Manager: the AVM interfaces do not apply"
EXEMPT: dict[str, str] = {
    "infra.identity.TeamAccess": "the environment's role table across resources (role assignments only)",
    "infra.identity.StateAccess": "one role assignment on the state container (role assignments only)",
    "infra.identity.LiveModelReader": "a custom role and its one assignment on the workspace (role assignments only)",
    **{name: _DEVOPS for name in (
        "infra.devops_access.TriggerAccess", "infra.devops_project.DevopsProject",
        "infra.environments.GatedEnvironments", "infra.pipelines.Pipelines", "infra.repos.TeamRepos",
        "infra.repos.MainBranchPolicies", "infra.service_connections.ServiceConnections", "infra.wiki.ProjectWiki",
    )},
}


def _constructs() -> set[str]:
    found = set()
    for mod in pkgutil.iter_modules(infra.__path__):
        if mod.ispkg:
            continue
        module = importlib.import_module(f"infra.{mod.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            resource = issubclass(cls, TerraformResource)  # a resource binding (TaggedAzapiResource), not a construct
            if issubclass(cls, Construct) and not resource and cls.__module__ == module.__name__:
                found.add(f"{cls.__module__}.{cls.__qualname__}")
    return found


def test_every_construct_is_classified():
    contract = {f"{c.__module__}.{c.__qualname__}" for c in CONTRACT}
    assert not contract & set(EXEMPT)
    assert _constructs() == contract | set(EXEMPT)


@pytest.mark.parametrize("cls", list(CONTRACT), ids=lambda c: c.__name__)
def test_construct_declares_the_contract(cls):
    supports = cls.SUPPORTS
    assert isinstance(supports, Supports)
    # A refused input says why; nothing else has a reason.
    assert set(supports.reasons) == set(supports.refused()), cls
    assert all(len(why) > 20 for why in supports.reasons.values())
    props = inspect.signature(cls.__init__).parameters["props"].annotation
    props_cls = getattr(importlib.import_module(cls.__module__), props)
    fields = {f.name: f for f in dataclasses.fields(props_cls)}
    assert fields["interfaces"].type == "Interfaces", props_cls
    # No network flag beside the placement: private mode derives from `interfaces.private_endpoints`.
    assert not {"private", "private_link", "lock", "log_analytics_workspace_id", "tags"} & set(fields), props_cls


def _every(supports: Supports) -> Interfaces:
    full: dict[str, Any] = {
        "lock": Lock(),
        "diagnostics": Diagnostics(LAW),
        "private_endpoints": LINK,
        "role_assignments": (RoleAssignment("contract_reader", "Reader", "principal-1", "Group", "contract check"),),
        "tags": {"contract": "applied"},
    }
    return Interfaces(**{name: value for name, value in full.items() if getattr(supports, name)})


def _synth(cls: type, interfaces: Interfaces) -> dict[str, dict[str, Any]]:
    stack = TerraformStack(CdktfTesting.app(), "contract")
    CONTRACT[cls](stack, interfaces)
    return json.loads(CdktfTesting.synth(stack))["resource"]


@pytest.mark.parametrize("cls", list(CONTRACT), ids=lambda c: c.__name__)
def test_construct_applies_every_input_it_supports(cls):
    supports = cls.SUPPORTS
    res = _synth(cls, _every(supports))
    targets: set[str] = set()  # the resource each interface landed on
    if supports.lock:
        (lock,) = res["azurerm_management_lock"].values()
        assert lock["lock_level"] == "CanNotDelete"
        targets.add(lock["scope"])
    if supports.diagnostics:
        settings = list(res["azurerm_monitor_diagnostic_setting"].values())
        assert settings and all(d["log_analytics_workspace_id"] == LAW for d in settings)
        targets |= {d["target_resource_id"].split("/")[0] for d in settings}
    if supports.private_endpoints:
        endpoints = list(res["azurerm_private_endpoint"].values())
        assert endpoints and all(e["subnet_id"] == SUBNET for e in endpoints)
        targets |= {e["private_service_connection"]["private_connection_resource_id"] for e in endpoints}
    if supports.role_assignments:
        (grant,) = [r for r in res["azurerm_role_assignment"].values() if r["description"] == "mlops-kit: contract check"]
        assert (grant["role_definition_name"], grant["principal_id"]) == ("Reader", "principal-1")
        targets.add(grant["scope"])
    if supports.tags:
        tagged = [r for rs in res.values() for r in rs.values() if (r.get("tags") or {}).get("contract") == "applied"]
        assert tagged
    # Everything lands on the construct's own resource(s), never elsewhere.
    assert all(t.endswith(".id}") or t == REF.id for t in targets), targets


@pytest.mark.parametrize(
    ("cls", "name"),
    [(cls, name) for cls in CONTRACT for name in INTERFACE_NAMES if not getattr(cls.SUPPORTS, name)],
    ids=lambda v: v.__name__ if isinstance(v, type) else v,
)
def test_construct_refuses_what_it_does_not_support(cls, name):
    value = _every(Supports(**{n: True for n in INTERFACE_NAMES}))
    only = Interfaces(**{name: getattr(value, name)})
    with pytest.raises(ValueError, match=name) as refused:
        _synth(cls, only)
    assert cls.SUPPORTS.reasons[name] in str(refused.value)


def test_private_mode_derives_from_the_placement():
    public = _synth(TeamKeyVault, Interfaces())
    private = _synth(TeamKeyVault, Interfaces(private_endpoints=LINK))
    (pub,), (priv,) = public["azurerm_key_vault"].values(), private["azurerm_key_vault"].values()
    assert pub["public_network_access_enabled"] is True and "azurerm_private_endpoint" not in public
    assert priv["public_network_access_enabled"] is False and priv["network_acls"]["default_action"] == "Deny"
    (endpoint,) = private["azurerm_private_endpoint"].values()
    assert endpoint["name"] == "pep-kv-contract"


def test_empty_interfaces_add_nothing():
    res = _synth(TeamContainerRegistry, Interfaces())
    assert set(res) == {"azurerm_container_registry"}


def test_role_assignment_keys_are_unique():
    twice = RoleAssignment("same", "Reader", "p", "Group", "twice")
    with pytest.raises(ValueError, match="unique"):
        _synth(PipelineIdentity, Interfaces(role_assignments=(twice, twice)))
