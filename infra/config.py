"""Configuration: `teams/platform.yaml` + one `teams/<team>.yaml` per team -> validated models.

Pydantic does the validation; this module turns every problem into one line of the form
`<file>: <field>: <what is wrong>. Fix: <what to do>` and raises `ConfigError` with all of them.
Nothing here imports cdktf, so `mlops-kit validate` stays fast.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from infra.naming import RULES, Namer, globally_unique_names

PLATFORM_FILE = "platform.yaml"
ENV_ORDER = ("dev", "staging", "prod")
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SUBNET_PATTERN = (
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[^/]+/providers/Microsoft\.Network/"
    r"virtualNetworks/[^/]+/subnets/[^/]+$"
)

Guid = Annotated[str, StringConstraints(pattern=GUID_PATTERN)]
SubnetId = Annotated[str, StringConstraints(pattern=SUBNET_PATTERN)]
EnvName = Literal["dev", "staging", "prod"]
FilesystemName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")]
Location = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]+$")]

# Fix hints for field-specific patterns: the pydantic message shows a regex, the fix says what to write.
_PATTERN_FIXES = {
    GUID_PATTERN: "use the object/subscription/tenant id GUID, e.g. 00000000-0000-0000-0000-000000000000",
    SUBNET_PATTERN: "use the full subnet resource id "
    "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
}


class ConfigError(Exception):
    """One or more configuration problems, each a single line naming file, field and fix."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True, regex_engine="python-re")


# ---------------------------------------------------------------- platform.yaml
class StateSettings(Strict):
    """Remote state: an Azure storage container, reached with Azure AD auth (no keys)."""

    subscription_id: Guid
    resource_group: Annotated[str, StringConstraints(pattern=r"^[-\w.()]{1,89}[-\w()]$")]
    storage_account: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{3,24}$")]
    container: Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")] = "tfstate"
    location: Location | None = None


class DevopsOrg(Strict):
    organization_url: Annotated[str, StringConstraints(pattern=r"^https://(dev\.azure\.com/[^/\s]+|[^/\s]+\.visualstudio\.com)/?$")]

    @property
    def organization(self) -> str:
        url = self.organization_url.rstrip("/")
        return url.rsplit("/", 1)[-1] if "dev.azure.com" in url else url.split("//")[1].split(".")[0]


class Platform(Strict):
    """Organization-wide settings shared by every team."""

    tenant_id: Guid
    default_location: Location
    naming_prefix: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,5}$")]
    default_tags: dict[str, str] = Field(default_factory=dict)
    devops: DevopsOrg
    state: StateSettings | None = None


# ---------------------------------------------------------------- <team>.yaml
class Groups(Strict):
    """Entra ID (Azure AD) group object ids."""

    data_scientists: Guid
    app_developers: Guid
    approvers: Guid | None = None


class Network(Strict):
    mode: Literal["public", "private"] = "public"
    private_endpoint_subnet_id: SubnetId | None = None
    compute_subnet_id: SubnetId | None = None
    # Outbound VNet integration of the trigger function (Flex Consumption): a subnet delegated to
    # Microsoft.App/environments, so the function reaches its closed storage and Azure DevOps.
    function_subnet_id: SubnetId | None = None
    # Private DNS zones are created per environment unless the platform already links central ones.
    private_dns_zone_ids: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _subnets_match_mode(self) -> Network:
        if self.mode == "private":
            for f in ("private_endpoint_subnet_id", "compute_subnet_id", "function_subnet_id"):
                if getattr(self, f) is None:
                    raise ValueError(f"@{f}|private mode needs a subnet|add `{f}: /subscriptions/.../subnets/<name>`")
        elif self.private_endpoint_subnet_id or self.compute_subnet_id or self.function_subnet_id:
            raise ValueError("@mode|subnet ids are only used in private mode|set `mode: private` or remove the subnet ids")
        return self


class Compute(Strict):
    vm_size: Annotated[str, StringConstraints(pattern=r"^Standard_[A-Za-z0-9_]+$")] = "Standard_DS3_v2"
    vm_priority: Literal["Dedicated", "LowPriority"] = "Dedicated"
    max_nodes: Annotated[int, Field(ge=1, le=100)] = 2
    idle_seconds_before_scale_down: Annotated[int, Field(ge=60, le=86400)] = 1800


class Environment(Strict):
    subscription_id: Guid
    location: Location | None = None
    network: Network = Field(default_factory=Network)
    # Managed virtual network of the workspace; None = derived from network mode.
    managed_network: Literal["Disabled", "AllowOnlyApprovedOutbound", "AllowInternetOutbound"] | None = None
    compute: Compute = Field(default_factory=Compute)

    @property
    def private(self) -> bool:
        return self.network.mode == "private"

    @property
    def isolation_mode(self) -> str:
        if self.managed_network:
            return self.managed_network
        return "AllowOnlyApprovedOutbound" if self.private else "Disabled"


