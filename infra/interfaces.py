"""One interface contract for every Azure construct (Azure Verified Modules' "interfaces").

AVM gives every resource module the same optional inputs (azure.github.io/Azure-Verified-Modules,
"Interfaces"); the kit takes the five it uses, under their AVM names, as one frozen value that each
construct's props carry:

    Interfaces(lock=Lock(), diagnostics=Diagnostics(law_id), private_endpoints=link,
               role_assignments=(RoleAssignment(...),), tags={...})

and `apply_interfaces` is the one function that turns it into Terraform resources, so a reviewer
checks locks, diagnostic settings, private endpoints and role assignments once, here.

- A construct declares what it accepts in its type: `SUPPORTS: ClassVar[Supports]`, with a reason
  for each input it does not support. `apply_interfaces` refuses an input the construct does not
  support, so "the container registry has no diagnostics" can no longer happen silently
  (tests/interfaces/ enumerates every Azure construct).
- Network placement is one optional value: `private_endpoints` (a `PrivateLink`, or None in public
  mode). A construct derives its private network shape from it (`Interfaces.private`); there is
  no separate `private: bool` to disagree with it.
- Tags: the stacks' tagging aspect (infra/tags.py) tags every taggable resource; `tags` here are the
  resource's own and win over the stack's.

The helpers below (`delete_lock`, `diagnostics`, `role`, `private_endpoint`) are what
`apply_interfaces` calls; constructs that are not migrated yet call them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, cast

from cdktf import TerraformResource, TerraformResourceLifecycle
from constructs import Construct

from infra import azurerm as az
from infra.private_dns import PRIVATE_DNS_ZONES
from infra.tags import Taggable

__all__ = [
    "INTERFACE_NAMES",
    "PRIVATE_DNS_ZONES",
    "PROTECTED",
    "Applied",
    "Diagnostics",
    "Interfaces",
    "Lock",
    "PrivateLink",
    "RoleAssignment",
    "Supports",
    "Target",
    "apply_interfaces",
    "delete_lock",
    "diagnostics",
    "private_endpoint",
    "role",
]

# prevent_destroy: Terraform refuses any plan that would delete the resource.
PROTECTED = TerraformResourceLifecycle(prevent_destroy=True)


# ---------------------------------------------------------------------------------------- the inputs


@dataclass(frozen=True)
class PrivateLink:
    """Where private endpoints go and which DNS zone each sub-resource resolves through."""

    resource_group_name: str
    location: str
    subnet_id: str
    zone_ids: dict[str, str]  # private DNS zone name -> zone id


@dataclass(frozen=True)
class Lock:
    """AVM `lock`: a management lock on the resource (CanNotDelete: Azure refuses deletes, even from the portal)."""

    kind: Literal["CanNotDelete", "ReadOnly"] = "CanNotDelete"
    name: str | None = None  # default: lock-<target kind>


@dataclass(frozen=True)
class Diagnostics:
    """AVM `diagnostic_settings`: all logs (category group allLogs) and metrics to one Log Analytics workspace."""

    log_analytics_workspace_id: str


@dataclass(frozen=True)
class RoleAssignment:
    """AVM `role_assignments`: one Azure RBAC role on the resource; `key` is its construct id (its address)."""

    key: str
    role_name: str
    principal_id: str
    principal_type: str  # ServicePrincipal | Group | User: avoids Entra replication races
    description: str


@dataclass(frozen=True)
class Interfaces:
    """The optional inputs every Azure construct takes, under their AVM names. Empty: none of them."""

    lock: Lock | None = None
    diagnostics: Diagnostics | None = None
    # Network placement: set in private mode (closed network, reached through these endpoints), None in public mode.
    private_endpoints: PrivateLink | None = None
    role_assignments: tuple[RoleAssignment, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def private(self) -> bool:
        """Private mode, derived from the placement (never passed beside it)."""
        return self.private_endpoints is not None

    def set_inputs(self) -> tuple[str, ...]:
        """The names of the inputs this value sets."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name))


INTERFACE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Interfaces))


