"""Key Vault for one environment: RBAC authorization, purge protection, closed network in private mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import PROTECTED, Interfaces, Supports, Target, apply_interfaces
from infra.suppressions import Reasons, suppress


@dataclass(frozen=True)
class KeyVaultProps:
    name: str
    resource_group_name: str
    location: str
    tenant_id: str
    interfaces: Interfaces  # private_endpoints set: private mode (closed firewall, a `vault` endpoint)
    soft_delete_days: int = 90


class TeamKeyVault(Construct):
    """Access is granted with Azure RBAC roles only (no access policies to drift)."""

    SUPPORTS: ClassVar[Supports] = Supports(
        lock=True, diagnostics=True, private_endpoints=True, role_assignments=True, tags=True
    )

    def __init__(self, scope: Construct, id_: str, props: KeyVaultProps):
        super().__init__(scope, id_)
        private = props.interfaces.private
        self.vault = az.KeyVault(
            self,
            "key_vault",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            tenant_id=props.tenant_id,
            sku_name="standard",
            rbac_authorization_enabled=True,
            purge_protection_enabled=True,
            soft_delete_retention_days=props.soft_delete_days,
            public_network_access_enabled=not private,
            # Private mode: closed firewall, reached through a private endpoint. Public mode: open so
            # Microsoft-hosted agents reach it; Entra auth + RBAC still gate every call.
            network_acls=az.KeyVaultNetworkAcls(bypass="AzureServices", default_action="Deny" if private else "Allow"),
            lifecycle=PROTECTED,
        )
        self.applied = apply_interfaces(
            self,
            self.vault,
            props.interfaces,
            supports=self.SUPPORTS,
            target=Target(name=props.name, kind="key-vault", subresources=("vault",)),
        )
        if not private:  # by design (scripts/scan.py honours these; docs/checkov-baseline.md lists them)
            suppress(self.vault, Reasons.KEY_VAULT_PUBLIC)
