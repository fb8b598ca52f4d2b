"""Stack `<team>-<env>`: one environment of one team (dev, staging or prod)."""

from __future__ import annotations

from typing import cast

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from infra import azurerm as az
from infra.bindings.azapi import AzapiProvider
from infra.config import EnvName, Org, Team
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
from infra.identity import (
    LiveModelReader,
    LiveModelReaderProps,
    PipelineIdentity,
    PipelineIdentityProps,
    TeamAccess,
    TeamAccessProps,
)
from infra.interfaces import Diagnostics, Interfaces, Lock, PrivateLink
from infra.key_vault import KeyVaultProps, TeamKeyVault
from infra.ml_workspace import MlWorkspace, MlWorkspaceProps
from infra.model_registry import RegistryAccess, registry_access_props, registry_ref
from infra.monitoring import Monitoring, MonitoringProps
from infra.network import PrivateNetwork, PrivateNetworkProps
from infra.plan import team_plan
from infra.profile import environment_profile
from infra.triggers import PipelineTriggers, PipelineTriggersProps
from stacks.backend import use_backend
from stacks.function_package import function_package
from stacks.providers import azurerm_provider

# Addresses of the first release for resources that have since changed type (kept for `moved`).
WORKSPACE_ADDRESS = "ml_workspace_46391A20"  # azurerm_machine_learning_workspace, now azapi_resource
FUNCTION_APP_ADDRESS = "triggers_function_app_7F7BB144"  # azurerm_function_app_flex_consumption


