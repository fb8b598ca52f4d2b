#!/usr/bin/env python3
"""Model-app contract gate: catch a breaking model change in CI, before the app breaks.

Seeded by mlops-kit into both team repos (``<team>-model`` and ``<team>-app``) next to
``model-contract.schema.json``. Self-contained: the standard library is enough for ``check``;
``export`` also needs PyYAML, which every MLflow installation already has. Python 3.10+.

Usage::

    python contract_check.py check --app model-contract.json \\
        --model model-contract.model.json [--junit contract-results.xml]
    python contract_check.py export --mlmodel path/to/MLmodel --out model-contract.model.json
    python contract_check.py schema            # print the contract JSON Schema
    python contract_check.py verify --app model-contract.json --model-dir <MLflow model dir>
    python contract_check.py replay --app model-contract.json --scoring-uri <URI> --deployment <name>

``verify`` and ``replay`` (contract_verify.py, beside this file) run the app's recorded interactions
(contractVersion 2) through the model itself or a live deployment and check each answer against what
the app needs; ``verify`` needs mlflow and the model's packages, ``replay`` the standard library only.

Exit codes:
    0  compatible (check, verify, replay) / contract written (export)
    1  breaking changes found (check, verify, replay)
    2  usage error or unreadable/malformed input (bad JSON or YAML, schema violation,
       unknown type, missing file, MLmodel without signature)
    3  internal error in this script (a bug: please report it)
    4  undecided (verify/replay): outside what the contract can express; a person must judge

Compatibility rules (the full table is in docs/model-app-contract.md):
    inputs   the app SENDS type A, the model EXPECTS type B: fine when every A value converts
             to B without loss (integer -> long, integer -> double, float -> double ...).
    outputs  the model PRODUCES type B, the app READS type A: fine when every B value fits A.
    A field absent from the app but optional in the model, an extra model output, and widening
    are not breaking.

Validation uses the standard library only (a small interpreter for the handful of JSON Schema
keywords the contract schema uses), so that Azure Pipelines agents need no ``pip install``;
the repository's tests check that it agrees with the ``jsonschema`` package on the same schema.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CONTRACT_VERSION = 2  # the newest format this script writes and reads
CONTRACT_VERSIONS = (1, 2)  # 2 adds "interactions" (app side, for verify/replay); 1 files stay valid

EXIT_COMPATIBLE = 0
EXIT_BREAKING = 1
EXIT_INVALID = 2
EXIT_INTERNAL = 3
EXIT_UNDECIDED = 4  # verify/replay: outside what the contract can express; a person must judge

# ---------------------------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------------------------
# Every accepted type name maps to (family, bits). Families: bool, int (signed), uint, float,
# string, binary, datetime, object. Two names with the same (family, bits) are the same type.

MLFLOW_TYPES: dict[str, tuple[str, int]] = {
    # MLflow ColSpec types (mlflow.types.DataType)
    "boolean": ("bool", 1),
    "integer": ("int", 32),
    "long": ("int", 64),
    "float": ("float", 32),
    "double": ("float", 64),
    "string": ("string", 0),
    "binary": ("binary", 0),
    "datetime": ("datetime", 0),
}

TENSOR_DTYPES: dict[str, tuple[str, int]] = {
    # numpy dtype names, as MLflow writes them in TensorSpec "tensor-spec.dtype"
    "bool": ("bool", 1),
    "int8": ("int", 8),
    "int16": ("int", 16),
    "int32": ("int", 32),
    "int64": ("int", 64),
    "uint8": ("uint", 8),
    "uint16": ("uint", 16),
    "uint32": ("uint", 32),
    "uint64": ("uint", 64),
    "float16": ("float", 16),
    "float32": ("float", 32),
    "float64": ("float", 64),
    "str": ("string", 0),
    "bytes": ("binary", 0),
    "object": ("object", 0),
}

KNOWN_TYPES: dict[str, tuple[str, int]] = {**MLFLOW_TYPES, **TENSOR_DTYPES}

# Significand bits (including the implicit bit): integers up to 2**p are exact in the float.
_FLOAT_PRECISION = {16: 11, 32: 24, 64: 53}
_NUMERIC = ("int", "uint", "float")

# MLflow ColSpec types that exist but that this gate cannot compare (yet).
_MLFLOW_NON_SCALAR = ("array", "object", "map", "any", "sparkml_vector")


def _int_magnitude_bits(family: str, bits: int) -> int:
    """Bits needed for the largest magnitude of an integer type (int32: 31, uint32: 32)."""
    return bits - 1 if family == "int" else bits


def conversion(src: str, dst: str) -> tuple[str, str]:
    """Classify converting a value of type ``src`` into type ``dst``.

    Returns ``(verdict, detail)`` where verdict is ``same``, ``widening`` (lossless),
    ``narrowed`` (both numeric, some values would change) or ``incompatible``.
    """
    sf, sb = KNOWN_TYPES[src]
    df, db = KNOWN_TYPES[dst]
    if (sf, sb) == (df, db):
        return "same", "same type"
    if sf in _NUMERIC and df in _NUMERIC:
        if sf == df:
            if sb < db:
                return "widening", f"{src} widens to {dst}"
            return "narrowed", f"{src} is wider than {dst}"
        if sf == "uint" and df == "int":
            if sb < db:
                return "widening", f"{src} widens to {dst}"
            return "narrowed", f"large {src} values overflow {dst}"
        if sf == "int" and df == "uint":
            return "narrowed", f"negative {src} values cannot be represented as {dst}"
        if sf == "float":
            return "narrowed", f"{src} values with a fraction cannot be represented as {dst}"
        # integer -> float: exact only while the float's significand holds every integer
        precision = _FLOAT_PRECISION[db]
        if _int_magnitude_bits(sf, sb) <= precision:
            return "widening", f"every {src} value is exact in {dst}"
        return "narrowed", f"{src} values beyond 2^{precision} lose precision in {dst}"
    return "incompatible", f"{src} and {dst} are different kinds of data"


# ---------------------------------------------------------------------------------------------
# Contract JSON Schema (published as model-contract.schema.json; tests keep the two identical)
# ---------------------------------------------------------------------------------------------

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:mlops-kit:model-contract:2",
    "title": "mlops-kit model-app contract",
    "description": (
        "What a model accepts and produces (model side, exported from the MLflow signature) or "
        "what an app sends and reads (app side, model-contract.json). "
        "Checked by contract_check.py; see docs/model-app-contract.md."
    ),
    "type": "object",
    "required": ["contractVersion", "inputs", "outputs"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string", "description": "Optional pointer to this schema, for editors."},
        "contractVersion": {
            "type": "integer",
            "enum": list(CONTRACT_VERSIONS),
            "description": "Version of the contract format: 1 (fields only) or 2 (adds 'interactions').",
        },
        "description": {"type": "string"},
        "source": {
            "type": "object",
            "description": "Provenance written by 'contract_check.py export' (free-form).",
        },
        "inputs": {
            "type": "array",
            "description": "Model side: fields the model accepts. App side: fields the app sends.",
            "items": {"$ref": "#/$defs/field"},
        },
        "outputs": {
            "type": "array",
            "description": "Model side: fields the model produces. App side: fields the app reads.",
            "items": {"$ref": "#/$defs/field"},
        },
        "interactions": {
            "type": "array",
            "description": (
                "App side, contractVersion 2: requests the app's own code builds and what the app needs from "
                "each answer. 'verify' runs them through the model, 'replay' against a live deployment."
            ),
            "items": {"$ref": "#/$defs/interaction"},
        },
    },
    "$defs": {
        "interaction": {
            "type": "object",
            "required": ["name", "request", "answer"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "request": {
                    "type": "object",
                    "description": (
                        "The JSON body exactly as the app sends it: {'input_data': ...} (Azure ML), or MLflow's "
                        "'dataframe_split', 'dataframe_records', 'inputs', 'instances'."
                    ),
                },
                "answer": {"$ref": "#/$defs/answer"},
            },
        },
        "answer": {
            "type": "object",
            "required": ["items"],
            "additionalProperties": False,
            "properties": {
                "envelope": {
                    "type": "array",
                    "description": "Top-level forms the app reads: 'bare' list, {'predictions': list}. Default: both.",
                    "items": {"enum": ["bare", "predictions"]},
                },
                "rows": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Answer rows the app expects. Default: one per request row.",
                },
                "items": {
                    "description": "Each answer row is a 'value' (read by position), a 'record' (fields read by "
                    "name) or an 'array' (values read by position within the row).",
                    "enum": ["value", "record", "array"],
                },
                "value": {"$ref": "#/$defs/need"},
                "fields": {"type": "array", "items": {"$ref": "#/$defs/need"}},
                "positions": {"type": "array", "items": {"$ref": "#/$defs/need"}},
            },
        },
        "need": {
            "type": "object",
            "required": ["type"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "description": "Record field name (items 'record')."},
                "type": {"description": "JSON type the app reads.", "enum": ["number", "integer", "string", "boolean"]},
                "nullable": {"type": "boolean", "description": "The app accepts null (default false)."},
                "labels": {"type": "array", "description": "The only values the app handles (class labels)."},
                "minimum": {"type": "number"},
                "maximum": {"type": "number"},
                "unit": {
                    "type": "string",
                    "description": "Meaning of the number, e.g. 'EUR' or 'probability'; give a range with it.",
                },
                "description": {"type": "string"},
            },
        },
        "field": {
            "type": "object",
            "required": ["name", "type", "nullable"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "type": {
                    "description": "MLflow column type or numpy tensor dtype.",
                    "enum": list(KNOWN_TYPES),
                },
                "nullable": {
                    "type": "boolean",
                    "description": (
                        "Input: the value may be null or left out (MLflow 'required: false'). "
                        "Output: the value may be null or missing."
                    ),
                },
                "shape": {
                    "type": "array",
                    "description": "Tensor shape; -1 marks a variable dimension. Omit for scalars.",
                    "items": {"type": "integer", "minimum": -1},
                },
                "description": {"type": "string"},
            },
        },
    },
}

# Keywords the small validator below understands; a test asserts SCHEMA uses no others.
SUPPORTED_SCHEMA_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "$ref",
        "$defs",
        "title",
        "description",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "minLength",
        "minimum",
    }
)

_JSON_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    type(None): "null",
    int: "an integer",
    float: "a number",
}


_SCHEMA_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean",
    "null": "null",
    "integer": "an integer",
    "number": "a number",
}


def _json_type_name(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _is_json_type(value: Any, expected: str) -> bool:
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if expected == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if expected == "number":
        return isinstance(value, (int, float))
    raise ValueError(f"unsupported JSON Schema type {expected!r}")


PathT = tuple[Any, ...]


def validate_schema(instance: Any, schema: dict[str, Any] = SCHEMA) -> list[tuple[PathT, str]]:
    """Validate ``instance`` against ``schema``; return ``(path, problem)`` pairs in document order."""
    errors: list[tuple[PathT, str]] = []
    _validate(instance, schema, (), schema, errors)
    return errors


def _validate(
    value: Any, schema: dict[str, Any], path: PathT, root: dict[str, Any], errors: list[tuple[PathT, str]]
) -> None:
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        _validate(value, target, path, root, errors)
    expected = schema.get("type")
    if expected is not None and not _is_json_type(value, expected):
        errors.append((path, f"must be {_SCHEMA_TYPE_NAMES[expected]}, got {_json_type_name(value)}"))
        return
    if "const" in schema and value != schema["const"]:
        errors.append((path, f"must be {json.dumps(schema['const'])}, got {json.dumps(value)}"))
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append((path, f"{json.dumps(value)} is not one of {', '.join(json.dumps(v) for v in schema['enum'])}"))
        return
    if "minLength" in schema and isinstance(value, str) and len(value) < schema["minLength"]:
        errors.append(
            (
                path,
                "must not be empty"
                if schema["minLength"] == 1
                else f"must be at least {schema['minLength']} characters long",
            )
        )
    if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
        errors.append((path, f"must be >= {schema['minimum']}, got {value}"))
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append((path, f"missing required property '{name}'"))
        for key, item in value.items():
            if key in properties:
                _validate(item, properties[key], path + (key,), root, errors)
            elif schema.get("additionalProperties", True) is False:
                close = difflib.get_close_matches(key, list(properties), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                errors.append((path, f"unknown property '{key}'{hint}"))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _validate(item, schema["items"], path + (index,), root, errors)


# ---------------------------------------------------------------------------------------------
# Loading contracts
# ---------------------------------------------------------------------------------------------


class ContractError(Exception):
    """A problem with the inputs (file, JSON, schema): exit code 2, one line, names the file."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nullable: bool
    shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Contract:
    path: str
    inputs: tuple[Field, ...]
    outputs: tuple[Field, ...]
    version: int = 1
    interactions: tuple[dict[str, Any], ...] = ()  # raw, schema-checked; contract_verify.py reads them


