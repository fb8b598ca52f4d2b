#!/usr/bin/env python3
"""Generate typed cdktf bindings for microsoft/azuredevops from its provider schema.

usage: gen_bindings.py [--from-full-schema PATH [--provider-version X.Y.Z]] [--schema PATH] [--out PATH]

  (no option)          regenerate infra/bindings/azuredevops.py from the committed schema subset
                       infra/bindings/schema/azuredevops-X.Y.Z.json (what the drift test does)
  --from-full-schema   for a provider bump: the output of `terraform providers schema -json` run
                       with the new provider (plain or gzipped). The types in RESOURCES and
                       DATA_SOURCES are extracted into infra/bindings/schema/azuredevops-X.Y.Z.json
                       (pretty-printed, keys sorted, so the bump reviews as a diff; older subsets in
                       that folder are removed), then the bindings are generated from it.
  --provider azapi     with --from-full-schema: only extract the azapi subset (azapi-X.Y.Z.json), which
                       the tests check the hand-written infra/bindings/azapi.py against
  --provider-version   X.Y.Z; defaults to the X.Y.Z in the schema file's name
  --schema             read this subset (or full schema) instead of the committed one
  --schema-dir         where --from-full-schema writes the subset (default infra/bindings/schema)
  --out                module to write (default infra/bindings/azuredevops.py)

Only the types listed in RESOURCES and DATA_SOURCES are generated. Arguments that hold secrets
(marked sensitive in the schema, or listed in SECRET_ARGUMENTS) are left out of the bindings, and
the generator prints each one it leaves out. The output is ruff-clean and ruff-format-stable, so the
drift test (regenerate, compare byte for byte) keeps passing after `ruff format`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMA_DIR = REPO / "infra" / "bindings" / "schema"
OUT = REPO / "infra" / "bindings" / "azuredevops.py"

PROVIDER = "azuredevops"
SOURCE = "microsoft/azuredevops"
DOCS = "https://registry.terraform.io/providers/microsoft/azuredevops/{version}/docs"

RESOURCES = (
    "branch_policy_build_validation",
    "branch_policy_min_reviewers",
    "build_definition",
    "build_definition_permissions",
    "check_approval",
    "check_branch_control",
    "check_business_hours",
    "check_exclusive_lock",
    "check_required_template",
    "environment",
    "git_permissions",
    "git_repository",
    "git_repository_file",
    "group",
    "group_membership",
    "pipeline_authorization",
    "project",
    "project_permissions",
    "service_principal_entitlement",
    "serviceendpoint_azurerm",
    "variable_group",
    "wiki",
    "wiki_page",
)
DATA_SOURCES = ("client_config", "group", "project")


@dataclass(frozen=True)
class SubsetSpec:
    """Which types of a provider's full schema the kit commits (infra/bindings/schema/<name>-X.Y.Z.json)."""

    name: str  # local name and type prefix
    source: str  # registry source; matched case-insensitively (terraform prints azure/azapi)
    resources: tuple[str, ...]
    data_sources: tuple[str, ...]


AZUREDEVOPS = SubsetSpec(PROVIDER, SOURCE, RESOURCES, DATA_SOURCES)
# azapi's bindings are hand-written (infra/bindings/azapi.py says why); its subset is what their test checks.
AZAPI = SubsetSpec("azapi", "Azure/azapi", ("resource", "resource_action", "update_resource"), ("resource",))
SUBSETS = {spec.name: spec for spec in (AZUREDEVOPS, AZAPI)}

# Secrets the schema does not mark sensitive, and arguments that only serve secret-based auth.
SECRET_ARGUMENTS = {
    "password": "a password (not marked sensitive in the schema)",
    "oidc_request_token": "a bearer token (not marked sensitive in the schema)",
    "client_secret_path": "client-secret auth; the kit authenticates with OIDC, a managed identity or the CLI",
    "client_certificate_path": "client-certificate auth; the kit authenticates with OIDC, a managed identity or the CLI",
}

