"""Stack `<team>-shared`: what a team's environments share, i.e. its Azure ML registry.

Deploy order: platform-bootstrap -> <team>-shared -> <team>-<env> -> <team>-devops. The environment
stacks grant their identities access to the registry by its resource id and to the registry reader
role defined here by its name, both computed from config (infra.model_registry.registry_ref); no
stack reads another stack's state. The registry is replicated to every environment's region.
"""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from infra import azurerm as az
from infra.bindings.azapi import AzapiProvider
from infra.config import Org, Team
from infra.interfaces import Interfaces, Lock
from infra.model_registry import SHARED_ENV, ModelRegistry, ModelRegistryProps, registry_ref
from infra.profile import environment_profile
from infra.tags import standard_tags
from stacks.backend import use_backend
from stacks.providers import azurerm_provider


def shared_tags(org: Org, team: Team) -> dict[str, str]:
    """Tags of the shared stack: env `shared`, network mode of the registry's host environment."""
    host = team.environments[team.registry.host_environment]
    return standard_tags(
        team=team.name,
        env=SHARED_ENV,
        cost_center=team.cost_center,
        defaults=org.platform.default_tags,
        network=host.network.mode,
    )


class SharedStack(TerraformStack):
    def __init__(self, scope: Construct, name: str, org: Org, team: Team):
        super().__init__(scope, name)
        ref = registry_ref(org, team)
        use_backend(self, name, org.platform)
        azurerm_provider(self, subscription_id=ref.subscription_id, tenant_id=org.platform.tenant_id)
        AzapiProvider(self, "azapi", subscription_id=ref.subscription_id, tenant_id=org.platform.tenant_id)

        rg = az.ResourceGroup(self, "resource_group", name=ref.resource_group_name, location=ref.location)
        built = ModelRegistry(
            self,
            "model_registry",
            ModelRegistryProps(
                name=ref.name,
                resource_group_id=rg.id,
                location=ref.location,
                public_network_access=not ref.private,
                # The host environment's data lock; tags come from the stack's aspect (shared_tags).
                interfaces=Interfaces(lock=Lock() if environment_profile(org, team, ref.host_env).lock else None),
                reader_role_name=ref.reader_role_name,
                reader_role_uuid=ref.reader_role_uuid,
                regions=ref.regions,  # every environment's region: workspaces use assets only where replicated
            ),
        )
        registry = built.registry
        TerraformOutput(self, "registry_name", value=registry.name)
        TerraformOutput(self, "registry_id", value=registry.id)
        TerraformOutput(self, "registry_mlflow_uri", value=registry.output_value("properties.mlFlowRegistryUri"))
        TerraformOutput(self, "registry_reader_role_id", value=built.reader_role.role_definition_resource_id)
