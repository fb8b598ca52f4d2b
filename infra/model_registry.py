"""The team's shared Azure ML registry, and each environment's access to it.

One registry per team (stack `<team>-shared`) holds the models that are promoted from dev to
staging to prod, so every environment deploys the same model version. Azure ML registries have no
azurerm resource (reference sheet B3), so the registry is an `azapi_resource`. Its `regionDetails`
list every region where the team has an environment (the registry's own region first): a workspace
can only use registry assets, for jobs and deployments, in a region the registry is replicated to.

Access is granted from the environment stacks, which are deployed after `<team>-shared`: the
registry's resource id is computed from config alone (`RegistryRef`), so no stack reads another
stack's state. Roles (azure-ai-docs articles/machine-learning/how-to-manage-registries.md, "Add
users to the registry"):

| principal                           | role on the registry        | why                               |
|-------------------------------------|-----------------------------|-----------------------------------|
| workspace system identity (each)    | registry reader (custom)    | jobs and deployments resolve      |
|                                     |                             | registry models and environments  |
| pipeline identity, dev and prod     | registry reader (custom)    | download, contract checks, deploy |
| pipeline identity of the promotion  | AzureML Registry User       | the release creates the checked   |
| environment (staging when present)  |                             | candidate in the registry         |

"registry reader" is a custom role defined once per registry in the shared stack with exactly
`registries/read` and `registries/assets/read` (the docs' read-only set; built-in Reader would add
every other `*/read` action). "AzureML Registry User" (1823dd4f-9b8c-4ab6-ab4e-7397a3684615) is
`registries/read` + `registries/assets/*`, i.e. it can also write and **delete** assets, so exactly
one identity holds it: the pipeline identity behind the promotion environment's service connection,
which only runs from main (branch-control check, infra/service_connections.py). Pipelines must
therefore run every registry write with `arm-<promotion env>`: the seeded release does (its
Candidate stage downloads the version from the source workspace with that environment's
connection, its Share stage creates it in the registry from the downloaded files with
`arm-<promotion env>`; both read `promoter` in infra/plan.py, where the rule is written). So the
promotion identity needs no role in another environment. Contributor/Owner are never granted; the
compute cluster identities get nothing here: jobs read registry assets through the workspace.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from constructs import Construct

from infra import azurerm as az
from infra.bindings.azapi import AzapiResourceIdentity
from infra.config import Org, Team
from infra.interfaces import PROTECTED, Interfaces, PrivateLink, RoleAssignment, Supports, Target, apply_interfaces
from infra.plan import promoter
from infra.tags import TaggedAzapiResource

REGISTRY_TYPE = "Microsoft.MachineLearningServices/registries@2025-06-01"
REGISTRY_USER_ROLE = "AzureML Registry User"
# how-to-manage-registries.md, "Allow users to use assets from the registry" (read-only)
REGISTRY_READER_ACTIONS = (
    "Microsoft.MachineLearningServices/registries/read",
    "Microsoft.MachineLearningServices/registries/assets/read",
)
SHARED_ENV = "shared"
# Namespace of the registry reader role's id: uuid5(namespace, registry id) is the same in every synth.
ROLE_ID_NAMESPACE = uuid.UUID("6f0c1e7a-4b1d-5c3e-9a8f-2d7b0c4e1a95")


@dataclass(frozen=True)
class RegistryRef:
    """Where a team's registry lives, computed from config alone (no stack reads another's state)."""

    name: str
    resource_group_name: str
    subscription_id: str
    location: str
    host_env: str
    private: bool  # public network access off: only when every environment of the team is private
    regions: tuple[str, ...] = ()  # the registry's region first, then every other environment region
    promotion_env: str = "staging"

    @property
    def resource_group_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group_name}"

    @property
    def id(self) -> str:
        return f"{self.resource_group_id}/providers/Microsoft.MachineLearningServices/registries/{self.name}"

    @property
    def reader_role_name(self) -> str:
        """Role names are unique in the tenant; the registry name is too (it is globally unique)."""
        return f"mlops-kit registry reader ({self.name})"

    @property
    def reader_role_uuid(self) -> str:
        return str(uuid.uuid5(ROLE_ID_NAMESPACE, self.id.lower()))


def registry_regions(org: Org, team: Team, primary: str) -> tuple[str, ...]:
    """`primary` first, then each environment's region once, in environment order."""
    regions = [primary]
    for env in team.env_names:
        location = org.location(team, env)
        if location not in regions:
            regions.append(location)
    return tuple(regions)


