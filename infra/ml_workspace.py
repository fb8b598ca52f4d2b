"""Azure ML workspace with its storage account and a scale-to-zero compute cluster.

The workspace is an `azapi_resource` (Microsoft.MachineLearningServices/workspaces), because azurerm
4.55 cannot create it the way it must exist from its first second:

- `systemDatastoresAuthMode: identity` at creation: the storage account has shared keys off, so the
  default datastores must use identities (azurerm has no such argument; the Azure Verified Module
  avm-res-machinelearningservices-workspace sets it in the azapi body the same way);
- the managed network's outbound rules inside the same body: azapi updates with a PUT of the body
  (azapi_resource.go, CreateOrUpdate), so rules kept as separate child resources would be at the
  mercy of every workspace update; and `amlregistry` is not a sub-resource the azurerm rule resource
  accepts (machine_learning_workspace_network_outbound_rule_private_endpoint_resource.go,
  `sub_resource_target` StringInSlice), so the registry rule needs the RP's own body anyway;
- `provisionNetworkNow`: the managed network exists before the compute cluster is created in it.

Everything else the azurerm workspace had is kept: system identity, HBI flag, public network access,
v1 legacy mode off, image builds on the cluster in private mode, App Insights / Key Vault / ACR /
storage links. The storage account keeps Studio's CORS rules (as AVM sets them).

With a managed network (isolation mode other than Disabled) the compute runs in that network: no
customer subnet (how-to-managed-network, Limitations) and no node public IP. Without one, private
compute joins the customer subnet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from constructs import Construct

from infra import azurerm as az
from infra.bindings import azapi
from infra.interfaces import PROTECTED, Interfaces, Supports, Target, apply_interfaces, role
from infra.storage import SecureStorageProps, secure_storage_account
from infra.tags import TaggedAzapiResource

COMPUTE_CLUSTER_NAME = "cpu-cluster"
WORKSPACE_API = "Microsoft.MachineLearningServices/workspaces@2025-06-01"


def iso_duration(seconds: int) -> str:
    """The ISO 8601 duration Azure returns for a compute idle time (1800 -> PT30M, 86400 -> P1D).

    azurerm stores `scale_down_nodes_after_idle_duration` exactly as read back, with no diff
    suppression (machine_learning_compute_cluster_resource.go, flattenScaleSettings), and the RP
    returns the normalized form, so "PT1800S" would show a change on every plan.
    """
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    out = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return out if out != "P" else "PT0S"


@dataclass(frozen=True)
class IdentityAttributes:
    """`identity.principal_id` / `tenant_id`, the shape other constructs read from azurerm resources."""

    principal_id: str
    tenant_id: str


class WorkspaceResource(TaggedAzapiResource):
    """The workspace's `azapi_resource`, with the `identity` attribute shape of azurerm resources."""

    @property
    def identity(self) -> IdentityAttributes:
        return IdentityAttributes(principal_id=self.identity_principal_id, tenant_id=self.identity_tenant_id)


@dataclass(frozen=True)
class MlWorkspaceProps:
    workspace_name: str
    storage_name: str
    resource_group_name: str
    resource_group_id: str
    location: str
    application_insights_id: str
    key_vault_id: str
    container_registry_id: str
    # Diagnostics: the workspace's and its storage's (blobServices/default); private_endpoints set:
    # private mode (`amlworkspace` endpoint, storage `blob` and `file` endpoints, public access off).
    interfaces: Interfaces
    isolation_mode: str  # Disabled | AllowOnlyApprovedOutbound | AllowInternetOutbound
    high_business_impact: bool
    vm_size: str
    vm_priority: str
    max_nodes: int
    idle_seconds_before_scale_down: int
    compute_subnet_id: str | None = None  # used only without a managed network (private mode)
    storage_replication: str = "LRS"
    # Managed network outbound rules (isolation mode other than Disabled):
    data_lake_id: str | None = None  # private endpoints to the lake's dfs and blob
    model_registry_id: str | None = None  # private endpoint to the team's Azure ML registry
    outbound_fqdns: Sequence[str] = ()  # FQDN rules, AllowOnlyApprovedOutbound only


def outbound_rules(props: MlWorkspaceProps) -> dict[str, dict[str, Any]]:
    """User-defined rules of the managed network (the workspace's own storage, vault and registry
    get their required private-endpoint rules from Azure automatically)."""
    if props.isolation_mode == "Disabled":
        return {}

    def endpoint(resource_id: str, target: str) -> dict[str, Any]:
        return {
            "type": "PrivateEndpoint",
            "category": "UserDefined",
            "destination": {"serviceResourceId": resource_id, "subresourceTarget": target, "sparkEnabled": False},
        }

    rules: dict[str, dict[str, Any]] = {}
    if props.data_lake_id:
        rules |= {f"lake-{sub}": endpoint(props.data_lake_id, sub) for sub in ("dfs", "blob")}
    if props.model_registry_id:
        rules["model-registry"] = endpoint(props.model_registry_id, "amlregistry")
    if props.isolation_mode == "AllowOnlyApprovedOutbound":
        for fqdn in props.outbound_fqdns:
            key = "fqdn-" + fqdn.replace("*.", "any-").replace(".", "-")
            rules[key] = {"type": "FQDN", "category": "UserDefined", "destination": fqdn}
    return rules


