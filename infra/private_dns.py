"""Private DNS zones of the private endpoints the kit creates (plain data: config and constructs share it).

Sub-resource -> zones it registers in (Azure's private endpoint DNS table,
learn.microsoft.com/azure/private-link/private-endpoint-dns). A virtual network can be linked to
only one zone of a given name, so these zones exist once per virtual network: the kit creates them
in the one environment that uses a virtual network, or takes them from `network.private_dns_zone_ids`
(hub zones) when several environments share it (infra/config.py enforces that).
"""

from __future__ import annotations

PRIVATE_DNS_ZONES: dict[str, tuple[str, ...]] = {
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
    "vault": ("privatelink.vaultcore.azure.net",),
    "registry": ("privatelink.azurecr.io",),
    "blob": ("privatelink.blob.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "dfs": ("privatelink.dfs.core.windows.net",),
    "queue": ("privatelink.queue.core.windows.net",),
    "sites": ("privatelink.azurewebsites.net",),
    "amlregistry": ("privatelink.api.azureml.ms",),
}

# Every zone a private environment's endpoints resolve through.
ZONE_NAMES: tuple[str, ...] = tuple(sorted({z for zones in PRIVATE_DNS_ZONES.values() for z in zones}))


def vnet_of(subnet_id: str) -> str:
    """Virtual network id of a subnet id (…/virtualNetworks/<vnet>/subnets/<subnet>), lower-cased for comparison."""
    return subnet_id.split("/subnets/")[0]
