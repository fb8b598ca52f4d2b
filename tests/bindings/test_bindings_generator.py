"""The committed azuredevops module is exactly what the generator makes from the committed schema subset.

The subset (infra/bindings/schema/azuredevops-<VERSION>.json) is in the repository, so the drift and
schema tests run in any fork. Only the check that the subset is a faithful extraction of the full
provider schema needs shared/reference/provider-schemas/ beside the repo, and skips with a reason
where it is absent.
"""

from __future__ import annotations

import ast
import dataclasses
import gzip
import inspect
import json
import shutil
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

from infra.bindings import azapi as azapi_module
from infra.bindings import azuredevops as ado_module
from infra.bindings._base import BindingDataSource, BindingProvider, BindingResource, Block
from scripts import gen_bindings

from ._paths import FULL_SCHEMA, REPO, SUBSET, VERSION

GENERATOR = REPO / "scripts" / "gen_bindings.py"
COMMITTED = REPO / "infra" / "bindings" / "azuredevops.py"
PROVIDER_KEY = "registry.terraform.io/microsoft/azuredevops"
# Secrets that the schema does not mark sensitive (and secret-based auth paths): left out on purpose.
SECRET_BY_NAME = {"password", "oidc_request_token", "client_secret_path", "client_certificate_path"}
META = {"self", "scope", "id_", "depends_on", "lifecycle", "provider", "alias"}


def run_generator(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GENERATOR), *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SUBSET.read_text(encoding="utf-8"))["provider_schemas"][PROVIDER_KEY]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The generator run as a maintainer runs it: no schema option, so it reads the committed subset."""
    out = tmp_path_factory.mktemp("gen") / "azuredevops.py"
    run = run_generator("--out", out)
    assert run.returncode == 0, run.stderr
    return out.read_text(), run.stdout


def test_committed_module_has_not_drifted_from_the_generator(regenerated):
    source, _ = regenerated
    assert source == COMMITTED.read_text(), (
        "infra/bindings/azuredevops.py differs from the generator's output: run python scripts/gen_bindings.py"
    )


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


def test_the_subset_holds_exactly_the_generated_types_pretty_printed_and_sorted(schema):
    for path in SUBSET.parent.glob("*.json"):  # the azapi subset too
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n", path.name
    assert list(SUBSET.parent.glob("azuredevops-*.json")) == [SUBSET]
    bound = {c.TF_TYPE for c in _elements(ado_module) if issubclass(c, BindingResource)}
    assert set(schema["resource_schemas"]) == bound == {f"azuredevops_{n}" for n in gen_bindings.RESOURCES}
    bound = {c.TF_TYPE for c in _elements(ado_module) if issubclass(c, BindingDataSource)}
    assert set(schema["data_source_schemas"]) == bound == {f"azuredevops_{n}" for n in gen_bindings.DATA_SOURCES}


@pytest.mark.skipif(
    not FULL_SCHEMA.is_file(),
    reason=f"full provider schema not found at {FULL_SCHEMA} (shared/ is not beside the repo)",
)
def test_the_committed_subset_is_the_extraction_of_the_pinned_providers_full_schema():
    assert gen_bindings.extract_subset(FULL_SCHEMA) == SUBSET.read_text(encoding="utf-8"), (
        f"{SUBSET.name} is not the extraction of the pinned schema: run "
        f"python scripts/gen_bindings.py --from-full-schema {FULL_SCHEMA}"
    )


def _full_schema(tmp_path: Path, extra: bool = True, drop: str | None = None) -> Path:
    """A full-schema stand-in: the committed subset plus a type the kit does not use, gzipped."""
    doc = json.loads(SUBSET.read_text(encoding="utf-8"))
    provider = doc["provider_schemas"][PROVIDER_KEY]
    if extra:
        provider["resource_schemas"]["azuredevops_team"] = {"block": {"attributes": {}}, "version": 0}
    if drop:
        del provider["resource_schemas"][drop]
    path = tmp_path / "full" / f"azuredevops-{VERSION}.json.gz"
    path.parent.mkdir()
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(doc, fh)
    return path


def test_a_provider_bump_extracts_the_subset_replaces_the_old_one_and_regenerates(tmp_path):
    full = _full_schema(tmp_path)
    schema_dir = tmp_path / "schema"
    schema_dir.mkdir()
    shutil.copy(SUBSET, schema_dir / "azuredevops-0.0.1.json")
    out = tmp_path / "azuredevops.py"
    run = run_generator("--from-full-schema", full, "--schema-dir", schema_dir, "--out", out)
    assert run.returncode == 0, run.stderr
    assert [p.name for p in schema_dir.iterdir()] == [SUBSET.name]
    assert "removed azuredevops-0.0.1.json" in run.stdout
    assert (schema_dir / SUBSET.name).read_text(encoding="utf-8") == SUBSET.read_text(encoding="utf-8")
    assert out.read_text() == COMMITTED.read_text()


def test_a_full_schema_without_a_used_type_fails_with_one_line(tmp_path):
    full = _full_schema(tmp_path, extra=False, drop="azuredevops_wiki_page")
    run = run_generator("--from-full-schema", full, "--schema-dir", tmp_path / "schema", "--out", tmp_path / "x.py")
    assert run.returncode == 1
    assert run.stderr.strip() == f"gen_bindings: {full} has no resource azuredevops_wiki_page"
    assert not (tmp_path / "x.py").exists()


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
