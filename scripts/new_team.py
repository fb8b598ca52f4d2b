"""`mlops-kit new-team`: write `teams/<name>.yaml` from a few answers, valid or not at all.

The file is rendered into a temporary file next to its target, validated together with
platform.yaml and every other team (name collisions included), and only then moved into place:
with a link that fails if the target appeared meanwhile, or a rename when `force` replaces a file.
A rejected team leaves teams/ exactly as it was. Error lines name the final path, never the
temporary one. Prompting lives in the CLI; this module only renders, validates and writes.
The written file starts with a `# yaml-language-server: $schema=` line (docs/schema/team.schema.json,
relative to the file), so editors with the YAML language server complete and check it.
`--force` never writes through a symlink (it would rewrite whatever the link points at, another
team's file included) and keeps the replaced file's mode; a new file gets 0644 (minus the umask).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from infra.config import ENV_ORDER, ConfigError, Network, Org, ensure_valid_name, load_org, show, team_files
from scripts.gen_config_docs import modeline
from scripts.writes import check_target, default_mode

# The subnets a private environment needs, in the order of the config model (`network.<field>`).
SUBNET_FIELDS = tuple(f for f in Network.model_fields if f.endswith("_subnet_id"))


@dataclass(frozen=True)
class EnvAnswers:
    subscription_id: str
    network: str = "public"
    subnets: dict[str, str] = field(default_factory=dict)  # network.<field> -> subnet resource id


@dataclass(frozen=True)
class TeamAnswers:
    name: str
    display_name: str
    cost_center: str
    data_scientists: str
    app_developers: str
    approvers: str | None = None
    environments: dict[str, EnvAnswers] = field(default_factory=dict)


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML), so any answer stays one value."""
    return json.dumps(value, ensure_ascii=False)


def render(a: TeamAnswers) -> str:
    """The team file's YAML text, commented like teams/example.yaml."""
    lines = [
        f"# Team {a.name}: created by `mlops-kit new-team`. Reference for every key: docs/configuration.md",
        f"name: {_q(a.name)}",
        f"display_name: {_q(a.display_name)}",
        f"cost_center: {_q(a.cost_center)}",
        "groups:                      # Entra ID group object ids",
        f"  data_scientists: {_q(a.data_scientists)}",
        f"  app_developers: {_q(a.app_developers)}",
    ]
    if a.approvers:
        lines.append(f"  approvers: {_q(a.approvers)}       # approve production deployments")
    lines.append("environments:")
    for env in ENV_ORDER:
        e = a.environments.get(env)
        if e is None:
            continue
        lines += [f"  {env}:", f"    subscription_id: {_q(e.subscription_id)}", "    network:", f"      mode: {_q(e.network)}"]
        lines += [f"      {f}: {_q(e.subnets[f])}" for f in SUBNET_FIELDS if e.subnets.get(f)]
        if e.network == "private":  # Microsoft-hosted agents cannot reach it: name the pool to create in the VNet
            lines.append(f"    agent_pool: {_q(a.name + '-' + env + '-agents')}   # self-hosted or Managed DevOps Pool")
    envs = [env for env in ENV_ORDER if env in a.environments]
    if envs and "prod" not in envs:  # the registry lives in prod by default; without prod, in the last env
        lines += ["registry:                   # the team's shared model registry", f"  host_environment: {envs[-1]}"]
    return "\n".join(lines) + "\n"


def team_path(teams_dir: Path, name: str) -> Path:
    """teams/<name>.yaml; raises ConfigError when `name` cannot be a team name (checked before any path use)."""
    problem = ensure_valid_name(name)
    if problem:
        shown = teams_dir / (name + ".yaml") if len(name) <= 80 else teams_dir / "<name>.yaml"
        raise ConfigError([f"{shown}: name: invalid team name {show(name)}. Fix: {problem}"])
    return teams_dir / f"{name}.yaml"


def create_team_file(teams_dir: Path | str, answers: TeamAnswers, force: bool = False) -> tuple[Path, Org]:
    """Write teams/<name>.yaml if the whole org stays valid; returns the path and the loaded org.

    Raises ConfigError (one line per problem, naming the final path) and writes nothing when the
    name is invalid, the file exists without `force`, or the org would not validate.
    """
    teams_dir = Path(teams_dir)
    target = team_path(teams_dir, answers.name)
    if not teams_dir.is_dir():
        raise ConfigError([f"{teams_dir}: folder not found. Fix: run from the repository root or pass --teams"])
    if (target.exists() or target.is_symlink()) and not force:
        raise ConfigError([f"{target}: file exists. Fix: choose another team name, or pass --force to replace it"])
    mode = check_target(target, marker=None, force=True)  # refuses a symlink or a non-regular file
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{answers.name}.", suffix=".new", dir=teams_dir)
    except OSError as e:
        raise ConfigError([f"{teams_dir}: cannot create a file there ({e.strerror}). "
                           "Fix: check the folder's permissions, or pass --teams a folder you can write"]) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(modeline(target) + "\n" + render(answers))
        os.chmod(tmp, default_mode() if mode is None else mode)
        others = [p for p in team_files(teams_dir) if p.resolve() != target.resolve()]
        try:
            org = load_org(teams_dir, only=[*others, tmp])
        except ConfigError as e:
            raise ConfigError([line.replace(str(tmp), str(target)) for line in e.lines]) from None
        if force:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # atomic and never overwrites
            except FileExistsError:
                raise ConfigError([
                    f"{target}: file appeared while validating. Fix: check it, then re-run (or pass --force)"
                ]) from None
    finally:
        tmp.unlink(missing_ok=True)
    teams = [tf.model_copy(update={"path": target}) if tf.path == tmp else tf for tf in org.teams]
    return target, org.model_copy(update={"teams": teams})