_SIDE = {"inputs": "input", "outputs": "output"}


def _format_path(doc: Any, path: PathT) -> str:
    """``inputs[0].type`` -> ``input 'age' (inputs[0].type)`` when the field has a name."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    if len(path) >= 2 and path[0] in _SIDE and isinstance(path[1], int):
        try:
            name = doc[path[0]][path[1]].get("name")
        except (AttributeError, IndexError, KeyError, TypeError):
            name = None
        if isinstance(name, str) and name:
            return f"{_SIDE[path[0]]} '{name}' ({text})"
    return text or "top level"


def _close_type_name(bad: str) -> list[str]:
    """A likely intended type for a typo ('Double', 'dobule'), never one of a different width
    ('int128' must not suggest 'int8')."""
    digits = "".join(ch for ch in bad if ch.isdigit())
    same_width = [t for t in KNOWN_TYPES if "".join(ch for ch in t if ch.isdigit()) == digits]
    return difflib.get_close_matches(bad.lower(), same_width, n=1, cutoff=0.8)


def _describe_schema_error(doc: Any, path: PathT, problem: str) -> str:
    where = _format_path(doc, path)
    if len(path) == 3 and path[2] == "type" and path[0] in _SIDE:
        bad = doc[path[0]][path[1]]["type"]
        if not isinstance(bad, str):
            return f'{where}: must be a type name such as "double", got {json.dumps(bad)}'
        close = _close_type_name(bad)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return (
            f"{where}: unknown type '{bad}'{hint}; known types: MLflow "
            f"{', '.join(MLFLOW_TYPES)}; tensor dtypes {', '.join(TENSOR_DTYPES)}"
        )
    if path == ("contractVersion",) and (problem.startswith("must be") or "is not one of" in problem):
        known = " and ".join(str(v) for v in CONTRACT_VERSIONS)
        return f"{where}: {problem}; this contract_check.py understands contractVersion {known}"
    return f"{where}: {problem}"


def parse_contract(doc: Any, path: str) -> Contract:
    """Validate a loaded JSON document and build a Contract; ContractError names ``path``."""
    errors = validate_schema(doc)
    if errors:
        first = _describe_schema_error(doc, *errors[0])
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise ContractError(f"{path}: {first}{more}")
    sides: dict[str, tuple[Field, ...]] = {}
    for key in ("inputs", "outputs"):
        fields = []
        seen = set()
        for raw in doc[key]:
            if raw["name"] in seen:
                raise ContractError(f"{path}: {key}: duplicate {_SIDE[key]} '{raw['name']}'")
            seen.add(raw["name"])
            shape = tuple(int(d) for d in raw["shape"]) if "shape" in raw else None
            fields.append(Field(raw["name"], raw["type"], raw["nullable"], shape))
        sides[key] = tuple(fields)
    version = int(doc["contractVersion"])
    interactions = tuple(doc.get("interactions", ()))
    if interactions and version < 2:
        raise ContractError(f'{path}: interactions: need "contractVersion": 2 (version 1 has fields only)')
    names = [i["name"] for i in interactions]
    for name in names:
        if names.count(name) > 1:
            raise ContractError(f"{path}: interactions: duplicate interaction '{name}'")
    return Contract(path, sides["inputs"], sides["outputs"], version, interactions)


def load_contract(path: str) -> Contract:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise ContractError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: cannot read file: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return parse_contract(doc, path)


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    side: str  # "input" or "output"
    field: str
    app_type: str  # as shown in the table; ABSENT when the app does not declare the field
    model_type: str  # ABSENT when the model does not declare the field
    breaking: bool
    problem: str  # short category, e.g. "narrowed type: double is wider than long"
    message: str  # one sentence naming the field and both sides' types


ABSENT = "(absent)"


def _type_cell(field: Field | None) -> str:
    if field is None:
        return ABSENT
    text = field.type
    if field.shape is not None:
        text += f" {list(field.shape)}"
    if field.nullable:
        text += " (nullable)"
    return text


def _rename_candidate(name: str, candidates: Sequence[Field], fits) -> Field | None:
    """The unmatched field that most plausibly is ``name`` renamed: same type first, then a
    compatible one, ties broken by name similarity."""
    ranked = []
    for cand in candidates:
        verdict = fits(cand)
        if verdict in ("same", "widening"):
            similarity = difflib.SequenceMatcher(None, name.lower(), cand.name.lower()).ratio()
            ranked.append((verdict == "same", similarity, cand))
    if not ranked:
        return None
    ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return ranked[0][2]


def _shape_problem(app: Field, model: Field, side: str) -> str | None:
    """Shapes are compared only when both contracts declare one."""
    if app.shape is None or model.shape is None:
        return None
    a, m = list(app.shape), list(model.shape)
    if len(a) != len(m):
        return f"rank changed: app {a}, model {m}"
    for dim, (ad, md) in enumerate(zip(a, m, strict=True)):
        if side == "input":  # the model must accept whatever size the app sends
            if md != -1 and ad != md:
                sent = "any size (-1)" if ad == -1 else str(ad)
                return f"dimension {dim}: app sends {sent}, model expects exactly {md}"
        elif ad != -1 and ad != md:  # the app must be able to read what the model produces
            produced = "any size (-1)" if md == -1 else str(md)
            return f"dimension {dim}: model produces {produced}, app expects exactly {ad}"
    return None


def compare(app: Contract, model: Contract) -> list[Finding]:
    """Every field of both contracts yields at least one Finding; breaking ones explain why."""
    findings: list[Finding] = []
    findings += _compare_inputs(app.inputs, model.inputs)
    findings += _compare_outputs(app.outputs, model.outputs)
    return findings


def _compare_inputs(app_fields: Sequence[Field], model_fields: Sequence[Field]) -> list[Finding]:
    out: list[Finding] = []
    model_by_name = {f.name: f for f in model_fields}
    app_names = {f.name for f in app_fields}
    unmatched_model = [f for f in model_fields if f.name not in app_names]
    for a in app_fields:
        m = model_by_name.get(a.name)
        if m is None:
            guess = _rename_candidate(a.name, unmatched_model, lambda c, a=a: conversion(a.type, c.type)[0])
            hint = f"; renamed to '{guess.name}' ({guess.type})?" if guess else ""
            out.append(
                Finding(
                    "input",
                    a.name,
                    _type_cell(a),
                    ABSENT,
                    True,
                    "input removed or renamed",
                    f"input '{a.name}': app sends {a.type}, model has no input '{a.name}' "
                    f"(input removed or renamed{hint})",
                )
            )
            continue
        problems = []
        verdict, detail = conversion(a.type, m.type)
        if verdict in ("narrowed", "incompatible"):
            category = "narrowed type" if verdict == "narrowed" else "incompatible type"
            problems.append(
                (
                    f"{category}: {detail}",
                    f"input '{a.name}': app sends {a.type}, model now expects {m.type} ({category}: {detail})",
                )
            )
        if a.nullable and not m.nullable:
            problems.append(
                (
                    "nullability: app may send null, model requires a value",
                    f"input '{a.name}': app sends nullable {a.type} (may be null or "
                    f"missing), model now requires a non-null {m.type} (nullability)",
                )
            )
        shape = _shape_problem(a, m, "input")
        if shape:
            problems.append(
                (
                    f"shape changed: {shape}",
                    f"input '{a.name}': app sends {a.type} shape {list(a.shape or ())}, "
                    f"model now expects {m.type} shape {list(m.shape or ())} "
                    f"(shape changed: {shape})",
                )
            )
        for category, message in problems:
            out.append(Finding("input", a.name, _type_cell(a), _type_cell(m), True, category, message))
        if not problems:
            note = "same type" if verdict == "same" else f"widening: {detail}"
            out.append(
                Finding(
                    "input",
                    a.name,
                    _type_cell(a),
                    _type_cell(m),
                    False,
                    note,
                    f"input '{a.name}': app sends {a.type}, model expects {m.type} ({note})",
                )
            )
    removed_app = [a for a in app_fields if a.name not in model_by_name]
    for m in unmatched_model:
        if m.nullable:
            out.append(
                Finding(
                    "input",
                    m.name,
                    ABSENT,
                    _type_cell(m),
                    False,
                    "optional input added",
                    f"input '{m.name}': app does not send it, model accepts an "
                    f"optional {m.type} (optional input added)",
                )
            )
            continue
        guess = _rename_candidate(m.name, removed_app, lambda c, m=m: conversion(c.type, m.type)[0])
        hint = f"; renamed from '{guess.name}' ({guess.type})?" if guess else ""
        out.append(
            Finding(
                "input",
                m.name,
                ABSENT,
                _type_cell(m),
                True,
                "new required input",
                f"input '{m.name}': app does not send it, model now requires {m.type} (new required input{hint})",
            )
        )
    return out


def _compare_outputs(app_fields: Sequence[Field], model_fields: Sequence[Field]) -> list[Finding]:
    out: list[Finding] = []
    model_by_name = {f.name: f for f in model_fields}
    app_names = {f.name for f in app_fields}
    unmatched_model = [f for f in model_fields if f.name not in app_names]
    for a in app_fields:
        m = model_by_name.get(a.name)
        if m is None:
            guess = _rename_candidate(a.name, unmatched_model, lambda c, a=a: conversion(c.type, a.type)[0])
            hint = f"; renamed to '{guess.name}' ({guess.type})?" if guess else ""
            out.append(
                Finding(
                    "output",
                    a.name,
                    _type_cell(a),
                    ABSENT,
                    True,
                    "output removed or renamed",
                    f"output '{a.name}': app reads {a.type}, model no longer produces '{a.name}' "
                    f"(output removed or renamed{hint})",
                )
            )
            continue
        problems = []
        verdict, detail = conversion(m.type, a.type)
        if verdict in ("narrowed", "incompatible"):
            problems.append(
                (
                    f"output type changed: {detail}",
                    f"output '{a.name}': app reads {a.type}, model now produces {m.type} "
                    f"(output type changed: {detail})",
                )
            )
        if m.nullable and not a.nullable:
            problems.append(
                (
                    "nullability: model may produce null, app expects a value",
                    f"output '{a.name}': app reads non-null {a.type}, model may now "
                    f"produce null {m.type} (nullability)",
                )
            )
        shape = _shape_problem(a, m, "output")
        if shape:
            problems.append(
                (
                    f"shape changed: {shape}",
                    f"output '{a.name}': app reads {a.type} shape {list(a.shape or ())}, "
                    f"model now produces {m.type} shape {list(m.shape or ())} "
                    f"(shape changed: {shape})",
                )
            )
        for category, message in problems:
            out.append(Finding("output", a.name, _type_cell(a), _type_cell(m), True, category, message))
        if not problems:
            note = "same type" if verdict == "same" else f"widening: {detail}"
            out.append(
                Finding(
                    "output",
                    a.name,
                    _type_cell(a),
                    _type_cell(m),
                    False,
                    note,
                    f"output '{a.name}': app reads {a.type}, model produces {m.type} ({note})",
                )
            )
    for m in unmatched_model:
        out.append(
            Finding(
                "output",
                m.name,
                ABSENT,
                _type_cell(m),
                False,
                "output added",
                f"output '{m.name}': app does not read it, model produces {m.type} (output added)",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

TABLE_HEADER = ("field", "side", "app type", "model type", "problem")


def format_table(findings: Sequence[Finding]) -> str:
    rows = [TABLE_HEADER] + [(f.field, f.side, f.app_type, f.model_type, f.problem) for f in findings]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADER))]

    def line(row) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), separator] + [line(r) for r in rows[1:]])


def format_report(app: Contract, model: Contract, findings: Sequence[Finding]) -> str:
    breaking = [f for f in findings if f.breaking]
    fine = [f for f in findings if not f.breaking]
    verdict = (
        f"BREAKING: {len(breaking)} breaking change{'s' if len(breaking) != 1 else ''}" if breaking else "COMPATIBLE"
    )
    lines = [
        f"model-app contract check: {verdict}",
        f"  app contract:   {app.path}",
        f"  model contract: {model.path}",
        "",
    ]
    if breaking:
        lines += ["Breaking changes (the app would break against this model):", format_table(breaking), ""]
        lines += [f"  - {f.message}" for f in breaking] + [""]
    if fine:
        lines += ["Compatible:"] + [f"  - {f.message}" for f in fine] + [""]
    return "\n".join(lines)


def _case_name(side: str, field: str) -> str:
    return f"{side} '{field}'"


def write_junit(
    path: str, findings: Sequence[Finding], app_path: str = "", model_path: str = "", error: str | None = None
) -> None:
    """One testcase per field checked (failure when breaking); or one error testcase when the
    contracts could not be read, so that PublishTestResults still shows why the gate failed."""
    cases: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        cases.setdefault((finding.side, finding.field), []).append(finding)
    failures = sum(1 for group in cases.values() if any(f.breaking for f in group))
    suite = ET.Element(
        "testsuite",
        {
            "name": "model-app contract",
            "tests": str(len(cases) if error is None else 1),
            "failures": str(failures),
            "errors": "0" if error is None else "1",
            "skipped": "0",
            "time": "0",
        },
    )
    if app_path or model_path:
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "app-contract", "value": app_path})
        ET.SubElement(props, "property", {"name": "model-contract", "value": model_path})
    if error is not None:
        case = ET.SubElement(
            suite, "testcase", {"classname": "model-contract", "name": "contract files are valid", "time": "0"}
        )
        ET.SubElement(case, "error", {"message": error, "type": "invalid contract"}).text = error
    for (side, field), group in cases.items():
        case = ET.SubElement(
            suite, "testcase", {"classname": f"model-contract.{side}s", "name": _case_name(side, field), "time": "0"}
        )
        broken = [f for f in group if f.breaking]
        if broken:
            failure = ET.SubElement(
                case,
                "failure",
                {
                    "message": "; ".join(f.message for f in broken),
                    "type": ", ".join(f.problem.split(":")[0] for f in broken),
                },
            )
            failure.text = "\n".join(
                f"{f.message}\n  app type: {f.app_type}\n  model type: {f.model_type}" for f in broken
            )
        else:
            ET.SubElement(case, "system-out").text = "\n".join(f.message for f in group)
    root = ET.Element(
        "testsuites",
        {
            "name": "model-app contract",
            "tests": suite.get("tests"),
            "failures": suite.get("failures"),
            "errors": suite.get("errors"),
        },
    )
    root.append(suite)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _azure_pipelines_issue(message: str) -> str:
    """A logging command that shows the message as an error on the Azure Pipelines run page."""
    escaped = message.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")
    return f"##vso[task.logissue type=error]{escaped}"


# ---------------------------------------------------------------------------------------------
# Exporting a model contract from an MLflow MLmodel file (no mlflow import)
# ---------------------------------------------------------------------------------------------


def _normalise_dtype(dtype: str) -> str:
    # MLflow writes numpy's dtype name: "datetime64[ns]" and friends are all datetime.
    return "datetime" if dtype.startswith("datetime64") else dtype


def _spec_to_field(spec: Any, index: int, side: str, where: str) -> dict[str, Any]:
    if not isinstance(spec, dict) or "type" not in spec:
        raise ContractError(f"{where}: {side} #{index}: expected an object with a 'type', got {json.dumps(spec)}")
    name = spec.get("name")
    name = str(index) if name is None else str(name)  # unnamed specs: position, as MLflow does
    label = f"{side} '{name}'"
    if spec["type"] == "tensor":
        info = spec.get("tensor-spec")
        if not isinstance(info, dict) or "dtype" not in info or "shape" not in info:
            raise ContractError(f"{where}: {label}: tensor spec needs 'tensor-spec' with 'dtype' and 'shape'")
        dtype = _normalise_dtype(str(info["dtype"]))
        if dtype not in TENSOR_DTYPES and dtype != "datetime":
            raise ContractError(
                f"{where}: {label}: unknown tensor dtype '{info['dtype']}'; "
                f"known dtypes: {', '.join(TENSOR_DTYPES)}, datetime64"
            )
        shape = info["shape"]
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= -1 for d in shape
        ):
            raise ContractError(
                f"{where}: {label}: tensor shape must be a list of integers >= -1, got {json.dumps(shape)}"
            )
        # MLflow tensor specs have no 'required' flag: a tensor input is always required.
        return {"name": name, "type": dtype, "nullable": False, "shape": shape}
    mlflow_type = spec["type"]
    if mlflow_type in _MLFLOW_NON_SCALAR:
        raise ContractError(
            f"{where}: {label}: MLflow type '{mlflow_type}' is not supported by "
            f"the contract gate yet (supported: {', '.join(MLFLOW_TYPES)} and "
            f"tensors)"
        )
    if mlflow_type not in MLFLOW_TYPES:
        raise ContractError(
            f"{where}: {label}: unknown MLflow type '{mlflow_type}'; known types: {', '.join(MLFLOW_TYPES)}"
        )
    required = spec.get("required", True)  # absent before MLflow 2.x: always required
    if not isinstance(required, bool):
        raise ContractError(f"{where}: {label}: 'required' must be true or false")
    return {"name": name, "type": mlflow_type, "nullable": not required}


def _schema_fields(raw: Any, side: str, where: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ContractError(
                f"{where}: signature.{side}s is not valid JSON: {exc.msg} (column {exc.colno})"
            ) from None
    if not isinstance(raw, list):
        raise ContractError(f"{where}: signature.{side}s must be a JSON list of column or tensor specs")
    return [_spec_to_field(spec, i, side, where) for i, spec in enumerate(raw)]


def export_mlmodel(mlmodel_path: str) -> dict[str, Any]:
    """Derive the model contract from an MLmodel file (or a model directory containing one)."""
    path = mlmodel_path
    if os.path.isdir(path):
        path = os.path.join(path, "MLmodel")
    try:
        import yaml  # PyYAML: a dependency of mlflow, so present wherever models are built
    except ImportError:
        raise ContractError("export needs PyYAML to read MLmodel files: pip install pyyaml") from None
    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ContractError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: cannot read file: {exc}") from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(doc, dict):
        raise ContractError(f"{path}: not an MLmodel file (expected a YAML mapping)")
    signature = doc.get("signature")
    if not isinstance(signature, dict) or signature.get("inputs") is None:
        raise ContractError(
            f"{path}: the model has no input signature; log it with one "
            f"(e.g. signature=mlflow.models.infer_signature(X, model.predict(X)))"
        )
    contract: dict[str, Any] = {"contractVersion": 1}  # the model side has nothing version 2 adds
    source = {"format": "mlflow-signature"}
    for key, target in (("run_id", "runId"), ("model_uuid", "modelUuid"), ("utc_time_created", "createdUtc")):
        if doc.get(key) is not None:
            source[target] = str(doc[key])
    contract["source"] = source
    contract["inputs"] = _schema_fields(signature.get("inputs"), "input", path)
    contract["outputs"] = _schema_fields(signature.get("outputs"), "output", path)
    parse_contract(contract, f"contract exported from {path}")  # duplicates, schema self-check
    return contract


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contract_check.py",
        description="Model-app contract gate. Exit codes: 0 compatible, 1 breaking, "
        "2 usage error or malformed input, 3 internal error, 4 undecided (verify/replay: outside what the "
        "contract can express).",
    )
    sub = parser.add_subparsers(dest="command", metavar="{check,export,schema,verify,replay}")
    sub.required = True
    check = sub.add_parser("check", help="compare the app's contract with the model's")
    check.add_argument(
        "--app", required=True, metavar="PATH", help="the app's model-contract.json (what the app sends and reads)"
    )
    check.add_argument("--model", required=True, metavar="PATH", help="the model's contract (from 'export')")
    check.add_argument(
        "--junit", metavar="PATH", help="also write JUnit XML (one testcase per field) for PublishTestResults"
    )
    export = sub.add_parser("export", help="derive the model contract from an MLmodel file")
    export.add_argument(
        "--mlmodel", required=True, metavar="PATH", help="MLmodel file, or the model directory that contains it"
    )
    export.add_argument("--out", required=True, metavar="PATH", help="contract to write ('-': stdout)")
    sub.add_parser("schema", help="print the contract JSON Schema")
    verify = sub.add_parser(
        "verify", help="run the app's recorded interactions through the MLflow model and check the answers"
    )
    verify.add_argument("--app", required=True, metavar="PATH", help="the app's model-contract.json (version 2)")
    verify.add_argument("--model-dir", required=True, metavar="PATH", help="the MLflow model directory (has MLmodel)")
    verify.add_argument("--junit", metavar="PATH", help="also write JUnit XML (one testcase per interaction)")
    verify.add_argument(
        "--allow-static",
        action="store_true",
        help="when the model cannot be loaded here, decide by the signature diff alone (said in the verdict)",
    )
    replay = sub.add_parser("replay", help="replay the app's interactions against a scoring URI and check the answers")
    replay.add_argument("--app", required=True, metavar="PATH", help="the app's model-contract.json (version 2)")
    replay.add_argument("--scoring-uri", required=True, metavar="URL", help="the online endpoint's scoring URI")
    replay.add_argument(
        "--deployment",
        metavar="NAME",
        help="send to this deployment (header azureml-model-deployment), e.g. the idle one",
    )
    replay.add_argument(
        "--token-env",
        default="ENDPOINT_TOKEN",
        metavar="VAR",
        help="environment variable holding the Entra access token (default ENDPOINT_TOKEN); never printed",
    )
    replay.add_argument("--token-file", metavar="PATH", help="read the token from this file instead")
    replay.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)")
    replay.add_argument("--junit", metavar="PATH", help="also write JUnit XML (one testcase per interaction)")
    return parser


def _error(message: str) -> int:
    print(f"contract_check: error: {message}", file=sys.stderr)
    if os.environ.get("TF_BUILD"):
        print(_azure_pipelines_issue(message))
    return EXIT_INVALID


def _run_check(args: argparse.Namespace) -> int:
    try:
        app = load_contract(args.app)
        model = load_contract(args.model)
    except ContractError as exc:
        if args.junit:
            write_junit(args.junit, [], args.app, args.model, error=str(exc))
        return _error(str(exc))
    findings = compare(app, model)
    print(format_report(app, model, findings))
    breaking = [f for f in findings if f.breaking]
    if os.environ.get("TF_BUILD"):  # running on Azure Pipelines
        for finding in breaking:
            print(_azure_pipelines_issue(finding.message))
    if args.junit:
        write_junit(args.junit, findings, app.path, model.path)
    return EXIT_BREAKING if breaking else EXIT_COMPATIBLE


def _run_export(args: argparse.Namespace) -> int:
    try:
        contract = export_mlmodel(args.mlmodel)
    except ContractError as exc:
        return _error(str(exc))
    text = json.dumps(contract, indent=2) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
        return EXIT_COMPATIBLE
    try:
        directory = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(directory, exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        return _error(f"{args.out}: cannot write: {exc}")
    print(f"wrote {args.out}: {len(contract['inputs'])} inputs, {len(contract['outputs'])} outputs")
    return EXIT_COMPATIBLE


def _verifier():
    """contract_verify.py, seeded beside this script (kept apart: it is the only part that runs models)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        import contract_verify
    except ImportError:
        raise ContractError(f"{here}: contract_verify.py is missing beside contract_check.py (copy both)") from None
    return contract_verify


