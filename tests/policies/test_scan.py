"""`mlops-kit scan` (scripts/scan.py): suppressions, fail-closed behaviour, reports, exit codes, offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import policies
from scripts import scan as scan_mod
from scripts.scan import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_TOOL_FAILURE,
    UserError,
    baseline_markdown,
    load_skips,
    scan,
)
from tests.conftest import REPO
from tests.policies.cases import SUPPRESSION_REASON
from tests.policies.conftest import record


def stacks_copy(src: Path, dst: Path, *names: str) -> Path:
    for name in names:
        shutil.copytree(src / "stacks" / name, dst / "stacks" / name)
    return dst


# -- suppressions ------------------------------------------------------------------------------


def test_a_suppression_with_a_reason_suppresses_and_is_reported(cases_scan):
    r = record(cases_scan, "case-suppress", "azurerm_storage_account.scratch_suppressed", "CKV_MLK_6")
    assert r.check_result["result"].name == "SKIPPED"
    assert r.check_result["suppress_comment"] == f"mlops-kit suppression: {SUPPRESSION_REASON}"
    listed = [s for s in cases_scan.suppressions if s.resource == "azurerm_storage_account.scratch_suppressed"]
    assert [(s.check_id, s.reason, s.applied) for s in listed] == [("CKV_MLK_6", SUPPRESSION_REASON, 1)]


def test_a_suppression_without_a_reason_fails_and_suppresses_nothing(cases_scan):
    bad = record(cases_scan, "case-suppress", "azurerm_storage_account.scratch_short_reason", "CKV_MLK_0")
    assert bad.check_result["result"].name == "FAILED"
    assert "'x'" in bad.details[0] and "10 characters" in bad.details[0]
    still = record(cases_scan, "case-suppress", "azurerm_storage_account.scratch_short_reason", "CKV_MLK_6")
    assert still.check_result["result"].name == "FAILED"
    assert cases_scan.exit_code == EXIT_FINDINGS


def test_an_unused_suppression_is_listed(cases_scan):
    assert [(s.stack, s.resource, s.check_id) for s in cases_scan.unused] == [
        ("case-suppress", "azurerm_storage_account.scratch_stale", "CKV_MLK_3")]


def test_suppressions_land_in_terraform_json_comment_block(cases_out):
    doc = json.loads((cases_out / "stacks" / "case-suppress" / "cdk.tf.json").read_text())
    body = doc["resource"]["azurerm_storage_account"]["scratch_suppressed"]
    # Inside "//", which Terraform ignores (JSON syntax: comment properties), next to cdktf's own metadata.
    assert body["//"]["mlops_kit"] == {"suppressions": {"CKV_MLK_6": SUPPRESSION_REASON}}
    assert body["//"]["metadata"]["path"] == "case-suppress/scratch_suppressed"
    assert "mlops_kit" not in {k for k in body if k != "//"}


def test_a_reason_rejects_an_id_that_is_not_a_check_id():
    from infra.suppressions import Reason

    with pytest.raises(ValueError, match="check ids look like"):
        Reason(("AZURE_33",), "a reason long enough")


def test_global_skips_need_a_reason_and_absorb_findings(cases_out, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("skips:\n  - id: CKV_MLK_6\n  - id: CKV_MLK_0\n    reason: suppressions without reasons are fine\n"
                   "  - id: nope\n    reason: short\n")
    with pytest.raises(UserError) as e:
        load_skips(bad)
    assert len(e.value.lines) == 4, e.value.lines  # no reason; CKV_MLK_0; bad id; short reason
    good = tmp_path / "skips.yaml"
    good.write_text("skips:\n  - id: CKV_MLK_6\n    reason: fixture, every account here is disposable\n")
    result = scan(cases_out, good, patterns=["case-suppress"])
    short = record(result, "case-suppress", "azurerm_storage_account.scratch_short_reason", "CKV_MLK_6")
    assert short.check_result["suppress_comment"] == "policies/skips.yaml: fixture, every account here is disposable"
    assert result.skip_use["CKV_MLK_6"] == 2  # short_reason and stale; scratch_suppressed keeps its own reason
    assert record(result, "case-suppress", "azurerm_storage_account.scratch_short_reason", "CKV_MLK_0") \
        .check_result["result"].name == "FAILED"


def test_the_kit_skips_file_is_valid():
    load_skips(REPO / "policies" / "skips.yaml")


# -- fail closed ---------------------------------------------------------------------------------


def test_a_clean_stack_passes(cases_out):
    result = scan(cases_out, patterns=["case-clean"])
    assert result.exit_code == EXIT_OK and not result.errors
    assert [(s.name, s.resources, s.count("passed"), s.count("failed")) for s in result.stacks] == [
        ("case-clean", 1, 1, 0)]


def test_an_unparsable_stack_fails_the_scan(cases_out, tmp_path):
    out = stacks_copy(cases_out, tmp_path / "out", "case-clean")
    (out / "stacks" / "broken").mkdir()
    (out / "stacks" / "broken" / "cdk.tf.json").write_text('{"resource": {"azurerm_storage_account": {')
    result = scan(out)
    assert result.exit_code == EXIT_TOOL_FAILURE
    assert any("broken" in e and "not valid JSON" in e for e in result.errors), result.errors
    assert any("checkov could not parse" in e for e in result.errors), result.errors


def test_a_stack_with_zero_resources_fails_the_scan(cases_out, tmp_path):
    out = stacks_copy(cases_out, tmp_path / "out", "case-clean")
    (out / "stacks" / "empty").mkdir()
    (out / "stacks" / "empty" / "cdk.tf.json").write_text('{"terraform": {"required_providers": {}}}')
    result = scan(out)
    assert result.exit_code == EXIT_TOOL_FAILURE
    assert result.errors == ["empty: 0 resources to scan (an empty stack is a synth problem)"]


def test_a_crashing_check_fails_the_scan(cases_out, monkeypatch, tmp_path):
    from policies.mlk_azuredevops import ProjectPrivate
    from policies.mlk_graph import MainMinReviewers

    def boom(*_a, **_k):
        raise RuntimeError("bug in a check")

    monkeypatch.setattr(ProjectPrivate, "scan_resource_conf", boom)  # checkov turns this into UNKNOWN
    monkeypatch.setattr(MainMinReviewers, "evaluate", boom)  # checkov's thread pool drops this one
    result = scan(cases_out, patterns=["case-ado", "case-clean"])
    assert result.exit_code == EXIT_TOOL_FAILURE
    assert any(e.startswith("check CKV_MLK_9 crashed on azuredevops_project.") for e in result.errors), result.errors
    assert any(e.startswith("check CKV2_MLK_3 crashed") for e in result.errors), result.errors
    # The escape hatch: a check skipped globally, with a reason, may crash (a warning, not a failure).
    skips = tmp_path / "skips.yaml"
    skips.write_text("skips:\n  - {id: CKV_MLK_9, reason: 'fixture: pretend this check breaks on our JSON'}\n"
                     "  - {id: CKV2_MLK_3, reason: 'fixture: pretend this check breaks on our JSON'}\n")
    result = scan(cases_out, skips, patterns=["case-clean"])
    assert not result.errors and result.exit_code == EXIT_OK
    assert sorted(w.split(" crashed")[0] for w in result.warnings) == ["check CKV2_MLK_3", "check CKV_MLK_9"]


def test_a_kit_check_that_did_not_register_fails_the_scan(cases_out, monkeypatch):
    monkeypatch.setattr(policies, "CHECK_IDS", (*policies.CHECK_IDS, "CKV_MLK_99"))
    result = scan(cases_out, patterns=["case-clean"])
    assert result.errors == ["kit checks did not register: CKV_MLK_99"]


@pytest.mark.parametrize("setup", ["missing", "no-stacks", "bad-pattern"])
def test_user_errors(cases_out, tmp_path, setup):
    out = tmp_path / "out"
    if setup == "no-stacks":
        (out / "stacks").mkdir(parents=True)
    if setup == "bad-pattern":
        out = cases_out
    with pytest.raises(UserError):
        scan(out, patterns=["nothing-*"] if setup == "bad-pattern" else None)


# -- the command: reports, exit codes, offline ----------------------------------------------------

NO_NETWORK = """
import socket, sys
def deny(*a, **k):
    sys.stderr.write("NETWORK-ATTEMPT %r\\n" % (a[1:] if len(a) > 1 else a,))
    raise OSError("network disabled by the test")