# Members of cdktf's TerraformResource/TerraformDataSource/TerraformProvider (dir() of cdktf 0.21):
# a getter with one of these names would shadow or override them, so it gets an `_attribute` suffix.
RESERVED_MEMBERS = frozenset(
    {
        "add_move_target",
        "add_override",
        "alias",
        "cdktf_stack",
        "connection",
        "count",
        "depends_on",
        "for_each",
        "fqn",
        "friendly_unique_id",
        "get_any_map_attribute",
        "get_boolean_attribute",
        "get_boolean_map_attribute",
        "get_list_attribute",
        "get_number_attribute",
        "get_number_list_attribute",
        "get_number_map_attribute",
        "get_string_attribute",
        "get_string_map_attribute",
        "has_resource_move",
        "import_from",
        "interpolation_for_attribute",
        "is_construct",
        "is_terraform_data_source",
        "is_terraform_element",
        "is_terraform_provider",
        "is_terraform_resource",
        "lifecycle",
        "meta_attributes",
        "move_from_id",
        "move_to",
        "move_to_id",
        "node",
        "override_logical_id",
        "provider",
        "provisioners",
        "reset_override_logical_id",
        "terraform_generator_metadata",
        "terraform_meta_arguments",
        "terraform_provider_source",
        "terraform_resource_type",
        "to_hcl_terraform",
        "to_metadata",
        "to_string",
        "to_terraform",
        "with_",
        "PROVIDER",
        "TF_TYPE",
    }
)
# Constructor parameters that are not Terraform arguments: a Terraform argument of that name
# gets a trailing underscore (azuredevops_group's `scope` becomes `scope_`).
CONSTRUCTOR_NAMES = frozenset({"self", "scope", "id_", "depends_on", "lifecycle", "provider", "alias"})

SCALAR = {"string": "str", "bool": "bool", "number": "NumberLike"}
NESTING_NOTE = {
    (True, True): "exactly one",
    (False, True): "at most one",
    (True, False): "one or more",
    (False, False): "any number",
}


@dataclass
class Arg:
    """One constructor argument or dataclass field."""

    tf_name: str
    py_name: str
    annotation: str  # without `| None`
    required: bool
    wrap: str = ""  # "" | "one" | "number" | "numbers" | "require_items"
    min_items: int = 0


@dataclass
class Getter:
    name: str
    tf_name: str
    returns: str
    method: str


@dataclass
class Output:
    chunks: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def py_identifier(name: str, taken: frozenset[str] = frozenset()) -> str:
    return f"{name}_" if keyword.iskeyword(name) or name in taken else name


def attr_annotation(tf_type: object, where: str) -> tuple[str, str]:
    """(python annotation, wrap helper) for a Terraform attribute type."""
    if isinstance(tf_type, str) and tf_type in SCALAR:
        return SCALAR[tf_type], "number" if tf_type == "number" else ""
    if isinstance(tf_type, list) and len(tf_type) == 2 and isinstance(tf_type[1], str):
        kind, elem = tf_type
        if kind in ("list", "set") and elem in SCALAR:
            return f"Sequence[{SCALAR[elem]}]", "numbers" if elem == "number" else ""
        if kind == "map" and elem in ("string", "bool", "number"):
            return f"Mapping[str, {SCALAR[elem]}]", ""
    raise NotImplementedError(f"{where}: attribute type {tf_type!r} has no binding")


def getter_for(name: str, tf_type: object) -> Getter:
    py = f"{name}_attribute" if name in RESERVED_MEMBERS or keyword.iskeyword(name) else name
    table: dict[str | tuple[str, ...] | None, tuple[str, str]] = {
        "string": ("str", "get_string_attribute"),
        "number": ("float", "get_number_attribute"),
        "bool": ("IResolvable", "get_boolean_attribute"),
        ("list", "string"): ("list[str]", "get_list_attribute"),
        ("set", "string"): ("list[str]", "get_list_attribute"),
        ("list", "number"): ("list[float]", "get_number_list_attribute"),
        ("set", "number"): ("list[float]", "get_number_list_attribute"),
        ("map", "string"): ("Mapping[str, str]", "get_string_map_attribute"),
    }
    key = tf_type if isinstance(tf_type, str) else tuple(tf_type) if isinstance(tf_type, list) else None
    returns, method = table.get(key, ("IResolvable", "interpolation_for_attribute"))
    return Getter(py, name, returns, method)


def is_secret(name: str, attr: dict) -> str | None:
    if attr.get("sensitive"):
        return "marked sensitive in the schema"
    return SECRET_ARGUMENTS.get(name)


def is_argument(attr: dict) -> bool:
    return bool(attr.get("required") or attr.get("optional"))


