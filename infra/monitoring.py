"""Log Analytics workspace + workspace-based Application Insights for one environment."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infra import azurerm as az


@dataclass(frozen=True)
class MonitoringProps:
    resource_group_name: str
    location: str
    log_analytics_name: str
    app_insights_name: str
    retention_days: int = 30


class Monitoring(Construct):
    """Every diagnostic setting of the environment points at `self.log_analytics`."""

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