class DataLake(Strict):
    filesystems: Annotated[list[FilesystemName], Field(min_length=1)] = Field(default_factory=lambda: ["raw", "curated"])
    soft_delete_days: Annotated[int, Field(ge=1, le=365)] = 30

    @model_validator(mode="after")
    def _unique(self) -> DataLake:
        dupes = sorted({f for f in self.filesystems if self.filesystems.count(f) > 1})
        if dupes:
            raise ValueError(f"@filesystems|'{dupes[0]}' is listed twice|list each filesystem once")
        return self


class Approvals(Strict):
    minimum_approvers: Annotated[int, Field(ge=1, le=10)] = 1
    timeout_minutes: Annotated[int, Field(ge=1, le=43200)] = 4320
    instructions: str = "Check the release's contract check and staging smoke test, then approve."


class BusinessHours(Strict):
    start: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:00"
    end: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "17:00"
    time_zone: str = "UTC"
    days: list[Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]] = Field(
        default_factory=lambda: ["monday", "tuesday", "wednesday", "thursday", "friday"]
    )


class Devops(Strict):
    """The team's Azure DevOps project."""

    project_name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}$")] | None = None
    features: dict[Literal["boards", "repositories", "pipelines", "testplans", "artifacts"], Literal["enabled", "disabled"]] = (
        Field(default_factory=lambda: {"boards": "enabled", "repositories": "enabled", "pipelines": "enabled",
                                       "testplans": "disabled", "artifacts": "enabled"})
    )
    min_reviewers: Annotated[int, Field(ge=2, le=10)] = 2
    approvals: Approvals = Field(default_factory=Approvals)
    business_hours: BusinessHours | None = None
    # Secrets reach pipelines only through a Key Vault-linked variable group per environment; list
    # the secret names (they must exist in the environment's Key Vault before the first run).
    key_vault_secrets: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-zA-Z-]{1,127}$")]] = Field(
        default_factory=list
    )


class TrainingTrigger(Strict):
    filesystem: FilesystemName = "raw"
    prefix: Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9_.=-]+/)*$")] = ""
    marker_suffix: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] = "_SUCCESS"


class Triggers(Strict):
    training: TrainingTrigger = Field(default_factory=TrainingTrigger)
    max_delivery_attempts: Annotated[int, Field(ge=1, le=30)] = 10
    event_ttl_minutes: Annotated[int, Field(ge=1, le=1440)] = 1440


class Registry(Strict):
    """The team's shared Azure ML registry; lives in `host_environment`'s subscription."""

    host_environment: EnvName = "prod"
    location: Location | None = None


TEAM_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"


class Team(Strict):
    name: Annotated[str, StringConstraints(pattern=TEAM_NAME_PATTERN)]
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    cost_center: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    groups: Groups
    environments: dict[EnvName, Environment]
    data_lake: DataLake = Field(default_factory=DataLake)
    devops: Devops = Field(default_factory=Devops)
    triggers: Triggers = Field(default_factory=Triggers)
    registry: Registry = Field(default_factory=Registry)

    @model_validator(mode="after")
    def _cross_field(self) -> Team:
        if "dev" not in self.environments:
            raise ValueError("@environments|a team needs at least a `dev` environment|add `environments: {dev: ...}`")
        if "prod" in self.environments and self.groups.approvers is None:
            raise ValueError(
                "@groups.approvers|prod requires an approvers group|add `approvers: <Entra group object id>` under groups"
            )
        if self.triggers.training.filesystem not in self.data_lake.filesystems:
            raise ValueError(
                f"@triggers.training.filesystem|'{self.triggers.training.filesystem}' is not a data-lake filesystem|"
                f"use one of {self.data_lake.filesystems} or add it to data_lake.filesystems"
            )
        if self.registry.host_environment not in self.environments:
            raise ValueError(
                f"@registry.host_environment|'{self.registry.host_environment}' is not one of this team's environments|"
                f"use one of {self.env_names}"
            )
        return self

    @property
    def env_names(self) -> list[str]:
        return [e for e in ENV_ORDER if e in self.environments]

    @property
    def project_name(self) -> str:
        return self.devops.project_name or self.name


class TeamFile(BaseModel):
    """A validated team and the file it came from."""

    model_config = ConfigDict(frozen=True)
    path: Path
    team: Team


class Org(BaseModel):
    """Everything the kit deploys: the platform settings and every team."""

    model_config = ConfigDict(frozen=True)
    root: Path
    platform: Platform
    teams: list[TeamFile]

    def location(self, team: Team, env: str) -> str:
        return team.environments[env].location or self.platform.default_location

    def namer(self, team: Team, env: str) -> Namer:
        return Namer(self.platform.naming_prefix, team.name, env)