class Generator:
    def __init__(self, schema: dict, version: str) -> None:
        self.schema = schema
        self.version = version
        self.docs = DOCS.format(version=version)
        self.out = Output()
        self.shared_blocks: dict[str, str] = {}  # json of a timeouts block -> class name
        self.kind = ""  # kind of the element being generated: provider, resource or data

    # ---- blocks -------------------------------------------------------------------------------
    def block_args(self, block: dict, owner: str, path: str, taken: frozenset[str]) -> list[Arg]:
        """Arguments of a block body; emits the dataclasses of its nested blocks."""
        args: list[Arg] = []
        for name, attr in sorted(block.get("attributes", {}).items()):
            where = f"{path}.{name}"
            if "nested_type" in attr:
                raise NotImplementedError(f"{where}: nested attribute types have no binding")
            if not is_argument(attr) or (name == "id" and "." not in path):
                continue
            reason = is_secret(name, attr)
            if reason:
                self.out.omitted.append(f"{where} ({reason})")
                continue
            annotation, wrap = attr_annotation(attr["type"], where)
            args.append(Arg(name, py_identifier(name, taken), annotation, bool(attr.get("required")), wrap))
        for name, block_type in sorted(block.get("block_types", {}).items()):
            cls = self.block_class(block_type, owner, name, f"{path}.{name}")
            mode = block_type["nesting_mode"]
            min_items, max_items = block_type.get("min_items", 0), block_type.get("max_items", 0)
            required = min_items > 0
            py = py_identifier(name, taken)
            if mode in ("single", "group"):
                args.append(Arg(name, py, cls, required))
            elif mode in ("list", "set") and max_items == 1:
                args.append(Arg(name, py, cls, required, "one"))
            elif mode in ("list", "set"):
                wrap = "require_items" if min_items > 0 else ""
                args.append(Arg(name, py, f"Sequence[{cls}]", required, wrap, min_items))
            else:
                raise NotImplementedError(f"{path}.{name}: nesting mode {mode!r} has no binding")
        return args

    def block_class(self, block_type: dict, owner: str, name: str, path: str) -> str:
        """Emit the dataclass for a nested block (once for identical `timeouts`); return its name."""
        if name == "timeouts":
            key = json.dumps(block_type, sort_keys=True)
            if key not in self.shared_blocks:
                preferred = "DataSourceTimeouts" if self.kind == "data" else "Timeouts"
                cls = preferred if preferred not in self.shared_blocks.values() else f"{owner}Timeouts"
                self.shared_blocks[key] = cls
                where = "the data sources" if self.kind == "data" else "the resources"
                self.emit_block(block_type, cls, name, f"Block ``timeouts`` of {where}", path)
            return self.shared_blocks[key]
        cls = f"{owner}{pascal(name)}"
        tf_type, block_path = path.split(".", 1)
        return self.emit_block(block_type, cls, name, f"Block ``{block_path}`` of ``{tf_type}``", path)

    def emit_block(self, block_type: dict, cls: str, name: str, title: str, path: str) -> str:
        args = self.block_args(block_type["block"], cls, path, frozenset())
        mode = block_type["nesting_mode"]
        min_items, max_items = block_type.get("min_items", 0), block_type.get("max_items", 0)
        single = mode in ("single", "group")
        note = "a single block" if single else NESTING_NOTE[(min_items > 0, max_items == 1)]
        lines = [
            "@dataclass(frozen=True, kw_only=True)",
            f"class {cls}(Block):",
            f'    """{title} ({note})."""',
            "",
        ]
        for arg in required_first(args):
            lines.append(f"    {arg.py_name}: {self.annotate(arg)}")
        checks = [a for a in args if a.wrap in ("number", "numbers", "require_items")]
        if checks:
            lines += ["", "    def __post_init__(self) -> None:"]
            for a in checks:
                lines.append(f"        {self.wrapped(a, f'self.{a.py_name}')}")
        lines += ["", "    def to_terraform(self) -> dict[str, Any]:"]
        if args:
            lines.append("        return {")
            for a in args:
                value = f"one(self.{a.py_name})" if a.wrap == "one" else f"self.{a.py_name}"
                if a.wrap == "one":
                    self.out.used.add("one")
                lines.append(f'            "{a.tf_name}": {value},')
            lines.append("        }")
        else:
            lines.append("        return {}")
        self.out.used.update({"dataclass", "Block", "Any"})
        self.out.chunks.append("\n".join(lines))
        return cls

    # ---- annotations and values ---------------------------------------------------------------------
    def annotate(self, arg: Arg) -> str:
        self.note_annotation(arg.annotation)
        return arg.annotation if arg.required else f"{arg.annotation} | None = None"

    def note_annotation(self, annotation: str) -> None:
        for name in ("Sequence", "Mapping", "NumberLike"):
            if re.search(rf"\b{name}\b", annotation):
                self.out.used.add(name)

    def wrapped(self, arg: Arg, expr: str) -> str:
        if arg.wrap in ("number", "numbers"):
            self.out.used.add(arg.wrap)
            return f'{arg.wrap}("{arg.tf_name}", {expr})'
        if arg.wrap == "require_items":
            self.out.used.add("require_items")
            return f'require_items("{arg.tf_name}", {expr}, {arg.min_items})'
        if arg.wrap == "one":
            self.out.used.add("one")
            return f"one({expr})"
        return expr

    # ---- top-level classes ---------------------------------------------------------------------
    def element(self, kind: str, tf_type: str, schema: dict) -> None:
        block = schema["block"]
        self.kind = kind
        if kind == "provider":
            cls, base, url = f"{pascal(PROVIDER)}Provider", "_Provider", self.docs
        elif kind == "resource":
            short = tf_type[len(PROVIDER) + 1 :]
            cls, base, url = pascal(short), "_Resource", f"{self.docs}/resources/{short}"
        else:
            short = tf_type[len(PROVIDER) + 1 :]
            cls, base, url = f"Data{pascal(tf_type)}", "_DataSource", f"{self.docs}/data-sources/{short}"
        taken = CONSTRUCTOR_NAMES
        args = self.block_args(block, cls, tf_type, taken)
        summary = (
            first_sentence(block.get("description", ""))
            or {
                "provider": f"The ``{PROVIDER}`` provider ({SOURCE}).",
                "resource": f"Resource ``{tf_type}``.",
                "data": f"Data source ``{tf_type}``.",
            }[kind]
        )
        renamed = [a for a in args if a.py_name != a.tf_name]
        doc = [f'    """{summary}', ""]
        if renamed:
            doc += [f"    ``{a.py_name}`` is Terraform's ``{a.tf_name}``." for a in renamed] + [""]
        doc += [f"    {url}", '    """']
        lines = [f"class {cls}({base}):", *doc, ""]
        if kind != "provider":
            lines += [f'    TF_TYPE = "{tf_type}"', ""]
        lines += ["    def __init__(", "        self,", "        scope: Construct,", "        id_: str,", "        *,"]
        for a in required_first(args):
            lines.append(f"        {a.py_name}: {self.annotate(a)},")
        if kind == "provider":
            lines.append("        alias: str | None = None,")
        else:
            lines.append("        depends_on: Sequence[ITerraformDependable] | None = None,")
            self.out.used.update({"Sequence", "ITerraformDependable", "TerraformProvider"})
            if kind == "resource":
                lines.append("        lifecycle: TerraformResourceLifecycle | None = None,")
                self.out.used.add("TerraformResourceLifecycle")
            lines.append("        provider: TerraformProvider | None = None,")
        lines += ["    ) -> None:", "        super().__init__(", "            scope,", "            id_,"]
        if args:
            lines.append("            {")
            for a in args:
                lines.append(f'                "{a.tf_name}": {self.wrapped(a, a.py_name)},')
            lines.append("            },")
        else:
            lines.append("            {},")
        if kind == "provider":
            lines.append("            alias=alias,")
        else:
            lines.append("            depends_on=depends_on,")
            if kind == "resource":
                lines.append("            lifecycle=lifecycle,")
            lines.append("            provider=provider,")
        lines.append("        )")
        if kind != "provider":
            for g in self.getters(block, tf_type):
                lines += ["", "    @property", f"    def {g.name}(self) -> {g.returns}:"]
                lines.append(f'        return self.{g.method}("{g.tf_name}")')
        self.out.used.add("Construct")
        self.out.chunks.append("\n".join(lines))

    def getters(self, block: dict, tf_type: str) -> list[Getter]:
        result = []
        for name, attr in sorted(block.get("attributes", {}).items()):
            if is_secret(name, attr):
                continue
            g = getter_for(name, attr["type"])
            if g.returns == "IResolvable":
                self.out.used.add("IResolvable")
            self.note_annotation(g.returns)
            result.append(g)
        return result

    # ---- module ------------------------------------------------------------------------------------
    def module(self) -> str:
        provider = self.schema["provider"]
        self.element("provider", PROVIDER, provider)
        for short in RESOURCES:
            self.element("resource", f"{PROVIDER}_{short}", self.lookup("resource_schemas", short))
        for short in DATA_SOURCES:
            self.element("data", f"{PROVIDER}_{short}", self.lookup("data_source_schemas", short))
        return self.header() + "\n\n\n".join(self.out.chunks) + "\n"

    def lookup(self, section: str, short: str) -> dict:
        try:
            return self.schema[section][f"{PROVIDER}_{short}"]
        except KeyError:
            raise SystemExit(f"gen_bindings: the schema has no {section[:-8]} '{PROVIDER}_{short}'") from None

    def header(self) -> str:
        used = self.out.used
        major, minor = self.version.split(".")[:2]
        omitted = "\n".join(f"  - ``{o.split(' (')[0]}``" for o in self.out.omitted)
        typing_names = ", ".join(n for n in ("Mapping", "Sequence") if n in used)
        cdktf_names = ", ".join(
            n
            for n in ("IResolvable", "ITerraformDependable", "TerraformProvider", "TerraformResourceLifecycle")
            if n in used
        )
        base_names = "".join(
            f"    {n},\n"
            for n in (
                "BindingDataSource",
                "BindingProvider",
                "BindingResource",
                "Block",
                "NumberLike",
                "ProviderInfo",
                "number",
                "numbers",
                "one",
                "require_items",
            )
            if n in used | {"BindingDataSource", "BindingProvider", "BindingResource", "ProviderInfo"}
        )
        return f'''# generated by scripts/gen_bindings.py from {PROVIDER} {self.version}; do not edit.
"""Typed cdktf bindings for the ``{SOURCE}`` provider, version {self.version}.

Regenerate with ``python scripts/gen_bindings.py``: it reads the committed schema subset
``infra/bindings/schema/{PROVIDER}-{self.version}.json`` (the types below, as ``terraform providers
schema -json`` prints them). For a provider bump add ``--from-full-schema <that command's output>``.

- One class per Terraform type: resources by their short name (``Project``, ``GitRepository``),
  data sources with a ``Data`` prefix (``DataAzuredevopsGroup``), the provider as
  ``{pascal(PROVIDER)}Provider``. Constructors take ``(scope, id_, *, <arguments>)``; required
  arguments have no default. ``id`` and computed-only attributes are not arguments.
- Nested blocks are frozen dataclasses named ``<Class><Block>``; a block that takes at most one
  item takes the dataclass itself, a block that takes several takes a sequence of them.
- Numbers are ``NumberLike``: an int, a float, a numeric string or a token (``BuildDefinition.id``
  is a string token and can be passed where the schema wants a number).
- Getters (``.id``, ``.descriptor``, ...) return tokens for every attribute of the type.
- Arguments holding secrets are not exposed (the kit is secret-free):
{omitted}
"""

from __future__ import annotations

from collections.abc import {typing_names}
from dataclasses import dataclass
from typing import Any

from cdktf import {cdktf_names}
from constructs import Construct

from ._base import (
{base_names})

_PROVIDER = ProviderInfo(name="{PROVIDER}", source="{SOURCE}", version_constraint="~> {major}.{minor}.0")


class _Resource(BindingResource):
    PROVIDER = _PROVIDER


class _DataSource(BindingDataSource):
    PROVIDER = _PROVIDER


class _Provider(BindingProvider):
    PROVIDER = _PROVIDER


'''


