"""The bindings and their synthesized JSON agree with the committed schema subsets, in any fork.

infra/bindings/schema/ holds the kit's types of ``terraform providers schema -json`` for the pinned
azuredevops and for azapi 2.12.0 (the version tf-validate runs). The hand-written azapi module is checked
here the way the generator's tests check the generated one: every argument it exposes exists in the
schema with the same shape (attribute, nested attribute or block), every argument the schema
requires is required, none is sensitive or deprecated. The synthesized stacks of the bindings
fixture use only arguments and blocks of the schema (a fork-safe subset of tf-schema-check).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from typing import Any

import pytest

from infra.bindings import azapi
from infra.bindings._base import BindingDataSource, BindingProvider, BindingResource, Block

from ._paths import AZAPI_SUBSET, SUBSET

META = {"self", "scope", "id_", "depends_on", "lifecycle", "provider", "alias"}
JSON_META = {"//", "alias", "depends_on", "lifecycle", "provider", "count", "for_each"}


def _provider(path) -> dict[str, Any]:
    (schema,) = json.loads(path.read_text(encoding="utf-8"))["provider_schemas"].values()
    return schema


AZAPI_SCHEMA = _provider(AZAPI_SUBSET)
ADO_SCHEMA = _provider(SUBSET)


def _block_of(cls: type) -> dict[str, Any]:
    if issubclass(cls, BindingProvider):
        return AZAPI_SCHEMA["provider"]["block"]
    section = "resource_schemas" if issubclass(cls, BindingResource) else "data_source_schemas"
    return AZAPI_SCHEMA[section][cls.TF_TYPE]["block"]


def _parameters(cls: type) -> dict[str, tuple[bool, type | None]]:
    """Terraform name -> (required, the Block class it takes or None)."""
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls, vars(azapi))
        fields = {f.name: f.default is dataclasses.MISSING for f in dataclasses.fields(cls)}
    else:
        hints = typing.get_type_hints(cls.__init__, vars(azapi))
        params = inspect.signature(cls.__init__).parameters
        fields = {n: p.default is inspect.Parameter.empty for n, p in params.items() if n not in META}
    return {n.rstrip("_"): (required, _block_class(hints[n])) for n, required in fields.items()}


def _block_class(hint: object) -> type | None:
    if isinstance(hint, type) and issubclass(hint, Block):
        return hint
    return next((c for c in map(_block_class, typing.get_args(hint)) if c), None)


def _check(cls: type, block: dict[str, Any], where: str, problems: list[str]) -> None:
    attrs, blocks = block.get("attributes", {}), block.get("block_types", {})
    params = _parameters(cls)
    for name, (_, block_cls) in params.items():
        attr = attrs.get(name)
        if block_cls is not None and name in blocks:
            _check(block_cls, blocks[name]["block"], f"{where}.{name}", problems)
        elif block_cls is not None and attr and "nested_type" in attr:
            _check(block_cls, attr["nested_type"], f"{where}.{name}", problems)
        elif attr is None or block_cls is not None:
            problems.append(f"{where}.{name}: not an argument of that shape in the schema")
        elif not (attr.get("required") or attr.get("optional")):
            problems.append(f"{where}.{name}: computed-only in the schema")
        elif attr.get("sensitive") or attr.get("deprecated"):
            problems.append(f"{where}.{name}: sensitive or deprecated in the schema")
    for name, attr in attrs.items():
        if attr.get("required") and not params.get(name, (False, None))[0]:
            problems.append(f"{where}.{name}: required by the schema, optional or missing in the binding")


AZAPI_ELEMENTS = [
    c
    for c in vars(azapi).values()
    if isinstance(c, type)
    and issubclass(c, (BindingResource, BindingDataSource, BindingProvider))
    and c.__module__ == azapi.__name__
]


def test_the_azapi_subset_holds_exactly_the_hand_written_types():
    bound = {c.TF_TYPE for c in AZAPI_ELEMENTS if issubclass(c, BindingResource)}
    expected = {"azapi_resource", "azapi_resource_action", "azapi_update_resource"}
    assert set(AZAPI_SCHEMA["resource_schemas"]) == bound == expected
    assert set(AZAPI_SCHEMA["data_source_schemas"]) == {"azapi_resource"}


@pytest.mark.parametrize("cls", AZAPI_ELEMENTS, ids=lambda c: c.__name__)
def test_every_azapi_argument_has_the_shape_the_schema_gives_it(cls):
    problems: list[str] = []
    _check(cls, _block_of(cls), getattr(cls, "TF_TYPE", "provider"), problems)
    assert problems == []


def test_the_shape_check_catches_a_wrong_argument():
    """Control: a binding with a misspelt argument and an optional required one is flagged."""

    class Wrong(azapi.AzapiUpdateResource):
        def __init__(self, scope, id_, *, resource_id: str, type: str | None = None, bodyy: Any = None) -> None: ...

    problems: list[str] = []
    _check(Wrong, _block_of(azapi.AzapiUpdateResource), "azapi_update_resource", problems)
    assert problems == [
        "azapi_update_resource.bodyy: not an argument of that shape in the schema",
        "azapi_update_resource.type: required by the schema, optional or missing in the binding",
    ]


def _unknown_arguments(body: dict[str, Any], block: dict[str, Any], where: str) -> list[str]:
    """Like :func:`_unknown` for a whole resource, data source or provider body (meta-arguments allowed)."""
    return _unknown({k: v for k, v in body.items() if k not in JSON_META}, block, where)


def _unknown(value: dict[str, Any], block: dict[str, Any], where: str) -> list[str]:
    """Keys of a synthesized body that are not arguments or blocks of the schema (recursively)."""
    attrs, blocks, problems = block.get("attributes", {}), block.get("block_types", {}), []
    for key, item in value.items():
        if key in blocks:
            for element in item if isinstance(item, list) else [item]:
                problems += _unknown(element, blocks[key]["block"], f"{where}.{key}")
        elif key in attrs and "nested_type" in attrs[key]:
            problems += _unknown(item, attrs[key]["nested_type"], f"{where}.{key}")
        elif key not in attrs:
            problems.append(f"{where}.{key}")
    return problems


@pytest.mark.parametrize("doc_fixture, schema", [("ado_doc", ADO_SCHEMA), ("azapi_doc", AZAPI_SCHEMA)])
def test_the_synthesized_stacks_use_only_arguments_of_the_schema(request, doc_fixture, schema):
    doc = request.getfixturevalue(doc_fixture)
    problems, checked = [], 0
    for section, schemas in (("resource", "resource_schemas"), ("data", "data_source_schemas")):
        for tf_type, instances in doc.get(section, {}).items():
            for name, body in instances.items():
                problems += _unknown_arguments(body, schema[schemas][tf_type]["block"], f"{section}.{tf_type}.{name}")
                checked += 1
    for body in next(iter(doc["provider"].values())):
        problems += _unknown_arguments(body, schema["provider"]["block"], "provider")
    assert checked >= 2
    assert problems == []


def test_the_json_check_catches_a_misspelt_argument_at_any_depth(ado_doc):
    """Control: the fixture's project and build definition with a misspelt argument each."""
    project = dict(ado_doc["resource"]["azuredevops_project"]["project"], visiblity="private")
    build = dict(ado_doc["resource"]["azuredevops_build_definition"]["model_ci"])
    build["repository"] = [dict(build["repository"][0], yaml_path="x.yml")]
    schemas = ADO_SCHEMA["resource_schemas"]
    assert _unknown_arguments(project, schemas["azuredevops_project"]["block"], "p") == ["p.visiblity"]
    assert _unknown_arguments(build, schemas["azuredevops_build_definition"]["block"], "b") == [
        "b.repository.yaml_path"
    ]
