"""Fixtures for the binding tests: one App synth, shared by the whole session.

The ``ado`` stack uses every azuredevops binding with realistic values (what a team's devops stack
looks like); the ``azapi`` stack holds an Azure ML registry. Both are synthesized once into a temp
``cdktf.out`` that the tests read and that ``tf-schema-check`` checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import App, TerraformOutput, TerraformResourceLifecycle, TerraformStack

from infra.bindings.azapi import AzapiProvider, AzapiResource, AzapiResourceIdentity, AzapiResourceRetry
from infra.bindings.azuredevops import (
    AzuredevopsProvider,
    BranchPolicyBuildValidation,
    BranchPolicyBuildValidationSettings,
    BranchPolicyBuildValidationSettingsScope,
    BranchPolicyMinReviewers,
    BranchPolicyMinReviewersSettings,
    BranchPolicyMinReviewersSettingsScope,
    BuildDefinition,
    BuildDefinitionCiTrigger,
    BuildDefinitionPermissions,
    BuildDefinitionRepository,
    BuildDefinitionVariable,
    CheckApproval,
    CheckBranchControl,
    CheckBusinessHours,
    CheckExclusiveLock,
    CheckRequiredTemplate,
    CheckRequiredTemplateRequiredTemplate,
    DataAzuredevopsClientConfig,
    DataAzuredevopsGroup,
    DataAzuredevopsProject,
    Environment,
    GitPermissions,
    GitRepository,
    GitRepositoryFile,
    GitRepositoryInitialization,
    Group,
    GroupMembership,
    PipelineAuthorization,
    Project,
    ProjectPermissions,
    ServiceendpointAzurerm,
    ServiceendpointAzurermCredentials,
    ServicePrincipalEntitlement,
    Timeouts,
    VariableGroup,
    VariableGroupKeyVault,
    VariableGroupVariable,
    Wiki,
    WikiPage,
)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
UAI_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
ENTRA_APPROVERS = "66666666-7777-8888-9999-000000000000"


def build_azuredevops_stack(stack: TerraformStack) -> None:
    """A team's devops stack: every azuredevops binding, wired the way the kit wires them."""
    AzuredevopsProvider(
        stack,
        "azuredevops",
        org_service_url="https://dev.azure.com/contoso",
        use_oidc=True,
        tenant_id=TENANT,
        client_id=UAI_CLIENT_ID,
    )
    current = DataAzuredevopsClientConfig(stack, "current")
    DataAzuredevopsProject(stack, "platform", name="platform")
    project = Project(
        stack,
        "project",
        name="team-a",
        description="MLOps project of team-a",
        visibility="private",
        version_control="Git",
        work_item_template="Agile",
        features={"boards": "disabled", "testplans": "disabled", "artifacts": "enabled"},
    )
    contributors = DataAzuredevopsGroup(stack, "contributors", project_id=project.id, name="Contributors")
    readers = DataAzuredevopsGroup(stack, "readers", project_id=project.id, name="Readers")
    repo = GitRepository(
        stack,
        "model_repo",
        project_id=project.id,
        name="team-a-model",
        initialization=GitRepositoryInitialization(init_type="Clean"),
        lifecycle=TerraformResourceLifecycle(ignore_changes=["initialization"]),
    )
    seed = GitRepositoryFile(
        stack,
        "model_ci_yaml",
        repository_id=repo.id,
        file="pipelines/model-ci.yml",
        content="trigger:\n  branches:\n    include: [main]\nsteps:\n  - script: pytest\n",
        branch="refs/heads/main",
        commit_message="Seed model-ci pipeline [skip ci]",
        overwrite_on_create=True,
    )
    connection = ServiceendpointAzurerm(
        stack,
        "arm_prod",
        project_id=project.id,
        service_endpoint_name="team-a-prod",
        description="Workload identity federation, no secret",
        service_endpoint_authentication_scheme="WorkloadIdentityFederation",
        azurerm_spn_tenantid=current.tenant_id,
        azurerm_subscription_id=SUBSCRIPTION,
        azurerm_subscription_name="team-a-prod",
        credentials=ServiceendpointAzurermCredentials(serviceprincipalid=UAI_CLIENT_ID),
    )
    variables = VariableGroup(
        stack,
        "prod_vars",
        project_id=project.id,
        name="team-a-prod",
        description="Values from Key Vault kv-team-a-prod",
        allow_access=False,
        key_vault=VariableGroupKeyVault(name="kv-team-a-prod", service_endpoint_id=connection.id),
        variable=[VariableGroupVariable(name="storage-account-name"), VariableGroupVariable(name="aml-workspace")],
    )
    build = BuildDefinition(
        stack,
        "model_ci",
        project_id=project.id,
        name="model-ci",
        path="\\MLOps",
        repository=BuildDefinitionRepository(
            repo_type="TfsGit",
            repo_id=repo.id,
            branch_name=repo.default_branch,
            yml_path="pipelines/model-ci.yml",
        ),
        ci_trigger=BuildDefinitionCiTrigger(use_yaml=True),
        variable_groups=[variables.id],
        variable=[BuildDefinitionVariable(name="MODEL_NAME", value="churn", allow_override=False)],
        depends_on=[seed],
    )
    BuildDefinitionPermissions(
        stack,
        "model_ci_permissions",
        project_id=project.id,
        build_definition_id=build.id,
        principal=readers.descriptor,
        permissions={"ViewBuilds": "Allow", "EditBuildDefinition": "Deny"},
    )
    prod = Environment(stack, "env_prod", project_id=project.id, name="prod", description="Production")
    approvers = Group(stack, "approvers", origin_id=ENTRA_APPROVERS)
    engineers = Group(
        stack,
        "ml_engineers",
        scope_=project.id,
        display_name="ML Engineers",
        description="Team members who train models",
    )
    GroupMembership(stack, "engineers_contribute", group=contributors.descriptor, members=[engineers.descriptor])
    CheckApproval(
        stack,
        "prod_approval",
        project_id=project.id,
        target_resource_id=prod.id,
        target_resource_type="environment",
        approvers=[approvers.origin_id],
        minimum_required_approvers=1,
        requester_can_approve=False,
        instructions="Check the model card and the evaluation report.",
        timeout=1440,
        timeouts=Timeouts(create="5m"),
    )
    CheckBranchControl(
        stack,
        "prod_branch",
        project_id=project.id,
        target_resource_id=prod.id,
        target_resource_type="environment",
        display_name="main only",
        allowed_branches="refs/heads/main",
        verify_branch_protection=True,
        ignore_unknown_protection_status=False,
    )
    CheckBusinessHours(
        stack,
        "prod_hours",
        project_id=project.id,
        target_resource_id=prod.id,
        target_resource_type="environment",
        display_name="Office hours",
        start_time="07:00",
        end_time="19:00",
        time_zone="UTC",
        monday=True,
        tuesday=True,
        wednesday=True,
        thursday=True,
        friday=True,
    )
    CheckExclusiveLock(
        stack,
        "prod_lock",
        project_id=project.id,
        target_resource_id=prod.id,
        target_resource_type="environment",
        timeout=43200,
    )
    CheckRequiredTemplate(
        stack,
        "prod_template",
        project_id=project.id,
        target_resource_id=prod.id,
        target_resource_type="environment",
        required_template=[
            CheckRequiredTemplateRequiredTemplate(
                repository_name="team-a/mlops-templates", repository_ref="refs/heads/main", template_path="release.yml"
            )
        ],
    )
    GitPermissions(
        stack,
        "templates_read_only",
        project_id=project.id,
        repository_id=repo.id,
        principal=readers.descriptor,
        permissions={"GenericContribute": "Deny"},
        replace=False,
    )
    PipelineAuthorization(
        stack,
        "model_ci_prod",
        project_id=project.id,
        resource_id=prod.id,
        type="environment",
        pipeline_id=build.id,
    )
    BranchPolicyBuildValidation(
        stack,
        "model_ci_gate",
        project_id=project.id,
        enabled=True,
        blocking=True,
        settings=BranchPolicyBuildValidationSettings(
            display_name="model-ci must pass",
            build_definition_id=build.id,
            valid_duration=720,
            filename_patterns=["/src/*", "!/docs/*"],
            scope=[
                BranchPolicyBuildValidationSettingsScope(
                    repository_id=repo.id, repository_ref=repo.default_branch, match_type="Exact"
                )
            ],
        ),
    )
    BranchPolicyMinReviewers(
        stack,
        "model_reviewers",
        project_id=project.id,
        settings=BranchPolicyMinReviewersSettings(
            reviewer_count=1,
            submitter_can_vote=False,
            last_pusher_cannot_approve=True,
            on_push_reset_approved_votes=True,
            scope=[
                BranchPolicyMinReviewersSettingsScope(
                    repository_id=repo.id, repository_ref=repo.default_branch, match_type="Exact"
                )
            ],
        ),
    )
    ServicePrincipalEntitlement(
        stack, "trigger_function", origin_id=UAI_CLIENT_ID, origin="aad", account_license_type="express"
    )
    ProjectPermissions(
        stack,
        "readers_no_delete",
        project_id=project.id,
        principal=readers.descriptor,
        permissions={"DELETE": "Deny", "GENERIC_READ": "Allow"},
    )
    wiki = Wiki(stack, "wiki", project_id=project.id, name="team-a.wiki", type="projectWiki")
    WikiPage(stack, "runbook", project_id=project.id, wiki_id=wiki.id, path="/Runbook", content="# Runbook\n")


