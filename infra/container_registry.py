"""Container Registry for one environment's training and inference images."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import PrivateLink, private_endpoint


@dataclass(frozen=True)
class ContainerRegistryProps:
    name: str
    resource_group_name: str
    location: str
    private: bool
    private_link: PrivateLink | None = None


class TeamContainerRegistry(Construct):
    """Admin user off (identities pull and push); Premium in private mode, which private endpoints need."""

    def __init__(self, scope: Construct, id_: str, props: ContainerRegistryProps):
        super().__init__(scope, id_)
        self.registry = az.ContainerRegistry(
            self,
            "container_registry",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            sku="Premium" if props.private else "Standard",
            admin_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access_enabled=not props.private,
            # Azure ML builds images with trusted-service access when the registry is private.
            network_rule_bypass_option="AzureServices",
            **(
                {
                    "network_rule_set": [az.ContainerRegistryNetworkRuleSet(default_action="Deny", ip_rule=[])],
                    "data_endpoint_enabled": True,
                    "export_policy_enabled": False,  # no image export out of the private network
                    "retention_policy_in_days": 30,
                }
                if props.private
                else {}
            ),
        )
        if props.private_link:
            private_endpoint(
                self, "endpoint", link=props.private_link, name=f"pep-{props.name}",
                resource_id=self.registry.id, subresource="registry",
            )
