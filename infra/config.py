"""Configuration: `teams/platform.yaml` + one `teams/<team>.yaml` per team -> validated models.

Pydantic does the validation; this module turns every problem into one line of the form
`<file>: <field>: <what is wrong>. Fix: <what to do>` and raises `ConfigError` with all of them.
The kit's own validators raise `invalid(field, problem, fix)`, a pydantic error of type `kit_config`
whose ctx carries the three parts, so the line needs no parsing of message text.
Values in messages are cut to ~80 characters (with their length), so a 2 MB value stays one short line.
Nothing here imports cdktf, so `mlops-kit validate` stays fast.

Patterns are full matches (backslash-A ... backslash-Z with the python-re engine: `$` would also
match before a final newline, so a GUID followed by a newline would pass). Free-text fields reject
control characters.
Reading the files (size cap, regular files only, YAML limits, duplicate keys) is `infra.yaml_reader`.
"""

from __future__ import annotations

import difflib
import json
import re
import reprlib
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError
from trigger_core.contract import LOCAL_HOSTS, ORG_URL_FIX
from trigger_core.contract import parse_org_url as parse_devops_org_url

from infra.naming import RULES, Namer, globally_unique_names
from infra.private_dns import ZONE_NAMES, vnet_of
from infra.time_zones import BUSINESS_HOURS_TIME_ZONES
from infra.yaml_reader import ReadError, read_yaml

PLATFORM_FILE = "platform.yaml"
EnvName = Literal["dev", "staging", "prod"]
ENV_ORDER: tuple[EnvName, ...] = ("dev", "staging", "prod")
DATA_DIR = Path(__file__).resolve().parent / "data"
MAX_ERRORS_PER_FILE = 20  # 200,000 unknown keys must not print 200,000 lines
SHOWN_CHARS = 80

GUID_PATTERN = r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
SUBNET_PATTERN = (
    r"\A/subscriptions/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"/resourceGroups/[-\w.()]{1,90}/providers/Microsoft\.Network/virtualNetworks/[-\w.]{1,80}/subnets/[-\w.]{1,80}\Z"
)
FQDN_PATTERN = r"\A(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z"
# PyPI's index and the host of its files (pip needs both); conda channels are opt-in.
DEFAULT_OUTBOUND_FQDNS = ("pypi.org", "files.pythonhosted.org")
DNS_ZONE_ID_PATTERN = (
    r"\A/subscriptions/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"/resourceGroups/[-\w.()]{1,90}/providers/Microsoft\.Network/privateDnsZones/[a-z0-9.-]{1,253}\Z"
)
FILESYSTEM_PATTERN = r"\A[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]\Z"
LOCATION_PATTERN = r"\A[a-z][a-z0-9]{1,39}\Z"
SINGLE_LINE_PATTERN = r"\A[^\x00-\x1f\x7f-\x9f\u2028\u2029]*\Z"  # no control characters, no line breaks
TEXT_PATTERN = r"\A[^\x00-\x08\x0b-\x1f\x7f-\x9f]*\Z"  # free text: tabs and newlines allowed
# Azure tags (learn.microsoft.com, "Use tags to organize your Azure resources"): names up to 512 characters
# (128 on storage accounts, which the kit tags, so 128 here) without < > % & \ ? /, values up to 256,
# at most 50 tags per resource. The kit adds up to 5 of its own (team, env, cost-center, managed-by, network).
TAG_KEY_PATTERN = r"\A[^<>%&\\?/\x00-\x1f\x7f-\x9f\u2028\u2029]{1,128}\Z"
TAG_VALUE_PATTERN = r"\A[^\x00-\x1f\x7f-\x9f\u2028\u2029]{0,256}\Z"
KIT_TAGS = 5
MAX_DEFAULT_TAGS = 50 - KIT_TAGS

Guid = Annotated[str, StringConstraints(pattern=GUID_PATTERN)]
SubnetId = Annotated[str, StringConstraints(pattern=SUBNET_PATTERN)]
FilesystemName = Annotated[str, StringConstraints(pattern=FILESYSTEM_PATTERN)]
Location = Annotated[str, StringConstraints(pattern=LOCATION_PATTERN)]
TagKey = Annotated[str, StringConstraints(pattern=TAG_KEY_PATTERN)]
TagValue = Annotated[str, StringConstraints(pattern=TAG_VALUE_PATTERN)]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WORKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
ProjectFeature = Literal["boards", "repositories", "pipelines", "testplans", "artifacts"]
FeatureState = Literal["enabled", "disabled"]
DEFAULT_FEATURES: dict[ProjectFeature, FeatureState] = {
    "boards": "enabled", "repositories": "enabled", "pipelines": "enabled", "testplans": "disabled", "artifacts": "enabled",
}


# A single line of 1-64 characters without control characters (names shown to people, tag values).
ShortLine = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=SINGLE_LINE_PATTERN)]


# Fix hints for field-specific patterns: the pydantic message shows a regex, the fix says what to write.
_PATTERN_FIXES = {
    GUID_PATTERN: "use the object/subscription/tenant id GUID, e.g. 00000000-0000-0000-0000-000000000000",
    SUBNET_PATTERN: "use the full subnet resource id "
    "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
    FQDN_PATTERN: "use a lowercase host name such as pypi.org, optionally starting with *.",
    DNS_ZONE_ID_PATTERN: "use the zone's resource id "
    "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/privateDnsZones/<zone>",
    FILESYSTEM_PATTERN: "use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
    LOCATION_PATTERN: "use an Azure region name such as westeurope (az account list-locations -o table)",
    SINGLE_LINE_PATTERN: "remove control characters and line breaks (NUL, tab, newline, ...)",
    TEXT_PATTERN: "remove control characters (NUL, escape, ...); tabs and newlines are fine",
    TAG_KEY_PATTERN: "use 1-128 characters without < > % & \\ ? / or control characters (Azure's tag name rules)",
    TAG_VALUE_PATTERN: "use at most 256 characters without control characters (Azure's tag value limit)",
}

