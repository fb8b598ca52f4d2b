"""Azure ML workspace with its storage account and a scale-to-zero compute cluster.

The workspace uses its system-assigned identity everywhere: storage is reached by identity (the
account has shared keys off), the legacy v1 mode is off, public access is off in private mode and
the managed virtual network isolation comes from the team's config.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infra import azurerm as az
from infra.bindings import azapi
from infra.interfaces import PROTECTED, PrivateLink, delete_lock, diagnostics, private_endpoint, role
from infra.storage import SecureStorageProps, secure_storage_account
from infra.suppressions import suppress

COMPUTE_CLUSTER_NAME = "cpu-cluster"
WORKSPACE_API = "Microsoft.MachineLearningServices/workspaces@2025-06-01"


@dataclass(frozen=True)
class MlWorkspaceProps:
    workspace_name: str
    storage_name: str
    resource_group_name: str
    location: str
    application_insights_id: str
    key_vault_id: str
    container_registry_id: str
    log_analytics_workspace_id: str
    private: bool
    isolation_mode: str  # Disabled | AllowOnlyApprovedOutbound | AllowInternetOutbound
    high_business_impact: bool
    lock: bool
    vm_size: str
    vm_priority: str
    max_nodes: int
    idle_seconds_before_scale_down: int
    compute_subnet_id: str | None = None
    private_link: PrivateLink | None = None
    storage_replication: str = "LRS"


class MlWorkspace(Construct):
    def __init__(self, scope: Construct, id_: str, props: MlWorkspaceProps):
        super().__init__(scope, id_)
        self.storage = secure_storage_account(
            self,
            "storage",
            SecureStorageProps(
                name=props.storage_name,
                resource_group_name=props.resource_group_name,
                location=props.location,
                private=props.private,
                replication=props.storage_replication,
                versioning=True,
            ),
            lifecycle=PROTECTED,  # holds datasets, run artifacts and model files (CKV_MLK_6)
        )
        self.workspace = az.MachineLearningWorkspace(
            self,
            "workspace",
            name=props.workspace_name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            application_insights_id=props.application_insights_id,
            key_vault_id=props.key_vault_id,
            storage_account_id=self.storage.id,
            container_registry_id=props.container_registry_id,
            identity=az.MachineLearningWorkspaceIdentity(type="SystemAssigned"),
            public_network_access_enabled=not props.private,
            v1_legacy_mode_enabled=False,
            high_business_impact=props.high_business_impact,
            managed_network=az.MachineLearningWorkspaceManagedNetwork(isolation_mode=props.isolation_mode),
            # In a managed network, images are built on the cluster (no serverless build outside the network).
            image_build_compute_name=COMPUTE_CLUSTER_NAME if props.private else None,
            lifecycle=PROTECTED,
        )
        # The storage account has shared keys off, so the workspace must reach its default datastores
        # with its identity. azurerm 4.55 cannot say so (no storage_account_access_type yet): set the
        # workspace property through azapi, and grant the identity the data roles it then needs.
        identity = self.workspace.identity.principal_id
        grants = [
            role(self, f"workspace_storage_{key}", scope_id=self.storage.id, role_name=name, principal_id=identity,
                 principal_type="ServicePrincipal", description=f"workspace identity: default datastores ({key})")
            for key, name in (("blob", "Storage Blob Data Contributor"), ("file", "Storage File Data Privileged Contributor"))
        ]
        azapi.AzapiUpdateResource(
            self, "workspace_identity_datastores", type=WORKSPACE_API, resource_id=self.workspace.id,
            body={"properties": {"systemDatastoresAuthMode": "identity"}}, depends_on=grants,
        )
        self.compute = az.MachineLearningComputeCluster(
            self,
            "compute_cluster",
            name=COMPUTE_CLUSTER_NAME,
            machine_learning_workspace_id=self.workspace.id,
            location=props.location,
            vm_size=props.vm_size,
            vm_priority=props.vm_priority,
            identity=az.MachineLearningComputeClusterIdentity(type="SystemAssigned"),
            local_auth_enabled=False,
            ssh_public_access_enabled=False,
            node_public_ip_enabled=not props.private,
            subnet_resource_id=props.compute_subnet_id if props.private else None,
            scale_settings=az.MachineLearningComputeClusterScaleSettings(
                min_node_count=0,
                max_node_count=props.max_nodes,
                scale_down_nodes_after_idle_duration=f"PT{props.idle_seconds_before_scale_down}S",
            ),
        )
        diagnostics(
            self,
            "workspace_diagnostics",
            target_resource_id=self.workspace.id,
            log_analytics_workspace_id=props.log_analytics_workspace_id,
        )
        diagnostics(
            self,
            "storage_diagnostics",
            target_resource_id=f"{self.storage.id}/blobServices/default",
            log_analytics_workspace_id=props.log_analytics_workspace_id,
            metric_category="Transaction",
        )
        if props.lock:
            delete_lock(self, "workspace_lock", self.workspace.id, "ml-workspace")
        if props.private_link:
            link = props.private_link
            private_endpoint(
                self, "workspace_endpoint", link=link, name=f"pep-{props.workspace_name}",
                resource_id=self.workspace.id, subresource="amlworkspace",
            )
            for sub in ("blob", "file"):
                private_endpoint(
                    self, f"storage_{sub}_endpoint", link=link, name=f"pep-{props.storage_name}-{sub}",
                    resource_id=self.storage.id, subresource=sub,
                )
        if not props.private:  # by design (scripts/scan.py honours these; docs/checkov-baseline.md lists them)
            public = ("public-mode environment (tag network=public): data scientists and Microsoft-hosted agents reach "
                      "the workspace over the internet with Entra ID + RBAC; private mode turns public access off and "
                      "adds a private endpoint (CKV_MLK_1 enforces that)")
            for check_id in ("CKV_AZURE_144", "CKV2_AZURE_49"):
                suppress(self.workspace, check_id, public)
