"""The team's four YAML pipelines: build definitions, and exactly the resources each may use.

Which pipeline lives in which repo and file, and which service connections, variable groups,
environments and repositories it uses, is the plan's (`infra.plan.PipelinePlan`); this construct
creates the build definitions and their pipeline authorizations (so a first run never stalls on a
"permit" click) from it. Every pipeline is also authorized for the kit templates repo its YAML `extends`.

Repository authorizations pass the repository id alone: the provider prefixes `<project id>.`
itself (`resource_pipeline_authorization.go`, v1.16.0, since PR #883).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from infra.bindings import azuredevops as ado
from infra.plan import TEMPLATES, PipelinePlan


@dataclass(frozen=True)
class PipelinesProps:
    project_id: str
    pipelines: Sequence[PipelinePlan]
    repositories: Mapping[str, ado.GitRepository]  # by repo key, the templates repo included
    environments: Mapping[str, ado.Environment]  # Azure DevOps environments by kit env name
    connections: Mapping[str, ado.ServiceendpointAzurerm]
    variable_groups: Mapping[str, ado.VariableGroup]
    secret_groups: Mapping[str, ado.VariableGroup] = field(default_factory=dict)  # Key Vault-linked
    seeded: Mapping[str, Sequence[ado.GitRepositoryFile]] = field(default_factory=dict)  # repo key -> files


class Pipelines(Construct):
    """Build definitions in the plan's folder (`\\<team>`), each authorized for exactly what its YAML uses."""

    def __init__(self, scope: Construct, id_: str, props: PipelinesProps):
        super().__init__(scope, id_)
        self.definitions: dict[str, ado.BuildDefinition] = {}
        for spec in props.pipelines:
            repo = props.repositories[spec.repo]
            definition = ado.BuildDefinition(
                self,
                spec.key.replace("-", "_"),
                project_id=props.project_id,
                name=spec.name,
                path=spec.folder,
                repository=ado.BuildDefinitionRepository(
                    repo_type="TfsGit", repo_id=repo.id, branch_name=spec.branch, yml_path=spec.yaml_path
                ),
                ci_trigger=ado.BuildDefinitionCiTrigger(use_yaml=True),
                job_authorization_scope="project",  # the job token reaches this project only
                # After the seeded files (its own repo's and the kit templates it extends): the YAML
                # exists, and seeding starts no run.
                depends_on=[repo, *props.seeded.get(spec.repo, ()), *props.seeded.get(TEMPLATES, ())],
            )
            self.definitions[spec.key] = definition
            self._authorize(props, spec, definition)

    def _authorize(self, props: PipelinesProps, spec: PipelinePlan, definition: ado.BuildDefinition) -> None:
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
        if TEMPLATES in props.repositories:
            resources.append(("repository_templates", "repository", props.repositories[TEMPLATES].id))
        for id_, kind, resource_id in resources:
            ado.PipelineAuthorization(
                self,
                f"{spec.key.replace('-', '_')}_{id_}",
                project_id=props.project_id,
                type=kind,
                resource_id=resource_id,
                pipeline_id=definition.id,
            )
