"""A team's environment as a Mermaid diagram and a wiki page, computed from config alone.

`team_diagram(org, team)` returns Mermaid flowchart text: the repos feed the four pipelines, the
release walks through the environments and their checks (gates), and data landing in the lake
starts training through Event Grid and the pipeline-trigger function.

`wiki_page(org, team)` wraps the diagram in the page "How your environment works" with links to
the project's repos, pipelines and environments. Azure DevOps wikis render Mermaid only inside a
`::: mermaid` ... `:::` block (Microsoft's "Syntax guidance for Markdown usage in Wiki",
azure-devops-docs docs/project/wiki/wiki-markdown-guidance.md), and their Mermaid build does not
support most HTML tags, FontAwesome, long arrows (`---->`) or links to and from subgraphs. So the
diagram uses `graph LR`, quoted labels without HTML, and edges between nodes only. For GitHub or a
repository preview, `fence="github"` uses a ```` ```mermaid ```` fence instead.

Pure Python: no cdktf, no file access. The names come from the same `Namer` the stacks use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from infra.config import Org, Team
from infra.naming import TEMPLATES_REPOSITORY, Namer

PAGE_TITLE = "How your environment works"
# Mirrors infra/pipelines.py and infra/repos.py (not imported: they pull in cdktf); a test keeps them in step.
PIPELINES = ("model-ci", "app-ci", "training", "release")
PIPELINE_REPO = {"model-ci": "model", "app-ci": "app", "training": "model", "release": "model"}
MAIN_BRANCH = "main"


def repo_names(team: Team) -> dict[str, str]:
    """{"model": "<team>-model", "app": "<team>-app"}."""
    return {"model": f"{team.name}-model", "app": f"{team.name}-app"}


def pipeline_name(team: Team, key: str) -> str:
    return f"{team.name}-{key}"


def deploy_targets(team: Team) -> list[str]:
    """Where the release deploys, in order: every environment after dev (dev alone if that is all)."""
    return [e for e in team.env_names if e != "dev"] or ["dev"]


@dataclass(frozen=True)
class Gate:
    """One Azure DevOps check on an environment."""

    kind: Literal["approval", "branch_control", "required_template", "exclusive_lock", "business_hours"]
    label: str


def env_gates(team: Team, env: str) -> list[Gate]:
    """The checks a deployment to `env` must pass (infra/environments.py creates them).

    dev: none. staging: branch control (only main, branch protection verified) and the required kit
    template. prod: approval by the approvers group, the same two, an exclusive lock (one deployment
    at a time), and the business-hours window when `devops.business_hours` is configured.
    """
    gates: list[Gate] = []
    a = team.devops.approvals
    if env == "prod" and team.groups.approvers:
        gates.append(Gate(
            "approval",
            f"approval by approvers group {team.groups.approvers}: at least {a.minimum_approvers}, "
            f"not the requester, times out after {a.timeout_minutes} min",
        ))
    if env in ("staging", "prod"):
        gates.append(Gate("branch_control", f"branch control: only {MAIN_BRANCH}, branch protection verified"))
        gates.append(Gate("required_template", "required template: only runs that extend the kit's templates "
                          f"({TEMPLATES_REPOSITORY}, {MAIN_BRANCH})"))
    if env == "prod":
        gates.append(Gate("exclusive_lock", "exclusive lock: one deployment at a time"))
        hours = team.devops.business_hours
        if hours is not None:
            days = ", ".join(d[:3] for d in hours.days)
            gates.append(Gate("business_hours", f"business hours: {days} {hours.start}-{hours.end} {hours.time_zone}"))
    return gates


def _label(text: str) -> str:
    """A quoted Mermaid label; quotes and angle brackets become entities (no HTML in ADO wikis)."""
    return '"' + text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") + '"'


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def team_diagram(org: Org, team: Team) -> str:
    """Mermaid flowchart text of `team`'s environment (no fence)."""
    repos = repo_names(team)
    shared = Namer(org.platform.naming_prefix, team.name, "shared")
    trig = team.triggers.training
    lake_path = f"{trig.filesystem}/{trig.prefix}*{trig.marker_suffix}"

    lines = ["graph LR"]
    add = lines.append
    add("  subgraph repos [Azure Repos]")
    for key, name in repos.items():
        add(f"    repo_{key}[{_label(name)}]")
    add("  end")
    add("  subgraph pipelines [Pipelines]")
    for p in PIPELINES:
        add(f"    {_id('p_' + p)}[{_label(pipeline_name(team, p))}]")
    add("  end")
    add("  subgraph envs [Environments]")
    for env in team.env_names:
        add(f"    env_{env}[{_label(f'{env}: {team.environments[env].network.mode} network')}]")
    add("  end")
    for p in PIPELINES:
        add(f"  repo_{PIPELINE_REPO[p]} --> {_id('p_' + p)}")
    add("  repo_app -.->|app contract| p_release")

    # Events (in every environment): a marker file in the lake starts training, a registered model
    # starts the release; both through Event Grid and the pipeline-trigger function.
    add(f"  lake[({_label(f'data lake: {lake_path}')})]")
    add(f"  topic_lake[{_label('Event Grid: storage system topic')}]")
    add(f"  trigger[{_label('pipeline-trigger function')}]")
    add(f"  workspace[{_label('Azure ML workspace')}]")
    add(f"  topic_ml[{_label('Event Grid: Azure ML system topic')}]")
    registry = "Azure ML registry " + shared.name("ml_registry")
    add(f"  registry[({_label(registry)})]")
    add("  lake -->|BlobCreated of the marker| topic_lake")
    add("  topic_lake --> trigger")
    add("  trigger -->|Runs API| p_training")
    add("  p_training -->|register model| workspace")
    add("  p_model_ci -->|on main: register model| workspace")
    add("  workspace -->|ModelRegistered| topic_ml")
    add("  topic_ml --> trigger")
    add("  trigger -->|Runs API| p_release")
    add("  p_release -->|promote model| registry")

    # The release walks the deployment targets in order, each behind its checks.
    previous = "p_release"
    for env in deploy_targets(team):
        for i, gate in enumerate(env_gates(team, env)):
            node = f"gate_{env}_{i}"
            add(f"  {node}{{{{{_label(gate.label)}}}}}")
            add(f"  {previous} --> {node}")
            previous = node
        add(f"  {previous} --> env_{env}")
        previous = f"env_{env}"
    return "\n".join(lines) + "\n"


