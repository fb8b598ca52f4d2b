"""One plan of a team, computed once from config: what its Azure DevOps project and environments hold.

`team_plan(org, team)` returns a `TeamPlan` of frozen dataclasses: the project, the repos, the four
pipelines, the deployment order, and per environment its checks (gates), its service connection and
the checks on that, its identities, its profile (infra/profile.py) and the training trigger. Every
reader takes the same objects: the devops stack and its constructs build them, the diagram and the
wiki page draw them, infra/seeds.py renders the seeded files from them. A rule written here is
written once; nothing else re-derives a name, a gate or the release order.

Pure Python: no cdktf, no files, no environment (an import-linter contract keeps it that way).
The gates' Azure DevOps details (provider facts, identity ids) are in infra/environments.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, cast
from urllib.parse import quote

from infra.config import EnvName, Org, Team
from infra.naming import TEMPLATES_REPOSITORY, Namer
from infra.profile import EnvironmentProfile, environment_profile

MAIN_BRANCH = "main"
MAIN_REF = f"refs/heads/{MAIN_BRANCH}"
TEMPLATES = "templates"  # repo key of the kit templates repo, and its `resources.repositories` alias in the YAML
PROTECTED = ("staging", "prod")  # environments only main, through the kit's templates, may reach


def pipeline_name(team: str, key: str) -> str:
    return f"{team}-{key}"


def pipeline_folder(team: str) -> str:
    return "\\" + team


def repository_name(team: str, key: str) -> str:
    """Repository name of a repo key ("model", "app", "templates")."""
    return TEMPLATES_REPOSITORY if key == TEMPLATES else f"{team}-{key}"


def deploy_chain(env_names: Sequence[str]) -> list[str]:
    """Environments the release deploys to, in order: everything after dev (dev alone if that is all)."""
    later = [e for e in env_names if e != "dev"]
    return later or list(env_names[:1])


def identity_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )


# Microsoft.ManagedIdentity federatedIdentityCredentials names (Azure's documented rule).
CREDENTIAL_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$")


def federated_credential_name(project_name: str, env: str) -> str:
    """`azure-devops-<project>-<env>` with every character Azure refuses (space, `.`) turned into `-`."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "-", f"azure-devops-{project_name}-{env}")[:120]
    if not CREDENTIAL_NAME.fullmatch(name):  # cannot happen for the config's project-name pattern
        raise ValueError(f"federated credential name {name!r} breaks {CREDENTIAL_NAME.pattern}")
    return name


# ------------------------------------------------------------------ gates (Azure DevOps checks)
@dataclass(frozen=True)
class Approval:
    """A human approval by the approvers group; the requester cannot approve."""

    kind: ClassVar[str] = "approval"
    group: str  # Entra object id of the approvers group (the stack resolves its Azure DevOps identity)
    minimum_approvers: int
    timeout_minutes: int
    instructions: str

    @property
    def label(self) -> str:
        return (
            f"approval by approvers group {self.group}: at least {self.minimum_approvers}, "
            f"not the requester, times out after {self.timeout_minutes} min"
        )


@dataclass(frozen=True)
class BranchControl:
    """Only runs from `branch`, with its branch protection verified."""

    kind: ClassVar[str] = "branch_control"
    branch: str = MAIN_REF

    @property
    def label(self) -> str:
        return f"branch control: only {self.branch.removeprefix('refs/heads/')}, branch protection verified"


@dataclass(frozen=True)
class RequiredTemplate:
    """Only runs whose YAML extends one of `paths` from `repository` at `ref`."""

    kind: ClassVar[str] = "required_template"
    repository: str  # "<project>/<repository>", as the Checks API names an Azure Repos repository
    ref: str
    paths: tuple[str, ...]  # the templates the pipelines using this environment extend

    @property
    def label(self) -> str:
        return (
            "required template: only runs that extend the kit's templates "
            f"({self.repository.split('/')[-1]}, {self.ref.removeprefix('refs/heads/')})"
        )


@dataclass(frozen=True)
class ExclusiveLock:
    kind: ClassVar[str] = "exclusive_lock"
    timeout_minutes: int

    @property
    def label(self) -> str:
        return "exclusive lock: one deployment at a time"


@dataclass(frozen=True)
class BusinessHours:
    kind: ClassVar[str] = "business_hours"
    start: str
    end: str
    time_zone: str
    days: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"business hours: {', '.join(d[:3] for d in self.days)} {self.start}-{self.end} {self.time_zone}"


Gate = Approval | BranchControl | RequiredTemplate | ExclusiveLock | BusinessHours
GateKind = Literal["approval", "branch_control", "required_template", "exclusive_lock", "business_hours"]


# ------------------------------------------------------------------ the plan's parts
@dataclass(frozen=True)
class RepoPlan:
    key: str  # "model", "app", "templates"
    name: str
    default_branch: str
    kit_owned: bool  # templates: kept as the kit renders it; team repos: seeded once, then the team's


