"""The command line as the pipelines run it: real processes, exit codes, JUnit XML."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest
from contract_helpers import EXAMPLE_APP, EXAMPLE_MODEL, SCHEMA_FILE, field, run_cli


def _write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_BUILD"}
    env.update(extra)
    return env


def _breaking_model(model_doc):
    """Three breaking fields (income narrowed, region nullability, prediction removed)."""
    field(model_doc, "inputs", "income")["type"] = "long"
    field(model_doc, "inputs", "region")["nullable"] = False
    model_doc["outputs"] = [{"name": "label", "type": "string", "nullable": False}]
    return model_doc


# --- exit codes through a real process ----------------------------------------------------------


def test_cli_compatible_exits_0(tmp_path):
    proc = run_cli("check", "--app", EXAMPLE_APP, "--model", EXAMPLE_MODEL, env=_clean_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("model-app contract check: COMPATIBLE")
    assert proc.stderr == ""


def test_cli_breaking_exits_1_and_prints_the_table(tmp_path, model_doc):
    model = _write(tmp_path, "model.json", _breaking_model(model_doc))
    proc = run_cli("check", "--app", EXAMPLE_APP, "--model", model, env=_clean_env())
    assert proc.returncode == 1
    assert proc.stdout.startswith("model-app contract check: BREAKING: 3 breaking changes")
    assert "| field      | side   | app type          | model type | problem" in proc.stdout
    assert "input 'income': app sends double, model now expects long" in proc.stdout
    assert "##vso[" not in proc.stdout


def test_cli_on_azure_pipelines_also_logs_each_breaking_change_as_an_error(tmp_path, model_doc):
    model = _write(tmp_path, "model.json", _breaking_model(model_doc))
    proc = run_cli("check", "--app", EXAMPLE_APP, "--model", model, env=_clean_env(TF_BUILD="True"))
    assert proc.returncode == 1
    issues = [line for line in proc.stdout.splitlines() if line.startswith("##vso[task.logissue type=error]")]
    assert len(issues) == 3
    assert (
        "##vso[task.logissue type=error]output 'prediction': app reads double, model no longer produces" in proc.stdout
    )


def test_cli_malformed_contract_exits_2_with_one_line(tmp_path):
    app = _write(tmp_path, "model-contract.json", '{"contractVersion": 1, "inputs": [,]}')
    proc = run_cli("check", "--app", app, "--model", EXAMPLE_MODEL, env=_clean_env())
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"contract_check: error: {app}: invalid JSON at line 1 column 35: Expecting value"
    ]


def test_cli_schema_violation_exits_2(tmp_path, model_doc):
    field(model_doc, "inputs", "age")["nullable"] = "no"
    model = _write(tmp_path, "model.json", model_doc)
    proc = run_cli("check", "--app", EXAMPLE_APP, "--model", model, env=_clean_env())
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"contract_check: error: {model}: input 'age' (inputs[0].nullable): must be a boolean, got a string"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--app", "model-contract.json"],  # --model missing
        ["frobnicate"],
        [],
    ],
    ids=["missing-option", "unknown-command", "no-command"],
)
def test_cli_usage_errors_exit_2(args):
    proc = run_cli(*args, env=_clean_env())
    assert proc.returncode == 2
    assert "usage: contract_check.py" in proc.stderr


def test_cli_export_then_check_round_trip(tmp_path):
    mlmodel = _write(
        tmp_path,
        "MLmodel",
        "signature:\n"
        '  inputs: \'[{"type": "long", "name": "age", "required": true}, {"type": "double", "name": "income", '
        '"required": true}, {"type": "string", "name": "region", "required": false}]\'\n'
        '  outputs: \'[{"type": "double", "name": "prediction", "required": true}]\'\n',
    )
    out = tmp_path / "out" / "model-contract.model.json"
    export = run_cli("export", "--mlmodel", mlmodel, "--out", out, env=_clean_env())
    assert export.returncode == 0, export.stderr
    check = run_cli("check", "--app", EXAMPLE_APP, "--model", out, env=_clean_env())
    assert check.returncode == 0, check.stdout


def test_cli_export_without_signature_exits_2(tmp_path):
    mlmodel = _write(tmp_path, "MLmodel", "flavors: {}\n")
    proc = run_cli("export", "--mlmodel", mlmodel, "--out", tmp_path / "c.json", env=_clean_env())
    assert proc.returncode == 2
    assert f"contract_check: error: {mlmodel}: the model has no input signature" in proc.stderr
    assert not (tmp_path / "c.json").exists()


def test_cli_schema_prints_the_published_schema():
    proc = run_cli("schema", env=_clean_env())
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == json.loads(SCHEMA_FILE.read_text())


def test_internal_error_exits_3_not_1(cc, monkeypatch, capsys):
    def boom(app, model):
        raise RuntimeError("bug")

    monkeypatch.setattr(cc, "compare", boom)
    assert cc.main(["check", "--app", str(EXAMPLE_APP), "--model", str(EXAMPLE_MODEL)]) == 3
    assert "internal error (exit 3)" in capsys.readouterr().err


# --- JUnit XML for PublishTestResults@2 ---------------------------------------------------------


def _cases(junit_path):
    root = ET.parse(junit_path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return root, suite, suite.findall("testcase")


def test_junit_has_one_testcase_per_field_and_one_failure_per_breaking_field(check, app_doc, model_doc):
    result = check(app_doc, _breaking_model(model_doc), junit=True)
    assert result.code == 1
    root, suite, cases = _cases(result.junit)
    names = [case.get("name") for case in cases]
    # app inputs, then app outputs, then model-only outputs
    assert names == ["input 'age'", "input 'income'", "input 'region'", "output 'prediction'", "output 'label'"]
    failed = {case.get("name"): case.find("failure") for case in cases if case.find("failure") is not None}
    assert set(failed) == {"input 'income'", "input 'region'", "output 'prediction'"}
    assert suite.get("tests") == "5" and suite.get("failures") == "3" and suite.get("errors") == "0"
    assert root.get("tests") == "5" and root.get("failures") == "3"
    income = failed["input 'income'"]
    assert income.get("message") == (
        "input 'income': app sends double, model now expects long "
        "(narrowed type: double values with a fraction cannot be represented as long)"
    )
    assert income.get("type") == "narrowed type"
    assert "app type: double" in income.text and "model type: long" in income.text
    assert [c.get("classname") for c in cases] == ["model-contract.inputs"] * 3 + ["model-contract.outputs"] * 2


def test_junit_counts_a_field_with_two_problems_as_one_failure(check, app_doc, model_doc):
    out = field(model_doc, "outputs", "prediction")
    out["type"], out["nullable"] = "string", True
    result = check(app_doc, model_doc, junit=True)
    _, suite, cases = _cases(result.junit)
    assert suite.get("failures") == "1"
    failure = next(c for c in cases if c.get("name") == "output 'prediction'").find("failure")
    assert failure.get("type") == "output type changed, nullability"
    assert failure.get("message").count("output 'prediction':") == 2


def test_junit_when_compatible_has_no_failures(check, app_doc, model_doc):
    result = check(app_doc, model_doc, junit=True)
    assert result.code == 0
    _, suite, cases = _cases(result.junit)
    assert len(cases) == 4
    assert suite.get("failures") == "0"
    assert all(case.find("failure") is None for case in cases)
    assert cases[0].find("system-out").text == (
        "input 'age': app sends integer, model expects long (widening: integer widens to long)"
    )


def test_junit_for_a_malformed_contract_records_the_error(check, app_doc):
    result = check(app_doc, "not json", junit=True)
    assert result.code == 2
    _, suite, cases = _cases(result.junit)
    assert suite.get("errors") == "1" and suite.get("tests") == "1"
    error = cases[0].find("error")
    assert "model-contract.model.json: invalid JSON at line 1 column 1" in error.get("message")


def test_cli_writes_junit_from_a_real_process(tmp_path, model_doc):
    model = _write(tmp_path, "model.json", _breaking_model(model_doc))
    junit = tmp_path / "reports" / "contract.xml"
    proc = run_cli("check", "--app", EXAMPLE_APP, "--model", model, "--junit", junit, env=_clean_env())
    assert proc.returncode == 1
    _, suite, _ = _cases(junit)
    assert suite.get("failures") == "3"
