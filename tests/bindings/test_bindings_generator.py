"""The committed azuredevops module is exactly what the generator makes from the real schema.

These tests need shared/reference/provider-schemas/azuredevops-1.16.0.json.gz (beside the repo) and
skip with a reason where it is absent, e.g. in a fork cloned without shared/.
"""

from __future__ import annotations

import ast
import dataclasses
import gzip
import inspect
import json
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

from infra.bindings import azapi as azapi_module
from infra.bindings import azuredevops as ado_module
from infra.bindings._base import BindingDataSource, BindingProvider, BindingResource, Block

from ._paths import REPO, SCHEMA

GENERATOR = REPO / "scripts" / "gen_bindings.py"
COMMITTED = REPO / "infra" / "bindings" / "azuredevops.py"
# Secrets that the schema does not mark sensitive (and secret-based auth paths): left out on purpose.
SECRET_BY_NAME = {"password", "oidc_request_token", "client_secret_path", "client_certificate_path"}
META = {"self", "scope", "id_", "depends_on", "lifecycle", "provider", "alias"}
NEEDS_SCHEMA = pytest.mark.skipif(
    not SCHEMA.is_file(), reason=f"provider schema not found at {SCHEMA} (shared/ is not beside the repo)"
)


@pytest.fixture(scope="module")
def schema() -> dict:
    with gzip.open(SCHEMA, "rt") as fh:
        return json.load(fh)["provider_schemas"]["registry.terraform.io/microsoft/azuredevops"]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    out = tmp_path_factory.mktemp("gen") / "azuredevops.py"
    run = subprocess.run(
        [sys.executable, str(GENERATOR), "--schema", str(SCHEMA), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.read_text(), run.stdout


@NEEDS_SCHEMA
def test_committed_module_has_not_drifted_from_the_generator(regenerated):
    source, _ = regenerated
    assert source == COMMITTED.read_text(), (
        "infra/bindings/azuredevops.py differs from the generator's output: run "
        "python scripts/gen_bindings.py --schema ../shared/reference/provider-schemas/azuredevops-1.16.0.json.gz "
        "--out infra/bindings/azuredevops.py"
    )


@NEEDS_SCHEMA
def test_generator_reports_every_secret_it_leaves_out(regenerated):
    _, stdout = regenerated
    omitted = {line.split(": ", 1)[1].split(" (")[0] for line in stdout.splitlines() if line.startswith("omitted")}
    assert omitted == {
        "azuredevops.client_certificate",
        "azuredevops.client_certificate_password",
        "azuredevops.client_certificate_path",
        "azuredevops.client_secret",
        "azuredevops.client_secret_path",
        "azuredevops.oidc_request_token",
        "azuredevops.oidc_token",
        "azuredevops.personal_access_token",
        "azuredevops_build_definition.variable.secret_value",
        "azuredevops_git_repository.initialization.password",
        "azuredevops_serviceendpoint_azurerm.credentials.serviceprincipalcertificate",
        "azuredevops_serviceendpoint_azurerm.credentials.serviceprincipalkey",
        "azuredevops_variable_group.variable.secret_value",
    }


def _arguments(cls: type) -> dict[str, type | None]:
    """Terraform argument name -> the Block class it takes (None for a plain attribute)."""
    hints = typing.get_type_hints(
        cls if dataclasses.is_dataclass(cls) else cls.__init__, vars(sys.modules[cls.__module__])
    )
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
    else:
        names = [p for p in inspect.signature(cls.__init__).parameters if p not in META]
    result = {}
    for name in names:
        tf_name = name[:-1] if name.endswith("_") else name
        result[tf_name] = _block_type(hints[name])
    return result


def _block_type(hint: object) -> type | None:
    """The Block subclass inside `X | None` or `Sequence[X] | None`, if any."""
    if isinstance(hint, type) and issubclass(hint, Block):
        return hint
    for arg in typing.get_args(hint):
        found = _block_type(arg)
        if found:
            return found
    return None


def _check_block(cls: type, block: dict, where: str, problems: list[str], top: bool = True) -> None:
    attrs, blocks = block.get("attributes", {}), block.get("block_types", {})
    for name, block_cls in _arguments(cls).items():
        if block_cls is not None:
            if name not in blocks:
                problems.append(f"{where}.{name}: not a block of the schema")
            else:
                _check_block(block_cls, blocks[name]["block"], f"{where}.{name}", problems, top=False)
        elif name not in attrs:
            problems.append(f"{where}.{name}: not an argument of the schema")
        elif not (attrs[name].get("required") or attrs[name].get("optional")):
            problems.append(f"{where}.{name}: computed-only, it cannot be an argument")
        elif attrs[name].get("sensitive"):
            problems.append(f"{where}.{name}: sensitive, it must not be exposed")
    exposed = set(_arguments(cls))
    for name, attr in attrs.items():
        settable = attr.get("required") or attr.get("optional")
        left_out = attr.get("sensitive") or name in SECRET_BY_NAME or (name == "id" and top)
        if settable and not left_out and name not in exposed:
            problems.append(f"{where}.{name}: settable in the schema but not exposed")
    for name in blocks:
        if name not in exposed:
            problems.append(f"{where}.{name}: block of the schema not exposed")


def _elements(module: types.ModuleType) -> list[type]:
    return [
        c
        for c in vars(module).values()
        if isinstance(c, type)
        and issubclass(c, (BindingResource, BindingDataSource, BindingProvider))
        and c.__module__ == module.__name__
        and not c.__name__.startswith("_")
    ]


@NEEDS_SCHEMA
def test_every_argument_name_exists_in_the_schema_and_every_settable_one_is_exposed(schema):
    problems: list[str] = []
    elements = _elements(ado_module)
    assert len(elements) == 27
    for cls in elements:
        if issubclass(cls, BindingProvider):
            _check_block(cls, schema["provider"]["block"], "provider", problems)
        elif issubclass(cls, BindingResource):
            _check_block(cls, schema["resource_schemas"][cls.TF_TYPE]["block"], cls.TF_TYPE, problems)
        else:
            _check_block(cls, schema["data_source_schemas"][cls.TF_TYPE]["block"], f"data.{cls.TF_TYPE}", problems)
    assert problems == []


@NEEDS_SCHEMA
def test_every_attribute_has_a_getter(schema):
    for cls in _elements(ado_module):
        if issubclass(cls, BindingProvider):
            continue
        section = "resource_schemas" if issubclass(cls, BindingResource) else "data_source_schemas"
        for name in schema[section][cls.TF_TYPE]["block"]["attributes"]:
            assert isinstance(inspect.getattr_static(cls, name, None), property), f"{cls.TF_TYPE}.{name}"


def test_the_bindings_do_not_import_the_prebuilt_azurerm_package():
    for module in (ado_module, azapi_module):
        tree = ast.parse(Path(module.__file__).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.startswith("cdktf_cdktf_provider")}, module.__name__