@dataclass(frozen=True)
class PipelinePlan:
    key: str  # model-ci, app-ci, training, release
    name: str
    repo: str  # repo key
    branch: str  # the branch its definition builds: its repo's default branch
    yaml_path: str
    folder: str
    extends: str  # template path in the templates repo its YAML extends (infra/seeds.py checks the YAML)
    validates_pull_requests: bool  # the repo's build-validation pipeline
    environments: tuple[str, ...]  # kit environments whose service connection + variable group it uses
    deploys_to: tuple[str, ...] = ()  # Azure DevOps environments (deployment jobs)
    checks_out: tuple[str, ...] = ()  # other repos of the project it reads

    @property
    def uses(self) -> frozenset[str]:
        """Every environment whose connection or Azure DevOps environment it reaches."""
        return frozenset({*self.environments, *self.deploys_to})


@dataclass(frozen=True)
class Identity:
    """A user-assigned identity created by the `<team>-<env>` stack, found by its deterministic id."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def resource_id(self) -> str:
        return identity_id(self.subscription_id, self.resource_group, self.name)


@dataclass(frozen=True)
class ConnectionPlan:
    """The environment's workload-identity service connection and the checks on it."""

    name: str  # arm-<env>
    subscription_name: str
    identity: Identity  # the pipeline identity the connection federates with
    credential_name: str  # its federated credential on that identity
    gates: tuple[Gate, ...]
    variable_group: str
    secret_group: str | None  # Key Vault-linked group, when the team names secrets
    key_vault_secrets: tuple[str, ...]


@dataclass(frozen=True)
class EnvironmentPlan:
    name: str
    subscription_id: str
    names: Namer
    profile: EnvironmentProfile
    agent_pool: str | None  # None: Microsoft-hosted agents
    gates: tuple[Gate, ...]  # checks on the Azure DevOps environment, in the order the diagram shows
    connection: ConnectionPlan
    trigger_identity: Identity  # the pipeline-trigger function's identity (queues training and release)

    @property
    def network_mode(self) -> Literal["public", "private"]:
        return self.profile.network_mode


@dataclass(frozen=True)
class ProjectPlan:
    name: str
    url: str  # https://dev.azure.com/<org>/<project, quoted>
    description: str
    wiki_name: str
    features: Mapping[str, str]
    groups: Mapping[str, str]  # "data_scientists" / "app_developers" / "approvers" -> Entra object id


@dataclass(frozen=True)
class TrainingTrigger:
    filesystem: str
    prefix: str
    marker_suffix: str

    @property
    def lake_path(self) -> str:
        return f"{self.filesystem}/{self.prefix}*{self.marker_suffix}"


@dataclass(frozen=True)
class Registry:
    """The team's shared Azure ML registry the release promotes to."""

    name: str
    resource_group: str
    promoter: str  # the environment whose identity may write it (the release's Share stage)


@dataclass(frozen=True)
class TeamPlan:
    team: str
    display_name: str
    cost_center: str
    project: ProjectPlan
    repos: Mapping[str, RepoPlan]  # by key, templates last
    pipelines: Mapping[str, PipelinePlan]  # by key: model-ci, app-ci, training, release
    env_names: tuple[str, ...]
    environments: Mapping[str, EnvironmentPlan]
    deploy_targets: tuple[str, ...]  # where the release deploys, in order
    registry: Registry
    trigger: TrainingTrigger
    min_reviewers: int
    queued_by_trigger: tuple[str, ...] = ("training", "release")  # pipelines the trigger function may queue

    @property
    def team_repos(self) -> dict[str, RepoPlan]:
        return {k: r for k, r in self.repos.items() if not r.kit_owned}


# ------------------------------------------------------------------ computing it
def pipelines(team: str, env_names: Sequence[str]) -> dict[str, PipelinePlan]:
    """The four pipelines: where each lives, what it extends, which connections and environments it uses."""
    envs, folder = tuple(env_names), pipeline_folder(team)

    def plan(
        key: str,
        repo: str,
        validates: bool,
        environments: tuple[str, ...],
        deploys_to: tuple[str, ...] = (),
        checks_out: tuple[str, ...] = (),
    ) -> PipelinePlan:
        path = f"pipelines/{key}.yml"
        return PipelinePlan(
            key,
            pipeline_name(team, key),
            repo,
            MAIN_REF,
            path,
            folder,
            path,
            validates,
            environments,
            deploys_to,
            checks_out,
        )

    return {
        p.key: p
        for p in (
            # model-ci only tests (nothing reaches Azure): no connection, no variable group.
            plan("model-ci", "model", True, (), (), ("app",)),
            plan("app-ci", "app", True, ("dev",)),
            plan("training", "model", False, envs),
            plan("release", "model", False, envs, tuple(deploy_chain(envs)), ("app",)),
        )
    }


def promoter(env_names: Sequence[str]) -> str:
    """The environment whose identity may write the registry: staging (the first stage after dev otherwise)."""
    return "staging" if "staging" in env_names else deploy_chain(env_names)[0]


