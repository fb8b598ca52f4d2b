"""Stack `<team>-devops`: the team's Azure DevOps project, where model and app work meet.

Deploy order: `<team>-<env>` stacks first (they create the pipeline identities, the resource
groups and the trigger functions' identities), then this stack, which looks those identities up by
their deterministic names. `build_app` records the order with stack dependencies, so
`cdktf deploy '<team>-*'` applies the stacks in that order.

Everything here comes from the team's plan (infra/plan.py), computed once; the seed files are
rendered from it too (infra/seeds.py). Repositories: the team repos are seeded once; the kit-owned pipeline logic lives in the project's
`mlops-templates` repo (updated by every kit upgrade) that the team pipelines `extends`. The
protected environments and connections accept only runs that extend those templates.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from infra.bindings import azapi
from infra.bindings import azuredevops as ado
from infra.config import Org, Team
from infra.devops_access import TriggerAccess, TriggerAccessProps
from infra.devops_project import DevopsProject
from infra.diagram import plan_page
from infra.environments import EnvironmentsProps, GatedEnvironments
from infra.ml_workspace import COMPUTE_CLUSTER_NAME
from infra.pipelines import Pipelines, PipelinesProps
from infra.plan import EnvironmentPlan, TeamPlan, team_plan
from infra.repos import BranchPoliciesProps, MainBranchPolicies, ReposProps, TeamRepos
from infra.seeds import render_seeds
from infra.service_connections import ServiceConnections, ServiceConnectionsProps, read_identity
from infra.wiki import ProjectWiki, ProjectWikiProps
from stacks.backend import use_backend


def pipeline_variables(plan: TeamPlan, env: EnvironmentPlan) -> dict[str, str]:
    """The non-secret settings every pipeline of `env` reads from its variable group.

    TRAINING_DATA_ROOT is the only lake folder training may read in `env` (its own lake, the
    trigger's filesystem and prefix): the pipelines refuse a `dataPath` outside it.
    """
    names, trig = env.names, plan.trigger
    lake = names.name("data_lake")
    return {
        "ENVIRONMENT": env.name,
        "AZURE_SUBSCRIPTION_ID": env.subscription_id,
        "AZURE_RESOURCE_GROUP": names.name("resource_group"),
        "AML_WORKSPACE": names.name("ml_workspace"),
        "AML_COMPUTE": COMPUTE_CLUSTER_NAME,
        "AML_ENDPOINT": names.name("ml_endpoint"),
        "AML_REGISTRY": plan.registry.name,
        "AML_REGISTRY_RESOURCE_GROUP": plan.registry.resource_group,
        "DATA_LAKE_ACCOUNT": lake,
        "TRAINING_DATA_ROOT": f"abfss://{trig.filesystem}@{lake}.dfs.core.windows.net/{trig.prefix}",
        "CONTAINER_REGISTRY": names.name("container_registry"),
        "KEY_VAULT": names.name("key_vault"),
    }


class DevopsStack(TerraformStack):
    """The team's Azure DevOps project: repos, gated environments, connections, pipelines, policies, wiki.

    Everything it creates is read from one `team_plan(org, team)`; the diagram and the wiki page draw
    the same plan, so what the page shows is what this stack applied.
    """

    def __init__(
        self, scope: Construct, name: str, org: Org, team: Team, files: Mapping[str, Mapping[str, str]] | None = None
    ):
        """`files` overrides the seed files (`infra.seeds.render_seeds`), for tests of the repository wiring."""
        super().__init__(scope, name)
        self.plan = plan = team_plan(org, team)
        self._providers(name, org)
        project = DevopsProject(self, "project", plan.project)
        pid = project.project.id
        seeds = dict(render_seeds(plan, team) if files is None else files)
        repos = TeamRepos(
            self,
            "repos",
            ReposProps(
                project_id=pid, repos=list(plan.repos.values()), files=seeds, contributors_group=project.contributors.id
            ),
        )
        approvers = project.entra_groups.get("approvers")
        # The Azure DevOps identity id of the group; the Checks API rejects Entra object ids.
        approver_ids = [approvers.group_id] if approvers else []
        envs = list(plan.environments.values())
        environments = GatedEnvironments(self, "environments", EnvironmentsProps(pid, envs, approver_ids))
        connections = ServiceConnections(
            self,
            "service_connections",
            ServiceConnectionsProps(
                team=plan.team,
                project_id=pid,
                tenant_id=org.platform.tenant_id,
                environments=envs,
                variables={env.name: pipeline_variables(plan, env) for env in envs},
                approver_ids=approver_ids,
            ),
        )
        pipelines = Pipelines(
            self,
            "pipelines",
            PipelinesProps(
                project_id=pid,
                pipelines=list(plan.pipelines.values()),
                repositories=repos.repositories,
                environments=environments.environments,
                connections=connections.connections,
                variable_groups=connections.variable_groups,
                secret_groups=connections.secret_groups,
                seeded={key: tuple(files) for key, files in repos.files.items()},
            ),
        )
        self._branch_policies(pid, repos, pipelines)
        self._trigger_access(pid, pipelines)
        ProjectWiki(
            self, "wiki", ProjectWikiProps(project_id=pid, content=plan_page(plan), wiki_name=plan.project.wiki_name)
        )
        self._outputs(pid, repos)

    def _providers(self, name: str, org: Org) -> None:
        use_backend(self, name, org.platform)
        ado.AzuredevopsProvider(self, "azuredevops", org_service_url=org.platform.devops.organization_url)
        # Identities in each environment's subscription are read by full resource id through azapi,
        # so one provider block reaches them all (no azurerm provider alias per subscription).
        azapi.AzapiProvider(self, "azapi", tenant_id=org.platform.tenant_id)

    def _outputs(self, pid: str, repos: TeamRepos) -> None:
        TerraformOutput(self, "project_id", value=pid)
        for key, repo in repos.repositories.items():
            TerraformOutput(self, f"{key}_repository_url", value=repo.web_url)

    def _branch_policies(self, pid: str, repos: TeamRepos, pipelines: Pipelines) -> None:
        """Pull requests to main: reviewers and the validating pipeline, per repo whose pipeline validates PRs."""
        for spec in self.plan.pipelines.values():
            if spec.validates_pull_requests:
                MainBranchPolicies(
                    self,
                    f"{spec.repo}_main_policies",
                    BranchPoliciesProps(
                        project_id=pid,
                        repository=repos.repositories[spec.repo],
                        build_definition=pipelines.definitions[spec.key],
                        min_reviewers=self.plan.min_reviewers,
                        branch=self.plan.repos[spec.repo].default_branch,
                        seeded=tuple(repos.files[spec.repo]),
                    ),
                )

    def _trigger_access(self, pid: str, pipelines: Pipelines) -> None:
        """Each environment's trigger function identity, looked up by name, may queue training and release only."""
        plan = self.plan
        principals = {
            env.name: read_identity(
                self, f"trigger_identity_{env.name}", env.trigger_identity.resource_id
            ).output_value("properties.principalId")
            for env in plan.environments.values()
        }
        TriggerAccess(
            self,
            "trigger_access",
            TriggerAccessProps(
                team=plan.team,
                project_id=pid,
                trigger_principal_ids=principals,
                queueable={k: pipelines.definitions[k] for k in plan.queued_by_trigger},
            ),
        )
