"""Storage accounts with the kit's secure defaults, shared by Azure ML storage, data lake and state.

Entra ID only (shared keys off, OAuth by default), TLS 1.2, HTTPS only, no anonymous blob access,
soft delete for blobs and containers, closed network in private mode. Callers add what differs
(hierarchical namespace, versioning, replication, Studio CORS, trusted-service access).

Private mode has two network shapes:
- closed (the default): public network access Disabled, reached only through private endpoints;
- `trusted_services=True`: public network access Enabled with the firewall at default action Deny
  and the AzureServices bypass ("selected networks"), still reached by the kit through private
  endpoints. This is for accounts that Event Grid writes to (dead-letter container, delivery
  queue): Event Grid cannot deliver over private endpoints and reaches storage on its public
  endpoint as a trusted service (learn.microsoft.com/azure/event-grid/managed-service-identity,
  "Private endpoints"), and the trusted-services exception is a rule of the firewall on the public
  endpoint (learn.microsoft.com/azure/storage/common/storage-network-security), which
  `publicNetworkAccess: Disabled` turns off altogether (the built-in policy "Storage accounts should
  disable public network access": it "denies all logins that match IP or virtual network-based
  firewall rules"). No IP or subnet rule is ever added, so only trusted Azure services with an
  RBAC grant (Event Grid's managed identity) get past the firewall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from infra import azurerm as az
from infra.suppressions import Reasons, suppress


@dataclass(frozen=True)
class SecureStorageProps:
    name: str
    resource_group_name: str
    location: str
    private: bool
    replication: str = "LRS"
    hns: bool = False
    versioning: bool = False
    soft_delete_days: int = 30
    trusted_services: bool = False  # private mode: selected networks (Deny + AzureServices) instead of closed
    studio_cors: bool = False  # the Azure ML Studio CORS rules on blob and file (ML workspace storage)


# Azure ML Studio reads and uploads blobs and files from the browser; these are the CORS rules the
# Azure Verified Module for the workspace sets on its storage (avm-res-machinelearningservices-workspace,
# main.storage.tf: blob_properties.cors_rule and share_properties.cors_rule).
STUDIO_ORIGINS = (
    "https://mlworkspace.azure.ai",
    "https://ml.azure.com",
    "https://*.ml.azure.com",
    "https://ai.azure.com",
    "https://*.ai.azure.com",
)
STUDIO_METHODS = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST", "PATCH")


_Rule = TypeVar("_Rule")


def _studio_cors(rule_type: Callable[..., _Rule]) -> list[_Rule]:
    return [
        rule_type(
            allowed_origins=list(STUDIO_ORIGINS),
            allowed_methods=list(STUDIO_METHODS),
            allowed_headers=["*"],
            exposed_headers=["*"],
            max_age_in_seconds=1800,
        )
    ]


def secure_storage_account(
    scope: Construct, id_: str, props: SecureStorageProps, lifecycle: TerraformResourceLifecycle | None = None
) -> az.StorageAccount:
    account = az.StorageAccount(
        scope,
        id_,
        name=props.name,
        resource_group_name=props.resource_group_name,
        location=props.location,
        account_kind="StorageV2",
        account_tier="Standard",
        account_replication_type=props.replication,
        is_hns_enabled=props.hns,
        shared_access_key_enabled=False,
        default_to_oauth_authentication=True,
        local_user_enabled=False,
        min_tls_version="TLS1_2",
        https_traffic_only_enabled=True,
        allow_nested_items_to_be_public=False,
        cross_tenant_replication_enabled=False,
        infrastructure_encryption_enabled=True,
        public_network_access_enabled=not props.private or props.trusted_services,
        network_rules=az.StorageAccountNetworkRules(default_action="Deny", bypass=["AzureServices"])
        if props.private
        else None,
        blob_properties=az.StorageAccountBlobProperties(
            # Versioning is not available with a hierarchical namespace; soft delete is.
            versioning_enabled=props.versioning if not props.hns else None,
            delete_retention_policy=az.StorageAccountBlobPropertiesDeleteRetentionPolicy(days=props.soft_delete_days),
            container_delete_retention_policy=az.StorageAccountBlobPropertiesContainerDeleteRetentionPolicy(
                days=props.soft_delete_days
            ),
            cors_rule=_studio_cors(az.StorageAccountBlobPropertiesCorsRule) if props.studio_cors else None,
        ),
        # Blob and share properties are written through Resource Manager (no data-plane call).
        share_properties=az.StorageAccountShareProperties(
            cors_rule=_studio_cors(az.StorageAccountSharePropertiesCorsRule)
        )
        if props.studio_cors
        else None,
        lifecycle=lifecycle,
    )
    # Findings that are by design (scripts/scan.py honours these; docs/checkov-baseline.md lists them).
    suppress(account, Reasons.STORAGE_MICROSOFT_MANAGED_KEYS)
    suppress(account, Reasons.STORAGE_NO_QUEUES)
    if props.private and props.trusted_services:
        suppress(account, Reasons.STORAGE_SELECTED_NETWORKS)
    if not props.private:
        suppress(account, Reasons.STORAGE_PUBLIC)
    if props.replication in ("LRS", "ZRS"):
        suppress(account, Reasons.STORAGE_NO_GEO_REPLICATION.format(replication=props.replication))
    return account
