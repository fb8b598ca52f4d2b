"""Scenario suite: real MLflow models, the seeded app's requests, `verify`'s verdict and message.

Each scenario trains (once per session) a model the way data scientists do, runs the app's recorded
interactions through MLflow's serving code and asserts the exit code and the lines that explain it.
Exit codes: 0 compatible, 1 breaking, 2 invalid input, 4 undecided (outside what the contract can express).
"""

from __future__ import annotations

import copy
import json

import pytest
from contract_helpers import EXAMPLE_APP

pytestmark = pytest.mark.filterwarnings("ignore")

BASE = json.loads(EXAMPLE_APP.read_text())
COLUMNS = ["age", "income", "region"]


def interaction(name, rows, answer=None, columns=COLUMNS, key="input_data"):
    body = {"columns": columns, "data": rows}
    return {"name": name, "request": {key: body}, "answer": answer or {"items": "value", "value": {"type": "number"}}}


def app(*interactions, outputs=None, inputs=None):
    doc = copy.deepcopy(BASE)
    if interactions:
        doc["interactions"] = list(interactions)
    if outputs is not None:
        doc["outputs"] = outputs
    if inputs is not None:
        doc["inputs"] = inputs
    return doc


TWO = [[34, 52000.0, "north"], [23, 31000.0, None]]
LABELS = {"items": "value", "value": {"type": "string", "labels": ["churn", "stay"]}}
LABEL_OUT = [{"name": "label", "type": "string", "nullable": False}]
PROBA = {"items": "value", "value": {"type": "number", "minimum": 0, "maximum": 1, "unit": "probability"}}
P_OUT = [{"name": "p_churn", "type": "double", "nullable": False}]
RECORDS = {
    "items": "record",
    "fields": [{"name": "prediction", "type": "number"}, {"name": "interval", "type": "number", "minimum": 0}],
}
REC_OUT = [
    {"name": "prediction", "type": "double", "nullable": False},
    {"name": "interval", "type": "double", "nullable": False},
]

