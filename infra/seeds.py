"""The files the kit commits into the team's repositories, rendered from the team's plan (infra/plan.py).

Plan layer: plain data, no cdktf. It reads the kit's own sources under `infra/assets/` (never the
team's files or the environment); the devops stack receives the rendered files as data.

Three repositories (`seed_files` keys):
- "model" and "app": the team's own repos, seeded ONCE (starter code, READMEs, contract files and
  thin entry pipelines that `extends` the kit's templates);
- "templates": the project's kit templates repo (`@@templates_repo@@`, default `mlops-templates`),
  which holds the real pipeline jobs and steps, the contract checker and its schema. The kit keeps
  it in sync, so an upgrade reaches every pipeline without pushing to a team's protected main.

Sources live in `infra/assets/` (model/, app/, templates/, contract/). Placeholders are `@@name@@`;
a placeholder left unrendered is a bug in the kit and fails loudly. Files ending in `.tmpl` are
building blocks, not seeded themselves. Each seeded pipeline must `extends` exactly the template its
plan names (`PipelinePlan.extends`: the required-template checks list those paths), or rendering fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from infra.config import Org, Team
from infra.naming import TEMPLATES_REPOSITORY
from infra.plan import TEMPLATES, TeamPlan, team_plan

ASSETS = Path(__file__).resolve().parent / "assets"
_PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")
TEMPLATES_REPO = TEMPLATES_REPOSITORY  # the templates repo's name; the devops stack creates it under this name


def render(text: str, values: dict[str, str], where: str) -> str:
    out = _PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), text)
    left = sorted(set(_PLACEHOLDER.findall(out)))
    if left:
        raise ValueError(f"{where}: unknown placeholder(s) {left}")
    return out


HOSTED_IMAGE = "ubuntu-24.04"  # Microsoft-hosted image when an environment names no agent pool
PYTHON_VERSION = "3.11"  # UsePythonVersion on every job; the training environment's python (environment/conda.yml)
PYYAML_VERSION = "6.0.2"  # the one package contract export needs (its MLmodel parser), pinned as in requirements.txt
# Base OS image of the training environment; the Python packages are pinned by conda.yml. Part of the
# environment version hash, so pinning a dated tag here re-registers the environment.
TRAINING_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
INSTANCE_TYPE = "Standard_DS3_v2"  # online deployment size (one instance per slot; blue/green briefly needs two)


def pool(plan: TeamPlan, env: str) -> dict[str, str]:
    """The agent pool of `env`'s jobs: the environment's own pool (self-hosted / Managed DevOps Pool) or hosted."""
    name = plan.environments[env].agent_pool
    return {"name": name} if name else {"vmImage": HOSTED_IMAGE}


def _flow(mapping: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in mapping.items()) + "}"


def _pool_by_environment(plan: TeamPlan, indent: int = 4) -> str:
    """`pool:` children choosing the pool from the runtime `environment` parameter (conditional insertion)."""
    pad = " " * indent
    lines = []
    for env in plan.env_names:
        lines.append(f"{pad}${{{{ if eq(parameters.environment, '{env}') }}}}:")
        lines += [f"{pad}  {k}: {json.dumps(v)}" for k, v in pool(plan, env).items()]
    return "\n".join(lines)


def _deploy_stages(plan: TeamPlan, values: dict[str, str]) -> str:
    stage = (ASSETS / "templates" / "pipelines" / "release-deploy.yml.tmpl").read_text()
    blocks, previous = [], None
    for env in plan.deploy_targets:
        env_values = {
            **values,
            "env": env,
            "pool": _flow(pool(plan, env)),
            "depends_on": ", ".join(["Share", *([previous] if previous else [])]),
        }
        blocks.append(render(stage, env_values, "release-deploy").rstrip("\n"))
        previous = f"Deploy_{env}"
    return "\n\n".join(blocks)


def _live_checks(plan: TeamPlan) -> str:
    """app-ci's calls, one per release environment: live <env> <resource group> <workspace> <endpoint>."""
    lines = []
    for env in plan.deploy_targets:
        names = plan.environments[env].names
        args = " ".join(json.dumps(names.name(kind)) for kind in ("resource_group", "ml_workspace", "ml_endpoint"))
        lines.append(f"          live {env} {args} || failed=1")
    return "\n".join(lines)


