"""Container Registry for one environment's training and inference images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import Interfaces, Supports, Target, apply_interfaces
from infra.suppressions import Reasons, suppress


@dataclass(frozen=True)
class ContainerRegistryProps:
    name: str
    resource_group_name: str
    location: str
    # Diagnostics: login and repository events (category group allLogs) and metrics to Log Analytics.
    # Lock: the stacks set it where the environment profile locks its data (prod): the workspace
    # references this registry and its environment images, so a delete would break prod's deployments.
    # private_endpoints set: private mode (Premium, closed network, a `registry` endpoint).
    interfaces: Interfaces


class TeamContainerRegistry(Construct):
    """Admin user off (Entra ID only); Premium in private mode, which private endpoints need.

    Azure ML builds environment images into it with the workspace identity; the compute pulls with
    AcrPull; no pipeline pushes.
    """

    SUPPORTS: ClassVar[Supports] = Supports(
        lock=True, diagnostics=True, private_endpoints=True, role_assignments=True, tags=True
    )

    def __init__(self, scope: Construct, id_: str, props: ContainerRegistryProps):
        super().__init__(scope, id_)
        private = props.interfaces.private
        closed = az.ContainerRegistryNetworkRuleSet(default_action="Deny", ip_rule=[]) if private else None
        self.registry = az.ContainerRegistry(
            self,
            "container_registry",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            sku="Premium" if private else "Standard",
            admin_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access_enabled=not private,
            # Azure ML builds images with trusted-service access when the registry is private.
            network_rule_bypass_option="AzureServices",
            # Premium-only settings, in private mode:
            network_rule_set=[closed] if closed else None,
            data_endpoint_enabled=True if private else None,
            export_policy_enabled=False if private else None,  # no image export out of the private network
            retention_policy_in_days=30 if private else None,
        )
        self.applied = apply_interfaces(
            self,
            self.registry,
            props.interfaces,
            supports=self.SUPPORTS,
            target=Target(name=props.name, kind="container-registry", subresources=("registry",)),
        )
        # Findings that are by design (scripts/scan.py honours these; docs/checkov-baseline.md lists them).
        for reason in (
            Reasons.ACR_CONTENT_TRUST,
            Reasons.ACR_SINGLE_REGION,
            Reasons.ACR_NO_QUARANTINE_SCANNER,
            Reasons.ACR_NO_ZONE_REDUNDANCY,
        ):
            suppress(self.registry, reason)
        if not private:
            for reason in (Reasons.ACR_PUBLIC, Reasons.ACR_STANDARD_RETENTION, Reasons.ACR_STANDARD_DATA_ENDPOINTS):
                suppress(self.registry, reason)