def registry_ref(org: Org, team: Team) -> RegistryRef:
    """The team's registry: in `registry.host_environment`'s subscription, network mode and (by default) region."""
    host = team.registry.host_environment
    names = org.namer(team, SHARED_ENV)
    location = team.registry.location or org.location(team, host)
    return RegistryRef(
        name=names.name("ml_registry"),
        resource_group_name=names.name("resource_group"),
        subscription_id=team.environments[host].subscription_id,
        location=location,
        host_env=host,
        # Every environment's pipelines and workspace use the registry: public environments reach it
        # over the internet (Entra ID + RBAC), so public access goes off only when none is public.
        # A private host environment still gets a private endpoint (its stack creates it).
        private=all(env.private for env in team.environments.values()),
        regions=registry_regions(org, team, location),
        promotion_env=promoter(team.env_names),
    )


@dataclass(frozen=True)
class ModelRegistryProps:
    name: str
    resource_group_id: str
    location: str
    public_network_access: bool
    # Lock: where the host environment's profile locks its data. Tags: the shared stack's aspect
    # tags the registry (TaggedAzapiResource); `interfaces.tags` are its own, on top.
    interfaces: Interfaces
    reader_role_name: str
    reader_role_uuid: str
    regions: Sequence[str] = ()  # empty: the registry's location only
    storage_account_type: str = "Standard_LRS"


def registry_body(regions: Sequence[str], public_network_access: bool, storage_account_type: str) -> dict[str, object]:
    """Request body of the registry (API 2025-06-01, spec example Registries/createOrUpdate.json).

    One `regionDetails` entry per region, the registry's own region first. Azure creates and
    manages a storage account and a (Premium) container registry in each region; bringing existing
    ones is not supported. A region may appear once.
    """
    if not regions:
        raise ValueError("a registry needs at least one region")
    if len(set(regions)) != len(regions):
        raise ValueError(f"registry regions must be unique, got {list(regions)}")
    return {
        "properties": {
            "publicNetworkAccess": "Enabled" if public_network_access else "Disabled",
            "regionDetails": [
                {
                    "location": location,
                    "acrDetails": [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}],
                    "storageAccountDetails": [
                        {
                            "systemCreatedStorageAccount": {
                                "storageAccountType": storage_account_type,
                                "storageAccountHnsEnabled": False,
                                "allowBlobPublicAccess": False,
                            }
                        }
                    ],
                }
                for location in regions
            ],
        }
    }