def _approval(team: Team) -> Approval | None:
    a = team.devops.approvals
    if not team.groups.approvers:
        return None
    return Approval(team.groups.approvers, a.minimum_approvers, a.timeout_minutes, a.instructions)


def _gates(team: Team, env: str, templates: RequiredTemplate, approval: Approval | None) -> tuple[Gate, ...]:
    """Checks of the Azure DevOps environment `env`: none on dev; main and the kit's templates on staging
    and prod; prod also an approval, an exclusive lock and the business-hours window when configured."""
    if env == "prod" and approval is None:
        raise ValueError("prod needs an approval (the config requires an approvers group)")
    gates: list[Gate] = []
    if env == "prod" and approval:
        gates.append(approval)
    if env in PROTECTED:
        gates += [BranchControl(), *([templates] if templates.paths else [])]
    if env == "prod":
        gates.append(ExclusiveLock(team.devops.approvals.timeout_minutes))
        hours = team.devops.business_hours
        if hours is not None:
            gates.append(BusinessHours(hours.start, hours.end, hours.time_zone, tuple(hours.days)))
    return tuple(gates)


def _connection_gates(env_gates: Sequence[Gate]) -> tuple[Gate, ...]:
    """A pipeline can use a connection without deploying to an environment (training does): the
    connection carries the environment's branch control, required template and approval too."""
    return tuple(g for g in env_gates if isinstance(g, Approval | BranchControl | RequiredTemplate))


def _environment(
    org: Org,
    team: Team,
    env: str,
    templates: RequiredTemplate,
    approval: Approval | None,
) -> EnvironmentPlan:
    # env: str until Team.env_names is typed with EnvName (the mypy `index` note in pyproject.toml).
    names, cfg = org.namer(team, env), team.environments[cast(EnvName, env)]
    rg = names.name("resource_group")
    gates = _gates(team, env, templates, approval)
    secrets = tuple(team.devops.key_vault_secrets)
    group = f"{team.name}-{env}"
    return EnvironmentPlan(
        name=env,
        subscription_id=cfg.subscription_id,
        names=names,
        profile=environment_profile(org, team, env),
        agent_pool=cfg.agent_pool,
        gates=gates,
        connection=ConnectionPlan(
            name=f"arm-{env}",
            subscription_name=f"{team.name}-{env}",
            identity=Identity(cfg.subscription_id, rg, names.name("user_assigned_identity", "pipelines")),
            credential_name=federated_credential_name(team.project_name, env),
            gates=_connection_gates(gates),
            variable_group=group,
            secret_group=f"{group}-secrets" if secrets else None,
            key_vault_secrets=secrets,
        ),
        trigger_identity=Identity(cfg.subscription_id, rg, names.name("user_assigned_identity", "trigger")),
    )


def _project(org: Org, team: Team) -> ProjectPlan:
    groups = {
        "data_scientists": team.groups.data_scientists,
        "app_developers": team.groups.app_developers,
        "approvers": team.groups.approvers,
    }
    return ProjectPlan(
        name=team.project_name,
        url=f"{org.platform.devops.organization_url.rstrip('/')}/{quote(team.project_name)}",
        description=f"{team.display_name}: models, app and their release (managed by mlops-kit)",
        wiki_name=f"{team.project_name}.wiki",
        features={str(k): str(v) for k, v in team.devops.features.items()},
        groups={k: v for k, v in groups.items() if v},
    )


def team_plan(org: Org, team: Team) -> TeamPlan:
    """The plan of `team`: everything its devops stack, diagram, wiki and seed files agree on."""
    envs: tuple[str, ...] = tuple(team.env_names)
    pipes = pipelines(team.name, envs)
    repos = {
        k: RepoPlan(k, repository_name(team.name, k), MAIN_REF, k == TEMPLATES) for k in ("model", "app", TEMPLATES)
    }
    approval = _approval(team)
    environments: dict[str, EnvironmentPlan] = {}
    for env in envs:
        extended = tuple(sorted({p.extends for p in pipes.values() if env in p.uses}))
        templates = RequiredTemplate(f"{team.project_name}/{TEMPLATES_REPOSITORY}", MAIN_REF, extended)
        environments[env] = _environment(org, team, env, templates, approval)
    shared = Namer(org.platform.naming_prefix, team.name, "shared")
    trig = team.triggers.training
    return TeamPlan(
        team=team.name,
        display_name=team.display_name,
        cost_center=team.cost_center,
        project=_project(org, team),
        repos=repos,
        pipelines=pipes,
        env_names=envs,
        environments=environments,
        deploy_targets=tuple(deploy_chain(envs)),
        registry=Registry(shared.name("ml_registry"), shared.name("resource_group"), promoter(envs)),
        trigger=TrainingTrigger(trig.filesystem, trig.prefix, trig.marker_suffix),
        min_reviewers=team.devops.min_reviewers,
    )