def build_azapi_stack(stack: TerraformStack) -> None:
    """The team's shared stack: an Azure ML registry through azapi."""
    AzapiProvider(stack, "azapi", use_oidc=True, subscription_id=SUBSCRIPTION, tenant_id=TENANT)
    parent = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-team-a-shared"
    registry = AzapiResource(
        stack,
        "registry",
        type="Microsoft.MachineLearningServices/registries@2025-06-01",
        name="mlreg-team-a",
        parent_id=parent,
        location="westeurope",
        identity=AzapiResourceIdentity(type="SystemAssigned"),
        body={
            "properties": {
                "publicNetworkAccess": "Disabled",
                "regionDetails": [
                    {
                        "location": "westeurope",
                        "acrDetails": [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}],
                        "storageAccountDetails": [
                            {
                                "systemCreatedStorageAccount": {
                                    "storageAccountType": "Standard_LRS",
                                    "storageAccountHnsEnabled": False,
                                    "allowBlobPublicAccess": False,
                                }
                            }
                        ],
                    }
                ],
            }
        },
        tags={"team": "team-a", "managed-by": "mlops-kit"},
        response_export_values=["properties.discoveryUrl", "properties.mlFlowRegistryUri"],
        schema_validation_enabled=True,
        locks=[parent],
        retry=AzapiResourceRetry(error_message_regex=["ScopeLocked"], interval_seconds=10),
        lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
    )
    AzapiResource(
        stack,
        "registry_tag",
        type="Microsoft.Resources/tags@2021-04-01",
        name="default",
        parent_id=registry.id,
        body={"properties": {"tags": {"discovery": registry.output_value("properties.discoveryUrl")}}},
        response_export_values={"tag_names": "properties.tags"},
    )
    TerraformOutput(stack, "registry_principal_id", value=registry.identity_principal_id)


@pytest.fixture(scope="session")
def bindings_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdktf.out")
    app = App(outdir=str(outdir))
    build_azuredevops_stack(TerraformStack(app, "ado"))
    build_azapi_stack(TerraformStack(app, "azapi"))
    app.synth()
    return outdir


def _stack_json(bindings_out: Path, name: str) -> dict[str, Any]:
    return json.loads((bindings_out / "stacks" / name / "cdk.tf.json").read_text())


@pytest.fixture(scope="session")
def ado_doc(bindings_out: Path) -> dict[str, Any]:
    """Terraform JSON of the stack that uses every azuredevops binding."""
    return _stack_json(bindings_out, "ado")


@pytest.fixture(scope="session")
def azapi_doc(bindings_out: Path) -> dict[str, Any]:
    """Terraform JSON of the azapi stack."""
    return _stack_json(bindings_out, "azapi")
