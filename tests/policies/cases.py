"""Small stacks, synthesized through cdktf, that pass or fail each of the kit's checks on purpose.

Every resource that a check judges is listed in EXPECTED as (stack, address, check id, verdict), so
one synth and one scan of all the stacks test every check both ways. Resources are built with the
real bindings (infra.bindings) and the prebuilt azurerm classes; misconfigurations the typed
bindings refuse to express (a secret in a service connection, a secret_value) are injected with
cdktf's escape hatch, `add_override`, exactly as a careless change would.
"""

from __future__ import annotations

from pathlib import Path

from cdktf import App, TerraformResourceLifecycle, TerraformStack

from infra.bindings import azapi
from infra.bindings import azuredevops as ado
from infra.suppressions import METADATA_KEY, SUPPRESSIONS_KEY, Reason, suppress

PASSED, FAILED, SKIPPED = "PASSED", "FAILED", "SKIPPED"
PROTECTED = TerraformResourceLifecycle(prevent_destroy=True)
MAIN = "refs/heads/main"
RG = "rg-policy-cases"
WHERE = {"location": "westeurope", "resource_group_name": RG}

EXPECTED: list[tuple[str, str, str, str]] = []
"""(stack, resource address, check id, PASSED|FAILED|SKIPPED) for every judged case."""
NOT_JUDGED: list[tuple[str, str, str]] = []
"""(stack, address, check id): resources a check must ignore (no record at all)."""


def expect(stack: str, address: str, check_id: str, verdict: str) -> None:
    EXPECTED.append((stack, address, check_id, verdict))


# -- Azure DevOps ------------------------------------------------------------------------------


def _min_reviewers(s, id_, project, repo, count, ref=MAIN, **kw):
    scope = ado.BranchPolicyMinReviewersSettingsScope(repository_id=repo.id if repo else None, repository_ref=ref,
                                                      match_type="Exact")
    return ado.BranchPolicyMinReviewers(
        s, id_, project_id=project.id,
        settings=ado.BranchPolicyMinReviewersSettings(reviewer_count=count, scope=[scope]), **kw)


def _build_validation(s, id_, project, repo, ref=MAIN, match_type="Exact", **kw):
    scope = ado.BranchPolicyBuildValidationSettingsScope(
        repository_id=repo.id if repo else None, repository_ref=ref if match_type == "Exact" else None,
        match_type=match_type)
    return ado.BranchPolicyBuildValidation(
        s, id_, project_id=project.id,
        settings=ado.BranchPolicyBuildValidationSettings(build_definition_id=42, display_name="ci", scope=[scope]), **kw)


