"""The small set of interfaces every construct uses (Azure Verified Modules style).

Locks, diagnostic settings, role assignments, private endpoints and destroy protection are the
same everywhere, so a reviewer checks them once here instead of once per resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from infra import azurerm as az
from infra.private_dns import PRIVATE_DNS_ZONES

__all__ = ["PRIVATE_DNS_ZONES", "PROTECTED", "PrivateLink", "delete_lock", "diagnostics", "private_endpoint", "role"]

# prevent_destroy: Terraform refuses any plan that would delete the resource.
PROTECTED = TerraformResourceLifecycle(prevent_destroy=True)


def delete_lock(scope: Construct, id_: str, resource_id: str, what: str) -> az.ManagementLock:
    """CanNotDelete lock: Azure refuses deletes even from the portal or CLI."""
    return az.ManagementLock(
        scope,
        id_,
        name=f"lock-{what}",
        scope=resource_id,
        lock_level="CanNotDelete",
        notes=f"mlops-kit: {what} holds data; remove this lock deliberately before deleting.",
    )


def diagnostics(
    scope: Construct,
    id_: str,
    *,
    target_resource_id: str,
    log_analytics_workspace_id: str,
    logs: bool = True,
    metric_category: str = "AllMetrics",
) -> az.MonitorDiagnosticSetting:
    """Send all logs (category group allLogs) and metrics of a resource to Log Analytics."""
    return az.MonitorDiagnosticSetting(
        scope,
        id_,
        name="diag-to-log-analytics",
        target_resource_id=target_resource_id,
        log_analytics_workspace_id=log_analytics_workspace_id,
        enabled_log=[az.MonitorDiagnosticSettingEnabledLog(category_group="allLogs")] if logs else None,
        enabled_metric=[az.MonitorDiagnosticSettingEnabledMetric(category=metric_category)],
    )


def role(
    scope: Construct,
    id_: str,
    *,
    scope_id: str,
    role_name: str,
    principal_id: str,
    principal_type: str,
    description: str,
) -> az.RoleAssignment:
    """One Azure RBAC role assignment; principal_type avoids Entra replication races."""
    return az.RoleAssignment(
        scope,
        id_,
        scope=scope_id,
        role_definition_name=role_name,
        principal_id=principal_id,
        principal_type=principal_type,
        description=f"mlops-kit: {description}",
    )


@dataclass(frozen=True)
class PrivateLink:
    """Where private endpoints go and which DNS zone each sub-resource resolves through."""

    resource_group_name: str
    location: str
    subnet_id: str
    zone_ids: dict[str, str]  # private DNS zone name -> zone id


def private_endpoint(
    scope: Construct, id_: str, *, link: PrivateLink, name: str, resource_id: str, subresource: str
) -> az.PrivateEndpoint:
    """A private endpoint for one sub-resource, registered in its private DNS zones."""
    return az.PrivateEndpoint(
        scope,
        id_,
        name=name,
        resource_group_name=link.resource_group_name,
        location=link.location,
        subnet_id=link.subnet_id,
        private_service_connection=az.PrivateEndpointPrivateServiceConnection(
            name=f"psc-{name}",
            is_manual_connection=False,
            private_connection_resource_id=resource_id,
            subresource_names=[subresource],
        ),
        private_dns_zone_group=az.PrivateEndpointPrivateDnsZoneGroup(
            name="default",
            private_dns_zone_ids=[link.zone_ids[z] for z in PRIVATE_DNS_ZONES[subresource]],
        ),
    )