# Filesystems the kit creates itself in every data lake (infra/data_lake.py; a test keeps them in step).
RESERVED_FILESYSTEMS = {"eventgrid-deadletter": "the Event Grid dead-letter container the kit adds to every lake"}
# Team names that cannot work: YAML 1.1 reads them as booleans or null when unquoted, `platform-*` selects the
# platform-bootstrap stack, and Azure DevOps refuses reserved (Windows device) names as project names.
_YAML_SPECIAL = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}
_DEVOPS_RESERVED = {"bin", "con", "aux", "prn", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
RESERVED_TEAM_NAMES = {"platform": "the platform-bootstrap stack is selected by `platform-*`"} | dict.fromkeys(
    _YAML_SPECIAL, "YAML reads it as a boolean or null when unquoted"
) | dict.fromkeys(_DEVOPS_RESERVED, "Azure DevOps reserves it (a Windows device name)")


def is_env_name(value: str) -> TypeGuard[EnvName]:
    """`value` is dev, staging or prod (narrows a caller's `str` to `EnvName`)."""
    return value in ENV_ORDER


@cache
def known_locations() -> dict[str, Any]:
    """The shipped region list: {"locations": {name: display name}, "generated": date, "source": url}."""
    shipped: dict[str, Any] = json.loads((DATA_DIR / "azure-locations.json").read_text(encoding="utf-8"))
    return shipped


@cache
def known_vm_sizes() -> frozenset[str]:
    return frozenset(json.loads((DATA_DIR / "azure-vm-sizes.json").read_text(encoding="utf-8"))["vm_sizes"])


_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict, _repr.maxlevel = SHOWN_CHARS, SHOWN_CHARS, 4, 4, 2


def show(value: Any) -> str:
    """`value` for an error message: at most ~80 characters, with the full length when cut."""
    if not isinstance(value, str):
        return _repr.repr(value)  # bounded even for an alias-expanded structure
    if len(value) <= SHOWN_CHARS:
        return repr(value)
    cut = repr(value[:SHOWN_CHARS])
    return f"{cut[:-1]}...{cut[-1]} ({len(value):,} characters)"


KIT_ERROR = "kit_config"  # the pydantic error type of the kit's own validators


def invalid(field: str, problem: str, fix: str) -> PydanticCustomError:
    """A problem found by one of the kit's validators, for pydantic to collect with the others.

    `field` is dotted and relative to what the validator checks ("" = that field or model itself);
    pydantic keeps `field`, `problem` and `fix` in the error's ctx, and its message is `problem`.
    """
    # pydantic-core fills the template from ctx in order: `problem` last, so its text is not re-scanned.
    return PydanticCustomError(KIT_ERROR, "{problem}", {"field": field, "fix": fix, "problem": problem})


class ConfigError(Exception):
    """One or more configuration problems, each a single line naming file, field and fix."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo must not silently fall back to a default).

    Strict types: no coercion, so `max_nodes: "4\\n"` or `max_nodes: yes` is an error, not 4 or 1.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, regex_engine="python-re", strict=True)


# ---------------------------------------------------------------- platform.yaml
class StateSettings(Strict):
    """Remote state: an Azure storage container, reached with Azure AD auth (no keys)."""

    subscription_id: Guid = Field(description="Subscription that holds the state storage account.")
    resource_group: Annotated[str, StringConstraints(pattern=r"\A[-\w.()]{0,89}[-\w()]\Z")] = Field(
        description="Resource group of the state storage account (created by `platform-bootstrap`).",
    )
    storage_account: Annotated[str, StringConstraints(pattern=r"\A[a-z0-9]{3,24}\Z")] = Field(
        description="Name of the state storage account (globally unique). Terraform reaches it with Entra ID "
        "(`use_azuread_auth`), never with an account key.",
    )
    container: FilesystemName = Field(
        default="tfstate",
        description="Blob container for the state files, one `<stack>.tfstate` per stack.",
    )
    location: Location | None = Field(
        default=None,
        description="Region of the state storage; default `default_location`.",
    )


MAX_ORG_URL_LENGTH = 200


def parse_org_url(value: str) -> tuple[str, str]:
    """(normalised URL, organization) of an Azure DevOps organization URL; raises `invalid(...)` (a ValueError).

    The rule is the trigger function's own (`trigger_core.contract.parse_org_url`: https only, no
    userinfo, port, query or fragment, exactly `https://dev.azure.com/<org>` or
    `https://<org>.visualstudio.com`, so `https://evil.example#.visualstudio.com` is refused), so the
    config accepts exactly the URLs the deployed function accepts; the config refuses its test-server
    form (`http://127.0.0.1:<port>/<org>`) too, and values over 200 characters.
    """

    def bad(problem: str) -> PydanticCustomError:
        return invalid("", f"{show(value)} {problem}", ORG_URL_FIX)

    if len(value) > MAX_ORG_URL_LENGTH:
        raise bad(f"is longer than {MAX_ORG_URL_LENGTH} characters")
    normalised, problem = parse_devops_org_url(value)
    if normalised is None:
        raise bad(problem or "is not an organization URL")
    parts = urlsplit(normalised)
    if parts.hostname in LOCAL_HOSTS:
        raise bad("names a local test server, not dev.azure.com or <organization>.visualstudio.com")
    host = parts.hostname or ""
    return normalised, parts.path.strip("/") if host == "dev.azure.com" else host.partition(".")[0]


class DevopsOrg(Strict):
    organization_url: str = Field(description="`https://dev.azure.com/<org>` or `https://<org>.visualstudio.com`.")

    @field_validator("organization_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return parse_org_url(value)[0]

    @property
    def organization(self) -> str:
        return parse_org_url(self.organization_url)[1]


def location_problem(value: str | None, extra: tuple[str, ...]) -> tuple[str, str] | None:
    """(problem, fix) when `value` is not a region the kit knows, with the closest names; None: fine."""
    if value is None or value in known_locations()["locations"] or value in extra:
        return None
    near = difflib.get_close_matches(value, [*known_locations()["locations"], *extra], n=2)
    hint = f"did you mean {' or '.join(near)}? " if near else ""
    return (
        f"{show(value)} is not an Azure region in the kit's list (generated {known_locations()['generated']})",
        f"{hint}use a name from `az account list-locations -o table`, or add a new region to "
        "`extra_locations` in platform.yaml",
    )


class Platform(Strict):
    """Organization-wide settings shared by every team."""

    tenant_id: Guid = Field(
        description="Entra ID tenant of every subscription and of the Azure DevOps organization; `mlops-kit preflight` "
        "checks that each subscription belongs to it.",
    )
    default_location: Location = Field(
        description="Region of every resource unless an environment, the registry or the state sets its own.",
    )
    naming_prefix: Annotated[str, StringConstraints(pattern=r"\A[a-z][a-z0-9]{1,5}\Z")] = Field(
        description="Goes into every resource name (`rg-<prefix>-<team>-<env>`, `kv<prefix><team>...`). Changing it "
        "renames, that is replaces, every resource.",
    )
    default_tags: Annotated[dict[TagKey, TagValue], Field(max_length=MAX_DEFAULT_TAGS)] = Field(
        default_factory=dict,
        description="Tags on every resource, merged under the kit's own `team`, `env`, `cost-center`, `network` and "
        "`managed-by` (the kit's tags win on a clash). Azure allows 50 tags per resource, so at most 45 here.",
    )
    devops: DevopsOrg = Field(description="The Azure DevOps organization that hosts every team's project.")
    state: StateSettings | None = Field(
        default=None,
        description="Remote Terraform state for every stack, created once by the `platform-bootstrap` stack. Leave it "
        "out for local state files (`terraform.<stack>.tfstate`, a single operator only).",
    )
    extra_locations: list[Location] = Field(
        default_factory=list,
        description="Regions to accept besides the kit's list (infra/data/azure-locations.json, generated by "
        "scripts/gen_azure_data.py from Azure.Core's region list, with its date): for a region newer than the list. "
        "Every `location` must be in one of the two.",
    )

    @model_validator(mode="after")
    def _locations(self) -> Platform:
        for field, value in (("default_location", self.default_location),
                             ("state.location", self.state.location if self.state else None)):
            problem = location_problem(value, tuple(self.extra_locations))
            if problem:
                raise invalid(field, *problem)
        return self


# ---------------------------------------------------------------- <team>.yaml
class Groups(Strict):
    """Entra ID (Azure AD) group object ids."""

    data_scientists: Guid = Field(
        description="Contributors of the Azure DevOps project; in dev AzureML Data Scientist on the workspace and "
        "Storage Blob Data Contributor on the lake, Reader on the resource group elsewhere.",
    )
    app_developers: Guid = Field(
        description="Contributors of the Azure DevOps project; Reader on every environment's resource group.",
    )
    approvers: Guid | None = Field(
        default=None,
        description="Readers of the project who approve deployments to prod (the prod environment's approval check). "
        "Required when the team has a prod environment.",
    )


class Network(Strict):
    mode: Literal["public", "private"] = Field(
        default="public",
        description="`public`: services reachable over the internet, still behind Entra ID and RBAC. `private`: public "
        "access off, private endpoints and private DNS, compute in the workspace's managed network (or in "
        "`compute_subnet_id` with `managed_network: Disabled`).",
    )
    private_endpoint_subnet_id: SubnetId | None = Field(
        default=None,
        description="Private mode: subnet for the private endpoints (workspace, Key Vault, registries, storage). Its "
        "VNet gets the private DNS zone links.",
    )
    compute_subnet_id: SubnetId | None = Field(
        default=None,
        description="Private mode with `managed_network: Disabled`: subnet of the Azure ML compute cluster (no public "
        "IP). Unused (a warning) with a managed network, which hosts the compute itself.",
    )
    # Outbound VNet integration of the trigger function (Flex Consumption): a subnet delegated to
    # Microsoft.App/environments, so the function reaches its closed storage and Azure DevOps.
    function_subnet_id: SubnetId | None = Field(
        default=None,
        description="Private mode: subnet for the pipeline-trigger function's outbound VNet integration, delegated to "
        "`Microsoft.App/environments`.",
    )
    # Private DNS zones (name -> id) the platform already runs and links to this virtual network (hub
    # zones). Zones not listed are created by this environment's stack; a virtual network shared by
    # several environments must list them all (load_org checks it: one zone name per network).
    private_dns_zone_ids: dict[
        Annotated[str, StringConstraints(pattern=r"\A[a-z0-9][a-z0-9.-]{0,252}\Z")],
        Annotated[str, StringConstraints(pattern=DNS_ZONE_ID_PATTERN)],
    ] = Field(
        default_factory=dict,
        description="Private mode: existing private DNS zones to use instead of creating them, zone name -> zone "
        "resource id (for platforms with central DNS). A network links one zone per name, so when several environments "
        "share the private-endpoint network each must list every zone of `infra/private_dns.py`.",
    )
    outbound_fqdns: list[Annotated[str, StringConstraints(pattern=FQDN_PATTERN)]] = Field(
        default_factory=lambda: list(DEFAULT_OUTBOUND_FQDNS),
        max_length=100,
        description="FQDN outbound rules of the workspace's managed network (`AllowOnlyApprovedOutbound` only): the "
        "package feeds jobs and image builds install from. Each rule runs on an Azure Firewall the managed network "
        "adds (billed; an empty list adds none). Default: PyPI.",
    )

    @model_validator(mode="after")
    def _subnets_match_mode(self) -> Network:
        if self.mode == "private":
            for f in ("private_endpoint_subnet_id", "function_subnet_id"):
                if getattr(self, f) is None:
                    raise invalid(f, "private mode needs a subnet", f"add `{f}: /subscriptions/.../subnets/<name>`")
            vnet = vnet_of(self.private_endpoint_subnet_id or "").lower()
            for f in ("function_subnet_id", "compute_subnet_id"):
                subnet = getattr(self, f)
                if subnet and vnet_of(subnet).lower() != vnet:
                    raise invalid(f, "not in the virtual network of private_endpoint_subnet_id (the private DNS "
                                  "zones are linked to that one network)", "use a subnet of that virtual network")
            unknown = sorted(set(self.private_dns_zone_ids) - set(ZONE_NAMES))
            if unknown:
                raise invalid("private_dns_zone_ids", f"'{unknown[0]}' is not a zone the kit's private endpoints use",
                              f"list only zones of {list(ZONE_NAMES)}")
            for zone, zone_id in sorted(self.private_dns_zone_ids.items()):
                if zone_id.rsplit("/", 1)[-1].lower() != zone:
                    raise invalid(f"private_dns_zone_ids.{zone}", f"the id names zone '{zone_id.rsplit('/', 1)[-1]}'",
                                  f"use the id of the {zone} zone")
        elif self.private_endpoint_subnet_id or self.compute_subnet_id or self.function_subnet_id:
            raise invalid("mode", "subnet ids are only used in private mode", "set `mode: private` or remove the subnet ids")
        elif self.private_dns_zone_ids:
            raise invalid("private_dns_zone_ids", "private DNS zones are only used in private mode",
                          "set `mode: private` or remove private_dns_zone_ids")
        return self


VM_SIZE_PATTERN = r"\AStandard_[A-Za-z0-9][A-Za-z0-9_]{0,62}\Z"
_PATTERN_FIXES[VM_SIZE_PATTERN] = "use an Azure VM size such as Standard_DS3_v2 (az vm list-sizes -l <region>)"


class Compute(Strict):
    vm_size: Annotated[str, StringConstraints(pattern=VM_SIZE_PATTERN)] = Field(
        default="Standard_DS3_v2",
        description="VM size of the cluster nodes. A size missing from the kit's list (infra/data/azure-vm-sizes.json) "
        "is a warning, not an error: new sizes appear often.",
    )
    vm_priority: Literal["Dedicated", "LowPriority"] = Field(
        default="Dedicated",
        description="`LowPriority` is cheaper and can be preempted; use `Dedicated` where runs must finish.",
    )
    max_nodes: Annotated[int, Field(ge=1, le=100)] = Field(
        default=2,
        description="Upper bound of the cluster (cost ceiling).",
    )
    idle_seconds_before_scale_down: Annotated[int, Field(ge=60, le=86400)] = Field(
        default=1800,
        description="Idle time before nodes are released.",
    )


AGENT_POOL_PATTERN = r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z"
_PATTERN_FIXES[AGENT_POOL_PATTERN] = "use the agent pool's name as Azure DevOps shows it (letters, digits, . _ -)"


class Environment(Strict):
    subscription_id: Guid = Field(description="Subscription the environment deploys into.")
    location: Location | None = Field(
        default=None,
        description="Region of the environment; default `default_location` of platform.yaml.",
    )
    network: Network = Field(
        default_factory=Network,
        description="Network mode and, in private mode, the subnets the environment uses.",
    )
    managed_network: Literal["Disabled", "AllowOnlyApprovedOutbound", "AllowInternetOutbound"] | None = Field(
        default=None,
        description="Isolation of the workspace's managed virtual network; default `AllowOnlyApprovedOutbound` in "
        "private mode, `Disabled` in public mode.",
    )
    compute: Compute = Field(
        default_factory=Compute,
        description="The environment's Azure ML compute cluster (scales to zero when idle).",
    )
    agent_pool: Annotated[str, StringConstraints(pattern=AGENT_POOL_PATTERN)] | None = Field(
        default=None,
        description="Agent pool that runs this environment's pipeline jobs: a self-hosted or Managed DevOps Pool "
        "inside the environment's virtual network (required in private mode). Default: Microsoft-hosted "
        "`ubuntu-24.04`.",
    )

    @model_validator(mode="after")
    def _agent_pool(self) -> Environment:
        # Microsoft-hosted agents run outside every customer network: they cannot reach a private
        # workspace, endpoint or registry, so a private environment's jobs need a pool inside its VNet.
        if self.private and self.agent_pool is None:
            raise invalid("agent_pool", "a private environment's pipelines need agents inside its virtual network "
                          "(Microsoft-hosted agents cannot reach private endpoints)",
                          "add `agent_pool: <self-hosted or Managed DevOps Pool name>` to this environment")
        return self

    @model_validator(mode="after")
    def _compute_placement(self) -> Environment:
        # A workspace with a managed virtual network runs its compute in that network: a compute
        # cluster cannot also sit in a customer subnet (learn.microsoft.com/azure/machine-learning/
        # how-to-managed-network, Limitations), so compute_subnet_id is then unused (load_team warns).
        # Without one, private compute needs the customer subnet.
        if self.private and self.isolation_mode == "Disabled" and not self.network.compute_subnet_id:
            raise invalid("network.compute_subnet_id", "private mode without a managed network needs a compute subnet",
                          "add `compute_subnet_id: /subscriptions/.../subnets/<name>` or remove `managed_network`")
        if "outbound_fqdns" in self.network.model_fields_set and self.isolation_mode != "AllowOnlyApprovedOutbound":
            raise invalid("network.outbound_fqdns", "FQDN outbound rules only apply to the managed network mode "
                          f"AllowOnlyApprovedOutbound, this environment's is {self.isolation_mode}",
                          "remove outbound_fqdns or set `managed_network: AllowOnlyApprovedOutbound`")
        return self

    @property
    def private(self) -> bool:
        return self.network.mode == "private"

    @property
    def isolation_mode(self) -> str:
        if self.managed_network:
            return self.managed_network
        return "AllowOnlyApprovedOutbound" if self.private else "Disabled"


class DataLake(Strict):
    filesystems: Annotated[list[FilesystemName], Field(min_length=1, max_length=50)] = Field(
        default_factory=lambda: ["raw", "curated"],
        description="Filesystems (containers) created in each lake; the kit adds `eventgrid-deadletter`, so that name "
        "is reserved.",
    )
    soft_delete_days: Annotated[int, Field(ge=1, le=365)] = Field(
        default=30,
        description="Days deleted blobs and containers stay recoverable.",
    )

    @model_validator(mode="after")
    def _unique(self) -> DataLake:
        dupes = sorted({f for f in self.filesystems if self.filesystems.count(f) > 1})
        if dupes:
            raise invalid("filesystems", f"'{dupes[0]}' is listed twice", "list each filesystem once")
        for fs in self.filesystems:
            if fs in RESERVED_FILESYSTEMS:
                raise invalid("filesystems", f"'{fs}' is reserved: {RESERVED_FILESYSTEMS[fs]}", "choose another name")
        return self


class Approvals(Strict):
    minimum_approvers: Annotated[int, Field(ge=1, le=10)] = Field(
        default=1,
        description="Approvals from the approvers group needed before prod; the requester cannot approve.",
    )
    timeout_minutes: Annotated[int, Field(ge=1, le=43200)] = Field(
        default=4320,
        description="How long a prod deployment waits for approval (also the exclusive lock's timeout).",
    )
    instructions: Annotated[str, StringConstraints(max_length=2000, pattern=TEXT_PATTERN)] = Field(
        default="Check the release's contract check and staging smoke test, then approve.",
        description="Shown to approvers in the approval dialog.",
    )


class BusinessHours(Strict):
    start: Annotated[str, StringConstraints(pattern=r"\A([01]\d|2[0-3]):[0-5]\d\Z")] = Field(
        default="08:00",
        description="Start of the window, `HH:MM`.",
    )
    end: Annotated[str, StringConstraints(pattern=r"\A([01]\d|2[0-3]):[0-5]\d\Z")] = Field(
        default="17:00",
        description="End of the window, `HH:MM`.",
    )
    time_zone: ShortLine = Field(
        default="UTC",
        description="Time zone of the window, e.g. `UTC` or `W. Europe Standard Time`.",
    )
    days: list[Weekday] = Field(
        default_factory=lambda: list(WORKDAYS),
        description="Days on which deployments may run.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        """The provider accepts only Windows time zone ids (infra/time_zones.py); check before deploy."""
        if value not in BUSINESS_HOURS_TIME_ZONES:
            near = difflib.get_close_matches(value, sorted(BUSINESS_HOURS_TIME_ZONES), n=2)
            hint = f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
            raise invalid("", f"{show(value)} is not a Windows time zone id Azure DevOps accepts",
                          f"{hint}use e.g. UTC or 'W. Europe Standard Time' (list: infra/time_zones.py)")
        return value


PROJECT_NAME_PATTERN = r"\A[A-Za-z0-9](?:[A-Za-z0-9 _.-]{0,62}[A-Za-z0-9_-])?\Z"


class Devops(Strict):
    """The team's Azure DevOps project."""

    # Azure DevOps project names: no leading `_`/`.`, no trailing `.`, not a reserved (device) name
    # (learn.microsoft.com, "Naming restrictions and conventions", Azure DevOps).
    project_name: Annotated[str, StringConstraints(pattern=PROJECT_NAME_PATTERN)] | None = Field(
        default=None,
        description="Project name; default the team name. Changing it renames the project.",
    )
    features: dict[ProjectFeature, FeatureState] = Field(
        default_factory=lambda: dict(DEFAULT_FEATURES),
        description="Project features to turn on or off (`enabled` / `disabled`); a partial map sets only the keys "
        "given.",
    )
    min_reviewers: Annotated[int, Field(ge=2, le=10)] = Field(
        default=2,
        description="Reviewers required on pull requests to main in both repositories (the last pusher cannot approve; "
        "votes reset on push).",
    )
    approvals: Approvals = Field(default_factory=Approvals, description="The prod approval check.")
    business_hours: BusinessHours | None = Field(
        default=None,
        description="Optional: prod deployments only run in this window (business-hours check).",
    )
    key_vault_secrets: list[Annotated[str, StringConstraints(pattern=r"\A[0-9a-zA-Z-]{1,127}\Z")]] = Field(
        default_factory=list,
        description="Secret names that pipelines may read, through a Key Vault-linked variable group per environment; "
        "each must exist in the environment's Key Vault before the first run.",
    )

    @field_validator("project_name")
    @classmethod
    def _reserved_project(cls, value: str | None) -> str | None:
        if value is not None and value.lower() in _DEVOPS_RESERVED:
            raise invalid("", f"{show(value)} is reserved by Azure DevOps (a Windows device name)", "choose another name")
        return value