def devops_stack(app: App, name: str = "case-ado") -> None:
    s = TerraformStack(app, name)
    ado.AzuredevopsProvider(s, "azuredevops", org_service_url="https://dev.azure.com/contoso")

    project = ado.Project(s, "project_default", name="team")  # visibility absent = private
    expect(name, "azuredevops_project.project_default", "CKV_MLK_9", PASSED)
    other = ado.Project(s, "project_private", name="other", visibility="private")
    expect(name, "azuredevops_project.project_private", "CKV_MLK_9", PASSED)
    ado.Project(s, "project_public", name="open", visibility="public")
    expect(name, "azuredevops_project.project_public", "CKV_MLK_9", FAILED)

    def repo(id_, project_=project, **kw):
        return ado.GitRepository(s, id_, name=id_, project_id=project_.id,
                                 initialization=ado.GitRepositoryInitialization(init_type="Clean"), **kw)

    ok = repo("repo_ok")
    _min_reviewers(s, "ok_reviewers", project, ok, 2)
    _build_validation(s, "ok_build", project, ok)
    expect(name, "azuredevops_git_repository.repo_ok", "CKV2_MLK_3", PASSED)
    expect(name, "azuredevops_git_repository.repo_ok", "CKV2_MLK_4", PASSED)

    weak = repo("repo_weak")
    _min_reviewers(s, "weak_reviewers", project, weak, 1)
    _build_validation(s, "weak_build", project, weak, enabled=False)
    expect(name, "azuredevops_git_repository.repo_weak", "CKV2_MLK_3", FAILED)
    expect(name, "azuredevops_git_repository.repo_weak", "CKV2_MLK_4", FAILED)

    repo("repo_unprotected")
    expect(name, "azuredevops_git_repository.repo_unprotected", "CKV2_MLK_3", FAILED)
    expect(name, "azuredevops_git_repository.repo_unprotected", "CKV2_MLK_4", FAILED)

    dev_branch = repo("repo_wrong_branch")
    _min_reviewers(s, "wrong_branch_reviewers", project, dev_branch, 2, ref="refs/heads/develop")
    _build_validation(s, "wrong_branch_build", project, dev_branch, blocking=False)
    expect(name, "azuredevops_git_repository.repo_wrong_branch", "CKV2_MLK_3", FAILED)
    expect(name, "azuredevops_git_repository.repo_wrong_branch", "CKV2_MLK_4", FAILED)

    # Project-wide policies (no repository_id) cover every repository of *their* project only.
    wide = repo("repo_project_wide", project_=other, default_branch=MAIN)
    _min_reviewers(s, "wide_reviewers", other, None, 3)
    _build_validation(s, "wide_build", other, wide, match_type="DefaultBranch")
    expect(name, "azuredevops_git_repository.repo_project_wide", "CKV2_MLK_3", PASSED)
    expect(name, "azuredevops_git_repository.repo_project_wide", "CKV2_MLK_4", PASSED)

    def env(id_, env_name):
        return ado.Environment(s, id_, name=env_name, project_id=project.id)

    def approval(id_, target, approvers=("group-origin-id",), requester_can_approve=False):
        ado.CheckApproval(s, id_, approvers=list(approvers), project_id=project.id, target_resource_id=target.id,
                          target_resource_type="environment", requester_can_approve=requester_can_approve)

    def branch_control(id_, target, allowed=MAIN):
        ado.CheckBranchControl(s, id_, project_id=project.id, target_resource_id=target.id,
                               target_resource_type="environment", allowed_branches=allowed)

    dev = env("env_dev", "dev")
    NOT_JUDGED.extend([(name, "azuredevops_environment.env_dev", "CKV2_MLK_1"),
                       (name, "azuredevops_environment.env_dev", "CKV2_MLK_2")])
    staging = env("env_staging", "staging")
    branch_control("staging_branch", staging)
    expect(name, "azuredevops_environment.env_staging", "CKV2_MLK_2", PASSED)
    NOT_JUDGED.append((name, "azuredevops_environment.env_staging", "CKV2_MLK_1"))
    prod = env("env_prod", "prod")
    approval("prod_approval", prod)
    branch_control("prod_branch", prod)
    expect(name, "azuredevops_environment.env_prod", "CKV2_MLK_1", PASSED)
    expect(name, "azuredevops_environment.env_prod", "CKV2_MLK_2", PASSED)

    # The approval removed; branch control that also lets release branches deploy.
    no_approval = env("env_no_approval", "team-prod")
    branch_control("no_approval_branch", no_approval, allowed=f"{MAIN},refs/heads/release/*")
    approval("dev_approval", dev)  # an approval on another environment does not count
    expect(name, "azuredevops_environment.env_no_approval", "CKV2_MLK_1", FAILED)
    expect(name, "azuredevops_environment.env_no_approval", "CKV2_MLK_2", FAILED)
    self_approve = env("env_self_approve", "b-prod")
    approval("self_approval", self_approve, requester_can_approve=True)
    expect(name, "azuredevops_environment.env_self_approve", "CKV2_MLK_1", FAILED)
    nobody = env("env_no_approvers", "c-PROD")
    approval("empty_approval", nobody, approvers=())
    expect(name, "azuredevops_environment.env_no_approvers", "CKV2_MLK_1", FAILED)
    ungated = env("env_staging_ungated", "x-staging")
    expect(name, "azuredevops_environment.env_staging_ungated", "CKV2_MLK_2", FAILED)
    del ungated

    def connection(id_, **kw):
        return ado.ServiceendpointAzurerm(
            s, id_, azurerm_spn_tenantid="tenant", project_id=project.id, service_endpoint_name=id_,
            azurerm_subscription_id="sub", azurerm_subscription_name="sub", **kw)

    connection("conn_ok", service_endpoint_authentication_scheme="WorkloadIdentityFederation",
               credentials=ado.ServiceendpointAzurermCredentials(serviceprincipalid="client-id"))
    expect(name, "azuredevops_serviceendpoint_azurerm.conn_ok", "CKV_MLK_7", PASSED)
    leaky = connection("conn_with_key", service_endpoint_authentication_scheme="WorkloadIdentityFederation")
    # a key wired in from a variable: no literal secret in the test, still a key in the connection
    leaky.add_override("credentials", [{"serviceprincipalid": "client-id", "serviceprincipalkey": "${var.sp_key}"}])
    expect(name, "azuredevops_serviceendpoint_azurerm.conn_with_key", "CKV_MLK_7", FAILED)
    connection("conn_secret_scheme", service_endpoint_authentication_scheme="ServicePrincipal")
    expect(name, "azuredevops_serviceendpoint_azurerm.conn_secret_scheme", "CKV_MLK_7", FAILED)
    connection("conn_default_scheme")
    expect(name, "azuredevops_serviceendpoint_azurerm.conn_default_scheme", "CKV_MLK_7", FAILED)

    def group(id_, variables, key_vault=None):
        return ado.VariableGroup(s, id_, name=id_, project_id=project.id, variable=variables, key_vault=key_vault)

    kv = ado.VariableGroupKeyVault(name="kv-team-dev", service_endpoint_id="${azuredevops_serviceendpoint_azurerm.conn_ok.id}")
    group("vars_key_vault", [ado.VariableGroupVariable(name="db-password", is_secret=True)], key_vault=kv)
    expect(name, "azuredevops_variable_group.vars_key_vault", "CKV_MLK_8", PASSED)
    group("vars_plain", [ado.VariableGroupVariable(name="region", value="westeurope")])
    expect(name, "azuredevops_variable_group.vars_plain", "CKV_MLK_8", PASSED)
    group("vars_secret_inline", [ado.VariableGroupVariable(name="db-password", is_secret=True)])
    expect(name, "azuredevops_variable_group.vars_secret_inline", "CKV_MLK_8", FAILED)
    leaked = group("vars_secret_value", [ado.VariableGroupVariable(name="token")])
    leaked.add_override("variable", [{"name": "token", "secret_value": "${var.token}", "is_secret": True}])
    expect(name, "azuredevops_variable_group.vars_secret_value", "CKV_MLK_8", FAILED)


