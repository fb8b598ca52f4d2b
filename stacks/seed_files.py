"""The files the kit commits into the team's two repositories, rendered for one team.

Sources live in `infra/assets/` (model/, app/, contract/). Placeholders are `@@name@@`; a
placeholder left unrendered is a bug in the kit and fails loudly. Files ending in `.tmpl` are
building blocks (the release's per-environment stages), not seeded themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

from infra.config import Org, Team
from infra.pipelines import deploy_chain

ASSETS = Path(__file__).resolve().parent.parent / "infra" / "assets"
_PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")


def render(text: str, values: dict[str, str], where: str) -> str:
    out = _PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), text)
    left = sorted(set(_PLACEHOLDER.findall(out)))
    if left:
        raise ValueError(f"{where}: unknown placeholder(s) {left}")
    return out


def _release_stages(team: Team, values: dict[str, str]) -> str:
    stage = (ASSETS / "model" / "pipelines" / "release-stage.yml.tmpl").read_text()
    smoke = (ASSETS / "model" / "pipelines" / "release-smoke.yml.tmpl").read_text()
    blocks, previous = [], "ContractCheck"
    for env in deploy_chain(team.env_names):
        env_values = {**values, "env": env, "depends_on": previous, "smoke_test": ""}
        env_values["smoke_test"] = render(smoke, env_values, "release-smoke") if env != "prod" else ""
        blocks.append(render(stage, env_values, "release-stage").rstrip("\n"))
        previous = f"Deploy_{env}"
    return "\n\n".join(blocks)


def seed_files(org: Org, team: Team) -> dict[str, dict[str, str]]:
    """{"model": {path: content}, "app": {path: content}} for `team`."""
    chain = deploy_chain(team.env_names)
    trig = team.triggers.training
    values = {
        "team": team.name,
        "display_name": team.display_name,
        "project": team.project_name,
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
    repos: dict[str, dict[str, str]] = {}
    for repo in ("model", "app"):
        root = ASSETS / repo
        files = {
            p.relative_to(root).as_posix(): render(p.read_text(), values, str(p))
            for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".tmpl") and "__pycache__" not in p.parts
        }
        repos[repo] = {**files, **contract}
    examples = ASSETS / "contract" / "examples"
    repos["model"]["contract/model-contract.model.json"] = (examples / "model-contract.model.json").read_text()
    repos["app"]["model-contract.json"] = (examples / "app-model-contract.json").read_text()
    return repos