# Decision: the training prefix is a folder, never empty. An empty prefix would make every marker in the
# filesystem start training (curated output written back into it included); watch a landing folder instead.
PREFIX_PATTERN = r"\A(?!.*(?:^|/)\.{1,2}/)([A-Za-z0-9_.=-]{1,255}/){1,20}\Z"
_PATTERN_FIXES[PREFIX_PATTERN] = (
    "use a folder ending in `/`, such as `landing/` or `ingest/daily/` (an empty prefix would make every "
    "marker file in the filesystem start training)"
)


class TrainingTrigger(Strict):
    filesystem: FilesystemName = Field(
        default="raw",
        description="Filesystem watched for new data; must be one of `data_lake.filesystems`.",
    )
    prefix: Annotated[str, StringConstraints(pattern=PREFIX_PATTERN)] = Field(
        default="landing/",
        description="Folder inside the filesystem, ending in `/`. Never empty: a marker anywhere in the filesystem "
        "(curated output written back included) would start training; give the data a landing folder.",
    )
    marker_suffix: Annotated[str, StringConstraints(pattern=r"\A[A-Za-z0-9_.-]{1,64}\Z")] = Field(
        default="_SUCCESS",
        description="A committed file whose name ends in this starts one training run: write the data first, the "
        "marker last.",
    )


