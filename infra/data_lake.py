"""ADLS Gen2 data lake for one environment: hierarchical namespace, Entra-only access, soft delete.

Filesystems are created as `azurerm_storage_container` with `storage_account_id`, which goes through
Azure Resource Manager instead of the storage data plane: it works with shared keys off and from an
agent outside the private network. (On an HNS account a container is the ADLS filesystem.)

In private mode the account's firewall denies everything except trusted Azure services (Event Grid's
dead-lettering with its managed identity) and the private endpoints; public network access is not
Disabled, which would also refuse Event Grid (see infra/storage.py for the sources).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import PROTECTED, PrivateLink, delete_lock, diagnostics, private_endpoint
from infra.storage import SecureStorageProps, secure_storage_account
from infra.suppressions import suppress

DEAD_LETTER_CONTAINER = "eventgrid-deadletter"


@dataclass(frozen=True)
class DataLakeProps:
    name: str
    resource_group_name: str
    location: str
    filesystems: Sequence[str]
    private: bool
    lock: bool
    log_analytics_workspace_id: str
    soft_delete_days: int = 30
    replication: str = "ZRS"
    private_link: PrivateLink | None = None


class DataLake(Construct):
    def __init__(self, scope: Construct, id_: str, props: DataLakeProps):
        super().__init__(scope, id_)
        self.account = secure_storage_account(
            self,
            "account",
            SecureStorageProps(
                name=props.name,
                resource_group_name=props.resource_group_name,
                location=props.location,
                private=props.private,
                replication=props.replication,
                hns=True,
                soft_delete_days=props.soft_delete_days,
                # Event Grid dead-letters into this lake over its public endpoint as a trusted
                # service: private mode is "selected networks" here, not Disabled (infra/storage.py).
                trusted_services=True,
            ),
            lifecycle=PROTECTED,
        )
        self.filesystems = {
            fs: az.StorageContainer(
                self, f"filesystem_{fs}", name=fs, storage_account_id=self.account.id, container_access_type="private"
            )
            for fs in props.filesystems
        }
        # Events Event Grid could not deliver land here (see docs/event-flow.md to replay them).
        self.dead_letter = az.StorageContainer(
            self, "dead_letter", name=DEAD_LETTER_CONTAINER, storage_account_id=self.account.id,
            container_access_type="private",
        )
        diagnostics(
            self,
            "diagnostics",
            target_resource_id=f"{self.account.id}/blobServices/default",
            log_analytics_workspace_id=props.log_analytics_workspace_id,
            metric_category="Transaction",
        )
        if props.lock:
            delete_lock(self, "lock", self.account.id, "data-lake")
        if props.private_link:
            for sub in ("dfs", "blob"):
                private_endpoint(
                    self, f"{sub}_endpoint", link=props.private_link, name=f"pep-{props.name}-{sub}",
                    resource_id=self.account.id, subresource=sub,
                )
        # By design (scripts/scan.py honours these; docs/checkov-baseline.md lists them).
        for container in (*self.filesystems.values(), self.dead_letter):
            suppress(container, "CKV2_AZURE_21", "blob reads, writes and deletes of the data lake go to Log Analytics "
                     "through the account's diagnostic setting (blobServices/default, category group allLogs); the "
                     "check only recognises classic Storage Analytics (azurerm_log_analytics_storage_insights)")
