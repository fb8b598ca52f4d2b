"""Answer checks on answers written out by hand: the forms real models rarely produce (nested arrays,
envelopes, declared row counts, optional record fields), so each rule has a test of its own."""

from __future__ import annotations

import json
import sys

import pytest
from contract_helpers import CONTRACT_DIR

sys.path.insert(0, str(CONTRACT_DIR))
import contract_verify as cv  # noqa: E402 - the module sits beside the script, not in a package

REQUEST = {"input_data": {"columns": ["x"], "data": [[1.0], [2.0]]}}


def outcome_of(answer_spec, body, status=200, request=REQUEST):
    outcome = cv.Outcome()
    cv.check_answer({"name": "i", "request": request, "answer": answer_spec}, cv.Exchange(status, body), outcome)
    return outcome


def test_nested_arrays_are_undecided_not_passed():
    spec = {"items": "array", "positions": [{"type": "number"}]}
    outcome = outcome_of(spec, json.dumps([[[0.1, 0.9]], [[0.2, 0.8]]]))
    assert outcome.verdict == "undecided"
    assert "the vocabulary has no need for nested arrays or records" in outcome.problems[0].need


def test_predictions_envelope_only_when_the_app_reads_it():
    body = json.dumps({"predictions": [1.0, 2.0]})
    assert outcome_of({"items": "value", "value": {"type": "number"}}, body).verdict == "compatible"
    spec = {"items": "value", "value": {"type": "number"}, "envelope": ["predictions"]}
    problem = outcome_of(spec, json.dumps([1.0, 2.0])).problems[0]
    assert problem.need == 'the app reads an object {"predictions": [...]}; got an array of 2 value(s)'


def test_declared_rows_replace_one_per_request_row():
    spec = {"items": "value", "value": {"type": "number"}, "rows": 1}
    assert outcome_of(spec, "[3.0]").verdict == "compatible"
    assert "sent 1, got 2" in outcome_of(spec, "[3.0, 4.0]").problems[0].need


def test_optional_record_field_may_be_missing_but_labels_still_apply():
    spec = {
        "items": "record",
        "fields": [
            {"name": "label", "type": "string", "labels": ["a", "b"]},
            {"name": "why", "type": "string", "nullable": True},
        ],
    }
    assert outcome_of(spec, json.dumps([{"label": "a"}, {"label": "b", "why": None}])).verdict == "compatible"
    need = outcome_of(spec, json.dumps([{"label": "a"}, {"label": "c"}])).problems[0].need
    assert need == 'row 1, field \'label\': field \'label\' is "c", not one of the labels the app handles ["a", "b"]'


def test_nan_accepted_where_the_app_declares_null_is_still_noted():
    spec = {"items": "value", "value": {"type": "number", "nullable": True}}
    outcome = outcome_of(spec, "[NaN, 1.0]")
    assert outcome.verdict == "breaking"  # NaN is not JSON even where null is fine
    assert "NaN, which is not JSON" in outcome.problems[0].need


def test_answer_that_is_not_json_and_server_errors():
    assert "not JSON" in outcome_of({"items": "value"}, "<html>oops</html>").problems[0].need
    problem = outcome_of({"items": "value"}, "Internal Server Error\ntrace", status=500).problems[0]
    assert problem.need == "an answer (HTTP 200); the model refused the request with HTTP 500: Internal Server Error"


@pytest.mark.parametrize(
    ("request_body", "rows"),
    [
        ({"input_data": {"columns": ["x"], "data": [[1], [2], [3]]}}, 3),
        ({"input_data": [[1, 2], [3, 4]]}, 2),
        ({"dataframe_records": [{"x": 1}]}, 1),
        ({"inputs": {"a": [1, 2, 3, 4]}}, 4),
        ({"something": "else"}, None),
    ],
)
def test_request_rows(request_body, rows):
    assert cv.request_rows(request_body) == rows


def test_many_failing_interactions_stay_on_one_screen():
    outcome = cv.Outcome()
    for n in range(8):
        cv.check_answer(
            {"name": f"i{n}", "request": REQUEST, "answer": {"items": "value"}}, cv.Exchange(400, "no"), outcome
        )
    text = cv.format_outcome(outcome, 8, "model m", [])
    assert text.count("BREAKING: interaction") == cv.SHOWN
    assert "and 5 more:" in text and "  - interaction 'i7': an answer (HTTP 200)" in text


def test_infinity_is_not_json_either():
    problem = outcome_of({"items": "value", "value": {"type": "number"}}, "[Infinity, -Infinity]").problems[0]
    assert problem.need.startswith("row 0: the value is Infinity, which is not JSON")