# -- Azure ---------------------------------------------------------------------------------------


def azure_stack(app: App, name: str = "case-azure") -> None:
    from cdktf_cdktf_provider_azurerm.eventgrid_event_subscription import (
        EventgridEventSubscription,
        EventgridEventSubscriptionRetryPolicy,
        EventgridEventSubscriptionStorageBlobDeadLetterDestination,
    )
    from cdktf_cdktf_provider_azurerm.linux_function_app import LinuxFunctionApp, LinuxFunctionAppSiteConfig

    from infra import azurerm as az

    s = TerraformStack(app, name)
    az.AzurermProvider(s, "azurerm", features=[az.AzurermProviderFeatures()])
    azapi.AzapiProvider(s, "azapi")
    private, public = {"network": "private"}, {"network": "public"}

    def workspace(id_, tags, **kw):
        az.MachineLearningWorkspace(
            s, id_, name=id_, application_insights_id="ai", key_vault_id="kv", storage_account_id="st",
            identity=az.MachineLearningWorkspaceIdentity(type="SystemAssigned"), tags=tags, **WHERE, **kw)
        return f"azurerm_machine_learning_workspace.{id_}"

    a = workspace("ws_private_ok", private, public_network_access_enabled=False, v1_legacy_mode_enabled=False,
                  lifecycle=PROTECTED)
    expect(name, a, "CKV_MLK_1", PASSED)
    expect(name, a, "CKV_MLK_6", PASSED)
    a = workspace("ws_private_public", private, public_network_access_enabled=True)  # public workspace, private env
    expect(name, a, "CKV_MLK_1", FAILED)
    expect(name, a, "CKV_MLK_6", FAILED)
    expect(name, workspace("ws_private_default", private), "CKV_MLK_1", FAILED)  # absent = public (provider default)
    expect(name, workspace("ws_public_ok", public, public_network_access_enabled=True), "CKV_MLK_1", PASSED)
    expect(name, workspace("ws_v1_legacy", public, v1_legacy_mode_enabled=True), "CKV_MLK_1", FAILED)
    expect(name, workspace("ws_untagged", {}, public_network_access_enabled=False), "CKV_MLK_1", FAILED)

    def cluster(id_, min_nodes, **kw):
        az.MachineLearningComputeCluster(
            s, id_, name=id_, machine_learning_workspace_id="ws", location="westeurope", vm_size="Standard_DS3_v2",
            vm_priority="Dedicated",
            scale_settings=az.MachineLearningComputeClusterScaleSettings(
                min_node_count=min_nodes, max_node_count=2, scale_down_nodes_after_idle_duration="PT120S"), **kw)
        return f"azurerm_machine_learning_compute_cluster.{id_}"

    expect(name, cluster("cluster_ok", 0, local_auth_enabled=False), "CKV_MLK_2", PASSED)
    expect(name, cluster("cluster_local_auth", 0), "CKV_MLK_2", FAILED)  # absent = local auth on
    expect(name, cluster("cluster_warm", 1, local_auth_enabled=False), "CKV_MLK_2", FAILED)

    def account(id_, **kw):
        az.StorageAccount(s, id_, name=id_.replace("_", ""), account_tier="Standard", account_replication_type="LRS",
                          tags=private, **WHERE, **kw)
        return f"azurerm_storage_account.{id_}"

    a = account("lake_ok", is_hns_enabled=True, shared_access_key_enabled=False, lifecycle=PROTECTED)
    expect(name, a, "CKV_MLK_3", PASSED)
    expect(name, a, "CKV_MLK_6", PASSED)
    a = account("lake_with_keys", is_hns_enabled=True)
    expect(name, a, "CKV_MLK_3", FAILED)
    expect(name, a, "CKV_MLK_6", FAILED)
    NOT_JUDGED.append((name, account("blob_only", is_hns_enabled=False, lifecycle=PROTECTED), "CKV_MLK_3"))

    def vault(id_, **kw):
        az.KeyVault(s, id_, name=id_, sku_name="standard", tenant_id="tenant", **WHERE, **kw)
        return f"azurerm_key_vault.{id_}"

    expect(name, vault("kv_protected", lifecycle=PROTECTED), "CKV_MLK_6", PASSED)
    expect(name, vault("kv_unprotected"), "CKV_MLK_6", FAILED)

    def registry(id_, rtype="Microsoft.MachineLearningServices/registries@2025-06-01", **kw):
        azapi.AzapiResource(s, id_, type=rtype, name=id_, parent_id="/subscriptions/x/resourceGroups/rg", **kw)
        return f"azapi_resource.{id_}"

    expect(name, registry("registry_protected", lifecycle=PROTECTED), "CKV_MLK_6", PASSED)
    expect(name, registry("registry_unprotected"), "CKV_MLK_6", FAILED)
    NOT_JUDGED.append((name, registry("not_a_registry", rtype="Microsoft.Insights/components@2020-02-02"), "CKV_MLK_6"))

    def flex(id_, **kw):
        az.FunctionAppFlexConsumption(
            s, id_, name=id_, service_plan_id="plan", runtime_name="python", runtime_version="3.11",
            storage_container_type="blobContainer", storage_container_endpoint="https://st.blob.core.windows.net/c",
            storage_authentication_type="SystemAssignedIdentity", site_config=az.FunctionAppFlexConsumptionSiteConfig(),
            **WHERE, **kw)
        return f"azurerm_function_app_flex_consumption.{id_}"

    def linux(id_, **kw):
        LinuxFunctionApp(s, id_, name=id_, service_plan_id="plan", site_config=LinuxFunctionAppSiteConfig(), **WHERE, **kw)
        return f"azurerm_linux_function_app.{id_}"

    expect(name, flex("flex_https", https_only=True), "CKV_MLK_4", PASSED)
    expect(name, flex("flex_http"), "CKV_MLK_4", FAILED)  # absent = false
    expect(name, linux("linux_https", https_only=True), "CKV_MLK_4", PASSED)
    expect(name, linux("linux_http", https_only=False), "CKV_MLK_4", FAILED)

    def site(id_, rtype="Microsoft.Web/sites@2024-04-01", **props):
        azapi.AzapiResource(s, id_, type=rtype, name=id_, parent_id="/subscriptions/x/resourceGroups/rg",
                            body={"kind": "functionapp,linux", "properties": props})
        return f"azapi_resource.{id_}"

    expect(name, site("site_https", httpsOnly=True), "CKV_MLK_4", PASSED)
    expect(name, site("site_http", httpsOnly=False), "CKV_MLK_4", FAILED)
    expect(name, site("site_default"), "CKV_MLK_4", FAILED)  # absent = false (API default)
    NOT_JUDGED.append((name, site("not_a_site", rtype="Microsoft.Web/serverfarms@2024-04-01"), "CKV_MLK_4"))

    retry = {"max_delivery_attempts": 10, "event_time_to_live": 1440}
    dead_letter = {"storage_account_id": "lake-id", "storage_blob_container_name": "eventgrid-deadletter"}

    def system_sub(id_, with_retry=True, with_dead_letter=True):
        az.EventgridSystemTopicEventSubscription(
            s, id_, name=id_, resource_group_name=RG, system_topic="topic",
            retry_policy=az.EventgridSystemTopicEventSubscriptionRetryPolicy(**retry) if with_retry else None,
            storage_blob_dead_letter_destination=(
                az.EventgridSystemTopicEventSubscriptionStorageBlobDeadLetterDestination(**dead_letter)
                if with_dead_letter else None))
        return f"azurerm_eventgrid_system_topic_event_subscription.{id_}"

    def topic_sub(id_, with_retry=True, with_dead_letter=True):
        EventgridEventSubscription(
            s, id_, name=id_, scope="/subscriptions/x",
            retry_policy=EventgridEventSubscriptionRetryPolicy(**retry) if with_retry else None,
            storage_blob_dead_letter_destination=(
                EventgridEventSubscriptionStorageBlobDeadLetterDestination(**dead_letter) if with_dead_letter else None))
        return f"azurerm_eventgrid_event_subscription.{id_}"

    expect(name, system_sub("system_sub_ok"), "CKV_MLK_5", PASSED)
    expect(name, system_sub("system_sub_no_dead_letter", with_dead_letter=False), "CKV_MLK_5", FAILED)
    expect(name, topic_sub("topic_sub_ok"), "CKV_MLK_5", PASSED)
    expect(name, topic_sub("topic_sub_no_retry", with_retry=False), "CKV_MLK_5", FAILED)