def workspace_body(props: MlWorkspaceProps, storage_id: str) -> dict[str, Any]:
    """Request body (API 2025-06-01; property names checked against azapi 2.12's embedded types)."""
    managed = props.isolation_mode != "Disabled"
    properties: dict[str, Any] = {
        "applicationInsights": props.application_insights_id,
        "keyVault": props.key_vault_id,
        "storageAccount": storage_id,
        "containerRegistry": props.container_registry_id,
        "hbiWorkspace": props.high_business_impact,
        "publicNetworkAccess": "Disabled" if props.interfaces.private else "Enabled",
        "v1LegacyMode": False,
        "systemDatastoresAuthMode": "identity",
        "managedNetwork": {"isolationMode": props.isolation_mode, "outboundRules": outbound_rules(props)},
    }
    if managed:
        properties["provisionNetworkNow"] = True
    if props.interfaces.private:
        # In a closed network, images are built on the cluster (no serverless build outside it).
        properties["imageBuildCompute"] = COMPUTE_CLUSTER_NAME
    return {"kind": "Default", "sku": {"name": "Basic", "tier": "Basic"}, "properties": properties}


class MlWorkspace(Construct):
    """The workspace, its storage (the default datastores) and the compute cluster jobs run on."""

    SUPPORTS: ClassVar[Supports] = Supports(
        diagnostics=True,
        private_endpoints=True,
        role_assignments=True,
        tags=True,
        # The data lives in the locked lake, vault and registry; prevent_destroy guards the workspace.
        reasons={
            "lock": "a delete lock also blocks deleting the workspace's children, and its online deployments "
            "and compute must stay replaceable"
        },
    )

    def __init__(self, scope: Construct, id_: str, props: MlWorkspaceProps):
        super().__init__(scope, id_)
        self.storage = secure_storage_account(
            self,
            "storage",
            SecureStorageProps(
                name=props.storage_name,
                resource_group_name=props.resource_group_name,
                location=props.location,
                private=props.interfaces.private,
                replication=props.storage_replication,
                versioning=True,
                studio_cors=True,
            ),
            lifecycle=PROTECTED,  # holds datasets, run artifacts and model files (CKV_MLK_6)
        )
        self.workspace = WorkspaceResource(
            self,
            "workspace",
            type=WORKSPACE_API,
            name=props.workspace_name,
            parent_id=props.resource_group_id,
            location=props.location,
            identity=azapi.AzapiResourceIdentity(type="SystemAssigned"),
            body=workspace_body(props, self.storage.id),
            # The RP echoes enum values in its own casing (e.g. systemDatastoresAuthMode).
            ignore_casing=True,
            tags={},
            lifecycle=PROTECTED,
        )
        self.principal_id = self.workspace.identity_principal_id
        # The default datastores are reached with the workspace identity: grant it the data roles.
        for key, name in (
            ("blob", "Storage Blob Data Contributor"),
            ("file", "Storage File Data Privileged Contributor"),
        ):
            role(
                self,
                f"workspace_storage_{key}",
                scope_id=self.storage.id,
                role_name=name,
                principal_id=self.principal_id,
                principal_type="ServicePrincipal",
                description=f"workspace identity: default datastores ({key})",
            )
        self.compute = self._compute_cluster(props)
        self._apply_interfaces(props)

    def _apply_interfaces(self, props: MlWorkspaceProps) -> None:
        """The workspace takes the interfaces; its storage shares the diagnostics and placement (the roles and tags
        are the workspace's)."""
        workspace = Target(props.workspace_name, "ml-workspace", subresources=("amlworkspace",), prefix="workspace")
        storage = Target(
            props.storage_name,
            "ml-storage",
            subresources=("blob", "file"),
            prefix="storage",
            diagnostics_path="/blobServices/default",
            metric_category="Transaction",
        )
        storage_interfaces = replace(props.interfaces, role_assignments=(), tags={})
        self.applied = apply_interfaces(
            self, self.workspace, props.interfaces, target=workspace, supports=self.SUPPORTS
        )
        self.storage_applied = apply_interfaces(
            self, self.storage, storage_interfaces, target=storage, supports=self.SUPPORTS
        )

    def _compute_cluster(self, props: MlWorkspaceProps) -> az.MachineLearningComputeCluster:
        """Scale-to-zero CPU cluster; in the managed network (no public IP) or, without one, the private subnet."""
        private, managed = props.interfaces.private, props.isolation_mode != "Disabled"
        return az.MachineLearningComputeCluster(
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
            node_public_ip_enabled=not (private or managed),
            subnet_resource_id=props.compute_subnet_id if private and not managed else None,
            scale_settings=az.MachineLearningComputeClusterScaleSettings(
                min_node_count=0,
                max_node_count=props.max_nodes,
                scale_down_nodes_after_idle_duration=iso_duration(props.idle_seconds_before_scale_down),
            ),
        )