def _load_interactions(path: str) -> Contract:
    app = load_contract(path)
    if not app.interactions:
        raise ContractError(
            f"{path}: no interactions to run (contractVersion {app.version}); record the app's requests and "
            'needs under "interactions" with "contractVersion": 2 (docs/model-app-contract.md), or use \'check\''
        )
    return app


def _write_interactions_junit(path: str, app: Contract, outcome: Any, error: str | None = None) -> None:
    suite = ET.Element("testsuite", name="model-contract.interactions")
    by_name: dict[str | None, list[Any]] = {}
    for problem in outcome.problems if outcome else []:
        by_name.setdefault(problem.interaction, []).append(problem)
    cases: list[str | None] = [i["name"] for i in app.interactions] if app else ["model-contract"]
    if None in by_name:
        cases.append(None)  # findings of the signature diff the answers cannot overrule
    for name in cases:
        case = ET.SubElement(suite, "testcase", classname="model-contract.interactions", name=name or "signature diff")
        if error:
            ET.SubElement(case, "error", message=error).text = error
        for problem in by_name.get(name, []):
            ET.SubElement(case, "failure", message=problem.need[:200]).text = problem.render()
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in suite if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in suite if c.find("error") is not None)))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _run_interactions(args: argparse.Namespace) -> int:
    """verify (the model in-process) and replay (a live deployment): the same needs, the same report."""
    try:
        cv = _verifier()
        app = _load_interactions(args.app)
        static_notes: list[str] = []
        findings: list[Finding] = []
        skipped = None
        if args.command == "verify":
            try:
                model_contract = parse_contract(export_mlmodel(args.model_dir), f"{args.model_dir} (signature)")
                findings = compare(app, model_contract)
            except ContractError as exc:
                mlmodel = os.path.join(args.model_dir, "MLmodel") if os.path.isdir(args.model_dir) else args.model_dir
                if not os.path.isfile(mlmodel):
                    raise
                skipped = f"signature diff skipped: {exc}"  # no or unsupported signature: the answers still decide
            static_notes = [f.message for f in findings if f.breaking]  # until the answers are in
            token = None
        else:
            token = cv.read_token(args.token_env, args.token_file)
    except (ContractError, OSError) as exc:
        if args.junit:
            _write_interactions_junit(args.junit, None, None, error=str(exc))
        return _error(str(exc))
    outcome = cv.Outcome()
    if args.command == "verify":
        target = f"model {args.model_dir}"
        try:
            model = cv.LocalModel(args.model_dir)
        except cv.ModelUnavailable as exc:
            static = skipped or ("signature diff says breaking" if static_notes else "signature diff says compatible")
            if args.allow_static and not skipped:  # with no signature either, nothing was checked at all
                print(f"STATIC ONLY: the model cannot be loaded here ({exc}); {static}")
                for note in static_notes:
                    print(f"  - {note}")
                return EXIT_BREAKING if static_notes else EXIT_COMPATIBLE
            print(
                f"UNDECIDED: the model cannot be loaded here ({exc}), so the app's answers were not checked; "
                f"{static}. Install the model's requirements on the agent "
                "(or pass --allow-static to accept the signature diff)."
            )
            return EXIT_UNDECIDED
        for interaction in app.interactions:
            cv.check_answer(interaction, model.answer(interaction["request"]), outcome)
        cv.check_labels_offered(app.interactions, model.classes(), outcome)
        static_notes = cv.overrule_static(findings, app.interactions, outcome)
        if skipped:
            outcome.notes.append(skipped)
    else:
        target = f"{args.scoring_uri}" + (f" (deployment {args.deployment})" if args.deployment else "")
        for interaction in app.interactions:
            try:
                exchange = cv.post(args.scoring_uri, interaction["request"], args.deployment, token, args.timeout)
            except OSError as exc:  # connection refused, DNS, timeout: the endpoint did not answer at all
                return _error(f"{args.scoring_uri}: no answer to interaction '{interaction['name']}': {exc}")
            if exchange.status in (401, 403):
                source = f"--token-file {args.token_file}" if args.token_file else f"${args.token_env}"
                return _error(
                    f"{args.scoring_uri}: HTTP {exchange.status}: the endpoint refused the credentials "
                    f"(token from {source}); get an Entra token for https://ml.azure.com with a role on the endpoint"
                )
            cv.check_answer(interaction, exchange, outcome)
    print(cv.format_outcome(outcome, len(app.interactions), target, static_notes))
    if os.environ.get("TF_BUILD"):
        for problem in outcome.problems:
            where = f"interaction '{problem.interaction}'" if problem.interaction else "signature diff"
            print(_azure_pipelines_issue(f"{where}: {problem.need}"))
    if args.junit:
        _write_interactions_junit(args.junit, app, outcome)
    return {"compatible": EXIT_COMPATIBLE, "breaking": EXIT_BREAKING}.get(outcome.verdict, EXIT_UNDECIDED)


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)  # exits 2 on usage errors
    try:
        if args.command == "check":
            return _run_check(args)
        if args.command == "export":
            return _run_export(args)
        if args.command in ("verify", "replay"):
            return _run_interactions(args)
        sys.stdout.write(json.dumps(SCHEMA, indent=2) + "\n")
        return EXIT_COMPATIBLE
    except Exception:  # a bug here must not look like "breaking" (1) or "malformed" (2)
        traceback.print_exc()
        print("contract_check: internal error (exit 3); please report it", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
