"""Per-resource policy suppressions, recorded in the resource's cdktf metadata with a written reason.

checkov ignores inline skip comments in Terraform JSON, so the kit keeps suppressions next to the
resource they concern, in the JSON comment block that cdktf already writes for every resource:

    "azurerm_storage_account": {"data_lake_account_D3952C28": {
        "//": {"metadata": {...cdktf...},
               "mlops_kit": {"suppressions": {"CKV_AZURE_33": "queue service unused; ..."}}},
        ...}}

Terraform ignores every property named "//" in a block body (Terraform JSON syntax, "Comment
Properties"), so a suppression never changes a plan. `mlops-kit scan` (scripts/scan.py) honours
them, lists them in its report, and fails any suppression whose reason is missing or too short.

Each call adds one key (`//.mlops_kit.suppressions.<check id>`) through cdktf's `add_override`, so
calls compose without reading earlier ones; suppressing the same check twice keeps the last reason.
The helper only records: it never decides. Call it where the resource is built, next to the code
that explains why the finding is by design.

Reasons live in one catalogue, `Reasons` below, and call sites name them:

    suppress(self.vault, Reasons.KEY_VAULT_PUBLIC)        # every check the reason covers

so one reason is written once, even when several checks or resources share it, and the catalogue
is what docs/checkov-baseline.md is generated from (through the synthesized JSON). There is no
free-text form: a new by-design finding gets a catalogue entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scan imports this module; importing cdktf would start the jsii runtime
    from cdktf import TerraformResource

METADATA_KEY = "mlops_kit"
"""Key of the kit's block inside a resource's `//` comment block."""
SUPPRESSIONS_KEY = "suppressions"
MIN_REASON_LENGTH = 10
"""A reason shorter than this (after trimming) says nothing; the scan fails it (CKV_MLK_0)."""
CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
"""checkov check ids: CKV_AZURE_33, CKV2_AZURE_21, CKV_MLK_4, ..."""


@dataclass(frozen=True)
class Reason:
    """Why the checks in `checks` are by design; `text` is what the scan reports and the baseline lists."""

    checks: tuple[str, ...]
    text: str

    def __post_init__(self) -> None:
        bad = [c for c in self.checks if not CHECK_ID.match(c)]
        if not self.checks or bad:
            raise ValueError(f"Reason: {bad or 'no checks'} (check ids look like CKV_AZURE_33 or CKV2_MLK_1)")
        if len(self.text.strip()) < MIN_REASON_LENGTH:
            raise ValueError(f"Reason for {self.checks}: a reason says why, in at least {MIN_REASON_LENGTH} characters")

    def format(self, **values: object) -> Reason:
        """The reason with its `{placeholders}` filled (e.g. the replication a caller chose)."""
        return replace(self, text=self.text.format(**values))


_PUBLIC_STORAGE = (
    "built with private=False (a public-mode environment, tag network=public, or the Terraform state account): "
    "reached over the internet with Entra ID only (shared keys off), TLS 1.2 and no anonymous access; private mode "
    "closes the network and adds private endpoints"
)
_STANDARD_ACR = "Standard SKU in public mode: {feature} is Premium-only (private mode uses Premium and enables it)"
_PUBLIC_PACKAGES = (
    "code packages only (the trigger function's zip, rebuilt at every synth; no data, no secret): the deploying "
    "runner uploads over the public endpoint with Entra ID (shared keys off, no anonymous access, TLS 1.2); in "
    "private mode the app reads it through a private endpoint"
)


class Reasons(Enum):
    """The catalogue: every by-design finding of the kit, named once."""

    # Key Vault (infra/key_vault.py)
    KEY_VAULT_PUBLIC = Reason(
        ("CKV_AZURE_189", "CKV_AZURE_109", "CKV2_AZURE_32"),
        "public-mode environment (tag network=public): Microsoft-hosted agents reach the vault over the internet; "
        "Entra ID + RBAC gate every call; private mode closes the firewall and adds a private endpoint",
    )
    # Container Registry (infra/container_registry.py)
    ACR_CONTENT_TRUST = Reason(
        ("CKV_AZURE_164",),
        "Docker Content Trust (trust_policy) is deprecated in ACR in favour of Notary Project signatures; images are "
        "built only by Azure ML's own environment builds (admin user off, Entra ID + RBAC)",
    )
    ACR_SINGLE_REGION = Reason(
        ("CKV_AZURE_165",),
        "single-region environment: the kit deploys each environment to one region, so there is no other region to "
        "geo-replicate images to",
    )
    ACR_NO_QUARANTINE_SCANNER = Reason(
        ("CKV_AZURE_166",),
        "image quarantine (preview) blocks every pushed image until an external scanner releases it; the kit ships "
        "no such scanner",
    )
    ACR_NO_ZONE_REDUNDANCY = Reason(
        ("CKV_AZURE_233",),
        "zone redundancy is Premium-only, needs a region with availability zones and is fixed at creation; images "
        "are rebuildable from the team's repos by their pipelines",
    )
    ACR_PUBLIC = Reason(
        ("CKV_AZURE_139",),
        "public-mode environment (tag network=public): Azure ML builds and its compute pull over the internet with "
        "Entra ID + RBAC (admin user and anonymous pull off)",
    )
    ACR_STANDARD_RETENTION = Reason(
        ("CKV_AZURE_167",), _STANDARD_ACR.format(feature="the retention policy for untagged manifests")
    )
    ACR_STANDARD_DATA_ENDPOINTS = Reason(("CKV_AZURE_237",), _STANDARD_ACR.format(feature="dedicated data endpoints"))
    # Data lake (infra/data_lake.py)
    LAKE_CONTAINER_LOGS = Reason(
        ("CKV2_AZURE_21",),
        "blob reads, writes and deletes of the data lake go to Log Analytics through the account's diagnostic "
        "setting (blobServices/default, category group allLogs); the check only recognises classic Storage "
        "Analytics (azurerm_log_analytics_storage_insights)",
    )
    # Storage accounts (infra/storage.py, secure_storage_account)
    STORAGE_MICROSOFT_MANAGED_KEYS = Reason(
        ("CKV2_AZURE_1",),
        "encrypted at rest with Microsoft-managed keys plus infrastructure (double) encryption; customer-managed "
        "keys need a per-team key lifecycle (Key Vault key, rotation, account identity access) that the kit does "
        "not manage yet",
    )
    STORAGE_NO_QUEUES = Reason(
        ("CKV_AZURE_33",),
        "queue service unused: the kit creates no queues in accounts built by secure_storage_account (blobs/ADLS "
        "only), so there are no queue requests to log",
    )
    STORAGE_SELECTED_NETWORKS = Reason(
        ("CKV_AZURE_59",),
        "private mode, selected networks: public network access is Enabled only so that the firewall's "
        "trusted-services exception applies (Event Grid delivers and dead-letters over the public endpoint with its "
        "managed identity; Disabled would refuse it); default action Deny, no IP or subnet rule, and the kit "
        "reaches the account through private endpoints (infra/storage.py)",
    )
    STORAGE_PUBLIC = Reason(("CKV_AZURE_59", "CKV2_AZURE_33"), _PUBLIC_STORAGE)
    STORAGE_NO_GEO_REPLICATION = Reason(  # format(replication=...)
        ("CKV_AZURE_206",),
        "{replication} (no geo-replication) is the caller's choice for reproducible content (dev/staging data, "
        "function deployment packages) at lower cost; prod data (data lake, ML storage) and the Terraform state use "
        "GZRS",
    )

    # Event flow: the function's own storage and plan (infra/triggers.py)
    FUNCTION_STORAGE_DISPOSABLE = Reason(
        ("CKV_MLK_6",),
        "holds no data worth keeping: the Functions host's locks and keys, event claims that only matter while an "
        "event can be redelivered, and queued events that Event Grid's dead-letter and replay cover; a destroy loses "
        "nothing the kit cannot recreate",
    )
    FUNCTION_STORAGE_QUEUE_LOGS = Reason(
        ("CKV_AZURE_33",),
        "queue requests go to Log Analytics through the account's diagnostic setting (queueServices/default, "
        "category group allLogs); classic queue_properties logging is written on the queue data plane, which the "
        "kit keeps azurerm off (stacks/providers.py)",
    )
    FUNCTION_CLAIMS_LOGS = Reason(
        ("CKV2_AZURE_21",),
        "blob reads, writes and deletes of the function storage go to Log Analytics through the account's "
        "diagnostic setting (blobServices/default, category group allLogs); the check only recognises classic "
        "Storage Analytics",
    )
    FLEX_PLAN_NO_WORKER_COUNT = Reason(
        ("CKV_AZURE_212",),
        "Flex Consumption (FC1): the platform allocates instances per execution and scales from zero, so a plan "
        "worker count does not apply; queued events wait for an instance",
    )
    FLEX_PLAN_NO_ZONE_BALANCING = Reason(
        ("CKV_AZURE_225",),
        "Flex Consumption (FC1): zone_balancing_enabled is an App Service plan setting for dedicated workers; an "
        "event whose processing is lost stays in the queue and is delivered again, never dropped",
    )
    # Event flow: the function's code package account (infra/function_app.py)
    PACKAGES_PUBLIC = Reason(("CKV_AZURE_59", "CKV2_AZURE_33"), _PUBLIC_PACKAGES)  # public mode: no endpoint either
    PACKAGES_PUBLIC_NETWORK = Reason(("CKV_AZURE_59",), _PUBLIC_PACKAGES)  # private mode: the app reads it privately
    PACKAGES_DISPOSABLE = Reason(
        ("CKV_MLK_6",),
        "holds only the code package, rebuilt from the kit's functions/ folder at every synth: a destroy loses "
        "nothing the next apply does not recreate",
    )
    PACKAGE_CONTAINER_LOGS = Reason(
        ("CKV2_AZURE_21",),
        "code packages only; writes are the deployer's upload and the platform's One Deploy, both recorded in the "
        "Activity log and the app's deployment history",
    )
    # Azure DevOps repos (infra/repos.py)
    TEMPLATES_UNREVIEWED = Reason(
        ("CKV2_ADO_1", "CKV2_MLK_3", "CKV2_MLK_4"),
        "kit templates repo: only Terraform writes it (every kit upgrade, from the kit's own reviewed pipeline); a "
        "reviewer policy would refuse those pushes (TF402455). Project contributors are denied every write "
        "permission on it instead (azuredevops_git_permissions), so no unreviewed change reaches it",
    )
    # Terraform state (stacks/bootstrap.py)
    STATE_CONTAINER_LOGS = Reason(
        ("CKV2_AZURE_21",),
        "accepted gap: this stack runs first, before any Log Analytics workspace exists, so no blob diagnostic "
        "setting is attached to the state container; access is Entra ID only (shared keys off) with versioning, "
        "soft delete and a delete lock",
    )

    def format(self, **values: object) -> Reason:
        return self.value.format(**values)


def suppress(resource: TerraformResource, reason: Reason | Reasons) -> TerraformResource:
    """Record that the findings of a catalogue entry (or a formatted `Reason`) are by design for `resource`.

    Records every check of the entry with its text; returns the resource. The entry's check ids were
    checked when it was written; the text is validated again by the scan, so that a hand-written
    override in the JSON is held to the same rule.
    """
    entry = reason.value if isinstance(reason, Reasons) else reason
    if not isinstance(entry, Reason):  # a bare string: the free-text form is gone, the catalogue names reasons
        raise TypeError(f"suppress: takes a Reasons entry (or a Reason), got {type(reason).__name__}")
    for check_id in entry.checks:
        resource.add_override(f"//.{METADATA_KEY}.{SUPPRESSIONS_KEY}.{check_id}", entry.text)
    return resource


def unsuppress(resource: TerraformResource, check_id: str) -> TerraformResource:
    """Drop a suppression recorded earlier (by a shared helper) where the check passes now; returns the resource."""
    if not CHECK_ID.match(check_id):
        raise ValueError(f"unsuppress: {check_id!r} is not a checkov check id (like CKV_AZURE_33 or CKV2_MLK_1)")
    resource.add_override(f"//.{METADATA_KEY}.{SUPPRESSIONS_KEY}.{check_id}", None)  # None deletes the key in cdktf
    return resource


def suppressions_of(resource_json: dict[str, object]) -> dict[str, object]:
    """The suppressions recorded in one synthesized resource body ({check id: reason as written})."""
    comment = resource_json.get("//")
    if not isinstance(comment, dict):
        return {}
    kit = comment.get(METADATA_KEY)
    if not isinstance(kit, dict):
        return {}
    found = kit.get(SUPPRESSIONS_KEY)
    return dict(found) if isinstance(found, dict) else {}