def required_first(args: list[Arg]) -> list[Arg]:
    return [a for a in args if a.required] + [a for a in args if not a.required]


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    match = re.match(r"(.+?\.)(\s|$)", text)
    sentence = match.group(1) if match else text + "."
    return sentence.replace('"""', "'''")


def read_json(path: Path) -> dict:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"gen_bindings: cannot read {path}: {exc}") from None


def provider_entry(data: dict, path: Path, source: str = SOURCE) -> tuple[str, dict]:
    """The key and schema of one provider in a `terraform providers schema -json` document."""
    for key, schema in data.get("provider_schemas", {}).items():
        if key.lower().endswith(f"/{source.lower()}"):
            return key, schema
    raise SystemExit(f"gen_bindings: {path} has no schema for {source}")


def load_schema(path: Path) -> dict:
    return provider_entry(read_json(path), path)[1]


def version_of(path: Path, version: str | None) -> str:
    if version is not None:
        return version
    match = re.search(r"(\d+\.\d+\.\d+)", path.name)
    if not match:
        raise SystemExit(f"gen_bindings: no X.Y.Z version in {path.name}; pass --provider-version")
    return match.group(1)


def extract_subset(full_schema_path: Path, spec: SubsetSpec = AZUREDEVOPS) -> str:
    """The committed-subset text: the kit's types of a full schema, as `terraform providers schema -json` has them.

    Same document shape (``format_version``, ``provider_schemas``), only the one provider and the
    types of ``spec``; pretty-printed with sorted keys so a provider bump reviews as a readable diff.
    """
    data = read_json(full_schema_path)
    key, schema = provider_entry(data, full_schema_path, spec.source)
    subset: dict = {"provider": schema["provider"]}
    for section, names in (("resource_schemas", spec.resources), ("data_source_schemas", spec.data_sources)):
        available = schema.get(section, {})
        types = [f"{spec.name}_{n}" for n in names]
        missing = [t for t in types if t not in available]
        if missing:
            kind = section.removesuffix("_schemas").replace("_", " ")
            raise SystemExit(f"gen_bindings: {full_schema_path} has no {kind} {', '.join(missing)}")
        subset[section] = {t: available[t] for t in types}
    document = {"format_version": data.get("format_version", "1.0"), "provider_schemas": {key: subset}}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_subset(full_schema_path: Path, version: str, schema_dir: Path, spec: SubsetSpec = AZUREDEVOPS) -> Path:
    """Write the subset for ``version`` into ``schema_dir``, removing that provider's subsets of other versions."""
    text = extract_subset(full_schema_path, spec)
    schema_dir.mkdir(parents=True, exist_ok=True)
    target = schema_dir / f"{spec.name}-{version}.json"
    for old in sorted(schema_dir.glob(f"{spec.name}-*.json")):
        if old != target:
            old.unlink()
            print(f"removed {old.name} (superseded by {target.name})")
    target.write_text(text, encoding="utf-8")
    return target


