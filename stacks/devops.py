"""Stack `<team>-devops`: the team's Azure DevOps project, where model and app work meet.

Deploy order: `<team>-<env>` stacks first (they create the pipeline identities, the resource
groups and the trigger functions' identities), then this stack, which looks those identities up by
their deterministic names. `build_app` records the order with stack dependencies, so
`cdktf deploy '<team>-*'` applies the stacks in that order.

Repositories: the team repos are seeded once; the kit-owned pipeline logic lives in the project's
`mlops-templates` repo (updated by every kit upgrade) that the team pipelines `extends`. The
protected environments and connections accept only runs that extend those templates.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml
from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from infra.bindings import azapi
from infra.bindings import azuredevops as ado
from infra.config import Org, Team
from infra.devops_access import TriggerAccess, TriggerAccessProps
from infra.devops_project import DevopsProject, DevopsProjectProps
from infra.diagram import wiki_page
from infra.environments import Approval, BusinessHours, EnvironmentsProps, GatedEnvironments, TemplateGate
from infra.ml_workspace import COMPUTE_CLUSTER_NAME
from infra.naming import TEMPLATES_REPOSITORY, Namer
from infra.pipelines import Pipelines, PipelineSpec, PipelinesProps, pipeline_specs
from infra.repos import (
    MAIN,
    TEMPLATES,
    BranchPoliciesProps,
    MainBranchPolicies,
    ReposProps,
    TeamRepos,
)
from infra.service_connections import (
    EnvironmentTarget,
    ServiceConnections,
    ServiceConnectionsProps,
    identity_id,
    read_identity,
)
from infra.wiki import ProjectWiki, ProjectWikiProps
from stacks.backend import use_backend
from stacks.seed_files import seed_files


def pipeline_variables(org: Org, team: Team, env: str) -> dict[str, str]:
    """The non-secret settings every pipeline of `env` reads from its variable group.

    TRAINING_DATA_ROOT is the only lake folder training may read in `env` (its own lake, the
    trigger's filesystem and prefix): the pipelines refuse a `dataPath` outside it.
    """
    names, shared = org.namer(team, env), Namer(org.platform.naming_prefix, team.name, "shared")
    trig = team.triggers.training
    lake = names.name("data_lake")
    return {
        "ENVIRONMENT": env,
        "AZURE_SUBSCRIPTION_ID": team.environments[env].subscription_id,
        "AZURE_RESOURCE_GROUP": names.name("resource_group"),
        "AML_WORKSPACE": names.name("ml_workspace"),
        "AML_COMPUTE": COMPUTE_CLUSTER_NAME,
        "AML_ENDPOINT": names.name("ml_endpoint"),
        "AML_REGISTRY": shared.name("ml_registry"),
        "AML_REGISTRY_RESOURCE_GROUP": shared.name("resource_group"),
        "DATA_LAKE_ACCOUNT": lake,
        "TRAINING_DATA_ROOT": f"abfss://{trig.filesystem}@{lake}.dfs.core.windows.net/{trig.prefix}",
        "CONTAINER_REGISTRY": names.name("container_registry"),
        "KEY_VAULT": names.name("key_vault"),
    }


def extended_templates(files: Mapping[str, Mapping[str, str]], specs: list[PipelineSpec]) -> dict[str, tuple[str, ...]]:
    """{kit env: template paths} that the team pipelines using that env `extends` from the templates repo.

    Read from the seeded YAML itself (`extends: {template: <path>@templates}`), so the required-template
    checks name exactly what the pipelines extend; a pipeline that extends nothing adds nothing.
    """
    suffix = f"@{TEMPLATES}"
    used: dict[str, set[str]] = {}
    for spec in specs:
        text = files.get(spec.repo, {}).get(spec.yaml_path)
        doc = yaml.safe_load(text) if text else None
        template = (doc.get("extends") or {}).get("template", "") if isinstance(doc, dict) else ""
        if isinstance(template, str) and template.endswith(suffix):
            for env in {*spec.environments, *spec.deploys_to}:
                used.setdefault(env, set()).add(template[: -len(suffix)])
    return {env: tuple(sorted(paths)) for env, paths in sorted(used.items())}


class DevopsStack(TerraformStack):
    """The team's Azure DevOps project: repos, gated environments, connections, pipelines, policies, wiki."""

    def __init__(
        self, scope: Construct, name: str, org: Org, team: Team, files: Mapping[str, Mapping[str, str]] | None = None
    ):
        """`files` overrides the seed files (`seed_files(org, team)`), for tests of the repository wiring."""
        super().__init__(scope, name)
        self._org, self._team = org, team
        platform = org.platform
        use_backend(self, name, platform)
        ado.AzuredevopsProvider(self, "azuredevops", org_service_url=platform.devops.organization_url)
        # Identities in each environment's subscription are read by full resource id through azapi,
        # so one provider block reaches them all (no azurerm provider alias per subscription).
        azapi.AzapiProvider(self, "azapi", tenant_id=platform.tenant_id)

        project = self._project()
        pid = project.project.id
        seeds = dict(seed_files(org, team, templates_repo=TEMPLATES_REPOSITORY) if files is None else files)
        seeds.setdefault(TEMPLATES, {})  # the templates repo exists even before the kit seeds templates into it
        repos = TeamRepos(
            self,
            "repos",
            ReposProps(team=team.name, project_id=pid, files=seeds, contributors_group=project.contributors.id),
        )
        specs = pipeline_specs(team.env_names)
        gate = TemplateGate(
            repository=f"{team.project_name}/{TEMPLATES_REPOSITORY}", ref=MAIN, paths=extended_templates(seeds, specs)
        )
        approval = self._approval(project)
        environments = self._environments(pid, approval, gate)
        connections = self._connections(pid, approval, gate)
        pipelines = self._pipelines(pid, repos, specs, environments, connections)
        self._branch_policies(pid, repos, specs, pipelines)
        self._trigger_access(pid, pipelines)
        ProjectWiki(
            self,
            "wiki",
            ProjectWikiProps(project_id=pid, content=wiki_page(org, team), wiki_name=f"{team.project_name}.wiki"),
        )
        TerraformOutput(self, "project_id", value=pid)
        for key, repo in repos.repositories.items():
            TerraformOutput(self, f"{key}_repository_url", value=repo.web_url)

    def _project(self) -> DevopsProject:
        team = self._team
        return DevopsProject(
            self,
            "project",
            DevopsProjectProps(
                name=team.project_name,
                description=f"{team.display_name}: models, app and their release (managed by mlops-kit)",
                features=team.devops.features,
                data_scientists_group_id=team.groups.data_scientists,
                app_developers_group_id=team.groups.app_developers,
                approvers_group_id=team.groups.approvers,
            ),
        )

    def _approval(self, project: DevopsProject) -> Approval | None:
        """The prod approval by the approvers group; None without the group (config requires it with prod)."""
        approvers = project.entra_groups.get("approvers")
        if not approvers:
            return None
        approvals = self._team.devops.approvals
        return Approval(
            # The Azure DevOps identity id of the group; the Checks API rejects Entra object ids.
            approver_ids=[approvers.group_id],
            minimum_approvers=approvals.minimum_approvers,
            timeout_minutes=approvals.timeout_minutes,
            instructions=approvals.instructions,
        )

    def _environments(self, pid: str, approval: Approval | None, gate: TemplateGate) -> GatedEnvironments:
        hours = self._team.devops.business_hours
        return GatedEnvironments(
            self,
            "environments",
            EnvironmentsProps(
                project_id=pid,
                env_names=self._team.env_names,
                approval=approval,
                business_hours=BusinessHours(hours.start, hours.end, hours.time_zone, hours.days) if hours else None,
                templates=gate,
            ),
        )

    def _connections(self, pid: str, approval: Approval | None, gate: TemplateGate) -> ServiceConnections:
        org, team = self._org, self._team
        return ServiceConnections(
            self,
            "service_connections",
            ServiceConnectionsProps(
                team=team.name,
                project_id=pid,
                project_name=team.project_name,
                tenant_id=org.platform.tenant_id,
                targets=[
                    EnvironmentTarget(
                        env=env,
                        subscription_id=team.environments[env].subscription_id,
                        resource_group_name=org.namer(team, env).name("resource_group"),
                        identity_name=org.namer(team, env).name("user_assigned_identity", "pipelines"),
                        key_vault_name=org.namer(team, env).name("key_vault"),
                        variables=pipeline_variables(org, team, env),
                        key_vault_secrets=team.devops.key_vault_secrets,
                    )
                    for env in team.env_names
                ],
                prod_approval=approval,
                templates=gate,
            ),
        )

    def _pipelines(
        self,
        pid: str,
        repos: TeamRepos,
        specs: list[PipelineSpec],
        environments: GatedEnvironments,
        connections: ServiceConnections,
    ) -> Pipelines:
        return Pipelines(
            self,
            "pipelines",
            PipelinesProps(
                team=self._team.name,
                project_id=pid,
                repositories=repos.repositories,
                specs=specs,
                branch=MAIN,
                environments=environments.environments,
                connections=connections.connections,
                variable_groups=connections.variable_groups,
                secret_groups=connections.secret_groups,
                templates=repos.repositories[TEMPLATES],
                seeded={key: tuple(files) for key, files in repos.files.items()},
            ),
        )

    def _branch_policies(self, pid: str, repos: TeamRepos, specs: list[PipelineSpec], pipelines: Pipelines) -> None:
        """Pull requests to main: reviewers and the validating pipeline, per repo whose pipeline validates PRs."""
        for spec in specs:
            if spec.validates_pull_requests:
                MainBranchPolicies(
                    self,
                    f"{spec.repo}_main_policies",
                    BranchPoliciesProps(
                        project_id=pid,
                        repository=repos.repositories[spec.repo],
                        build_definition=pipelines.definitions[spec.key],
                        min_reviewers=self._team.devops.min_reviewers,
                        seeded=tuple(repos.files[spec.repo]),
                    ),
                )

    def _trigger_access(self, pid: str, pipelines: Pipelines) -> None:
        """Each environment's trigger function identity, looked up by name, may queue training and release only."""
        org, team = self._org, self._team
        trigger_identities = {
            env: read_identity(
                self,
                f"trigger_identity_{env}",
                identity_id(
                    team.environments[env].subscription_id,
                    org.namer(team, env).name("resource_group"),
                    org.namer(team, env).name("user_assigned_identity", "trigger"),
                ),
            ).output_value("properties.principalId")
            for env in team.env_names
        }
        TriggerAccess(
            self,
            "trigger_access",
            TriggerAccessProps(
                team=team.name,
                project_id=pid,
                trigger_principal_ids=trigger_identities,
                queueable={k: pipelines.definitions[k] for k in ("training", "release")},
            ),
        )
