"""The compatibility rules, scenario by scenario, as a data scientist changes the model.

Each test states the verdict (exit code 0 compatible / 1 breaking / 2 malformed) and the message
that both a data scientist and an app developer read: it names the field and both sides' types.
The app side is always the example app contract: it sends age:integer, income:double,
region:string (nullable) and reads prediction:double.
"""

from __future__ import annotations

import json

import pytest
from contract_helpers import field


def test_examples_are_compatible(check, app_doc, model_doc):
    result = check(app_doc, model_doc)
    assert result.code == 0, result.out
    assert "model-app contract check: COMPATIBLE" in result.out
    assert result.lines_about("input", "age") == [
        "input 'age': app sends integer, model expects long (widening: integer widens to long)"
    ]


# --- inputs ------------------------------------------------------------------------------------


def test_optional_input_added_is_not_breaking(check, app_doc, model_doc):
    model_doc["inputs"].append({"name": "tenure", "type": "long", "nullable": True})
    result = check(app_doc, model_doc)
    assert result.code == 0, result.out
    assert result.lines_about("input", "tenure") == [
        "input 'tenure': app does not send it, model accepts an optional long (optional input added)"
    ]


def test_new_required_input_the_app_does_not_send_is_breaking(check, app_doc, model_doc):
    model_doc["inputs"].append({"name": "tenure", "type": "long", "nullable": False})
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "tenure") == [
        "input 'tenure': app does not send it, model now requires long (new required input)"
    ]


def test_input_removed_is_breaking(check, app_doc, model_doc):
    model_doc["inputs"] = [f for f in model_doc["inputs"] if f["name"] != "income"]
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "income") == [
        "input 'income': app sends double, model has no input 'income' (input removed or renamed)"
    ]
    assert "BREAKING: 1 breaking change" in result.out


def test_input_renamed_is_breaking_and_suggests_the_new_name(check, app_doc, model_doc):
    field(model_doc, "inputs", "age")["name"] = "age_years"
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "age") == [
        "input 'age': app sends integer, model has no input 'age' "
        "(input removed or renamed; renamed to 'age_years' (long)?)"
    ]
    assert result.lines_about("input", "age_years") == [
        "input 'age_years': app does not send it, model now requires long "
        "(new required input; renamed from 'age' (integer)?)"
    ]


def test_rename_suggestion_prefers_the_same_type_and_skips_incompatible_ones(check, app_doc, model_doc):
    field(model_doc, "inputs", "income")["name"] = "yearly_income"
    model_doc["inputs"].append({"name": "income_band", "type": "string", "nullable": False})
    result = check(app_doc, model_doc)
    assert result.code == 1
    (line,) = result.lines_about("input", "income")
    assert line.endswith("(input removed or renamed; renamed to 'yearly_income' (double)?)")


def test_int_to_float_widening_is_not_breaking(check, app_doc, model_doc):
    field(model_doc, "inputs", "age")["type"] = "double"
    result = check(app_doc, model_doc)
    assert result.code == 0, result.out
    assert result.lines_about("input", "age") == [
        "input 'age': app sends integer, model expects double (widening: every integer value is exact in double)"
    ]


def test_long_to_double_is_breaking_because_precision_is_lost(check, app_doc, model_doc):
    field(app_doc, "inputs", "age")["type"] = "long"
    field(model_doc, "inputs", "age")["type"] = "double"
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "age") == [
        "input 'age': app sends long, model now expects double "
        "(narrowed type: long values beyond 2^53 lose precision in double)"
    ]


def test_float_to_int_narrowing_is_breaking(check, app_doc, model_doc):
    field(model_doc, "inputs", "income")["type"] = "long"
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "income") == [
        "input 'income': app sends double, model now expects long "
        "(narrowed type: double values with a fraction cannot be represented as long)"
    ]


def test_float64_to_float32_narrowing_is_breaking(check, app_doc, model_doc):
    field(app_doc, "inputs", "income")["type"] = "float64"
    field(model_doc, "inputs", "income")["type"] = "float32"
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "income") == [
        "input 'income': app sends float64, model now expects float32 (narrowed type: float64 is wider than float32)"
    ]


def test_incompatible_input_type_is_breaking(check, app_doc, model_doc):
    field(model_doc, "inputs", "age")["type"] = "string"
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "age") == [
        "input 'age': app sends integer, model now expects string "
        "(incompatible type: integer and string are different kinds of data)"
    ]


def test_nullable_to_non_null_input_is_breaking(check, app_doc, model_doc):
    field(model_doc, "inputs", "region")["nullable"] = False
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "region") == [
        "input 'region': app sends nullable string (may be null or missing), "
        "model now requires a non-null string (nullability)"
    ]


def test_input_becoming_nullable_is_not_breaking(check, app_doc, model_doc):
    field(model_doc, "inputs", "age")["nullable"] = True
    assert check(app_doc, model_doc).code == 0