def committed_subset(schema_dir: Path = SCHEMA_DIR) -> Path:
    """The one committed subset, infra/bindings/schema/azuredevops-X.Y.Z.json."""
    found = sorted(schema_dir.glob(f"{PROVIDER}-*.json"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise SystemExit(f"gen_bindings: expected one {PROVIDER}-X.Y.Z.json in {schema_dir}, found {names}")
    return found[0]


def generate(schema_path: Path, version: str | None = None) -> tuple[str, list[str]]:
    """The module source and the list of omitted secret arguments."""
    gen = Generator(load_schema(schema_path), version_of(schema_path, version))
    return gen.module(), gen.out.omitted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    source_group = parser.add_mutually_exclusive_group()
    source_group.add_argument("--from-full-schema", type=Path, default=None)
    source_group.add_argument("--schema", type=Path, default=None)
    parser.add_argument("--schema-dir", type=Path, default=SCHEMA_DIR)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--provider-version", default=None)
    parser.add_argument("--provider", choices=sorted(SUBSETS), default=PROVIDER)
    args = parser.parse_args(argv)
    if args.provider != PROVIDER and args.from_full_schema is None:
        parser.error(f"--provider {args.provider} only extracts a subset: pass --from-full-schema")
    if args.from_full_schema is not None:
        version = version_of(args.from_full_schema, args.provider_version)
        spec = SUBSETS[args.provider]
        schema_path = write_subset(args.from_full_schema, version, args.schema_dir, spec)
        print(f"wrote {schema_path}")
        if spec is not AZUREDEVOPS:
            return 0  # hand-written bindings: tests/bindings/test_bindings_azapi.py checks them against it
    else:
        schema_path = args.schema or committed_subset(args.schema_dir)
        version = args.provider_version
    source, omitted = generate(schema_path, version)
    args.out.write_text(source, encoding="utf-8")
    for item in omitted:
        print(f"omitted secret argument: {item}")
    print(f"wrote {args.out} ({len(RESOURCES)} resources, {len(DATA_SOURCES)} data sources, provider)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
