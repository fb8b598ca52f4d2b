"""Contract of scripts/checkov_adapter.py with the installed checkov: each internal it relies on, by name.

A checkov upgrade that moves, renames or changes one of them fails here first, naming the piece, and
not somewhere inside a scan. Runs checkov for real on a two-resource stack written by the test.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scripts import checkov_adapter as adapter
from tests.conftest import REPO

STACK = {
    "resource": {
        "azurerm_storage_account": {
            "acct": {"name": "stx", "resource_group_name": "rg", "location": "westeurope", "account_tier": "Standard",
                     "account_replication_type": "LRS"},
        },
        "azuredevops_project": {"proj": {"name": "p", "visibility": "public"}},
    }
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stacks") / "s1"
    path.mkdir()
    (path / "cdk.tf.json").write_text(json.dumps(STACK, indent=2))
    return path


@pytest.fixture(scope="module")
def session() -> adapter.Session:
    return adapter.Session()


def test_the_pinned_checkov_is_the_one_the_adapter_was_verified_with():
    from checkov.version import version

    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert f"checkov=={adapter.VERIFIED_WITH}" in pins, "after a checkov upgrade: rerun these tests, then bump VERIFIED_WITH"
    assert version == adapter.VERIFIED_WITH


@pytest.mark.parametrize(("module", "name"), adapter.INTERNALS)
def test_every_internal_exists(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_the_signatures_the_adapter_calls_with_keywords():
    from checkov.common.output.record import Record
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform_json.runner import TerraformJsonRunner

    def params(f):
        return set(inspect.signature(f).parameters)

    assert {"check_id", "check_name", "check_result", "code_block", "file_path", "file_line_range", "resource",
            "evaluations", "check_class", "file_abs_path", "details"} <= params(Record.__init__)
    assert {"root_folder", "runner_filter"} <= params(TerraformJsonRunner.run)
    assert {"framework", "show_progress_bar"} <= params(RunnerFilter.__init__)


def test_checkov_still_names_a_python_checks_resource_by_its_block_not_its_address(folder):
    """The quirk `Session.run` repairs; when checkov fixes it, delete the repair and this test."""
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform_json.runner import TerraformJsonRunner

    adapter.offline()
    runner = TerraformJsonRunner()
    report = runner.run(root_folder=str(folder), runner_filter=RunnerFilter(framework=["terraform_json"],
                                                                            show_progress_bar=False))
    assert any(r.resource == "resource.acct" for r in report.failed_checks + report.passed_checks)
    (file,) = runner.definitions
    (resource,) = [e for e in runner.definitions[file]["resource"] if "azurerm_storage_account" in e]
    conf = resource["azurerm_storage_account"]["acct"]
    assert (conf["__startline__"], conf["__endline__"]) == (4, 10)
    assert runner.definitions_raw[file][3] == (4, '      "acct": {\n')


def test_a_run_gives_real_addresses_the_parsed_count_and_line_spans(session, folder):
    run = session.run(folder, lambda p: p.name)
    assert session.missing == []
    assert run.parsed == 2 and run.parse_errors == []
    assert {r.resource for r in run.records()} == {"azurerm_storage_account.acct", "azuredevops_project.proj"}
    assert run.lines_of == {"azurerm_storage_account.acct": (4, 10), "azuredevops_project.proj": (13, 16)}
    assert all(r.file_path == "/cdk.tf.json" for r in run.records())
    assert {"CKV_MLK_6", "CKV_MLK_9"} <= {r.check_id for r in run.report.failed_checks}


def test_a_file_checkov_cannot_parse_is_reported(session, tmp_path):
    (tmp_path / "cdk.tf.json").write_text('{"resource": {')
    assert session.run(tmp_path, str).parse_errors == [str(tmp_path / "cdk.tf.json")]


def test_state_only_blocks_do_not_hide_a_stack_from_the_scan(session, tmp_path):
    """A kit upgrade ships `moved` blocks (docs/upgrading.md); checkov alone fails the file on them."""
    stack = {**STACK, "moved": [{"from": "azurerm_storage_account.old", "to": "azurerm_storage_account.acct"}],
             "import": [{"to": "azuredevops_project.proj", "id": "p"}]}
    (tmp_path / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
    run = session.run(tmp_path, str)
    assert run.parse_errors == [] and run.parsed == 2
    assert "CKV_MLK_6" in {r.check_id for r in run.report.failed_checks}


def test_crashes_are_recorded_per_session_though_checkov_swallows_them(folder, monkeypatch):
    from policies.mlk_azuredevops import ProjectPrivate

    def boom(*_a, **_k):
        raise RuntimeError("bug in a check")

    first = adapter.Session()
    second = adapter.Session()
    monkeypatch.setattr(ProjectPrivate, "scan_resource_conf", boom)
    run = second.run(folder, str)
    assert "CKV_MLK_9" not in {r.check_id for r in run.report.failed_checks}  # checkov made it UNKNOWN, silently
    assert second.crashes == [("CKV_MLK_9", "check CKV_MLK_9 crashed on azuredevops_project.proj: "
                                            "RuntimeError: bug in a check")]
    assert first.crashes == []  # no module-level log shared between scans


def test_skip_add_failure_and_the_writers(session, folder):
    run = session.run(folder, lambda p: p.name)
    target = next(r for r in run.report.failed_checks if r.check_id == "CKV_MLK_6")
    run.skip({id(target): "mlops-kit suppression: a reason of some length"})
    assert target in run.report.skipped_checks and target not in run.report.failed_checks
    assert target.check_result["result"].name == "SKIPPED"
    run.add_failure("azuredevops_project.proj", "CKV_MLK_0", "a kit failure", ["why"], guideline="docs/x.md",
                    evaluated="//.mlops_kit", display=lambda p: p.name, fallback_file=folder / "cdk.tf.json")
    mine = next(r for r in run.report.failed_checks if r.check_id == "CKV_MLK_0")
    assert (mine.resource, mine.file_line_range, mine.details, mine.file_path) == (
        "azuredevops_project.proj", [13, 16], ["why"], "/cdk.tf.json")
    assert mine.code_block[0][0] == 13

    doc = adapter.sarif([run.report], "Checkov (test)", ["stack x: did not parse"])
    results = doc["runs"][0]["results"]
    assert [r["suppressions"][0]["justification"] for r in results if r.get("suppressions")] == [
        "mlops-kit suppression: a reason of some length"]
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is False
    xml = ET.fromstring(adapter.junit({"suite s1": run.report}, "integrity", ["stack x: did not parse"]))
    assert [s.get("name") for s in xml.iter("testsuite")] == ["suite s1", "mlops-kit scan integrity"]
    skipped = [c.find("skipped").get("message") for c in xml.iter("testcase") if c.find("skipped") is not None]
    assert skipped == ["mlops-kit suppression: a reason of some length"]


def test_no_other_scan_module_imports_checkov():
    """The import-linter contract covers infra/stacks/scripts; this names the offender quickly."""
    offenders = [str(p.relative_to(REPO)) for p in sorted((REPO / "scripts").glob("*.py"))
                 if p.name != "checkov_adapter.py" and re.search(r"^\s*(from|import) checkov\b", p.read_text(), re.M)]
    assert offenders == []
