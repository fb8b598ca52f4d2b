"""Log Analytics workspace + workspace-based Application Insights for one environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import Interfaces, Supports, Target, apply_interfaces


@dataclass(frozen=True)
class MonitoringProps:
    resource_group_name: str
    location: str
    log_analytics_name: str
    app_insights_name: str
    retention_days: int = 30
    # Applied to the Log Analytics workspace, which also stores App Insights' telemetry.
    interfaces: Interfaces = field(default_factory=Interfaces)


class Monitoring(Construct):
    """Every diagnostic setting of the environment points at `self.log_analytics`."""

    SUPPORTS: ClassVar[Supports] = Supports(
        lock=True,
        role_assignments=True,
        tags=True,
        reasons={
            "diagnostics": "it is the sink of the environment's diagnostic settings; the workspace's own query "
            "audit is not collected",
            "private_endpoints": "Azure Monitor is reached privately through an Azure Monitor Private Link Scope, "
            "which the kit does not create; ingestion uses the public endpoints with Entra ID",
        },
    )

    def __init__(self, scope: Construct, id_: str, props: MonitoringProps):
        super().__init__(scope, id_)
        self.log_analytics = az.LogAnalyticsWorkspace(
            self,
            "log_analytics",
            name=props.log_analytics_name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            sku="PerGB2018",
            retention_in_days=props.retention_days,
        )
        # Workspace-based: telemetry is stored in (and governed by) the Log Analytics workspace.
        self.app_insights = az.ApplicationInsights(
            self,
            "app_insights",
            name=props.app_insights_name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            workspace_id=self.log_analytics.id,
            application_type="other",
            retention_in_days=props.retention_days,
        )
        self.applied = apply_interfaces(
            self,
            self.log_analytics,
            props.interfaces,
            supports=self.SUPPORTS,
            target=Target(name=props.log_analytics_name, kind="log-analytics", prefix="log_analytics"),
        )