class Triggers(Strict):
    training: TrainingTrigger = Field(
        default_factory=TrainingTrigger,
        description="Which files in the lake start `<team>-training`.",
    )
    max_delivery_attempts: Annotated[int, Field(ge=1, le=30)] = Field(
        default=10,
        description="Event Grid delivery attempts before an event is dead-lettered.",
    )
    event_ttl_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        default=1440,
        description="How long Event Grid keeps retrying an event.",
    )


class Training(Strict):
    """How the training pipeline decides whether a new model replaces the champion."""

    champion_threshold: Annotated[float, Field(ge=-0.5, le=0.5)] = Field(
        default=0.0,
        description="Relative RMSE improvement over the current champion (both scored on the new data's held-out "
        "split) that a candidate needs to be registered: 0 = at least as good, 0.02 = 2% better, -0.01 = up to "
        "1% worse.",
    )


class Registry(Strict):
    """The team's shared Azure ML registry; lives in `host_environment`'s subscription."""

    host_environment: EnvName = Field(
        default="prod",
        description="Environment whose subscription (and network mode) hosts the registry; must be one of the team's "
        "environments.",
    )
    location: Location | None = Field(
        default=None,
        description="Region of the registry; default the host environment's region.",
    )


TEAM_NAME_PATTERN = r"\A[a-z][a-z0-9-]{0,30}[a-z0-9]\Z"