class ModelRegistry(Construct):
    """The registry (system identity, public access per the host's network mode, never destroyed)
    and its read-only custom role, assignable in the registry's resource group."""

    SUPPORTS: ClassVar[Supports] = Supports(
        lock=True,
        role_assignments=True,
        tags=True,
        reasons={
            "diagnostics": "the shared stack has no Log Analytics workspace (each environment has its own); "
            "registry asset events are not collected yet",
            "private_endpoints": "the registry's private endpoint is made in its host environment's stack "
            "(RegistryAccess), whose subnet and privatelink.api.azureml.ms zone it uses",
        },
    )

    def __init__(self, scope: Construct, id_: str, props: ModelRegistryProps):
        super().__init__(scope, id_)
        regions = list(props.regions) or [props.location]
        if regions[0] != props.location:
            raise ValueError(f"the registry's region {props.location} must come first in {regions}")
        self.registry = TaggedAzapiResource(
            self,
            "registry",
            type=REGISTRY_TYPE,
            name=props.name,
            parent_id=props.resource_group_id,
            location=props.location,
            identity=AzapiResourceIdentity(type="SystemAssigned"),
            body=registry_body(regions, props.public_network_access, props.storage_account_type),
            response_export_values=["properties.discoveryUrl", "properties.mlFlowRegistryUri"],
            tags={},
            lifecycle=PROTECTED,
        )
        # Custom roles are assignable at management group, subscription or resource group scope
        # (role-based-access-control/custom-roles.md); the shared resource group holds only the registry.
        self.reader_role = az.RoleDefinition(
            self,
            "reader_role",
            role_definition_id=props.reader_role_uuid,
            name=props.reader_role_name,
            scope=props.resource_group_id,
            description="mlops-kit: read the team registry and use its assets (no write, no delete)",
            permissions=[az.RoleDefinitionPermissions(actions=list(REGISTRY_READER_ACTIONS))],
            assignable_scopes=[props.resource_group_id],
        )
        self.applied = apply_interfaces(
            self,
            self.registry,
            props.interfaces,
            supports=self.SUPPORTS,
            target=Target(name=props.name, kind="ml-registry"),
        )


@dataclass(frozen=True)
class RegistryAccessProps:
    env: str
    registry: RegistryRef
    # role_assignments: the registry reader role for the workspace (and the pipeline outside the
    # promotion environment), AzureML Registry User for the promotion environment's pipeline;
    # private_endpoints: set in the registry's host environment when it is private (`amlregistry`).
    interfaces: Interfaces


def registry_access_props(
    org: Org,
    team: Team,
    env: str,
    *,
    workspace_principal_id: str,
    pipeline_principal_id: str,
    private_link: PrivateLink | None,
) -> RegistryAccessProps:
    """The registry grants of one environment: readers everywhere, the writer in the promotion env."""
    ref = registry_ref(org, team)
    promoter = env == ref.promotion_env

    def reader(key: str, principal_id: str) -> RoleAssignment:
        return RoleAssignment(
            key, ref.reader_role_name, principal_id, "ServicePrincipal", f"{key} reads the team registry ({env})"
        )

    grants = [reader("workspace", workspace_principal_id)]
    if promoter:
        grants.append(
            RoleAssignment(
                "pipeline",
                REGISTRY_USER_ROLE,
                pipeline_principal_id,
                "ServicePrincipal",
                f"pipeline promotes models into the team registry ({env}, the one writer)",
            )
        )
    else:
        grants.append(reader("pipeline", pipeline_principal_id))
    return RegistryAccessProps(
        env=env,
        registry=ref,
        interfaces=Interfaces(
            role_assignments=tuple(grants), private_endpoints=private_link if env == ref.host_env else None
        ),
    )


class RegistryAccess(Construct):
    """One environment's access to the team registry (built in the environment stack), by the registry's id.

    The private endpoint lives in the host environment's stack: its subnet and the
    privatelink.api.azureml.ms zone belong to that environment (a second zone of the same name in
    the shared stack could not be linked to the same virtual network).
    """

    SUPPORTS: ClassVar[Supports] = Supports(
        private_endpoints=True,
        role_assignments=True,
        reasons={
            "lock": "the registry's lock is the shared stack's (ModelRegistry)",
            "diagnostics": "the registry is the shared stack's resource (ModelRegistry)",
            "tags": "the registry is the shared stack's resource: its tags are set there",
        },
    )

    def __init__(self, scope: Construct, id_: str, props: RegistryAccessProps):
        super().__init__(scope, id_)
        reg = props.registry
        self.applied = apply_interfaces(
            self,
            reg.id,
            props.interfaces,
            supports=self.SUPPORTS,
            target=Target(name=reg.name, kind="ml-registry", subresources=("amlregistry",)),
        )
