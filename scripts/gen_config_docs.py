r"""Generate docs/configuration.md and the JSON Schemas docs/schema/{team,platform}.schema.json from infra/config.py.

Every key of platform.yaml and <team>.yaml gets a row: path, type (with the constraints the model
enforces), default, whether it is required, and a description. Types, defaults and required-ness
come from the models themselves, descriptions from each field's `Field(description=...)`. A field
without a description is rendered as such and listed by `missing_descriptions()`, which a test keeps
empty, as it keeps the committed files equal to this generator's output.

The schemas are pydantic's `model_json_schema(mode="validation")` of `Team` and `Platform` (declared draft-07,
`additionalProperties: false` from `extra="forbid"`), for editors: a `# yaml-language-server: $schema=...`
comment in a team file (any line; the language server reads every line comment) makes the YAML language
server complete and check it. Patterns are rewritten from
python-re's `\A...\Z` to ECMA-262's `^...$` (editors run them in JavaScript, where `\A` is a literal A and
`$` without the m flag matches only at the end). The cross-field rules below are not in the schemas:
`mlops-kit validate` stays the authority.

    .venv/bin/python scripts/gen_config_docs.py          # rewrite docs/configuration.md and docs/schema/
    .venv/bin/python scripts/gen_config_docs.py --check  # exit 1 when a committed file is stale
"""

from __future__ import annotations

import json
import os
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from scripts.exit_codes import EXIT_FINDINGS, EXIT_OK, EXIT_USER_ERROR

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "docs" / "configuration.md"
# Draft-07: what the YAML language server validates with (redhat-developer/vscode-yaml#726: a 2020-12 schema gets
# "Draft 2020-12 schemas are not yet fully supported"). pydantic's output uses only draft-07 keywords; its `$defs`
# are reached by JSON pointer (`#/$defs/...`), which any draft resolves.
DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILES = {"team": "team.schema.json", "platform": "platform.schema.json"}
NO_DESCRIPTION = "**(no description yet: add `Field(description=...)` to the field in infra/config.py)**"

# Rules the models check across fields (the validators in infra/config.py); a test checks each one.
RULES = [
    "A team needs a `dev` environment.",
    "A team with `prod` needs `groups.approvers`.",
    "`triggers.training.filesystem` must be one of `data_lake.filesystems`; each filesystem is listed once.",
    "`registry.host_environment` must be one of the team's environments.",
    "`network.mode: private` needs `private_endpoint_subnet_id` and `function_subnet_id`, and `compute_subnet_id` "
    "when `managed_network: Disabled`; every subnet is in the private-endpoint subnet's virtual network; public mode "
    "allows no subnet and no `private_dns_zone_ids`.",
    "Environments (of any team) that share a private-endpoint virtual network must each list every private DNS zone "
    "in `private_dns_zone_ids`: a network links one zone per name, so no stack may create them.",
    "`network.outbound_fqdns` only applies with `managed_network: AllowOnlyApprovedOutbound`.",
    "Every resource name computed from `naming_prefix`, the team name and the environment must fit Azure's "
    "length and character rules, and no two teams may compute the same globally unique name.",
    "Reserved team names: `platform` (its stacks would match `platform-*`), names YAML reads as booleans or null "
    "(`yes`, `no`, `on`, `off`, `true`, `false`, `null`, `y`, `n`) and Azure DevOps' reserved names "
    "(`con`, `nul`, `aux`, `prn`, `bin`, `com0`-`com9`, `lpt0`-`lpt9`).",
    "Every `location` must be a region of infra/data/azure-locations.json or of `extra_locations`.",
    "Files: at most 256 KiB, UTF-8, regular files (a symlink must stay inside `teams/`), nesting at most 32 "
    "levels, at most 20,000 values after aliases, no key twice in one mapping.",
]

def _pattern_names() -> dict[str, str]:
    from infra import config as c

    return {
        c.GUID_PATTERN: "GUID",
        c.SUBNET_PATTERN: "subnet resource id `/subscriptions/.../subnets/<name>`",
        c.DNS_ZONE_ID_PATTERN: "private DNS zone resource id `/subscriptions/.../privateDnsZones/<zone>`",
        c.LOCATION_PATTERN: "Azure region name, e.g. `westeurope` (checked against infra/data/azure-locations.json "
        "and `extra_locations`)",
        c.FILESYSTEM_PATTERN: "3-63 lowercase letters, digits and single hyphens",
        r"\A([01]\d|2[0-3]):[0-5]\d\Z": "time `HH:MM`",
        r"\A[a-z][a-z0-9]{1,5}\Z": "2-6 lowercase letters and digits, starting with a letter",
        c.TEAM_NAME_PATTERN: "2-32 lowercase letters, digits and hyphens; starts with a letter, ends with a letter "
        "or digit; not a reserved name",
        r"\A[a-z0-9]{3,24}\Z": "3-24 lowercase letters and digits",
        c.SINGLE_LINE_PATTERN: "one line of text, no control characters",
        c.TEXT_PATTERN: "text, no control characters except tab and newline",
        c.TAG_KEY_PATTERN: "tag name: 1-128 characters without `< > % & \\ ? /`",
        c.TAG_VALUE_PATTERN: "tag value: at most 256 characters",
        c.VM_SIZE_PATTERN: "VM size `Standard_...` (a name missing from infra/data/azure-vm-sizes.json is a warning)",
        c.PREFIX_PATTERN: "folder path ending in `/`, e.g. `landing/` (not empty)",
        c.FQDN_PATTERN: "host name (FQDN), e.g. `pypi.org`, or a wildcard `*.example.com`",
        c.PROJECT_NAME_PATTERN: "Azure DevOps project name: 1-64 letters, digits, spaces, `_ . -`; no trailing `.`",
        r"\A[0-9a-zA-Z-]{1,127}\Z": "Key Vault secret name (1-127 letters, digits, hyphens)",
        r"\A[-\w.()]{0,89}[-\w()]\Z": "resource group name (1-90 characters)",
        r"\A[a-z0-9][a-z0-9.-]{0,252}\Z": "DNS zone name",
        r"\AStandard_[A-Za-z0-9][A-Za-z0-9_]{0,62}\Z": "VM size `Standard_...`",
        r"\A[A-Za-z0-9_.-]{1,64}\Z": "1-64 letters, digits, `_ . -`",
    }


def _pattern_name(pattern: str) -> str:
    return _pattern_names().get(pattern) or f"string matching `{pattern}`"


def _constraints(metadata: list[Any]) -> tuple[str | None, str]:
    """(pattern description or None, range text) of Annotated metadata."""
    pattern, lo, hi = None, None, None
    for m in metadata:
        if getattr(m, "pattern", None):
            pattern = _pattern_name(m.pattern)
        if getattr(m, "min_length", None) is not None:
            lo = m.min_length
        if getattr(m, "max_length", None) is not None:
            hi = m.max_length
        if isinstance(m, annotated_types.Ge):
            lo = m.ge
        if isinstance(m, annotated_types.Le):
            hi = m.le
    span = f"{lo}-{hi}" if lo is not None and hi is not None else f">= {lo}" if lo is not None else \
        f"<= {hi}" if hi is not None else ""
    return pattern, span


def _literal(values: tuple[Any, ...]) -> str:
    shown = [f"`{v}`" for v in values]
    return " or ".join(shown) if len(shown) <= 2 else "one of " + ", ".join(shown)


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def type_text(tp: Any, metadata: list[Any] | None = None) -> str:
    """Readable type of an annotation, with the constraints pydantic enforces."""
    metadata = list(metadata or [])
    tp = _unwrap_optional(tp)
    if get_origin(tp) is Annotated:
        base, *extra = get_args(tp)
        return type_text(base, metadata + extra)
    if get_origin(tp) is Literal:
        return _literal(get_args(tp))
    if get_origin(tp) is dict:
        k, v = get_args(tp)
        return f"map: {type_text(k)} -> {type_text(v)}"
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        return f"list of {type_text(item)}"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "mapping"
    pattern, span = _constraints(metadata)
    if tp is str:
        if pattern and span:
            return f"{pattern} ({span} characters)"
        if pattern:
            return pattern
        return f"string, {span} characters" if span else "string"
    if tp is int:
        return f"integer {span}".strip()
    if tp is bool:
        return "boolean"
    return getattr(tp, "__name__", str(tp))


def _default_text(f: FieldInfo) -> str:
    if f.is_required():
        return ""
    value = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "(defaults below)"
    if isinstance(value, str):
        return f'`"{value}"`' if value == "" or len(value) > 40 else f"`{value}`"
    if isinstance(value, (bool, int, float)):
        return f"`{str(value).lower() if isinstance(value, bool) else value}`"
    if isinstance(value, (dict, list)) and not value:
        return "`{}`" if isinstance(value, dict) else "`[]`"
    return "`" + yaml.safe_dump(value, default_flow_style=True, width=1000).strip() + "`"


def _nested(tp: Any) -> tuple[type[BaseModel] | None, str]:
    """(nested model, path suffix) for fields whose value holds a model: `x.` or `x.<env>.`."""
    tp = _unwrap_optional(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp, ""
    if get_origin(tp) is dict:
        k, v = get_args(tp)
        if isinstance(v, type) and issubclass(v, BaseModel):
            return v, "<env>." if get_origin(k) is Literal and "dev" in get_args(k) else "<key>."
    return None, ""


def rows(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str, str, str, str]]:
    """(path, type, default, required, description) for every field, depth first."""
    hints = typing.get_type_hints(model, include_extras=True)
    for name, f in model.model_fields.items():
        tp = hints.get(name, f.annotation)
        path = f"{prefix}{name}"
        description = f.description or NO_DESCRIPTION
        yield (path, type_text(tp, list(f.metadata)), _default_text(f), "yes" if f.is_required() else "no",
               description)
        sub, extra = _nested(tp)
        if sub is not None:
            yield from rows(sub, f"{path}.{extra}")


