"""Each of the kit's checks passes and fails on purpose-built resources (tests/policies/cases.py)."""

from __future__ import annotations

import pytest

import policies
from tests.policies.cases import EXPECTED, FAILED, NOT_JUDGED, PASSED
from tests.policies.conftest import record, verdicts


def test_every_kit_check_has_a_passing_and_a_failing_case(cases_scan):
    verdicts(cases_scan)  # the scan ran
    for check_id in policies.CHECK_IDS:
        seen = {v for (_s, _a, c, v) in EXPECTED if c == check_id}
        assert {PASSED, FAILED} <= seen, f"{check_id}: cases cover {sorted(seen)} only"


def test_each_case_gets_its_verdict(cases_scan):
    got = verdicts(cases_scan)
    wrong = [f"{stack}/{address} {check_id}: expected {want}, got {got.get((stack, address, check_id), 'no record')}"
             for stack, address, check_id, want in EXPECTED if got.get((stack, address, check_id)) != want]
    assert not wrong, "\n".join(wrong)


def test_checks_ignore_what_they_do_not_judge(cases_scan):
    got = verdicts(cases_scan)
    judged = [f"{s}/{a} {c}: {got[(s, a, c)]}" for s, a, c in NOT_JUDGED if (s, a, c) in got]
    assert not judged, "\n".join(judged)


@pytest.mark.parametrize(("stack", "address", "check_id", "reason"), [
    ("case-ado", "azuredevops_environment.env_no_approval", "CKV2_MLK_1", "no azuredevops_check_approval targets"),
    ("case-ado", "azuredevops_environment.env_self_approve", "CKV2_MLK_1", "requester_can_approve must be false"),
    ("case-ado", "azuredevops_environment.env_no_approvers", "CKV2_MLK_1", "no approvers"),
    ("case-ado", "azuredevops_environment.env_no_approval", "CKV2_MLK_2", "allowed_branches must be exactly"),
    ("case-ado", "azuredevops_git_repository.repo_weak", "CKV2_MLK_3", "reviewer_count must be >= 2"),
    ("case-ado", "azuredevops_git_repository.repo_weak", "CKV2_MLK_4", "enabled = false"),
    ("case-ado", "azuredevops_git_repository.repo_wrong_branch", "CKV2_MLK_4", "blocking = false"),
    ("case-ado", "azuredevops_serviceendpoint_azurerm.conn_with_key", "CKV_MLK_7", "credentials.serviceprincipalkey"),
    ("case-ado", "azuredevops_variable_group.vars_secret_value", "CKV_MLK_8", "secret_value set for token"),
    ("case-azure", "azurerm_machine_learning_workspace.ws_private_public", "CKV_MLK_1", "private environment"),
    ("case-azure", "azurerm_machine_learning_workspace.ws_untagged", "CKV_MLK_1", "tag `network`"),
    ("case-azure", "azurerm_machine_learning_compute_cluster.cluster_warm", "CKV_MLK_2", "min_node_count must be 0"),
    ("case-azure", "azurerm_eventgrid_system_topic_event_subscription.system_sub_no_dead_letter", "CKV_MLK_5",
     "storage_blob_dead_letter_destination"),
])
def test_a_failure_says_why(cases_scan, stack, address, check_id, reason):
    r = record(cases_scan, stack, address, check_id)
    assert r.check_result["result"].name == FAILED
    assert any(reason in d for d in r.details), r.details
    assert r.guideline == f"docs/policies.md#{check_id.lower().replace('_', '-')}"


def test_every_kit_check_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text()
    for check_id in (*policies.CHECK_IDS, policies.SUPPRESSION_CHECK_ID):
        anchor = check_id.lower().replace("_", "-")
        assert f'<a id="{anchor}"></a>' in doc, f"docs/policies.md has no section for {check_id}"


def test_check_ids_list_matches_the_registered_checks():
    assert sorted(policies.load()) == sorted(policies.CHECK_IDS)
