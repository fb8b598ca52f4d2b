"""Generate docs/configuration.md from the pydantic models in infra/config.py.

Every key of platform.yaml and <team>.yaml gets a row: path, type (with the constraints the model
enforces), default, whether it is required, and a description. Types, defaults and required-ness
come from the models themselves; descriptions from `Field(description=...)` when a field has one,
otherwise from DESCRIPTIONS below, keyed by `Model.field`. A field without a description is
rendered as such and listed by `missing_descriptions()`, which a test keeps empty, as it keeps the
committed file equal to this generator's output.

    .venv/bin/python scripts/gen_config_docs.py          # rewrite docs/configuration.md
    .venv/bin/python scripts/gen_config_docs.py --check  # exit 1 when the committed file is stale
"""

from __future__ import annotations

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

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "docs" / "configuration.md"
NO_DESCRIPTION = "**(no description yet: add one to DESCRIPTIONS in scripts/gen_config_docs.py)**"

DESCRIPTIONS: dict[str, str] = {
    # ---------------------------------------------------------------- platform.yaml
    "Platform.tenant_id": "Entra ID tenant of every subscription and of the Azure DevOps organization; "
    "`mlops-kit preflight` checks that each subscription belongs to it.",
    "Platform.default_location": "Region of every resource unless an environment, the registry or the state sets its own.",
    "Platform.naming_prefix": "Goes into every resource name (`rg-<prefix>-<team>-<env>`, `kv<prefix><team>...`). "
    "Changing it renames, that is replaces, every resource.",
    "Platform.default_tags": "Tags on every resource, merged under the kit's own `team`, `env`, `cost-center`, "
    "`network` and `managed-by` (the kit's tags win on a clash).",
    "Platform.devops": "The Azure DevOps organization that hosts every team's project.",
    "DevopsOrg.organization_url": "`https://dev.azure.com/<org>` or `https://<org>.visualstudio.com`.",
    "Platform.state": "Remote Terraform state for every stack, created once by the `platform-bootstrap` stack. "
    "Leave it out for local state files (`terraform.<stack>.tfstate`, a single operator only).",
    "StateSettings.subscription_id": "Subscription that holds the state storage account.",
    "StateSettings.resource_group": "Resource group of the state storage account (created by `platform-bootstrap`).",
    "StateSettings.storage_account": "Name of the state storage account (globally unique). Terraform reaches it "
    "with Entra ID (`use_azuread_auth`), never with an account key.",
    "StateSettings.container": "Blob container for the state files, one `<stack>.tfstate` per stack.",
    "StateSettings.location": "Region of the state storage; default `default_location`.",
    # ---------------------------------------------------------------- <team>.yaml
    "Team.name": "Team name: the file name without `.yaml`, and part of every stack and resource name "
    "(`<team>-dev`, `<team>-devops`, ...). Never rename a deployed team (see docs/operations.md).",
    "Team.display_name": "Human-readable name, used in the Azure DevOps project description.",
    "Team.cost_center": "Tagged as `cost-center` on every resource of the team.",
    "Team.groups": "Entra ID groups (object ids) that get access; the kit creates no users or groups.",
    "Groups.data_scientists": "Contributors of the Azure DevOps project; in dev AzureML Data Scientist on the "
    "workspace and Storage Blob Data Contributor on the lake, Reader on the resource group elsewhere.",
    "Groups.app_developers": "Contributors of the Azure DevOps project; Reader on every environment's resource group.",
    "Groups.approvers": "Readers of the project who approve deployments to prod (the prod environment's approval "
    "check). Required when the team has a prod environment.",
    "Team.environments": "The team's environments, keyed `dev`, `staging`, `prod`; `dev` is required. Each "
    "becomes a stack `<team>-<env>` and an Azure DevOps environment.",
    "Environment.subscription_id": "Subscription the environment deploys into.",
    "Environment.location": "Region of the environment; default `default_location` of platform.yaml.",
    "Environment.network": "Network mode and, in private mode, the subnets the environment uses.",
    "Network.mode": "`public`: services reachable over the internet, still behind Entra ID and RBAC. "
    "`private`: public access off, private endpoints and private DNS, compute in your subnet.",
    "Network.private_endpoint_subnet_id": "Private mode: subnet for the private endpoints (workspace, Key Vault, "
    "registries, storage). Its VNet gets the private DNS zone links.",
    "Network.compute_subnet_id": "Private mode: subnet of the Azure ML compute cluster (no public IP).",
    "Network.function_subnet_id": "Private mode: subnet for the pipeline-trigger function's outbound VNet "
    "integration, delegated to `Microsoft.App/environments`.",
    "Network.private_dns_zone_ids": "Private mode: existing private DNS zones to use instead of creating them, "
    "zone name -> zone resource id (for platforms with central DNS).",
    "Environment.managed_network": "Isolation of the workspace's managed virtual network; default "
    "`AllowOnlyApprovedOutbound` in private mode, `Disabled` in public mode.",
    "Environment.compute": "The environment's Azure ML compute cluster (scales to zero when idle).",
    "Compute.vm_size": "VM size of the cluster nodes.",
    "Compute.vm_priority": "`LowPriority` is cheaper and can be preempted; use `Dedicated` where runs must finish.",
    "Compute.max_nodes": "Upper bound of the cluster (cost ceiling).",
    "Compute.idle_seconds_before_scale_down": "Idle time before nodes are released.",
    "Team.data_lake": "The environment's ADLS Gen2 data lake (one per environment).",
    "DataLake.filesystems": "Filesystems (containers) created in each lake; the kit adds `eventgrid-deadletter`.",
    "DataLake.soft_delete_days": "Days deleted blobs and containers stay recoverable.",
    "Team.devops": "The team's Azure DevOps project: repos, pipelines, environments and their checks.",
    "Devops.project_name": "Project name; default the team name. Changing it renames the project.",
    "Devops.features": "Project features to turn on or off (`enabled` / `disabled`); a partial map sets only the keys given.",
    "Devops.min_reviewers": "Reviewers required on pull requests to main in both repositories (the last pusher "
    "cannot approve; votes reset on push).",
    "Devops.approvals": "The prod approval check.",
    "Approvals.minimum_approvers": "Approvals from the approvers group needed before prod; the requester cannot approve.",
    "Approvals.timeout_minutes": "How long a prod deployment waits for approval (also the exclusive lock's timeout).",
    "Approvals.instructions": "Shown to approvers in the approval dialog.",
    "Devops.business_hours": "Optional: prod deployments only run in this window (business-hours check).",
    "BusinessHours.start": "Start of the window, `HH:MM`.",
    "BusinessHours.end": "End of the window, `HH:MM`.",
    "BusinessHours.time_zone": "Time zone of the window, e.g. `UTC` or `W. Europe Standard Time`.",
    "BusinessHours.days": "Days on which deployments may run.",
    "Devops.key_vault_secrets": "Secret names that pipelines may read, through a Key Vault-linked variable group "
    "per environment; each must exist in the environment's Key Vault before the first run.",
    "Team.triggers": "Event-driven runs: data in the lake starts training, a registered model starts the release.",
    "Triggers.training": "Which files in the lake start `<team>-training`.",
    "TrainingTrigger.filesystem": "Filesystem watched for new data; must be one of `data_lake.filesystems`.",
    "TrainingTrigger.prefix": "Folder inside the filesystem, ending in `/` (empty: the whole filesystem).",
    "TrainingTrigger.marker_suffix": "A committed file whose name ends in this starts one training run: write "
    "the data first, the marker last.",
    "Triggers.max_delivery_attempts": "Event Grid delivery attempts before an event is dead-lettered.",
    "Triggers.event_ttl_minutes": "How long Event Grid keeps retrying an event.",
    "Team.registry": "The team's Azure ML registry (stack `<team>-shared`), shared by its workspaces for promotion.",
    "Registry.host_environment": "Environment whose subscription (and network mode) hosts the registry; must be "
    "one of the team's environments.",
    "Registry.location": "Region of the registry; default the host environment's region.",
}