def missing_descriptions() -> list[str]:
    from infra.config import Platform, Team

    missing = []
    for model in (Platform, Team):
        for path, *_rest, description in rows(model):
            if description == NO_DESCRIPTION:
                missing.append(path)
    return missing


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(model: type[BaseModel]) -> list[str]:
    out = ["| key | type | default | required | description |", "|---|---|---|---|---|"]
    for path, tp, default, required, description in rows(model):
        out.append("| " + " | ".join(_cell(c) for c in (f"`{path}`", tp, default, required, description)) + " |")
    return out


def render() -> str:
    from infra.config import Platform, Team

    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by scripts/gen_config_docs.py from infra/config.py (descriptions: each field's",
        "     `Field(description=...)`). Do not edit: change the models or the generator, then run",
        "     `.venv/bin/python scripts/gen_config_docs.py`. -->",
        "",
        "`teams/` holds `platform.yaml` (organization-wide, exactly one) and one `<team>.yaml` per team (files",
        "starting with `_` are ignored). `mlops-kit validate` checks them all in under a second; every problem",
        "is one line `<file>: <key>: <problem>. Fix: <fix>`. Unknown keys are errors, so a typo never falls back",
        "to a default. `teams/example.yaml` is a complete example; `mlops-kit new-team` writes a minimal one.",
        "",
        "Paths are dotted YAML keys; `<env>` stands for `dev`, `staging` or `prod`. A row whose type is",
        "`mapping` is a block of the keys listed under it; `(defaults below)` means every key inside has a",
        "default.",
        "",
        "The same models give the JSON Schemas [schema/team.schema.json](schema/team.schema.json) and",
        "[schema/platform.schema.json](schema/platform.schema.json): a first line",
        "`# yaml-language-server: $schema=../docs/schema/team.schema.json` in a team file (`new-team` writes it)",
        "lets editors complete and check keys, types and patterns as you type. The rules across keys below are",
        "checked only by `mlops-kit validate`.",
        "",
        "## platform.yaml",
        "",
        *_table(Platform),
        "",
        "## <team>.yaml",
        "",
        *_table(Team),
        "",
        "## Rules across keys",
        "",
        *[f"- {r}" for r in RULES],
        "",
    ]
    return "\n".join(lines)


def _ecma(pattern: str) -> str:
    return f"^{pattern[2:-2]}$" if pattern.startswith("\\A") and pattern.endswith("\\Z") else pattern


def _for_editors(node: Any) -> Any:
    """The schema with every pattern rewritten from python-re (`\\A...\\Z`) to ECMA-262 (`^...$`).

    A map whose keys have a pattern (`patternProperties`) also gets `additionalProperties: false`:
    pydantic refuses a key that does not match, so the schema does too.
    """
    if isinstance(node, list):
        return [_for_editors(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _for_editors(v) for k, v in node.items()}
    if isinstance(out.get("pattern"), str):
        out["pattern"] = _ecma(out["pattern"])
    if isinstance(out.get("patternProperties"), dict):
        out["patternProperties"] = {_ecma(k): v for k, v in out["patternProperties"].items()}
        out.setdefault("additionalProperties", False)
    return out


def schema(kind: str) -> dict[str, Any]:
    """JSON Schema (draft-07) of a team file (`team`) or of platform.yaml (`platform`)."""
    from infra.config import Platform, Team

    models: dict[str, type[BaseModel]] = {"team": Team, "platform": Platform}
    model = models[kind]
    body = _for_editors(model.model_json_schema(mode="validation"))
    return {"$schema": DRAFT, "$id": SCHEMA_FILES[kind], **body}


def schema_dir() -> Path:
    return OUTPUT.parent / "schema"


def schema_path(kind: str) -> Path:
    return schema_dir() / SCHEMA_FILES[kind]


def modeline(yaml_file: Path, kind: str = "team") -> str:
    """The comment that points the YAML language server at the schema, relative to `yaml_file`'s folder."""
    rel = os.path.relpath(schema_path(kind), Path(yaml_file).resolve().parent)
    return f"# yaml-language-server: $schema={Path(rel).as_posix()}"


def outputs() -> dict[Path, str]:
    """Every generated file and its text."""
    files = {OUTPUT: render()}
    for kind, name in SCHEMA_FILES.items():
        files[schema_dir() / name] = json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    files = outputs()
    if args == ["--check"]:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path.relative_to(REPO)} is stale. Fix: .venv/bin/python scripts/gen_config_docs.py",
                  file=sys.stderr)
        return EXIT_FINDINGS if stale else EXIT_OK
    if args:
        print("usage: gen_config_docs.py [--check]", file=sys.stderr)
        return EXIT_USER_ERROR
    from scripts.writes import write_kit_file

    for path, text in files.items():
        write_kit_file(path, text)  # atomic and mode-keeping; never through a symlink
    missing = missing_descriptions()
    print(f"wrote {', '.join(str(p.relative_to(REPO)) for p in files)}"
          + (f"; no description for: {', '.join(missing)}" if missing else ""))
    return EXIT_OK


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