# -- suppressions, and a stack that passes everything ---------------------------------------------

SUPPRESSION_REASON = "fixture: a scratch account whose content is disposable"


def suppression_stack(app: App, name: str = "case-suppress") -> None:
    from infra import azurerm as az

    s = TerraformStack(app, name)
    az.AzurermProvider(s, "azurerm", features=[az.AzurermProviderFeatures()])

    def account(id_):
        return az.StorageAccount(s, id_, name=id_.replace("_", ""), account_tier="Standard",
                                 account_replication_type="GRS", tags={"network": "private"}, **WHERE)

    suppress(account("scratch_suppressed"), Reason(("CKV_MLK_6",), SUPPRESSION_REASON))
    expect(name, "azurerm_storage_account.scratch_suppressed", "CKV_MLK_6", SKIPPED)
    # A hand-written override (Reason refuses it): no usable reason, so it suppresses nothing.
    account("scratch_short_reason").add_override(f"//.{METADATA_KEY}.{SUPPRESSIONS_KEY}.CKV_MLK_6", "x")
    expect(name, "azurerm_storage_account.scratch_short_reason", "CKV_MLK_6", FAILED)
    expect(name, "azurerm_storage_account.scratch_short_reason", "CKV_MLK_0", FAILED)
    stale = Reason(("CKV_MLK_3",), "fixture: not a data lake, so this suppression is never used")
    suppress(account("scratch_stale"), stale)


def clean_stack(app: App, name: str = "case-clean") -> None:
    """Only resources that every applicable check passes: the scan of this stack alone exits 0."""
    s = TerraformStack(app, name)
    ado.AzuredevopsProvider(s, "azuredevops", org_service_url="https://dev.azure.com/contoso")
    ado.Project(s, "project", name="team", visibility="private")


def synth_cases(outdir: Path) -> Path:
    EXPECTED.clear()
    NOT_JUDGED.clear()
    app = App(outdir=str(outdir))
    devops_stack(app)
    azure_stack(app)
    suppression_stack(app)
    clean_stack(app)
    app.synth()
    return outdir
