"""model-contract.schema.json is the published format; contract_check.py validates with the
standard library (agents need no pip install). These tests keep the two in agreement by
running the real `jsonschema` package on the same documents."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from contract_helpers import EXAMPLE_APP, EXAMPLE_MODEL, SCHEMA_FILE


@pytest.fixture(scope="module")
def schema():
    return json.loads(SCHEMA_FILE.read_text())


def test_schema_file_is_the_schema_the_checker_uses(cc, schema):
    assert schema == cc.SCHEMA


def test_schema_is_a_valid_draft_2020_12_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_type_enum_lists_exactly_the_known_types(cc, schema):
    assert schema["$defs"]["field"]["properties"]["type"]["enum"] == list(cc.KNOWN_TYPES)


def _keywords(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    _keywords(sub, found)
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                _keywords(value, found)
    return found


def test_schema_uses_only_keywords_the_stdlib_validator_understands(cc, schema):
    used = _keywords(schema, set())
    assert used <= cc.SUPPORTED_SCHEMA_KEYWORDS, used - cc.SUPPORTED_SCHEMA_KEYWORDS
    assert {"enum", "minimum", "$ref", "additionalProperties"} <= used  # const: no longer used (v2 takes an enum)


@pytest.mark.parametrize("path", [EXAMPLE_APP, EXAMPLE_MODEL], ids=["app", "model"])
def test_examples_are_valid(cc, schema, path):
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, schema)
    assert cc.validate_schema(doc) == []


VALID = {"contractVersion": 1, "inputs": [{"name": "x", "type": "double", "nullable": False}], "outputs": []}


def _mutated(change):
    doc = copy.deepcopy(VALID)
    change(doc)
    return doc


AGREEMENT = [
    ("valid", VALID, True),
    ("with-shape-and-extras", _mutated(lambda d: d["inputs"][0].update(shape=[-1, 3], description="x")), True),
    ("schema-pointer", _mutated(lambda d: d.update({"$schema": "./model-contract.schema.json"})), True),
    ("source", _mutated(lambda d: d.update(source={"format": "mlflow-signature"})), True),
    ("integral-float-version", _mutated(lambda d: d.update(contractVersion=1.0)), True),
    ("empty-sides", {"contractVersion": 1, "inputs": [], "outputs": []}, True),
    ("not-an-object", [], False),
    ("version-2", _mutated(lambda d: d.update(contractVersion=2)), True),
    ("version-3", _mutated(lambda d: d.update(contractVersion=3)), False),
    (
        "interaction",
        _mutated(
            lambda d: d.update(
                contractVersion=2,
                interactions=[
                    {
                        "name": "one",
                        "request": {"input_data": {"columns": ["x"], "data": [[1.0]]}},
                        "answer": {"items": "value", "value": {"type": "number", "minimum": 0, "unit": "EUR"}},
                    }
                ],
            )
        ),
        True,
    ),
    (
        "interaction-bad-items",
        _mutated(
            lambda d: d.update(
                contractVersion=2, interactions=[{"name": "one", "request": {}, "answer": {"items": "list"}}]
            )
        ),
        False,
    ),
    (
        "interaction-need-typo",
        _mutated(
            lambda d: d.update(
                contractVersion=2,
                interactions=[
                    {"name": "one", "request": {}, "answer": {"items": "value", "value": {"type": "number", "max": 1}}}
                ],
            )
        ),
        False,
    ),
    ("version-true", _mutated(lambda d: d.update(contractVersion=True)), False),
    ("version-string", _mutated(lambda d: d.update(contractVersion="1")), False),
    ("no-inputs", _mutated(lambda d: d.pop("inputs")), False),
    ("inputs-object", _mutated(lambda d: d.update(inputs={})), False),
    ("extra-top-level", _mutated(lambda d: d.update(model="x")), False),
    ("field-not-object", _mutated(lambda d: d["inputs"].append("x")), False),
    ("empty-name", _mutated(lambda d: d["inputs"][0].update(name="")), False),
    ("name-number", _mutated(lambda d: d["inputs"][0].update(name=3)), False),
    ("unknown-type", _mutated(lambda d: d["inputs"][0].update(type="int128")), False),
    ("type-case", _mutated(lambda d: d["inputs"][0].update(type="Double")), False),
    ("nullable-int", _mutated(lambda d: d["inputs"][0].update(nullable=0)), False),
    ("nullable-missing", _mutated(lambda d: d["inputs"][0].pop("nullable")), False),
    ("shape-not-list", _mutated(lambda d: d["inputs"][0].update(shape=3)), False),
    ("shape-bool", _mutated(lambda d: d["inputs"][0].update(shape=[True])), False),
    ("shape-below-minus-one", _mutated(lambda d: d["inputs"][0].update(shape=[-2])), False),
    ("shape-fraction", _mutated(lambda d: d["inputs"][0].update(shape=[1.5])), False),
    ("extra-field-property", _mutated(lambda d: d["inputs"][0].update(required=True)), False),
    ("source-not-object", _mutated(lambda d: d.update(source="x")), False),
]


@pytest.mark.parametrize(("doc", "valid"), [(d, v) for _, d, v in AGREEMENT], ids=[i for i, _, _ in AGREEMENT])
def test_stdlib_validator_agrees_with_jsonschema(cc, schema, doc, valid):
    jsonschema_ok = jsonschema.Draft202012Validator(schema).is_valid(doc)
    stdlib_errors = cc.validate_schema(doc)
    assert jsonschema_ok is valid
    assert (stdlib_errors == []) is valid, stdlib_errors


def test_schema_subcommand_prints_the_schema_file(cc, capsys, schema):
    assert cc.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema
