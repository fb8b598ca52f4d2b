"""The files the kit commits into the team's repositories, rendered for one team.

Three repositories (`seed_files` keys):
- "model" and "app": the team's own repos, seeded ONCE (starter code, READMEs, contract files and
  thin entry pipelines that `extends` the kit's templates);
- "templates": the project's kit templates repo (`@@templates_repo@@`, default `mlops-templates`),
  which holds the real pipeline jobs and steps, the contract checker and its schema. The kit keeps
  it in sync, so an upgrade reaches every pipeline without pushing to a team's protected main.

Sources live in `infra/assets/` (model/, app/, templates/, contract/). Placeholders are `@@name@@`;
a placeholder left unrendered is a bug in the kit and fails loudly. Files ending in `.tmpl` are
building blocks, not seeded themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

from infra.config import Org, Team
from infra.pipelines import deploy_chain

ASSETS = Path(__file__).resolve().parent.parent / "infra" / "assets"
_PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")
TEMPLATES_REPO = "mlops-templates"  # the templates repo's name; the devops stack creates it under this name


def render(text: str, values: dict[str, str], where: str) -> str:
    out = _PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), text)
    left = sorted(set(_PLACEHOLDER.findall(out)))
    if left:
        raise ValueError(f"{where}: unknown placeholder(s) {left}")
    return out


def _release_stages(team: Team, values: dict[str, str]) -> str:
    stage = (ASSETS / "templates" / "pipelines" / "release-stage.yml.tmpl").read_text()
    smoke = (ASSETS / "templates" / "pipelines" / "release-smoke.yml.tmpl").read_text()
    blocks, previous = [], "ContractCheck"
    for env in deploy_chain(team.env_names):
        env_values = {**values, "env": env, "depends_on": previous, "smoke_test": ""}
        env_values["smoke_test"] = render(smoke, env_values, "release-smoke") if env != "prod" else ""
        blocks.append(render(stage, env_values, "release-stage").rstrip("\n"))
        previous = f"Deploy_{env}"
    return "\n\n".join(blocks)


def _tree(root: Path, values: dict[str, str]) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): render(p.read_text(), values, str(p))
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".tmpl") and "__pycache__" not in p.parts
    }


def seed_files(org: Org, team: Team, templates_repo: str = TEMPLATES_REPO) -> dict[str, dict[str, str]]:
    """{"model": {path: content}, "app": {...}, "templates": {...}} for `team`."""
    chain = deploy_chain(team.env_names)
    trig = team.triggers.training
    values = {
        "team": team.name,
        "display_name": team.display_name,
        "project": team.project_name,
        "templates_repo": templates_repo,
        "min_reviewers": str(team.devops.min_reviewers),
        "marker_suffix": trig.marker_suffix,
        "training_filesystem": trig.filesystem,
        "training_prefix": trig.prefix,
        "environments": ", ".join(team.env_names),
        "release_envs": " ".join(chain),
        "release_envs_text": " and ".join(chain),
        "deploy_chain": ", then ".join(f"{e} (smoke test)" if e != "prod" else e for e in chain),
    }
    values["deploy_stages"] = _release_stages(team, values)
    contract = {
        "contract/contract_check.py": (ASSETS / "contract" / "contract_check.py").read_text(),
        "contract/model-contract.schema.json": (ASSETS / "contract" / "model-contract.schema.json").read_text(),
    }
    repos = {repo: _tree(ASSETS / repo, values) for repo in ("model", "app", "templates")}
    repos["templates"].update(contract)  # the checker runs from the templates checkout, never a team copy
    examples = ASSETS / "contract" / "examples"
    repos["model"]["contract/model-contract.model.json"] = (examples / "model-contract.model.json").read_text()
    repos["app"]["model-contract.json"] = (examples / "app-model-contract.json").read_text()
    return repos
