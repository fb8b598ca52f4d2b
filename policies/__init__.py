"""The kit's governance rules as checkov custom checks (documented in docs/policies.md).

- mlk_azure.py        CKV_MLK_1..6   Azure resources, one at a time (checkov BaseResourceCheck)
- mlk_azuredevops.py  CKV_MLK_7..9   Azure DevOps resources, one at a time
- mlk_graph.py        CKV2_MLK_1..4  Azure DevOps rules across resources (checkov graph checks)
- mlk_common.py       how checkov presents Terraform JSON to a check, and accessors for it
- skips.yaml          global skips: a check id and the reason it never applies (prefer per-resource
                      suppressions, infra/suppressions.py)

`mlops-kit scan` imports these modules (`load()`); plain checkov runs them with
`checkov --framework terraform_json --external-checks-dir policies -d cdktf.out` (the repository
root must be importable, as it is in the kit's venv). Importing this package costs nothing: checkov
is imported only by `load()`.
"""

from __future__ import annotations

import importlib

MODULES = ("policies.mlk_azure", "policies.mlk_azuredevops", "policies.mlk_graph")

CHECK_IDS = (
    "CKV_MLK_1", "CKV_MLK_2", "CKV_MLK_3", "CKV_MLK_4", "CKV_MLK_5", "CKV_MLK_6",
    "CKV_MLK_7", "CKV_MLK_8", "CKV_MLK_9",
    "CKV2_MLK_1", "CKV2_MLK_2", "CKV2_MLK_3", "CKV2_MLK_4",
)
"""Every check the kit ships; the scan fails closed when one of them did not register."""

SUPPRESSION_CHECK_ID = "CKV_MLK_0"
"""Reported by the scan itself: a per-resource suppression without a usable reason."""


def load() -> list[str]:
    """Import the check modules (registering them with checkov); returns the ids that registered."""
    found: list[str] = []
    for name in MODULES:
        module = importlib.import_module(name)
        found.extend(check.id for check in module.CHECKS)
    return found
