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
"""

from __future__ import annotations

import re
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


def suppress(resource: TerraformResource, check_id: str, reason: str) -> TerraformResource:
    """Record that `check_id` is by design for `resource`, and why; returns the resource.

    The id is checked here (a typo would silently suppress nothing); the reason is validated by the
    scan, so that a hand-written override in the JSON is held to the same rule.
    """
    if not CHECK_ID.match(check_id):
        raise ValueError(f"suppress: {check_id!r} is not a checkov check id (like CKV_AZURE_33 or CKV2_MLK_1)")
    resource.add_override(f"//.{METADATA_KEY}.{SUPPRESSIONS_KEY}.{check_id}", reason)
    return resource


def suppressions_of(resource_json: dict) -> dict[str, object]:
    """The suppressions recorded in one synthesized resource body ({check id: reason as written})."""
    comment = resource_json.get("//")
    if not isinstance(comment, dict):
        return {}
    kit = comment.get(METADATA_KEY)
    if not isinstance(kit, dict):
        return {}
    found = kit.get(SUPPRESSIONS_KEY)
    return dict(found) if isinstance(found, dict) else {}