class Team(Strict):
    name: Annotated[str, StringConstraints(pattern=TEAM_NAME_PATTERN)] = Field(
        description="Team name: the file name without `.yaml`, and part of every stack and resource name "
        "(`<team>-dev`, `<team>-devops`, ...). Never rename a deployed team (see docs/operations.md).",
    )
    display_name: ShortLine = Field(description="Human-readable name, used in the Azure DevOps project description.")
    cost_center: ShortLine = Field(description="Tagged as `cost-center` on every resource of the team.")
    groups: Groups = Field(
        description="Entra ID groups (object ids) that get access; the kit creates no users or groups.",
    )
    environments: dict[EnvName, Environment] = Field(
        description="The team's environments, keyed `dev`, `staging`, `prod`; `dev` is required. Each becomes a stack "
        "`<team>-<env>` and an Azure DevOps environment.",
    )
    data_lake: DataLake = Field(
        default_factory=DataLake,
        description="The environment's ADLS Gen2 data lake (one per environment).",
    )
    devops: Devops = Field(
        default_factory=Devops,
        description="The team's Azure DevOps project: repos, pipelines, environments and their checks.",
    )
    triggers: Triggers = Field(
        default_factory=Triggers,
        description="Event-driven runs: data in the lake starts training, a registered model starts the release.",
    )
    training: Training = Field(
        default_factory=Training, description="How `<team>-training` compares a new model with the champion."
    )
    registry: Registry = Field(
        default_factory=Registry,
        description="The team's Azure ML registry (stack `<team>-shared`), shared by its workspaces for promotion.",
    )

    @field_validator("name")
    @classmethod
    def _reserved_name(cls, value: str) -> str:
        if value in RESERVED_TEAM_NAMES:
            raise invalid("", f"{show(value)} is reserved: {RESERVED_TEAM_NAMES[value]}", "choose another team name")
        return value

    @model_validator(mode="after")
    def _cross_field(self) -> Team:
        if "dev" not in self.environments:
            raise invalid("environments", "a team needs at least a `dev` environment", "add `environments: {dev: ...}`")
        if "prod" in self.environments and self.groups.approvers is None:
            raise invalid(
                "groups.approvers", "prod requires an approvers group", "add `approvers: <Entra group object id>` under groups"
            )
        if self.triggers.training.filesystem not in self.data_lake.filesystems:
            raise invalid(
                "triggers.training.filesystem", f"'{self.triggers.training.filesystem}' is not a data-lake filesystem",
                f"use one of {self.data_lake.filesystems} or add it to data_lake.filesystems",
            )
        if self.registry.host_environment not in self.environments:
            raise invalid(
                "registry.host_environment", f"'{self.registry.host_environment}' is not one of this team's environments",
                f"use one of {self.env_names}",
            )
        return self

    @property
    def env_names(self) -> list[EnvName]:
        return [e for e in ENV_ORDER if e in self.environments]

    @property
    def project_name(self) -> str:
        return self.devops.project_name or self.name

    @property
    def model_name(self) -> str:
        """The model the training pipeline registers; only its ModelRegistered events start a release."""
        return f"{self.name}-model"


