"""The team's four YAML pipelines: build definitions, and exactly the resources each may use.

`pipeline_specs` is the single table of which pipeline lives in which repo and file, and which
service connections, variable groups, environments and repositories it uses. The build
definitions, their pipeline authorizations (so a first run never stalls on a "permit" click) and
the tests that cross-check the seeded YAML all read it. Every pipeline is also authorized for the
kit templates repo its YAML `extends`.

Repository authorizations pass the repository id alone: the provider prefixes `<project id>.`
itself (`resource_pipeline_authorization.go`, v1.16.0, since PR #883).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from infra.bindings import azuredevops as ado


@dataclass(frozen=True)
class PipelineSpec:
    key: str  # model-ci, app-ci, training, release
    repo: str  # "model" or "app"
    yaml_path: str
    validates_pull_requests: bool  # the repo's build-validation pipeline
    environments: tuple[str, ...]  # kit environments whose service connection + variable group it uses
    deploys_to: tuple[str, ...] = ()  # Azure DevOps environments (deployment jobs)
    checks_out: tuple[str, ...] = ()  # other repos of the project it reads


def deploy_chain(env_names: Sequence[str]) -> list[str]:
    """Environments the release deploys to, in order: everything after dev (dev alone if that is all)."""
    later = [e for e in env_names if e != "dev"]
    return later or list(env_names[:1])


def pipeline_specs(env_names: Sequence[str]) -> list[PipelineSpec]:
    envs = tuple(env_names)
    return [
        # model-ci only tests (nothing reaches Azure): no connection, no variable group.
        PipelineSpec("model-ci", "model", "pipelines/model-ci.yml", True, (), (), ("app",)),
        PipelineSpec("training", "model", "pipelines/training.yml", False, envs),
        PipelineSpec("release", "model", "pipelines/release.yml", False, envs, tuple(deploy_chain(envs)), ("app",)),
        PipelineSpec("app-ci", "app", "pipelines/app-ci.yml", True, ("dev",)),
    ]


def pipeline_name(team: str, key: str) -> str:
    return f"{team}-{key}"


def pipeline_folder(team: str) -> str:
    return "\\" + team


def connection_name(env: str) -> str:
    return f"arm-{env}"


def variable_group_name(team: str, env: str) -> str:
    return f"{team}-{env}"


@dataclass(frozen=True)
class PipelinesProps:
    team: str
    project_id: str
    repositories: Mapping[str, ado.GitRepository]  # "model" / "app"
    specs: Sequence[PipelineSpec]
    branch: str
    environments: Mapping[str, ado.Environment]  # Azure DevOps environments by kit env name
    connections: Mapping[str, ado.ServiceendpointAzurerm]
    variable_groups: Mapping[str, ado.VariableGroup]
    secret_groups: Mapping[str, ado.VariableGroup] = field(default_factory=dict)  # Key Vault-linked
    templates: ado.GitRepository | None = None  # the kit templates repo every pipeline extends
    seeded: Mapping[str, Sequence[ado.GitRepositoryFile]] = field(default_factory=dict)  # repo key -> files


class Pipelines(Construct):
    """Build definitions in folder `\\<team>`, each authorized for exactly what its YAML uses."""

    def __init__(self, scope: Construct, id_: str, props: PipelinesProps):
        super().__init__(scope, id_)
        self.definitions: dict[str, ado.BuildDefinition] = {}
        for spec in props.specs:
            repo = props.repositories[spec.repo]
            definition = ado.BuildDefinition(
                self,
                spec.key.replace("-", "_"),
                project_id=props.project_id,
                name=pipeline_name(props.team, spec.key),
                path=pipeline_folder(props.team),
                repository=ado.BuildDefinitionRepository(
                    repo_type="TfsGit", repo_id=repo.id, branch_name=props.branch, yml_path=spec.yaml_path
                ),
                ci_trigger=ado.BuildDefinitionCiTrigger(use_yaml=True),
                job_authorization_scope="project",  # the job token reaches this project only
                # After the seeded files (its own repo's and the kit templates it extends): the YAML
                # exists, and seeding starts no run.
                depends_on=[repo, *props.seeded.get(spec.repo, ()), *props.seeded.get("templates", ())],
            )
            self.definitions[spec.key] = definition
            self._authorize(props, spec, definition)

    def _authorize(self, props: PipelinesProps, spec: PipelineSpec, definition: ado.BuildDefinition) -> None:
        resources: list[tuple[str, str, str]] = []  # (construct id, type, resource id)
        for env in spec.environments:
            resources.append((f"endpoint_{env}", "endpoint", props.connections[env].id))
            resources.append((f"variablegroup_{env}", "variablegroup", props.variable_groups[env].id))
            if env in props.secret_groups:
                resources.append((f"secretgroup_{env}", "variablegroup", props.secret_groups[env].id))
        for env in spec.deploys_to:
            resources.append((f"environment_{env}", "environment", props.environments[env].id))
        for repo in spec.checks_out:
            resources.append((f"repository_{repo}", "repository", props.repositories[repo].id))
        if props.templates is not None:
            resources.append(("repository_templates", "repository", props.templates.id))
        for id_, kind, resource_id in resources:
            ado.PipelineAuthorization(
                self,
                f"{spec.key.replace('-', '_')}_{id_}",
                project_id=props.project_id,
                type=kind,
                resource_id=resource_id,
                pipeline_id=definition.id,
            )