# Rules the models check across fields (the validators in infra/config.py); a test checks each one.
RULES = [
    "A team needs a `dev` environment.",
    "A team with `prod` needs `groups.approvers`.",
    "`triggers.training.filesystem` must be one of `data_lake.filesystems`; each filesystem is listed once.",
    "`registry.host_environment` must be one of the team's environments.",
    "`network.mode: private` needs every `*_subnet_id` of the network; public mode allows none of them.",
    "Every resource name computed from `naming_prefix`, the team name and the environment must fit Azure's "
    "length and character rules, and no two teams may compute the same globally unique name.",
]

_PATTERN_NAMES = {
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$": "GUID",
    r"^[a-z][a-z0-9]+$": "Azure region name, e.g. `westeurope`",
    r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$": "3-63 lowercase letters, digits and single hyphens",
    r"^([01]\d|2[0-3]):[0-5]\d$": "time `HH:MM`",
    r"^[a-z][a-z0-9]{1,5}$": "2-6 lowercase letters and digits, starting with a letter",
    r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$": "2-32 lowercase letters, digits and hyphens; starts with a letter, "
    "ends with a letter or digit",
    r"^[a-z0-9]{3,24}$": "3-24 lowercase letters and digits",
}


def _pattern_name(pattern: str) -> str:
    from infra.config import SUBNET_PATTERN

    if pattern == SUBNET_PATTERN:
        return "subnet resource id `/subscriptions/.../subnets/<name>`"
    return _PATTERN_NAMES.get(pattern) or f"string matching `{pattern}`"


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
        description = f.description or DESCRIPTIONS.get(f"{model.__name__}.{name}", NO_DESCRIPTION)
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
        "<!-- Generated by scripts/gen_config_docs.py from infra/config.py. Do not edit: change the models or the",
        "     generator's descriptions, then run `.venv/bin/python scripts/gen_config_docs.py`. -->",
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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args == ["--check"]:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(REPO)} is stale. Fix: .venv/bin/python scripts/gen_config_docs.py",
                  file=sys.stderr)
            return 1
        return 0
    if args:
        print("usage: gen_config_docs.py [--check]", file=sys.stderr)
        return 2
    OUTPUT.write_text(text, encoding="utf-8")
    missing = missing_descriptions()
    print(f"wrote {OUTPUT.relative_to(REPO)}" + (f"; no description for: {', '.join(missing)}" if missing else ""))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