class TeamFile(BaseModel):
    """A validated team and the file it came from."""

    model_config = ConfigDict(frozen=True)
    path: Path = Field(description="The team file the team was read from.")
    team: Team = Field(description="The validated team.")


class Org(BaseModel):
    """Everything the kit deploys: the platform settings and every team, plus warnings worth a look."""

    model_config = ConfigDict(frozen=True)
    root: Path = Field(description="The folder that holds platform.yaml and the team files.")
    platform: Platform = Field(description="The validated platform.yaml.")
    teams: list[TeamFile] = Field(description="Every team file, validated, in file-name order.")
    warnings: list[str] = Field(
        default_factory=list,
        description="Problems worth a look that do not stop the kit (an unknown VM size, an unused subnet).",
    )

    def location(self, team: Team, env: str) -> str:
        if not is_env_name(env):
            raise KeyError(env)
        return team.environments[env].location or self.platform.default_location

    def namer(self, team: Team, env: str) -> Namer:
        return Namer(self.platform.naming_prefix, team.name, env)


# ---------------------------------------------------------------- loading and error lines
def _read_yaml(path: Path, root: Path | None = None) -> dict[str, Any]:
    try:
        data = read_yaml(path, root)
    except ReadError as e:
        raise ConfigError([f"{path}: {e.where}: {e.problem}. Fix: {e.fix}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: (top): expected a mapping of keys to values, got {type(data).__name__}. "
                           "Fix: see tests/fixtures/org/example.yaml or docs/configuration.md"])
    return data


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p)[:SHOWN_CHARS] for p in loc) or "(top)"