def project_url(org: Org, team: Team) -> str:
    return f"{org.platform.devops.organization_url.rstrip('/')}/{quote(team.project_name)}"


def wiki_page(org: Org, team: Team, fence: Literal["ado", "github"] = "ado") -> str:
    """The page "How your environment works": the diagram plus links to repos, pipelines, environments."""
    base = project_url(org, team)
    repos = repo_names(team)
    open_, close = ("::: mermaid", ":::") if fence == "ado" else ("```mermaid", "```")
    trig = team.triggers.training
    targets = deploy_targets(team)
    out = [
        f"# {PAGE_TITLE}",
        "",
        f"Generated by mlops-kit from `teams/{team.name}.yaml`: change that file, not this page "
        "(the next deployment overwrites edits made here).",
        f"Team **{team.display_name}** (cost center {team.cost_center}), environments: {', '.join(team.env_names)}.",
        "",
        open_,
        team_diagram(org, team).rstrip("\n"),
        close,
        "",
        "## Repositories",
        "",
    ]
    for key, name in repos.items():
        used_by = ", ".join(pipeline_name(team, p) for p in PIPELINES if PIPELINE_REPO[p] == key)
        out.append(f"- [{name}]({base}/_git/{quote(name)}): pipelines {used_by}")
    out += [
        "",
        "## Pipelines",
        "",
        f"[All pipelines of the team]({base}/_build?definitionScope=%5C{quote(team.name)}):",
        "",
        f"- **{pipeline_name(team, 'model-ci')}** and **{pipeline_name(team, 'app-ci')}** run on every commit "
        "to main and validate every pull request to main (branch policy); model-ci on main registers a model.",
        f"- **{pipeline_name(team, 'training')}** starts when a file ending in `{trig.marker_suffix}` lands under "
        f"`{trig.filesystem}/{trig.prefix}` in the data lake (write the data first, the marker last).",
        f"- **{pipeline_name(team, 'release')}** starts when a model is registered; it promotes the model to the "
        "team's registry, checks it against the app's contract, "
        f"then deploys to {' then '.join(targets)}.",
        "",
        "## Environments and their checks",
        "",
        f"[Environments]({base}/_environments)",
        "",
        "| environment | subscription | network | checks before a deployment |",
        "|---|---|---|---|",
    ]
    for env in team.env_names:
        cfg = team.environments[env]
        gates = "; ".join(g.label for g in env_gates(team, env)) or "none"
        out.append(f"| {env} | {cfg.subscription_id} | {cfg.network.mode} | {gates} |")
    return "\n".join(out) + "\n"
