"""The team's shared Azure ML registry, and each environment's access to it.

One registry per team (stack `<team>-shared`) holds the models that are promoted from dev to
staging to prod, so every environment deploys the same model version. Azure ML registries have no
azurerm resource (reference sheet B3), so the registry is an `azapi_resource`.

Access is granted from the environment stacks, which are deployed after `<team>-shared`: the
registry's resource id is computed from config alone (`RegistryRef`), so no stack reads another
stack's state. Role choice (Azure built-in roles, "AI + machine learning"):

| principal                         | role on the registry  | why                                     |
|-----------------------------------|-----------------------|-----------------------------------------|
| workspace system identity (each)  | AzureML Registry User | the workspace resolves registry models, |
|                                   |                       | components and environments for jobs    |
|                                   |                       | and deployments                         |
| pipeline identity (each env)      | AzureML Registry User | the release pipeline promotes (shares)  |
|                                   |                       | a model into the registry and deploys   |
|                                   |                       | from it                                 |

"AzureML Registry User" (1823dd4f-9b8c-4ab6-ab4e-7397a3684615) is `registries/read` plus
`registries/assets/*`: it can read and write assets, but cannot change, delete or re-permission
the registry. There is no narrower built-in role with asset read; Contributor/Owner are never
granted. The compute cluster identities get nothing here: jobs read registry assets through the
workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs import Construct

from infra.bindings.azapi import AzapiResource, AzapiResourceIdentity
from infra.config import Org, Team
from infra.interfaces import PROTECTED, PrivateLink, delete_lock, private_endpoint, role

REGISTRY_TYPE = "Microsoft.MachineLearningServices/registries@2025-06-01"
REGISTRY_USER_ROLE = "AzureML Registry User"
SHARED_ENV = "shared"


@dataclass(frozen=True)
class RegistryRef:
    """Where a team's registry lives, computed from config alone (no stack reads another's state)."""

    name: str
    resource_group_name: str
    subscription_id: str
    location: str
    host_env: str
    private: bool  # public network access off: only when every environment of the team is private

    @property
    def resource_group_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group_name}"

    @property
    def id(self) -> str:
        return f"{self.resource_group_id}/providers/Microsoft.MachineLearningServices/registries/{self.name}"


def registry_ref(org: Org, team: Team) -> RegistryRef:
    """The team's registry: in `registry.host_environment`'s subscription, network mode and (by default) region."""
    host = team.registry.host_environment
    names = org.namer(team, SHARED_ENV)
    return RegistryRef(
        name=names.name("ml_registry"),
        resource_group_name=names.name("resource_group"),
        subscription_id=team.environments[host].subscription_id,
        location=team.registry.location or org.location(team, host),
        host_env=host,
        # Every environment's pipelines and workspace use the registry: public environments reach it
        # over the internet (Entra ID + RBAC), so public access goes off only when none is public.
        # A private host environment still gets a private endpoint (its stack creates it).
        private=all(env.private for env in team.environments.values()),
    )


@dataclass(frozen=True)
class ModelRegistryProps:
    name: str
    resource_group_id: str
    location: str
    public_network_access: bool
    lock: bool
    tags: Mapping[str, str]  # azapi resources are not reached by the tagging aspect
    storage_account_type: str = "Standard_LRS"


def registry_body(location: str, public_network_access: bool, storage_account_type: str) -> dict:
    """Request body of the registry (API 2025-06-01, spec example Registries/createOrUpdate.json).

    Azure creates and manages the registry's storage account and (Premium) container registry in
    the registry's region; bringing existing ones is not supported.
    """
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
            ],
        }
    }


class ModelRegistry(Construct):
    """The registry itself: system identity, public access per the host's network mode, never destroyed."""

    def __init__(self, scope: Construct, id_: str, props: ModelRegistryProps):
        super().__init__(scope, id_)
        self.registry = AzapiResource(
            self,
            "registry",
            type=REGISTRY_TYPE,
            name=props.name,
            parent_id=props.resource_group_id,
            location=props.location,
            identity=AzapiResourceIdentity(type="SystemAssigned"),
            body=registry_body(props.location, props.public_network_access, props.storage_account_type),
            response_export_values=["properties.discoveryUrl", "properties.mlFlowRegistryUri"],
            tags=dict(props.tags),
            lifecycle=PROTECTED,
        )
        if props.lock:
            delete_lock(self, "lock", self.registry.id, "ml-registry")


@dataclass(frozen=True)
class RegistryAccessProps:
    env: str
    registry: RegistryRef
    # construct id -> principal (object) id of a managed identity that gets AzureML Registry User
    principals: Mapping[str, str]
    # Set in the registry's host environment when it is private: the `amlregistry` private endpoint.
    private_link: PrivateLink | None = None


class RegistryAccess(Construct):
    """One environment's access to the team registry (built in the environment stack)."""

    def __init__(self, scope: Construct, id_: str, props: RegistryAccessProps):
        super().__init__(scope, id_)
        for key, principal_id in props.principals.items():
            role(
                self, key, scope_id=props.registry.id, role_name=REGISTRY_USER_ROLE, principal_id=principal_id,
                principal_type="ServicePrincipal", description=f"{key.replace('_', ' ')} uses the team registry ({props.env})",
            )
        # The private endpoint lives in the host environment's stack: its subnet and the
        # privatelink.api.azureml.ms zone belong to that environment (a second zone of the same
        # name in the shared stack could not be linked to the same virtual network).
        if props.private_link is not None:
            private_endpoint(
                self, "endpoint", link=props.private_link, name=f"pep-{props.registry.name}",
                resource_id=props.registry.id, subresource="amlregistry",
            )
