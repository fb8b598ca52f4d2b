"""Private networking for one environment: private DNS zones linked to the team's virtual network.

In private mode every service is reached through private endpoints; their names resolve through
the zones created here or through central (hub) zones the platform already runs, given in the
team's `network.private_dns_zone_ids`. A virtual network can be linked to only one zone of a given
name, so a zone is created here only for a network this environment alone uses: infra/config.py
refuses a network shared by several environments unless each lists every zone (hub zones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import Interfaces, PrivateLink, Supports, Target, apply_interfaces
from infra.private_dns import ZONE_NAMES, vnet_of


@dataclass(frozen=True)
class PrivateNetworkProps:
    resource_group_name: str
    location: str
    private_endpoint_subnet_id: str
    existing_zone_ids: dict[str, str]  # zone name -> id of a zone the platform already manages
    interfaces: Interfaces = field(default_factory=Interfaces)  # applied to each zone it creates (tags)


class PrivateNetwork(Construct):
    """Creates the missing private DNS zones and links them to the subnet's virtual network.

    Its `link` is the environment's network placement: the `private_endpoints` interface of every
    other construct of a private environment.
    """

    SUPPORTS: ClassVar[Supports] = Supports(
        tags=True,
        reasons={
            "lock": "the zones hold no data: their records come from the private endpoints' zone groups",
            "diagnostics": "private DNS zones have no resource logs, and their metrics are not exportable "
            "by a diagnostic setting (Azure Monitor, supported metrics of privateDnsZones)",
            "private_endpoints": "the zones are what private endpoints resolve through",
            "role_assignments": "only Terraform manages the zones; nobody needs a role on them",
        },
    )

    def __init__(self, scope: Construct, id_: str, props: PrivateNetworkProps):
        super().__init__(scope, id_)
        zone_ids = dict(props.existing_zone_ids)
        for zone in ZONE_NAMES:
            if zone in zone_ids:
                continue
            key = zone.replace(".", "_")
            created = az.PrivateDnsZone(self, f"zone_{key}", name=zone, resource_group_name=props.resource_group_name)
            az.PrivateDnsZoneVirtualNetworkLink(
                self,
                f"link_{key}",
                name="link-to-team-vnet",
                private_dns_zone_name=created.name,
                resource_group_name=props.resource_group_name,
                virtual_network_id=vnet_of(props.private_endpoint_subnet_id),
                registration_enabled=False,
            )
            zone_ids[zone] = created.id
            apply_interfaces(
                self,
                created,
                props.interfaces,
                supports=self.SUPPORTS,
                target=Target(name=zone, kind="private-dns-zone", prefix=f"zone_{key}"),
            )
        self.link = PrivateLink(
            resource_group_name=props.resource_group_name,
            location=props.location,
            subnet_id=props.private_endpoint_subnet_id,
            zone_ids=zone_ids,
        )