socket.socket.connect = deny
socket.socket.connect_ex = deny
socket.create_connection = deny
socket.getaddrinfo = deny
import runpy
sys.argv = ["mlops-kit scan"] + sys.argv[1:]
runpy.run_module("scripts.scan", run_name="__main__")
"""


def test_the_command_runs_offline_writes_reports_and_exits_1_on_findings(cases_out, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "CKV_", "PRISMA_"))}
    proc = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, "--out", str(cases_out), "--reports", str(tmp_path / "reports"),
         "case-suppress", "case-clean"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert "NETWORK-ATTEMPT" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == EXIT_FINDINGS, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "CKV_MLK_0" in proc.stdout and SUPPRESSION_REASON in proc.stdout
    assert "unused suppression CKV_MLK_3" in proc.stdout

    sarif = json.loads((tmp_path / "reports" / "checkov.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert sarif["version"] == "2.1.0"
    suppressed = [r for r in results if r.get("suppressions")]
    assert [(r["ruleId"], r["suppressions"][0]["justification"]) for r in suppressed] == [
        ("CKV_MLK_6", f"mlops-kit suppression: {SUPPRESSION_REASON}")]
    failed_rules = {r["ruleId"] for r in results if not r.get("suppressions")}
    assert {"CKV_MLK_0", "CKV_MLK_6"} <= failed_rules
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("/cdk.tf.json")
               for r in results)

    junit = ET.parse(tmp_path / "reports" / "checkov.junit.xml").getroot()
    names = [s.get("name") for s in junit.iter("testsuite")]
    assert names == ["mlops-kit scan: case-clean", "mlops-kit scan: case-suppress", "mlops-kit scan integrity"]
    failures = [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None]
    assert any("CKV_MLK_0" in n for n in failures)
    skipped = [c.find("skipped").get("message") for c in junit.iter("testcase") if c.find("skipped") is not None]
    assert skipped == [f"mlops-kit suppression: {SUPPRESSION_REASON}"]


def test_the_command_exits_2_on_a_user_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.scan", "--out", str(tmp_path / "nothing"), "--reports", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "run `mlops-kit synth` first" in proc.stderr


def test_reports_record_an_untrustworthy_scan(cases_out, tmp_path):
    out = stacks_copy(cases_out, tmp_path / "out", "case-clean")
    (out / "stacks" / "broken").mkdir()
    (out / "stacks" / "broken" / "cdk.tf.json").write_text("not json")
    result = scan(out)
    scan_mod.write_reports(result, tmp_path / "r.sarif", tmp_path / "r.xml")
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False
    junit = ET.parse(tmp_path / "r.xml").getroot()
    integrity = [c for c in junit.iter("testcase") if c.get("name", "").startswith("scan integrity")]
    assert integrity[0].find("failure") is not None


# -- the example --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_scan(example_out):
    return scan(example_out)


def test_the_example_passes_the_gate(example_scan):
    failed = [f"{r.check_id} {r.resource} ({r.file_path})" for r in example_scan.failed]
    assert not example_scan.errors, example_scan.errors
    assert not failed, "the example has failed checks (fix them or suppress them with a reason):\n" + "\n".join(failed)
    # Unused suppressions are warnings (listed as "(unused)" in docs/checkov-baseline.md), not failures.
    # Every kit check judged something in the example (a check that never runs protects nothing).
    ran = {r.check_id for s in example_scan.stacks for r in s.report.passed_checks + s.report.skipped_checks}
    assert set(policies.CHECK_IDS) <= ran, sorted(set(policies.CHECK_IDS) - ran)


def test_the_baseline_doc_lists_every_suppression(example_scan):
    path = REPO / "docs" / "checkov-baseline.md"
    assert path.read_text() == baseline_markdown(example_scan), (
        "docs/checkov-baseline.md is out of date: run `mlops-kit synth && python -m scripts.scan "
        "--write-baseline docs/checkov-baseline.md`")
