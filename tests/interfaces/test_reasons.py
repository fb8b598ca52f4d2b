"""Suppression reasons live in one catalogue (infra.suppressions.Reasons) and reach checkov as written.

The scan (scripts/scan.py) reads `//.mlops_kit.suppressions` from the synthesized JSON; the
catalogue only decides what is written there, so the tests check that: each entry records every
check it covers with its text, there is no free-text form, and every catalogue text is in the
generated docs/checkov-baseline.md (which tests/policies keep equal to the scan's own view).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from infra import azurerm as az
from infra.suppressions import MIN_REASON_LENGTH, Reason, Reasons, suppress, suppressions_of, unsuppress

BASELINE = Path(__file__).resolve().parents[2] / "docs" / "checkov-baseline.md"


def _recorded(*calls, dropped: tuple[str, ...] = ()) -> dict[str, object]:
    stack = TerraformStack(CdktfTesting.app(), "reasons")
    rg = az.ResourceGroup(stack, "rg", name="rg-reasons", location="westeurope")
    for args in calls:
        suppress(rg, *args)
    for check_id in dropped:
        unsuppress(rg, check_id)
    # to_terraform keeps the `//` comment block (CdktfTesting.synth strips it); a real synth writes the same.
    return suppressions_of(stack.to_terraform()["resource"]["azurerm_resource_group"]["rg"])


def test_a_named_reason_records_every_check_it_covers():
    assert _recorded((Reasons.KEY_VAULT_PUBLIC,)) == dict.fromkeys(
        ("CKV_AZURE_189", "CKV_AZURE_109", "CKV2_AZURE_32"), Reasons.KEY_VAULT_PUBLIC.value.text
    )


def test_a_formatted_reason_fills_its_placeholders():
    recorded = _recorded((Reasons.STORAGE_NO_GEO_REPLICATION.format(replication="ZRS"),))
    assert recorded["CKV_AZURE_206"].startswith("ZRS (no geo-replication) is the caller's choice")


def test_reasons_compose_and_a_later_one_wins():
    recorded = _recorded((Reasons.STORAGE_PUBLIC,), (Reasons.PACKAGES_PUBLIC_NETWORK,), (Reasons.PACKAGES_DISPOSABLE,))
    assert recorded == {"CKV_AZURE_59": Reasons.PACKAGES_PUBLIC_NETWORK.value.text,
                        "CKV2_AZURE_33": Reasons.STORAGE_PUBLIC.value.text,
                        "CKV_MLK_6": Reasons.PACKAGES_DISPOSABLE.value.text}


def test_unsuppress_drops_what_a_shared_helper_recorded():
    recorded = _recorded((Reasons.STORAGE_PUBLIC,), dropped=("CKV2_AZURE_33",))
    assert recorded == {"CKV_AZURE_59": Reasons.STORAGE_PUBLIC.value.text}
    with pytest.raises(ValueError, match="not a checkov check id"):
        _recorded(dropped=("AZURE_33",))


def test_there_is_no_free_text_form():
    with pytest.raises(TypeError):  # a reason is named in the catalogue, never written at the call site
        _recorded(("CKV_AZURE_33", "queue service unused: the kit creates no queues here"))
    with pytest.raises(TypeError, match="takes a Reasons entry"):
        _recorded(("CKV_AZURE_33",))


def test_a_catalogue_entry_is_checked_when_it_is_written():
    with pytest.raises(ValueError, match="check ids"):
        Reason(("AZURE_33",), "a reason long enough to pass")
    with pytest.raises(ValueError, match="at least"):
        Reason(("CKV_AZURE_33",), "x" * (MIN_REASON_LENGTH - 1))


@pytest.mark.parametrize("reason", list(Reasons), ids=lambda r: r.name)
def test_every_catalogue_reason_reaches_the_baseline(reason):
    text = reason.value.text
    if "{replication}" in text:
        text = text.format(replication="LRS")
    assert text in BASELINE.read_text(), f"{reason.name} is never recorded in the example (unused catalogue entry?)"
