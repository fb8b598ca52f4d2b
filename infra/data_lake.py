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
from typing import ClassVar

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import PROTECTED, Interfaces, Supports, Target, apply_interfaces
from infra.storage import SecureStorageProps, secure_storage_account
from infra.suppressions import Reasons, suppress

DEAD_LETTER_CONTAINER = "eventgrid-deadletter"


@dataclass(frozen=True)
class DataLakeProps:
    name: str
    resource_group_name: str
    location: str
    filesystems: Sequence[str]
    # Diagnostics land on blobServices/default (the logs of an account are per service);
    # private_endpoints set: private mode (selected networks, `dfs` and `blob` endpoints).
    interfaces: Interfaces
    soft_delete_days: int = 30
    replication: str = "ZRS"


class DataLake(Construct):
    SUPPORTS: ClassVar[Supports] = Supports(
        lock=True, diagnostics=True, private_endpoints=True, role_assignments=True, tags=True
    )

    def __init__(self, scope: Construct, id_: str, props: DataLakeProps):
        super().__init__(scope, id_)
        self.account = secure_storage_account(
            self,
            "account",
            SecureStorageProps(
                name=props.name,
                resource_group_name=props.resource_group_name,
                location=props.location,
                private=props.interfaces.private,
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
            self,
            "dead_letter",
            name=DEAD_LETTER_CONTAINER,
            storage_account_id=self.account.id,
            container_access_type="private",
        )
        self.applied = apply_interfaces(
            self,
            self.account,
            props.interfaces,
            supports=self.SUPPORTS,
            target=Target(
                name=props.name,
                kind="data-lake",
                subresources=("dfs", "blob"),
                diagnostics_path="/blobServices/default",
                metric_category="Transaction",
            ),
        )
        # By design (scripts/scan.py honours these; docs/checkov-baseline.md lists them).
        for container in (*self.filesystems.values(), self.dead_letter):
            suppress(container, Reasons.LAKE_CONTAINER_LOGS)