@dataclass(frozen=True)
class Supports:
    """What one construct type accepts of the contract; `reasons` says why for each input it refuses."""

    lock: bool = False
    diagnostics: bool = False
    private_endpoints: bool = False
    role_assignments: bool = False
    tags: bool = False
    reasons: Mapping[str, str] = field(default_factory=dict)

    def refused(self) -> tuple[str, ...]:
        return tuple(name for name in INTERFACE_NAMES if not getattr(self, name))


@dataclass(frozen=True)
class Target:
    """How the contract lands on one resource of a construct (a construct may have two, e.g. workspace + storage)."""

    name: str  # the resource's name: private endpoints are pep-<name>[-<sub-resource>]
    kind: str  # what it is, in lock names and notes: key-vault, data-lake, ...
    subresources: tuple[str, ...] = ()  # private endpoint sub-resources (keys of PRIVATE_DNS_ZONES)
    prefix: str = ""  # construct id prefix of what is added (keeps the addresses of earlier releases)
    diagnostics_path: str = ""  # e.g. /blobServices/default: storage logs live on the service, not the account
    metric_category: str = "AllMetrics"
    name_by_subresource: bool = False  # name even one endpoint like several (<sub>_endpoint): earlier releases did

    def __post_init__(self) -> None:
        unknown = [s for s in self.subresources if s not in PRIVATE_DNS_ZONES]
        if unknown:  # a typo would otherwise fail only in the DNS zone lookup
            raise ValueError(f"{self.kind}: unknown private endpoint sub-resources {unknown}")


@dataclass(frozen=True)
class Applied:
    """What `apply_interfaces` added (tests and callers read these)."""

    lock: az.ManagementLock | None
    diagnostics: az.MonitorDiagnosticSetting | None
    private_endpoints: dict[str, az.PrivateEndpoint]
    role_assignments: dict[str, az.RoleAssignment]


def apply_interfaces(
    scope: Construct, resource: TerraformResource | str, interfaces: Interfaces, *, target: Target, supports: Supports
) -> Applied:
    """Apply `interfaces` to `resource` (a resource, or the id of one in another stack); refuse unsupported inputs."""
    _check(interfaces, target, supports)
    rid = resource if isinstance(resource, str) else str(resource.get_string_attribute("id"))

    def cid(what: str) -> str:  # construct ids: <prefix>_lock, <prefix>_diagnostics, ...
        return f"{target.prefix}_{what}" if target.prefix else what

    lock, diag, link = interfaces.lock, interfaces.diagnostics, interfaces.private_endpoints
    applied = Applied(
        lock=None if lock is None else delete_lock(scope, cid("lock"), rid, target.kind, lock=lock),
        diagnostics=None
        if diag is None
        else diagnostics(
            scope,
            cid("diagnostics"),
            target_resource_id=rid + target.diagnostics_path,
            log_analytics_workspace_id=diag.log_analytics_workspace_id,
            metric_category=target.metric_category,
        ),
        private_endpoints={} if link is None else _endpoints(scope, rid, link, target, cid),
        role_assignments={r.key: _role(scope, rid, r) for r in interfaces.role_assignments},
    )
    if interfaces.tags:
        if isinstance(resource, str):
            raise ValueError(f"{target.kind}: tags need the resource itself, not its id")
        _tag(resource, interfaces.tags)
    return applied


def _check(interfaces: Interfaces, target: Target, supports: Supports) -> None:
    refused = [name for name in interfaces.set_inputs() if not getattr(supports, name)]
    if refused:
        why = "; ".join(f"{name}: {supports.reasons.get(name, 'not supported')}" for name in refused)
        raise ValueError(f"{target.kind} does not take {', '.join(refused)} ({why})")
    keys = [r.key for r in interfaces.role_assignments]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{target.kind}: role assignment keys must be unique, got {keys}")


