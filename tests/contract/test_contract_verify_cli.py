"""`verify` as the pipelines run it: a real process, exit codes, JUnit XML, Azure Pipelines annotations."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest
import yaml
from contract_helpers import EXAMPLE_APP, run_cli

pytestmark = pytest.mark.filterwarnings("ignore")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_BUILD"}
    return {**env, **extra}


def test_seeded_model_passes_as_a_process_with_junit(models, tmp_path):
    junit = tmp_path / "results" / "interactions.xml"
    result = run_cli("verify", "--app", EXAMPLE_APP, "--model-dir", models("seeded"), "--junit", junit, env=_env())
    assert result.returncode == 0, result.stdout + result.stderr
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "0"
    assert [c.get("name") for c in suite] == [
        "two customers, one without a region",
        "one customer from a region unseen in training",
    ]


def test_broken_model_fails_with_junit_failures_and_pipeline_errors(models, tmp_path):
    junit = tmp_path / "interactions.xml"
    result = run_cli(
        "verify",
        "--app",
        EXAMPLE_APP,
        "--model-dir",
        models("needs-tenure"),
        "--junit",
        junit,
        env=_env(TF_BUILD="True"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "##vso[task.logissue type=error]interaction 'two customers, one without a region': an answer (HTTP 200); "
        "the model refused the request with HTTP 400: ValueError: columns are missing: {'tenure'}"
    ) in result.stdout
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "2"
    assert "columns are missing" in suite.find("testcase/failure").text


def test_missing_model_directory_is_a_one_line_error(tmp_path):
    result = run_cli("verify", "--app", EXAMPLE_APP, "--model-dir", tmp_path / "nope", env=_env())
    assert result.returncode == 2
    assert result.stderr.strip() == f"contract_check: error: {tmp_path / 'nope'}: file not found"


def test_verifier_module_missing_beside_the_script_is_a_clear_error(models, tmp_path):
    lone = tmp_path / "contract_check.py"
    lone.write_text((EXAMPLE_APP.parents[1] / "contract_check.py").read_text())
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(lone), "verify", "--app", str(EXAMPLE_APP), "--model-dir", str(models("seeded"))],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert result.returncode == 2
    assert "contract_verify.py is missing beside contract_check.py (copy both)" in result.stderr


def test_check_still_reads_the_version_2_example(tmp_path):
    model = EXAMPLE_APP.parent / "model-contract.model.json"
    result = run_cli("check", "--app", EXAMPLE_APP, "--model", model, env=_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_model_without_a_signature_is_still_verified_by_its_answers(models, verify, tmp_path):
    import shutil

    unsigned = tmp_path / "unsigned"
    shutil.copytree(models("seeded"), unsigned)
    mlmodel = unsigned / "MLmodel"
    doc = yaml.safe_load(mlmodel.read_text())
    del doc["signature"]
    mlmodel.write_text(yaml.safe_dump(doc))
    result = verify(json.loads(EXAMPLE_APP.read_text()), unsigned)
    assert result.code == 0, result.out + result.err
    assert "note: signature diff skipped:" in result.out and "the model has no input signature" in result.out


def test_signature_findings_the_answers_cannot_overrule_get_their_own_testcase(models, verify, tmp_path):
    junit = tmp_path / "interactions.xml"
    result = verify(json.loads(EXAMPLE_APP.read_text()), models("income-long"), "--junit", junit)
    assert result.code == 1, result.out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot()}
    assert cases["signature diff"].find("failure") is not None
    assert cases["two customers, one without a region"].find("failure") is None
    assert "input 'income': app sends double, model now expects long" in cases["signature diff"].find("failure").text


def test_unreadable_app_contract_writes_an_error_testcase(models, verify, tmp_path):
    junit = tmp_path / "interactions.xml"
    result = verify("{not json", models("seeded"), "--junit", junit)
    assert result.code == 2
    (case,) = ET.parse(junit).getroot()
    assert "invalid JSON" in case.find("error").get("message")