def test_shape_change_is_breaking(check, app_doc, model_doc):
    app_doc["inputs"].append({"name": "image", "type": "float32", "nullable": False, "shape": [-1, 28, 28]})
    model_doc["inputs"].append({"name": "image", "type": "float32", "nullable": False, "shape": [-1, 32, 32]})
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("input", "image") == [
        "input 'image': app sends float32 shape [-1, 28, 28], model now expects float32 shape [-1, 32, 32] "
        "(shape changed: dimension 1: app sends 28, model expects exactly 32)"
    ]


@pytest.mark.parametrize(
    ("app_shape", "model_shape", "problem"),
    [
        ([-1, 28, 28], [-1, -1, 28], None),  # the model accepts any size in dimension 1
        ([-1, 28], [-1, 28, 1], "rank changed: app [-1, 28], model [-1, 28, 1]"),
        ([-1, -1], [-1, 10], "dimension 1: app sends any size (-1), model expects exactly 10"),
    ],
)
def test_input_shape_rules(check, app_doc, model_doc, app_shape, model_shape, problem):
    app_doc["inputs"].append({"name": "x", "type": "float32", "nullable": False, "shape": app_shape})
    model_doc["inputs"].append({"name": "x", "type": "float32", "nullable": False, "shape": model_shape})
    result = check(app_doc, model_doc)
    (line,) = result.lines_about("input", "x")
    if problem is None:
        assert result.code == 0
        assert line == "input 'x': app sends float32, model expects float32 (same type)"
    else:
        assert result.code == 1
        assert line.endswith(f"(shape changed: {problem})")


# --- outputs -----------------------------------------------------------------------------------


def test_output_removed_is_breaking(check, app_doc, model_doc):
    model_doc["outputs"] = [{"name": "label", "type": "string", "nullable": False}]
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("output", "prediction") == [
        "output 'prediction': app reads double, model no longer produces 'prediction' (output removed or renamed)"
    ]


def test_output_renamed_suggests_the_new_name(check, app_doc, model_doc):
    field(model_doc, "outputs", "prediction")["name"] = "score"
    result = check(app_doc, model_doc)
    assert result.code == 1
    (line,) = result.lines_about("output", "prediction")
    assert line.endswith("(output removed or renamed; renamed to 'score' (double)?)")


def test_output_added_is_not_breaking(check, app_doc, model_doc):
    model_doc["outputs"].append({"name": "probability", "type": "float32", "nullable": False, "shape": [-1, 2]})
    result = check(app_doc, model_doc)
    assert result.code == 0, result.out
    assert result.lines_about("output", "probability") == [
        "output 'probability': app does not read it, model produces float32 (output added)"
    ]


def test_output_type_changed_is_breaking(check, app_doc, model_doc):
    field(model_doc, "outputs", "prediction")["type"] = "string"
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("output", "prediction") == [
        "output 'prediction': app reads double, model now produces string "
        "(output type changed: string and double are different kinds of data)"
    ]


def test_output_wider_than_what_the_app_reads_is_breaking(check, app_doc, model_doc):
    field(app_doc, "outputs", "prediction")["type"] = "float"
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("output", "prediction") == [
        "output 'prediction': app reads float, model now produces double (output type changed: double is wider than float)"
    ]


def test_output_narrower_than_what_the_app_reads_is_fine(check, app_doc, model_doc):
    field(model_doc, "outputs", "prediction")["type"] = "float32"
    result = check(app_doc, model_doc)
    assert result.code == 0, result.out
    assert result.lines_about("output", "prediction") == [
        "output 'prediction': app reads double, model produces float32 (widening: float32 widens to double)"
    ]


def test_output_becoming_nullable_is_breaking(check, app_doc, model_doc):
    field(model_doc, "outputs", "prediction")["nullable"] = True
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("output", "prediction") == [
        "output 'prediction': app reads non-null double, model may now produce null double (nullability)"
    ]


def test_output_shape_change_is_breaking(check, app_doc, model_doc):
    app_doc["outputs"].append({"name": "probability", "type": "float32", "nullable": False, "shape": [-1, 2]})
    model_doc["outputs"].append({"name": "probability", "type": "float32", "nullable": False, "shape": [-1, 3]})
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert result.lines_about("output", "probability") == [
        "output 'probability': app reads float32 shape [-1, 2], model now produces float32 shape [-1, 3] "
        "(shape changed: dimension 1: model produces 3, app expects exactly 2)"
    ]


def test_several_problems_on_one_field_are_all_reported_in_the_table(check, app_doc, model_doc):
    out = field(model_doc, "outputs", "prediction")
    out["type"], out["nullable"] = "string", True
    result = check(app_doc, model_doc)
    assert result.code == 1
    assert len(result.lines_about("output", "prediction")) == 2
    rows = [line for line in result.out.splitlines() if line.startswith("| prediction ")]
    assert len(rows) == 2
    assert all("| output | double" in row and "| string (nullable)" in row for row in rows)
    assert "BREAKING: 2 breaking changes" in result.out