def _endpoints(
    scope: Construct, rid: str, link: PrivateLink, target: Target, cid: Callable[[str], str]
) -> dict[str, az.PrivateEndpoint]:
    """One endpoint per sub-resource: `endpoint`/pep-<name> for one, `<sub>_endpoint`/pep-<name>-<sub> for several."""
    several = target.name_by_subresource or len(target.subresources) > 1
    return {
        sub: private_endpoint(
            scope,
            cid(f"{sub}_endpoint" if several else "endpoint"),
            link=link,
            name=f"pep-{target.name}-{sub}" if several else f"pep-{target.name}",
            resource_id=rid,
            subresource=sub,
        )
        for sub in target.subresources
    }


def _role(scope: Construct, rid: str, r: RoleAssignment) -> az.RoleAssignment:
    return role(
        scope,
        r.key,
        scope_id=rid,
        role_name=r.role_name,
        principal_id=r.principal_id,
        principal_type=r.principal_type,
        description=r.description,
    )


def _tag(resource: TerraformResource, tags: Mapping[str, str]) -> None:
    """Tags given at construction win over the interface's; the stack's aspect adds its own under both."""
    if not hasattr(type(resource), "tags_input"):
        raise ValueError(f"{resource.terraform_resource_type} takes no tags")
    taggable = cast(Taggable, resource)
    taggable.tags = {**tags, **(taggable.tags_input or {})}


# ------------------------------------------------------------------ the helpers apply_interfaces uses


def delete_lock(
    scope: Construct, id_: str, resource_id: str, what: str, *, lock: Lock | None = None
) -> az.ManagementLock:
    """CanNotDelete lock (or `lock`'s kind and name): Azure refuses deletes even from the portal or CLI."""
    lock = lock or Lock()
    return az.ManagementLock(
        scope,
        id_,
        name=lock.name or f"lock-{what}",
        scope=resource_id,
        lock_level=lock.kind,
        notes=f"mlops-kit: {what} holds data; remove this lock deliberately before deleting.",
    )


def diagnostics(
    scope: Construct,
    id_: str,
    *,
    target_resource_id: str,
    log_analytics_workspace_id: str,
    logs: bool = True,
    metric_category: str = "AllMetrics",
) -> az.MonitorDiagnosticSetting:
    """Send all logs (category group allLogs) and metrics of a resource to Log Analytics."""
    return az.MonitorDiagnosticSetting(
        scope,
        id_,
        name="diag-to-log-analytics",
        target_resource_id=target_resource_id,
        log_analytics_workspace_id=log_analytics_workspace_id,
        enabled_log=[az.MonitorDiagnosticSettingEnabledLog(category_group="allLogs")] if logs else None,
        enabled_metric=[az.MonitorDiagnosticSettingEnabledMetric(category=metric_category)],
    )


def role(
    scope: Construct,
    id_: str,
    *,
    scope_id: str,
    role_name: str,
    principal_id: str,
    principal_type: str,
    description: str,
) -> az.RoleAssignment:
    """One Azure RBAC role assignment; principal_type avoids Entra replication races."""
    return az.RoleAssignment(
        scope,
        id_,
        scope=scope_id,
        role_definition_name=role_name,
        principal_id=principal_id,
        principal_type=principal_type,
        description=f"mlops-kit: {description}",
    )


def private_endpoint(
    scope: Construct, id_: str, *, link: PrivateLink, name: str, resource_id: str, subresource: str
) -> az.PrivateEndpoint:
    """A private endpoint for one sub-resource, registered in its private DNS zones."""
    return az.PrivateEndpoint(
        scope,
        id_,
        name=name,
        resource_group_name=link.resource_group_name,
        location=link.location,
        subnet_id=link.subnet_id,
        private_service_connection=az.PrivateEndpointPrivateServiceConnection(
            name=f"psc-{name}",
            is_manual_connection=False,
            private_connection_resource_id=resource_id,
            subresource_names=[subresource],
        ),
        private_dns_zone_group=az.PrivateEndpointPrivateDnsZoneGroup(
            name="default",
            private_dns_zone_ids=[link.zone_ids[z] for z in PRIVATE_DNS_ZONES[subresource]],
        ),
    )