def _tree(root: Path, values: dict[str, str]) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): render(p.read_text(), values, str(p))
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".tmpl") and "__pycache__" not in p.parts
    }


def seed_files(org: Org, team: Team, templates_repo: str = TEMPLATES_REPO) -> dict[str, dict[str, str]]:
    """{"model": {path: content}, "app": {...}, "templates": {...}} for `team`."""
    return render_seeds(team_plan(org, team), team, templates_repo)


def _values(plan: TeamPlan, team: Team, templates_repo: str) -> dict[str, str]:
    """The placeholders: structure from the plan; the model's name and threshold from the team config."""
    chain, trig = plan.deploy_targets, plan.trigger
    values = {
        "team": plan.team,
        "display_name": plan.display_name,
        "project": plan.project.name,
        "templates_repo": templates_repo,
        "min_reviewers": str(plan.min_reviewers),
        "marker_suffix": trig.marker_suffix,
        "training_filesystem": trig.filesystem,
        "training_prefix": trig.prefix,
        "environments": ", ".join(plan.env_names),
        "release_envs": " ".join(chain),
        "release_envs_text": " and ".join(chain),
        "deploy_chain": ", then ".join(chain),
    }
    values |= {
        "model_name": team.model_name,
        "python_version": PYTHON_VERSION,
        "pyyaml_version": PYYAML_VERSION,
        "training_image": TRAINING_IMAGE,
        "instance_type": INSTANCE_TYPE,
        "champion_threshold": repr(team.training.champion_threshold),
        "promoter": plan.registry.promoter,
        "pool_promoter": _flow(pool(plan, plan.registry.promoter)),
        "pool_by_environment": _pool_by_environment(plan),
        "live_checks": _live_checks(plan),
        **{f"pool_{env}": _flow(pool(plan, env)) for env in plan.env_names},
    }
    values["deploy_stages"] = _deploy_stages(plan, values)
    return values


def render_seeds(plan: TeamPlan, team: Team, templates_repo: str = TEMPLATES_REPO) -> dict[str, dict[str, str]]:
    """The seed files of `plan`'s team (`team` is its config: the model name and training threshold)."""
    values = _values(plan, team, templates_repo)
    contract = {
        "contract/contract_check.py": (ASSETS / "contract" / "contract_check.py").read_text(),
        # verify/replay (issue 12): contract_check.py imports it from its own directory
        "contract/contract_verify.py": (ASSETS / "contract" / "contract_verify.py").read_text(),
        "contract/model-contract.schema.json": (ASSETS / "contract" / "model-contract.schema.json").read_text(),
    }
    repos = {repo: _tree(ASSETS / repo, values) for repo in ("model", "app", TEMPLATES)}
    repos[TEMPLATES].update(contract)  # the checker runs from the templates checkout, never a team copy
    examples = ASSETS / "contract" / "examples"
    repos["model"]["contract/model-contract.model.json"] = (examples / "model-contract.model.json").read_text()
    repos["app"]["model-contract.json"] = (examples / "app-model-contract.json").read_text()
    check_extends(plan, repos)
    return repos


def extended_template(text: str) -> str | None:
    """The `extends: {template: <path>@templates}` path of a pipeline's YAML, or None."""
    doc = yaml.safe_load(text)
    template = (doc.get("extends") or {}).get("template", "") if isinstance(doc, dict) else ""
    suffix = f"@{TEMPLATES}"
    return template[: -len(suffix)] if isinstance(template, str) and template.endswith(suffix) else None


def check_extends(plan: TeamPlan, repos: dict[str, dict[str, str]]) -> None:
    """Every pipeline's seeded YAML extends the template its plan names, and that template is seeded."""
    for p in plan.pipelines.values():
        found = extended_template(repos[p.repo][p.yaml_path])
        if found != p.extends or p.extends not in repos[TEMPLATES]:
            raise ValueError(f"infra/assets/{p.repo}/{p.yaml_path}: extends {found!r}, the plan says {p.extends!r}")