class EnvironmentStack(TerraformStack):
    """The stack of `team`'s environment `env`; what differs between environments comes from its profile."""

    def __init__(self, scope: Construct, name: str, org: Org, team: Team, env: str):
        super().__init__(scope, name)
        self._org, self._team, self._env = org, team, env
        self._cfg = team.environments[cast(EnvName, env)]  # env: str until Team.env_names is typed
        self._names = org.namer(team, env)
        self._profile = environment_profile(org, team, env)
        use_backend(self, name, org.platform)
        azurerm_provider(self, subscription_id=self._cfg.subscription_id, tenant_id=org.platform.tenant_id)
        # azapi sets what azurerm 4.55 cannot (the workspace's identity-based datastores).
        AzapiProvider(self, "azapi", subscription_id=self._cfg.subscription_id, tenant_id=org.platform.tenant_id)

        self._rg = az.ResourceGroup(
            self, "resource_group", name=self._names.name("resource_group"), location=self._profile.location
        )
        self._link = self._private_network()
        monitoring = self._monitoring()
        vault = self._key_vault(monitoring)
        registry = self._container_registry(monitoring)
        lake = self._data_lake(monitoring)
        ml = self._ml_workspace(monitoring, vault, registry, lake)
        pipeline = self._pipeline_identity()
        self._team_access(pipeline, ml, vault, registry, lake)
        self._registry_access(pipeline, ml)
        triggers = self._triggers(monitoring, lake, ml)
        self._moves(triggers)
        for key, value in {
            "resource_group_name": self._rg.name,
            "workspace_name": ml.workspace.name,
            "data_lake_name": lake.account.name,
            "key_vault_name": vault.name,
            "container_registry_name": registry.name,
            "pipeline_identity_client_id": pipeline.client_id,
        }.items():
            TerraformOutput(self, key, value=value)

    def _private_network(self) -> PrivateLink | None:
        """Private mode: the DNS zones and their links; the private endpoints of every construct use them."""
        placement = self._profile.placement
        if placement is None:
            return None
        return PrivateNetwork(
            self,
            "network",
            PrivateNetworkProps(
                resource_group_name=self._rg.name,
                location=self._profile.location,
                private_endpoint_subnet_id=placement.private_endpoint_subnet_id,
                existing_zone_ids=placement.existing_zone_ids,
            ),
        ).link

    def _interfaces(self, monitoring: Monitoring, *, data: bool) -> Interfaces:
        """What the profile gives a construct: diagnostics to the environment's Log Analytics, its network
        placement (private endpoints in private mode) and, for a construct that holds `data`, a delete lock
        where the profile locks data (prod)."""
        return Interfaces(
            lock=Lock() if data and self._profile.lock else None,
            diagnostics=Diagnostics(monitoring.log_analytics.id),
            private_endpoints=self._link,
        )

    def _monitoring(self) -> Monitoring:
        return Monitoring(
            self,
            "monitoring",
            MonitoringProps(
                resource_group_name=self._rg.name,
                location=self._profile.location,
                log_analytics_name=self._names.name("log_analytics"),
                app_insights_name=self._names.name("app_insights"),
                retention_days=self._profile.log_retention_days,
            ),
        )

    def _key_vault(self, monitoring: Monitoring) -> az.KeyVault:
        p = self._profile
        return TeamKeyVault(
            self,
            "key_vault",
            KeyVaultProps(
                name=self._names.name("key_vault"),
                resource_group_name=self._rg.name,
                location=p.location,
                tenant_id=self._org.platform.tenant_id,
                interfaces=self._interfaces(monitoring, data=True),
            ),
        ).vault

    def _container_registry(self, monitoring: Monitoring) -> az.ContainerRegistry:
        return TeamContainerRegistry(
            self,
            "container_registry",
            ContainerRegistryProps(
                name=self._names.name("container_registry"),
                resource_group_name=self._rg.name,
                location=self._profile.location,
                # The images prod's deployments run: locked with the environment's data (profile.lock).
                interfaces=self._interfaces(monitoring, data=True),
            ),
        ).registry

    def _data_lake(self, monitoring: Monitoring) -> DataLake:
        p = self._profile
        return DataLake(
            self,
            "data_lake",
            DataLakeProps(
                name=self._names.name("data_lake"),
                resource_group_name=self._rg.name,
                location=p.location,
                filesystems=self._team.data_lake.filesystems,
                interfaces=self._interfaces(monitoring, data=True),
                soft_delete_days=p.data_soft_delete_days,
                replication=p.data_replication,
            ),
        )

    def _ml_workspace(
        self, monitoring: Monitoring, vault: az.KeyVault, registry: az.ContainerRegistry, lake: DataLake
    ) -> MlWorkspace:
        p, compute = self._profile, self._cfg.compute
        return MlWorkspace(
            self,
            "ml",
            MlWorkspaceProps(
                workspace_name=self._names.name("ml_workspace"),
                storage_name=self._names.name("ml_storage"),
                resource_group_name=self._rg.name,
                resource_group_id=self._rg.id,
                location=p.location,
                application_insights_id=monitoring.app_insights.id,
                key_vault_id=vault.id,
                container_registry_id=registry.id,
                interfaces=self._interfaces(monitoring, data=False),  # MlWorkspace takes no lock (its SUPPORTS)
                isolation_mode=p.isolation_mode,
                high_business_impact=p.high_business_impact,
                vm_size=compute.vm_size,
                vm_priority=compute.vm_priority,
                max_nodes=compute.max_nodes,
                idle_seconds_before_scale_down=compute.idle_seconds_before_scale_down,
                compute_subnet_id=p.placement.compute_subnet_id if p.placement else None,
                storage_replication=p.data_replication,
                # Managed network outbound rules: the lake, the team registry, package feeds.
                data_lake_id=lake.account.id,
                model_registry_id=registry_ref(self._org, self._team).id,
                outbound_fqdns=tuple(self._cfg.network.outbound_fqdns),
            ),
        )

    def _pipeline_identity(self) -> az.UserAssignedIdentity:
        return PipelineIdentity(
            self,
            "pipeline_identity",
            PipelineIdentityProps(
                name=self._names.name("user_assigned_identity", "pipelines"),
                resource_group_name=self._rg.name,
                location=self._profile.location,
            ),
        ).identity

    def _team_access(
        self,
        pipeline: az.UserAssignedIdentity,
        ml: MlWorkspace,
        vault: az.KeyVault,
        registry: az.ContainerRegistry,
        lake: DataLake,
    ) -> None:
        """The team's groups and identities on this environment; staging and prod also let dev read their models."""
        team, env = self._team, self._env
        TeamAccess(
            self,
            "access",
            TeamAccessProps(
                env=env,
                data_scientists_group_id=team.groups.data_scientists,
                app_developers_group_id=team.groups.app_developers,
                pipeline_principal_id=pipeline.principal_id,
                compute_principal_id=ml.compute.identity.principal_id,
                resource_group_id=self._rg.id,
                workspace_id=ml.workspace.id,
                workspace_storage_id=ml.storage.id,
                key_vault_id=vault.id,
                container_registry_id=registry.id,
                lake_filesystem_ids={fs: c.id for fs, c in lake.filesystems.items()},
            ),
        )
        if env != "dev" and "dev" in team.env_names:
            LiveModelReader(
                self,
                "live_model_reader",
                LiveModelReaderProps(
                    env=env,
                    resource_group_id=self._rg.id,
                    workspace_id=ml.workspace.id,
                    workspace_name=self._names.name("ml_workspace"),
                    reader_identity_id=dev_pipeline_identity_id(self._org, team),
                ),
            )

    def _registry_access(self, pipeline: az.UserAssignedIdentity, ml: MlWorkspace) -> None:
        RegistryAccess(
            self,
            "registry_access",
            registry_access_props(
                self._org,
                self._team,
                self._env,
                workspace_principal_id=ml.workspace.identity.principal_id,
                pipeline_principal_id=pipeline.principal_id,
                private_link=self._link,
            ),
        )

    def _triggers(self, monitoring: Monitoring, lake: DataLake, ml: MlWorkspace) -> PipelineTriggers:
        """Lake and registry events -> the trigger function -> training and release runs."""
        org, team, env, names, p = self._org, self._team, self._env, self._names, self._profile
        # The plan's names: the devops stack finds the identity and queues the pipelines by the same ones.
        plan = team_plan(org, team)
        training, package, appi = plan.trigger, function_package(self), monitoring.app_insights
        pipelines = plan.pipelines
        # Private mode: the placement's endpoints (interfaces) and the app's outbound subnet, from the same profile.
        network = FunctionNetwork(function_subnet_id=p.placement.function_subnet_id) if p.placement else None
        return PipelineTriggers(
            self,
            "triggers",
            PipelineTriggersProps(
                resource_group=ResourceGroupRef(name=self._rg.name, id=self._rg.id, location=p.location),
                names=TriggerNames(
                    function_app=names.name("function_app"),
                    plan=names.name("app_service_plan"),
                    storage=names.name("function_storage"),
                    package_storage=names.name("package_storage"),
                    identity=plan.environments[env].trigger_identity.name,
                    lake_topic=names.name("eventgrid_system_topic", "lake"),
                    ml_topic=names.name("eventgrid_system_topic", "ml"),
                ),
                sources=EventSources(
                    data_lake_id=lake.account.id, workspace_id=ml.workspace.id,
                    training_filesystem=training.filesystem, training_prefix=training.prefix,
                    marker_suffix=training.marker_suffix,
                    model_name=team.model_name,  # what the training pipeline registers
                ),
                delivery=DeliveryPolicy(
                    max_delivery_attempts=team.triggers.max_delivery_attempts,
                    event_ttl_minutes=team.triggers.event_ttl_minutes,
                    dead_letter_container_name=lake.dead_letter.name, dead_letter_container_id=lake.dead_letter.id,
                ),
                devops=DevopsTarget(
                    org_url=org.platform.devops.organization_url, project=plan.project.name,
                    training_pipeline=pipelines["training"].name, release_pipeline=pipelines["release"].name,
                    pipeline_folder=pipelines["training"].folder, environment_name=env,
                ),
                telemetry=Telemetry(
                    app_insights_connection_string=appi.connection_string, app_insights_id=appi.id,
                    app_insights_local_auth_disabled=appi.local_authentication_disabled_input is True,
                ),
                # The site is tagged by the stack's aspect (TaggedAzapiResource); nothing holds data to lock.
                interfaces=self._interfaces(monitoring, data=False),
                network=network,
                package=package,
            ),
        )

    def _moves(self, triggers: PipelineTriggers) -> None:
        # Kit upgrades that changed a resource's type: existing state follows instead of a destroy
        # (the workspace holds run history and model lineage). azapi_resource accepts moves from
        # any azurerm_* resource (MoveState, azapi v2.12.0 internal/services/azapi_resource.go).
        # The function app moved the same way, so its name is never taken twice during the upgrade.
        self.add_override(
            "moved",
            [
                {
                    "from": f"azurerm_machine_learning_workspace.{WORKSPACE_ADDRESS}",
                    "to": f"azapi_resource.{WORKSPACE_ADDRESS}",
                },
                {
                    "from": f"azurerm_function_app_flex_consumption.{FUNCTION_APP_ADDRESS}",
                    "to": f"azapi_resource.{self.get_logical_id(triggers.site)}",
                },
            ],
        )


def dev_pipeline_identity_id(org: Org, team: Team) -> str:
    """Resource id of the dev environment's pipeline identity (deterministic name, known before deploy)."""
    return team_plan(org, team).environments["dev"].connection.identity.resource_id