# id: (model, app contract, exit code, lines the output must contain)
SCENARIOS = {
    # The seeded pair, and the categories.
    "seeded-app-and-model": ("seeded", app(), 0, ["COMPATIBLE: the app's 2 interaction(s)"]),
    "optional-input-the-model-needs": (
        "needs-tenure",
        app(),
        1,
        ["BREAKING: interaction 'two customers, one without a region'", "columns are missing: {'tenure'}"],
    ),
    "outputs-added-become-records": (
        "wrap-frame2",
        app(),
        1,
        ["the app reads each answer row as one number (by position); got a record with field(s) prediction, interval"],
    ),
    "named-series-same-signature": (
        "wrap-series",
        app(),
        1,
        ["got a record with field(s) prediction", "a named Series is serialized as records"],
    ),
    "one-column-frame-same-signature": ("wrap-frame1", app(), 1, ["got a record with field(s) prediction"]),
    "infer-signature-unnamed-output-no-false-alarm": (
        "inferred",
        app(),
        0,
        ["COMPATIBLE", "renamed to '0' (float64)?)", "signature diff (static stage; the answers above decide)"],
    ),
    "single-output-renamed-read-by-position": ("output-renamed", app(), 0, ["COMPATIBLE", "renamed to 'score'"]),
    "required-inferred-from-data-null-accepted": (
        "inferred",
        app(),
        0,
        ["input 'region': app sends nullable string (may be null or missing), model now requires a non-null string"],
    ),
    "required-inferred-no-request-sends-null": (
        "inferred",
        app(interaction("full rows", [[34, 52000.0, "north"]])),
        1,
        ["BREAKING: signature diff (static stage)", "no recorded request sends null for it"],
    ),
    "label-set-grows-classes": (
        "classifier-grown",
        app(interaction("labels", TWO, LABELS), outputs=LABEL_OUT),
        1,
        ['the model\'s classes are ["churn", "maybe", "stay"], so it can answer ["maybe"] (the label set grew)'],
    ),
    "label-set-grows-in-a-wrapper": (
        "wrap-labels-grown",
        app(interaction("rich customer", [[52, 88000.0, "east"]], LABELS), outputs=LABEL_OUT),
        1,
        ['row 0: the value is "maybe", not one of the labels the app handles ["churn", "stay"]'],
    ),
    "label-set-shrinks": (
        "classifier-shrunk",
        app(interaction("labels", TWO, LABELS), outputs=LABEL_OUT),
        0,
        ["COMPATIBLE"],
    ),
    "labels-unchanged": ("classifier", app(interaction("labels", TWO, LABELS), outputs=LABEL_OUT), 0, ["COMPATIBLE"]),
    "classifier-where-app-reads-numbers": ("classifier", app(), 1, ['got the string "stay"']),
    "probability-stays-probability": (
        "wrap-proba",
        app(interaction("proba", TWO, PROBA), outputs=P_OUT),
        0,
        ["COMPATIBLE"],
    ),
    "probability-turned-into-class": (
        "wrap-class01",
        app(interaction("proba", TWO, PROBA), outputs=P_OUT),
        4,
        ["UNDECIDED (outside what the contract can express)", "every answer is exactly 0 or 1"],
    ),
    "scaled-x1000-outside-range": (
        "wrap-x1000",
        app(interaction("score", TWO, {"items": "value", "value": {"type": "number", "maximum": 10, "unit": "kEUR"}})),
        1,
        ["outside the app's range [-inf, 10] kEUR", "a scale or unit change breaks the app"],
    ),
    "unit-without-range-is-undecided": (
        "wrap-x1000",
        app(interaction("score", TWO, {"items": "value", "value": {"type": "number", "unit": "kEUR"}})),
        4,
        ["the app states no range: a change of unit or scale (x1000) cannot be seen in the answers"],
    ),
    # Types of inputs and outputs.
    "input-widened-long-to-double": ("age-double", app(), 0, ["COMPATIBLE"]),
    "input-narrowed-double-to-long": (
        "income-long",
        app(),
        1,
        ["input 'income': app sends double, model now expects long", "61000.5 -> 61000"],
    ),
    "output-integer-where-app-reads-number": (
        "wrap-int",
        app(interaction("n", TWO)),
        0,
        ["COMPATIBLE"],
    ),
    "output-float-where-app-reads-integer": (
        "seeded",
        app(interaction("n", [[30, 40000.0, "north"]], {"items": "value", "value": {"type": "integer"}})),
        1,
        ["the app reads the value as integer, got the number"],
    ),
    # Requests the app sends.
    "column-order": (
        "seeded",
        app(interaction("reordered", [["north", 52000.0, 34]], columns=["region", "income", "age"])),
        0,
        ["COMPATIBLE"],
    ),
    "extra-column-the-app-sends": (
        "seeded",
        app(interaction("extra", [[34, 52000.0, "north", "web"]], columns=[*COLUMNS, "channel"])),
        0,
        ["COMPATIBLE"],
    ),
    "batch-size-one": ("seeded", app(interaction("one", [[34, 52000.0, "north"]])), 0, ["COMPATIBLE"]),
    "empty-batch": ("seeded", app(interaction("empty", [])), 1, ["refused the request with HTTP 400"]),
    "null-double-imputed": ("seeded", app(interaction("no income", [[34, None, "north"]])), 0, ["COMPATIBLE"]),
    "null-for-a-long-input": (
        "seeded",
        app(interaction("no age", [[None, 52000.0, "north"]])),
        1,
        ["Failed to convert column age"],
    ),
    "unseen-category-ignored": ("seeded", app(interaction("west", [[52, 88000.0, "west"]])), 0, ["COMPATIBLE"]),
    "unseen-category-error": (
        "unknown-error",
        app(),
        1,
        ["Found unknown categories ['west']", "interactions that passed: 'two customers, one without a region'"],
    ),
    # Answers.
    "nan-in-answer": ("wrap-nan", app(), 1, ["row 0: the value is NaN, which is not JSON"]),
    "null-answer-the-app-accepts": (
        "wrap-none",
        app(interaction("n", TWO, {"items": "value", "value": {"type": "number", "nullable": True}})),
        0,
        ["COMPATIBLE"],
    ),
    "null-answer-the-app-cannot-take": (
        "wrap-none",
        app(),
        1,
        ["the app needs a non-null number for the value, got null"],
    ),
    "one-answer-for-a-batch": ("wrap-aggregate", app(), 1, ["one answer row per request row: sent 2, got 1"]),
    "dict-of-outputs": ("wrap-dict", app(), 1, ["got a record with field(s) prediction, interval"]),
    "records-app-field-renamed": (
        "wrap-frame-renamed",
        app(interaction("records", TWO, {"items": "record", "fields": [{"name": "prediction", "type": "number"}]})),
        1,
        ["the app reads field 'prediction'; the answer has field(s) score (renamed to 'score'?)"],
    ),
    "records-app-output-added": (
        "wrap-frame2",
        app(interaction("records", TWO, {"items": "record", "fields": [{"name": "prediction", "type": "number"}]})),
        0,
        ["COMPATIBLE"],
    ),
    "records-app-reads-both": (
        "wrap-frame2",
        app(interaction("records", TWO, RECORDS), outputs=REC_OUT),
        0,
        ["COMPATIBLE"],
    ),
    "records-app-but-values-returned": (
        "seeded",
        app(interaction("records", TWO, RECORDS), outputs=REC_OUT),
        1,
        ["the app reads field(s) 'prediction', 'interval' of each answer row; got the number"],
    ),
    "predict-proba-matrix-by-position": (
        "wrap-proba2",
        app(
            interaction(
                "matrix",
                TWO,
                {"items": "array", "positions": [{"type": "number", "minimum": 0, "maximum": 1}] * 2},
            ),
            outputs=[],
        ),
        0,
        ["COMPATIBLE"],
    ),
    # Protocols and tensors.
    "mlflow-protocol-predictions-envelope": (
        "seeded",
        app(interaction("split", TWO, key="dataframe_split")),
        0,
        ["COMPATIBLE"],
    ),
    "mlflow-protocol-app-reads-bare-list-only": (
        "seeded",
        app(
            interaction(
                "split",
                TWO,
                {"items": "value", "value": {"type": "number"}, "envelope": ["bare"]},
                key="dataframe_split",
            )
        ),
        1,
        ["the app reads a list; got a record with field(s) predictions"],
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_scenario(scenario, models, verify):
    model, contract, code, lines = SCENARIOS[scenario]
    result = verify(contract, models(model))
    for line in lines:
        assert line in result.out, result.out
    assert result.code == code, result.out + result.err


TENSOR_APP = {
    "contractVersion": 2,
    "inputs": [{"name": "0", "type": "float64", "nullable": False, "shape": [-1, 3]}],
    "outputs": [{"name": "0", "type": "float64", "nullable": False, "shape": [-1]}],
    "interactions": [
        {
            "name": "three features",
            "request": {"input_data": [[0.1, 0.2, 0.3], [1.0, 2.0, 3.0]]},
            "answer": {"items": "value", "value": {"type": "number"}},
        }
    ],
}


def test_tensor_model_answers_numbers(models, verify):
    result = verify(TENSOR_APP, models("tensor"))
    assert result.code == 0, result.out
    assert "COMPATIBLE: the app's 1 interaction(s)" in result.out


def test_tensor_model_with_a_fourth_feature_refuses_the_request(models, verify):
    result = verify(TENSOR_APP, models("tensor-4"))
    assert result.code == 1, result.out
    assert "BREAKING: interaction 'three features'" in result.out
    assert "refused the request with HTTP 400" in result.out and "shape" in result.out.lower()


def test_model_that_cannot_be_loaded_is_undecided_not_a_pass(models, verify):
    result = verify(app(), models("unloadable"))
    assert result.code == 4, result.out
    assert result.out.startswith("UNDECIDED: the model cannot be loaded here")
    assert "so the app's answers were not checked; signature diff says compatible" in result.out


def test_model_that_cannot_be_loaded_with_allow_static_uses_the_signature(models, verify):
    result = verify(app(), models("unloadable"), "--allow-static")
    assert result.code == 0, result.out
    assert result.out.startswith("STATIC ONLY: the model cannot be loaded here")


def test_version_1_contract_gets_a_one_line_migration_error(models, verify):
    v1 = copy.deepcopy(BASE)
    v1["contractVersion"] = 1
    del v1["interactions"]
    result = verify(v1, models("seeded"))
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert "no interactions to run (contractVersion 1)" in result.err and '"contractVersion": 2' in result.err


def test_interactions_in_a_version_1_file_are_refused(models, verify):
    doc = copy.deepcopy(BASE)
    doc["contractVersion"] = 1
    result = verify(doc, models("seeded"))
    assert result.code == 2
    assert 'interactions: need "contractVersion": 2' in result.err


def test_breaking_messages_fit_one_screen(models, verify):
    result = verify(app(), models("wrap-frame2"))
    block = result.out.split("\n\n")[1].splitlines()
    assert [line.split()[0] for line in block[1:]] == ["request", "answer", "need", "fix", "fix"]
    assert all(len(line) <= 240 for line in block)