# ---------------------------------------------------------------- loading and error lines
def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found. Fix: create it (see docs/configuration.md)"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(top)"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError([f"{path}: {where}: not valid YAML ({problem}). Fix: correct the YAML syntax there"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: (top): expected a mapping of keys to values. Fix: see teams/example.yaml"])
    return data


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def _fix_for(err: dict[str, Any]) -> tuple[str, str]:
    """(message, fix) for one pydantic error."""
    kind, ctx, msg = err["type"], err.get("ctx") or {}, err["msg"]
    if kind == "value_error":
        # Our validators raise "@field|problem|fix" so the message can point at the right field.
        text = str(ctx.get("error", msg))
        if text.startswith("@"):
            _, problem, fix = text.split("|", 2)
            return problem, fix
        return text, "correct the value"
    if kind == "extra_forbidden":
        return "unknown key", "remove it or check its spelling (see docs/configuration.md)"
    if kind == "missing":
        return "required field is missing", f"add `{err['loc'][-1]}:`"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        return f"invalid value {err.get('input')!r}", _PATTERN_FIXES.get(pattern, f"match the pattern {pattern}")
    if kind in ("literal_error", "enum"):
        return f"invalid value {err.get('input')!r}", f"use {ctx.get('expected')}"
    return msg[0].lower() + msg[1:], "correct the value"


def _lines(path: Path, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        problem, fix = _fix_for(err)
        text = str((err.get("ctx") or {}).get("error", ""))
        if text.startswith("@"):  # our cross-field validators name their own field, relative to loc
            loc = loc + tuple(text[1:].split("|", 1)[0].split("."))
        out.append(f"{path}: {_field_path(loc)}: {problem}. Fix: {fix}")
    return out


def load_platform(path: Path) -> Platform:
    try:
        return Platform.model_validate(_read_yaml(path))
    except ValidationError as e:
        raise ConfigError(_lines(path, e)) from None


def load_team(path: Path, platform: Platform) -> Team:
    try:
        team = Team.model_validate(_read_yaml(path))
    except ValidationError as e:
        raise ConfigError(_lines(path, e)) from None
    problems = []
    for env in [*team.env_names, "shared"]:
        namer = Namer(platform.naming_prefix, team.name, env)
        kinds = ["ml_registry"] if env == "shared" else [k for k in RULES if k != "ml_registry"]
        for kind in kinds:
            problem = namer.problem(kind)
            if problem:
                problems.append(f"{path}: name: {problem} (environment {env}). Fix: choose a shorter team name")
    if problems:
        raise ConfigError(problems)
    return team


def team_files(teams_dir: Path) -> list[Path]:
    return sorted(p for p in teams_dir.glob("*.yaml") if p.name != PLATFORM_FILE and not p.name.startswith("_"))


def load_org(teams_dir: Path | str = "teams", only: list[Path] | None = None) -> Org:
    """Load platform.yaml and every team file; raise ConfigError listing every problem found."""
    teams_dir = Path(teams_dir)
    if not teams_dir.is_dir():
        raise ConfigError([f"{teams_dir}: folder not found. Fix: run from the repository root or set MLOPS_KIT_TEAMS_DIR"])
    platform = load_platform(teams_dir / PLATFORM_FILE)
    errors: list[str] = []
    teams: list[TeamFile] = []
    for path in only or team_files(teams_dir):
        try:
            teams.append(TeamFile(path=path, team=load_team(path, platform)))
        except ConfigError as e:
            errors.extend(e.lines)
    errors.extend(_collisions(teams, platform))
    if errors:
        raise ConfigError(errors)
    return Org(root=teams_dir, platform=platform, teams=teams)


def _collisions(teams: list[TeamFile], platform: Platform) -> list[str]:
    """Two teams must never compute the same globally unique name (or the same team name)."""
    seen: dict[str, Path] = {}
    lines: list[str] = []
    for tf in teams:
        names = {f"team name '{tf.team.name}'"}
        for env in [*tf.team.env_names, "shared"]:
            namer = Namer(platform.naming_prefix, tf.team.name, env)
            names |= {f"{RULES[k].label} name '{v}'" for k, v in globally_unique_names(namer).items()}
        for key in sorted(names):
            if key in seen and seen[key] != tf.path:
                lines.append(
                    f"{tf.path}: name: {key} is also computed for {seen[key]}. "
                    "Fix: give one of the teams a different name"
                )
            seen.setdefault(key, tf.path)
    return lines


def ensure_valid_name(name: str) -> str | None:
    """Why `name` cannot be a team name, or None (used by `mlops-kit new-team`)."""
    return None if re.match(TEAM_NAME_PATTERN, name) else (
        "use 2-32 lowercase letters, digits and hyphens, starting with a letter"
    )