_YAML_HINT = {
    bool: "YAML reads unquoted yes/no/on/off/true/false as a boolean: quote it, e.g. \"no\"",
    int: "YAML reads unquoted digits as a number (0001 becomes 1, 0777 an octal number): quote it, e.g. \"0001\"",
    float: "YAML reads this as a number: quote it",
    type(None): "the value is empty (or ~/null): give a value, quoted if it looks like a keyword",
}


def _fix_for(err: ErrorDetails) -> tuple[str, str]:
    """(message, fix) for one pydantic error."""
    kind, ctx, msg = err["type"], err.get("ctx") or {}, err["msg"]
    value = err.get("input")
    if kind == KIT_ERROR:  # one of our validators: `invalid(field, problem, fix)`
        return str(ctx["problem"]), str(ctx["fix"])
    if kind == "value_error":
        return str(ctx.get("error", msg))[:200], "correct the value"
    if kind == "invalid_key":  # a mapping key YAML read as a boolean, number or null (`on:`, `1:`, `~:`)
        return f"key {show(value)} is not text", _YAML_HINT.get(type(value), "quote the key")
    if kind == "extra_forbidden":
        key = err["loc"][-1] if err["loc"] else None
        if not isinstance(key, str):
            return f"key {show(key)} is not text", _YAML_HINT.get(type(key), "quote the key")
        return "unknown key", "remove it or check its spelling (see docs/configuration.md)"
    if kind == "missing":
        return "required field is missing", f"add `{err['loc'][-1]}:`"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        return f"invalid value {show(value)}", _PATTERN_FIXES.get(pattern, f"match the pattern {pattern}")
    if kind in ("literal_error", "enum"):
        return f"invalid value {show(value)}", f"use {ctx.get('expected')}"
    if kind in ("int_type", "int_parsing") and isinstance(value, str):
        return f"expected a whole number, got {show(value)}", "write the number without quotes"
    if kind == "string_type" and type(value) in _YAML_HINT:
        return f"expected text, got {show(value)}", _YAML_HINT[type(value)]
    if kind in ("string_too_long", "too_long"):
        return f"{msg[0].lower() + msg[1:]} (got {show(value)})", "shorten it"
    return f"{msg[0].lower() + msg[1:]} (got {show(value)})", "correct the value"


def _lines(path: Path, exc: ValidationError) -> list[str]:
    out = []
    errors = exc.errors(include_url=False)
    for err in errors[:MAX_ERRORS_PER_FILE]:
        loc = tuple(err["loc"])[:-1] if err["type"] == "invalid_key" else tuple(err["loc"])
        problem, fix = _fix_for(err)
        if err["type"] == KIT_ERROR:  # our validators name their own field, relative to loc ("" = loc itself)
            loc = loc + tuple(p for p in str(err["ctx"]["field"]).split(".") if p)
        out.append(f"{path}: {_field_path(loc)}: {problem}. Fix: {fix}")
    if len(errors) > MAX_ERRORS_PER_FILE:
        out.append(f"{path}: (top): {len(errors) - MAX_ERRORS_PER_FILE:,} more problems not shown. "
                   "Fix: correct the ones above, then validate again")
    return out


def load_platform(path: Path, root: Path | None = None) -> Platform:
    try:
        return Platform.model_validate(_read_yaml(path, root))
    except ValidationError as e:
        raise ConfigError(_lines(path, e)) from None