def test_breaking_table_names_field_side_and_both_types(check, app_doc, model_doc):
    field(model_doc, "inputs", "income")["type"] = "long"
    result = check(app_doc, model_doc)
    header = next(line for line in result.out.splitlines() if line.startswith("| field"))
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "field",
        "side",
        "app type",
        "model type",
        "problem",
    ]
    row = next(line for line in result.out.splitlines() if line.startswith("| income"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells == [
        "income",
        "input",
        "double",
        "long",
        "narrowed type: double values with a fraction cannot be represented as long",
    ]


# --- unknown types and malformed contracts ------------------------------------------------------


def test_unknown_type_is_an_error_naming_file_field_and_type(check, app_doc, model_doc):
    field(model_doc, "inputs", "age")["type"] = "int128"
    result = check(app_doc, model_doc)
    assert result.code == 2
    assert result.out == ""
    (line,) = result.err.strip().splitlines()
    assert line.startswith("contract_check: error: ")
    assert (
        "model-contract.model.json: input 'age' (inputs[0].type): unknown type 'int128'; known types: MLflow boolean"
        in line
    )
    assert "tensor dtypes bool, int8" in line


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("Double", "double"), ("dobule", "double"), ("flaot32", "float32"), ("int128", None), ("int", None)],
)
def test_unknown_type_suggests_a_likely_one_of_the_same_width(check, app_doc, model_doc, typo, suggestion):
    field(model_doc, "inputs", "income")["type"] = typo
    result = check(app_doc, model_doc)
    assert result.code == 2
    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
    assert f"input 'income' (inputs[1].type): unknown type '{typo}'{hint}; known types" in result.err


def test_unknown_type_on_the_app_side_names_the_app_file(check, app_doc, model_doc):
    field(app_doc, "outputs", "prediction")["type"] = "decimal"
    result = check(app_doc, model_doc)
    assert result.code == 2
    assert "model-contract.json: output 'prediction' (outputs[0].type): unknown type 'decimal'" in result.err


def test_invalid_json_is_an_error_naming_the_file_and_position(check, model_doc):
    result = check('{"contractVersion": 1,\n  "inputs": [}\n', model_doc)
    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    assert "model-contract.json: invalid JSON at line 2 column 14" in line


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["inputs"][2].update(nullable="yes"),
            "model-contract.model.json: input 'region' (inputs[2].nullable): must be a boolean, got a string",
        ),
        (
            lambda d: d["inputs"][0].pop("nullable"),
            "model-contract.model.json: input 'age' (inputs[0]): missing required property 'nullable'",
        ),
        (
            lambda d: d["inputs"][0].update(nulable=True),
            "model-contract.model.json: input 'age' (inputs[0]): unknown property 'nulable' (did you mean 'nullable'?)",
        ),
        (
            lambda d: d.update(contractVersion=3),
            "model-contract.model.json: contractVersion: 3 is not one of 1, 2; "
            "this contract_check.py understands contractVersion 1 and 2",
        ),
        (lambda d: d.pop("outputs"), "model-contract.model.json: top level: missing required property 'outputs'"),
        (
            lambda d: d["outputs"].append({"name": "prediction", "type": "float", "nullable": False}),
            "model-contract.model.json: outputs: duplicate output 'prediction'",
        ),
        (
            lambda d: d["inputs"][0].update(shape=[-1, "28"]),
            "model-contract.model.json: input 'age' (inputs[0].shape[1]): must be an integer, got a string",
        ),
        (
            lambda d: d["inputs"][0].update(shape=[-2]),
            "model-contract.model.json: input 'age' (inputs[0].shape[0]): must be >= -1, got -2",
        ),
    ],
    ids=["bool", "required", "typo", "version", "outputs", "duplicate", "shape-type", "shape-min"],
)
def test_schema_violation_is_a_one_line_error_naming_the_file(check, app_doc, model_doc, mutate, expected):
    mutate(model_doc)
    result = check(app_doc, model_doc)
    assert result.code == 2
    assert result.out == ""
    (line,) = result.err.strip().splitlines()
    assert line == f"contract_check: error: {result_path(line)}{expected}"


def result_path(line):
    """The temp directory prefix of the file named in the error line (everything before it)."""
    return line[len("contract_check: error: ") : line.index("model-contract")]


def test_several_schema_violations_report_the_first_and_count_the_rest(check, app_doc, model_doc):
    model_doc["inputs"][0]["nullable"] = "no"
    model_doc["inputs"][1]["nullable"] = "no"
    model_doc["inputs"][2]["nullable"] = "no"
    result = check(app_doc, model_doc)
    assert result.code == 2
    assert result.err.strip().endswith(
        "input 'age' (inputs[0].nullable): must be a boolean, got a string (and 2 more problems)"
    )


def test_missing_file_is_an_error(cc, tmp_path, capsys, app_doc):
    app = tmp_path / "app.json"
    app.write_text(json.dumps(app_doc))
    code = cc.main(["check", "--app", str(app), "--model", str(tmp_path / "nope.json")])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"contract_check: error: {tmp_path / 'nope.json'}: file not found"
