"""What one environment gets, decided in one place: retention, replication, locks, HBI, network placement.

`environment_profile(org, team, env)` is computed once from the config models (plain data: no cdktf)
and read by the stacks, so "what prod gets" is one function, not ternaries spread over the stacks.
A private environment has exactly one `PrivatePlacement` (its subnets and existing DNS zones); a
public one has none, so "private" and "where its private endpoints go" cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast

from infra.config import EnvName, Network, Org, Team

PROD = "prod"


@dataclass(frozen=True)
class PrivatePlacement:
    """Private mode: the subnets the environment's resources sit in and the DNS zones it reuses."""

    private_endpoint_subnet_id: str  # private endpoints; its virtual network gets the DNS zone links
    function_subnet_id: str  # outbound VNet integration of the pipeline-trigger function
    compute_subnet_id: str | None = None  # Azure ML compute, only without a managed network
    existing_zone_ids: dict[str, str] = field(default_factory=dict)  # zone name -> id the platform already runs


@dataclass(frozen=True)
class EnvironmentProfile:
    """The per-environment choices the stacks apply (the differences between dev, staging and prod)."""

    env: str
    location: str
    log_retention_days: int  # Log Analytics and App Insights
    data_soft_delete_days: int  # blobs and containers of the data lake
    data_replication: str  # the data lake and the workspace's storage account
    lock: bool  # CanNotDelete locks on the data (Key Vault, lake, the registry when it is hosted here)
    # Azure ML workspace HBI flag: "reduce diagnostic data collected by the service" (azurerm 4.55 docs,
    # machine_learning_workspace); it forces a new workspace when changed, so it follows the env name only.
    high_business_impact: bool
    isolation_mode: str  # the workspace's managed network
    placement: PrivatePlacement | None  # None: public mode

    @property
    def private(self) -> bool:
        return self.placement is not None

    @property
    def network_mode(self) -> Literal["public", "private"]:
        return "private" if self.placement is not None else "public"


def private_placement(network: Network) -> PrivatePlacement:
    """The placement of a private network config (the config requires both subnets in private mode)."""
    if network.private_endpoint_subnet_id is None or network.function_subnet_id is None:
        raise ValueError("private mode needs private_endpoint_subnet_id and function_subnet_id (config validates this)")
    return PrivatePlacement(
        private_endpoint_subnet_id=network.private_endpoint_subnet_id,
        function_subnet_id=network.function_subnet_id,
        compute_subnet_id=network.compute_subnet_id,
        existing_zone_ids=dict(network.private_dns_zone_ids),
    )


def environment_profile(org: Org, team: Team, env: str) -> EnvironmentProfile:
    """The profile of `team`'s environment `env`: prod keeps logs longer, geo-replicates and locks its data."""
    # env: str until Team.env_names is typed with EnvName (the mypy `index` note in pyproject.toml).
    cfg = team.environments[cast(EnvName, env)]
    prod = env == PROD
    return EnvironmentProfile(
        env=env,
        location=org.location(team, env),
        log_retention_days=90 if prod else 30,
        data_soft_delete_days=team.data_lake.soft_delete_days,
        # GZRS: zone-redundant in the region plus a copy in the paired region (survives a regional outage);
        # dev/staging data is reproducible, so LRS.
        data_replication="GZRS" if prod else "LRS",
        lock=prod,
        high_business_impact=prod,
        isolation_mode=cfg.isolation_mode,
        placement=private_placement(cfg.network) if cfg.private else None,
    )