def load_team(path: Path, platform: Platform, root: Path | None = None, warnings: list[str] | None = None) -> Team:
    try:
        team = Team.model_validate(_read_yaml(path, root))
    except ValidationError as e:
        raise ConfigError(_lines(path, e)) from None
    problems = []
    for env in [*team.env_names, "shared"]:
        namer = Namer(platform.naming_prefix, team.name, env)
        kinds = ["ml_registry"] if env == "shared" else [k for k in RULES if k != "ml_registry"]
        for kind in kinds:
            problem = namer.problem(kind)
            if problem:
                problems.append(f"{path}: name: {problem} (environment {env}). Fix: choose a shorter team name")
    extra = tuple(platform.extra_locations)
    located = [(f"environments.{e}.location", team.environments[e].location) for e in team.env_names]
    for field, value in [*located, ("registry.location", team.registry.location)]:
        unknown = location_problem(value, extra)
        if unknown:
            what, fix = unknown
            problems.append(f"{path}: {field}: {what}. Fix: {fix}")
    for env in team.env_names:
        size = team.environments[env].compute.vm_size
        if warnings is not None and size not in known_vm_sizes():
            warnings.append(f"{path}: environments.{env}.compute.vm_size: {show(size)} is not in the kit's list of "
                            "VM sizes (infra/data/azure-vm-sizes.json); if it is new, ignore this, else check the "
                            "spelling (az vm list-sizes -l <region>)")
        network = team.environments[env].network
        if warnings is not None and network.compute_subnet_id and team.environments[env].isolation_mode != "Disabled":
            warnings.append(f"{path}: environments.{env}.network.compute_subnet_id: unused, the workspace's managed "
                            "network hosts the compute cluster, which cannot also join a customer subnet "
                            "(how-to-managed-network, Limitations); remove it, or set `managed_network: Disabled`")
    if problems:
        raise ConfigError(problems)
    return team


def team_files(teams_dir: Path) -> list[Path]:
    return sorted(p for p in teams_dir.glob("*.yaml") if p.name != PLATFORM_FILE and not p.name.startswith("_"))


def load_org(teams_dir: Path | str = "teams", only: list[Path] | None = None) -> Org:
    """Load platform.yaml and every team file; raise ConfigError listing every problem found."""
    teams_dir = Path(teams_dir)
    if not teams_dir.is_dir():
        raise ConfigError([f"{teams_dir}: folder not found. Fix: run from the repository root or set MLOPS_KIT_TEAMS_DIR"])
    platform = load_platform(teams_dir / PLATFORM_FILE, teams_dir)
    errors: list[str] = []
    warnings: list[str] = []
    teams: list[TeamFile] = []
    for path in only or team_files(teams_dir):
        try:
            teams.append(TeamFile(path=path, team=load_team(path, platform, teams_dir, warnings)))
        except ConfigError as e:
            errors.extend(e.lines)
    errors.extend(_collisions(teams, platform))
    errors.extend(_shared_networks(teams))
    if errors:
        raise ConfigError(errors)
    return Org(root=teams_dir, platform=platform, teams=teams, warnings=warnings)


def _collisions(teams: list[TeamFile], platform: Platform) -> list[str]:
    """Two teams must never compute the same globally unique name (or the same team name)."""
    seen: dict[str, Path] = {}
    lines: list[str] = []
    for tf in teams:
        names = {f"team name '{tf.team.name}'"}
        for env in [*tf.team.env_names, "shared"]:
            namer = Namer(platform.naming_prefix, tf.team.name, env)
            names |= {f"{RULES[k].label} name '{v}'" for k, v in globally_unique_names(namer).items()}
        for key in sorted(names):
            if key in seen and seen[key] != tf.path:
                lines.append(
                    f"{tf.path}: name: {key} is also computed for {seen[key]}. "
                    "Fix: give one of the teams a different name"
                )
            seen.setdefault(key, tf.path)
    return lines


def _shared_networks(teams: list[TeamFile]) -> list[str]:
    """A virtual network links one zone per name: if several environments put their private endpoints
    in one network, no environment stack may create the zones; each must list every zone (hub zones)."""
    users: dict[str, list[tuple[Path, EnvName]]] = {}
    for tf in teams:
        for env_name, env in tf.team.environments.items():
            if env.private and env.network.private_endpoint_subnet_id:
                users.setdefault(vnet_of(env.network.private_endpoint_subnet_id).lower(), []).append((tf.path, env_name))
    lines: list[str] = []
    for vnet, envs in sorted(users.items()):
        if len(envs) < 2:
            continue
        for path, env_name in envs:
            team = next(tf.team for tf in teams if tf.path == path)
            missing = [z for z in ZONE_NAMES if z not in team.environments[env_name].network.private_dns_zone_ids]
            if missing:
                others = ", ".join(f"{p.name}:{e}" for p, e in envs if (p, e) != (path, env_name))
                lines.append(
                    f"{path}: environments.{env_name}.network.private_dns_zone_ids: virtual network "
                    f"{vnet.rsplit('/', 1)[-1]} is shared with {others}, and a network links only one zone per name, "
                    f"so no environment may create its zones. Fix: create the zones once (hub) and list all of them; "
                    f"missing: {', '.join(missing)}"
                )
    return lines


def ensure_valid_name(name: str) -> str | None:
    """Why `name` cannot be a team name, or None (used by `mlops-kit new-team`)."""
    if not re.fullmatch(TEAM_NAME_PATTERN, name):
        return "use 2-32 lowercase letters, digits and hyphens, starting with a letter"
    if name in RESERVED_TEAM_NAMES:
        return f"{name!r} is reserved ({RESERVED_TEAM_NAMES[name]}); choose another team name"
    return None
