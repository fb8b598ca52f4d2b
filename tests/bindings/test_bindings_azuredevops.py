"""The azuredevops bindings synthesize the Terraform JSON that the provider expects."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformOutput, TerraformStack, Token
from cdktf import Testing as CdktfTesting

from infra.bindings import azuredevops as ado_module
from infra.bindings._base import BindingDataSource, BindingProvider, BindingResource, Block, to_terraform
from infra.bindings.azuredevops import (
    AzuredevopsProvider,
    BranchPolicyBuildValidationSettings,
    BranchPolicyBuildValidationSettingsScope,
    BuildDefinition,
    BuildDefinitionRepository,
    DataAzuredevopsGroup,
    Environment,
    GitRepository,
    GitRepositoryInitialization,
    PipelineAuthorization,
    Project,
    ServiceendpointAzurerm,
    VariableGroup,
    VariableGroupVariable,
)

from ._paths import VERSION

# Every argument that holds a secret, by Terraform name, wherever it appears in the schema.
SECRETS = {
    "personal_access_token",
    "client_secret",
    "client_secret_path",
    "client_certificate",
    "client_certificate_password",
    "client_certificate_path",
    "oidc_token",
    "oidc_request_token",
    "password",
    "secret_value",
    "serviceprincipalkey",
    "serviceprincipalcertificate",
}
META = {"self", "scope", "id_", "depends_on", "lifecycle", "provider", "alias"}


def resource(doc: dict[str, Any], tf_type: str, name: str) -> dict[str, Any]:
    return {k: v for k, v in doc["resource"][tf_type][name].items() if k != "//"}


def classes(module, base) -> list[type]:
    return [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, base) and "TF_TYPE" in vars(c)]


def synth(build) -> dict[str, Any]:
    """Synthesize a small stack of its own (a provider included) with cdktf.Testing."""
    stack = TerraformStack(CdktfTesting.app(), "t")
    AzuredevopsProvider(stack, "azuredevops")
    build(stack)
    return json.loads(CdktfTesting.synth(stack))


def test_required_providers_names_the_microsoft_source_and_pins_the_minor_version(ado_doc):
    assert ado_doc["terraform"]["required_providers"]["azuredevops"] == {
        "source": "microsoft/azuredevops",
        "version": f"~> {VERSION.rsplit('.', 1)[0]}.0",
    }


def test_provider_block_holds_only_the_oidc_arguments_given(ado_doc):
    assert ado_doc["provider"]["azuredevops"] == [
        {
            "org_service_url": "https://dev.azure.com/contoso",
            "use_oidc": True,
            "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "client_id": "11111111-2222-3333-4444-555555555555",
        }
    ]


def test_project_json_is_exactly_what_was_passed(ado_doc):
    assert resource(ado_doc, "azuredevops_project", "project") == {
        "name": "team-a",
        "description": "MLOps project of team-a",
        "visibility": "private",
        "version_control": "Git",
        "work_item_template": "Agile",
        "features": {"boards": "disabled", "testplans": "disabled", "artifacts": "enabled"},
    }


def test_repository_block_is_a_one_item_list_and_references_render(ado_doc):
    repo = resource(ado_doc, "azuredevops_git_repository", "model_repo")
    assert repo["project_id"] == "${azuredevops_project.project.id}"
    assert repo["initialization"] == [{"init_type": "Clean"}]
    assert repo["lifecycle"] == {"ignore_changes": ["initialization"]}


def test_build_definition_nested_blocks_and_references(ado_doc):
    build = resource(ado_doc, "azuredevops_build_definition", "model_ci")
    assert build["repository"] == [
        {
            "repo_type": "TfsGit",
            "repo_id": "${azuredevops_git_repository.model_repo.id}",
            "branch_name": "${azuredevops_git_repository.model_repo.default_branch}",
            "yml_path": "pipelines/model-ci.yml",
        }
    ]
    assert build["ci_trigger"] == [{"use_yaml": True}]
    assert build["variable"] == [{"name": "MODEL_NAME", "value": "churn", "allow_override": False}]
    assert build["variable_groups"] == ["${azuredevops_variable_group.prod_vars.id}"]
    assert build["depends_on"] == ["azuredevops_git_repository_file.model_ci_yaml"]
    assert build["path"] == "\\MLOps"


def test_number_arguments_take_a_string_id_token(ado_doc):
    policy = resource(ado_doc, "azuredevops_branch_policy_build_validation", "model_ci_gate")
    (settings,) = policy["settings"]
    assert settings["build_definition_id"] == "${azuredevops_build_definition.model_ci.id}"
    assert settings["valid_duration"] == 720
    assert settings["scope"] == [
        {
            "repository_id": "${azuredevops_git_repository.model_repo.id}",
            "repository_ref": "${azuredevops_git_repository.model_repo.default_branch}",
            "match_type": "Exact",
        }
    ]
    auth = resource(ado_doc, "azuredevops_pipeline_authorization", "model_ci_prod")
    assert auth["pipeline_id"] == "${azuredevops_build_definition.model_ci.id}"


def test_a_number_token_renders_like_the_string_token():
    def build(stack):
        project = Project(stack, "p", name="p")
        bd = BuildDefinition(
            stack,
            "bd",
            project_id=project.id,
            name="ci",
            repository=BuildDefinitionRepository(repo_type="TfsGit", repo_id="r"),
        )
        env = Environment(stack, "e", project_id=project.id, name="dev")
        PipelineAuthorization(
            stack,
            "a",
            project_id=project.id,
            resource_id=env.id,
            type="environment",
            pipeline_id=Token.as_number(bd.id),
        )

    doc = synth(build)
    assert (
        resource(doc, "azuredevops_pipeline_authorization", "a")["pipeline_id"]
        == "${azuredevops_build_definition.bd.id}"
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [("twelve", ValueError), (True, TypeError), ([1], TypeError)],
)
def test_a_number_argument_refuses_what_terraform_could_not_convert(value, error):
    with pytest.raises(error, match="build_definition_id"):
        BranchPolicyBuildValidationSettings(
            build_definition_id=value,
            display_name="ci",
            scope=[BranchPolicyBuildValidationSettingsScope(repository_id="r")],
        )


def test_a_numeric_string_is_accepted_as_a_number():
    settings = BranchPolicyBuildValidationSettings(
        build_definition_id="42", display_name="ci", scope=[BranchPolicyBuildValidationSettingsScope()]
    )
    assert settings.to_terraform()["build_definition_id"] == "42"


def test_a_block_list_with_a_minimum_refuses_an_empty_list():
    stack = TerraformStack(CdktfTesting.app(), "t")
    with pytest.raises(ValueError, match="variable: takes at least 1"):
        VariableGroup(stack, "vg", project_id="p", name="vg", variable=[])
    with pytest.raises(ValueError, match="scope: takes at least 1"):
        BranchPolicyBuildValidationSettings(build_definition_id=1, display_name="ci", scope=[])


def test_wif_service_connection_has_no_secret_and_exports_issuer_and_subject(ado_doc):
    conn = resource(ado_doc, "azuredevops_serviceendpoint_azurerm", "arm_prod")
    assert conn["credentials"] == [{"serviceprincipalid": "11111111-2222-3333-4444-555555555555"}]
    assert conn["service_endpoint_authentication_scheme"] == "WorkloadIdentityFederation"
    assert conn["azurerm_spn_tenantid"] == "${data.azuredevops_client_config.current.tenant_id}"

    def build(stack):
        se = ServiceendpointAzurerm(stack, "se", project_id="p", service_endpoint_name="n", azurerm_spn_tenantid="t")
        TerraformOutput(stack, "issuer", value=se.workload_identity_federation_issuer)
        TerraformOutput(stack, "subject", value=se.workload_identity_federation_subject)
        TerraformOutput(stack, "sp", value=se.service_principal_id)

    outputs = synth(build)["output"]
    assert outputs["issuer"]["value"] == "${azuredevops_serviceendpoint_azurerm.se.workload_identity_federation_issuer}"
    assert (
        outputs["subject"]["value"] == "${azuredevops_serviceendpoint_azurerm.se.workload_identity_federation_subject}"
    )
    assert outputs["sp"]["value"] == "${azuredevops_serviceendpoint_azurerm.se.service_principal_id}"


def test_approval_check_targets_the_environment_and_approvers_are_group_origin_ids(ado_doc):
    check = resource(ado_doc, "azuredevops_check_approval", "prod_approval")
    assert check["target_resource_id"] == "${azuredevops_environment.env_prod.id}"
    assert check["target_resource_type"] == "environment"
    assert check["approvers"] == ["${azuredevops_group.approvers.origin_id}"]
    assert check["minimum_required_approvers"] == 1
    assert check["timeouts"] == {"create": "5m"}, "a single-mode block synthesizes as an object"


def test_group_scope_argument_is_renamed_only_in_python(ado_doc):
    assert resource(ado_doc, "azuredevops_group", "ml_engineers")["scope"] == "${azuredevops_project.project.id}"
    assert "scope_" in inspect.signature(ado_module.Group.__init__).parameters


def test_data_sources_render_under_data_and_their_getters_reference_them(ado_doc):
    assert ado_doc["data"]["azuredevops_group"]["readers"]["name"] == "Readers"
    assert ado_doc["data"]["azuredevops_group"]["readers"]["project_id"] == "${azuredevops_project.project.id}"
    perms = resource(ado_doc, "azuredevops_project_permissions", "readers_no_delete")
    assert perms["principal"] == "${data.azuredevops_group.readers.descriptor}"
    membership = resource(ado_doc, "azuredevops_group_membership", "engineers_contribute")
    assert membership == {
        "group": "${data.azuredevops_group.contributors.descriptor}",
        "members": ["${azuredevops_group.ml_engineers.descriptor}"],
    }


def test_every_resource_and_data_source_type_is_in_the_full_stack(ado_doc):
    used = set(ado_doc["resource"]) | {f"data.{t}" for t in ado_doc["data"]}
    expected = {c.TF_TYPE for c in classes(ado_module, BindingResource)}
    expected |= {f"data.{c.TF_TYPE}" for c in classes(ado_module, BindingDataSource)}
    assert len(expected) == 26
    assert used == expected


def test_getters_return_references_to_the_attribute():
    def build(stack):
        repo = GitRepository(
            stack, "r", project_id="p", name="n", initialization=GitRepositoryInitialization(init_type="Clean")
        )
        group = DataAzuredevopsGroup(stack, "g", name="Readers")
        for name, token in {
            "id": repo.id,
            "default_branch": repo.default_branch,
            "web_url": repo.web_url,
            "size": repo.size,
            "origin_id": group.origin_id,
        }.items():
            TerraformOutput(stack, name, value=token)

    outputs = {k: v["value"] for k, v in synth(build)["output"].items()}
    assert outputs == {
        "id": "${azuredevops_git_repository.r.id}",
        "default_branch": "${azuredevops_git_repository.r.default_branch}",
        "web_url": "${azuredevops_git_repository.r.web_url}",
        "size": "${azuredevops_git_repository.r.size}",
        "origin_id": "${data.azuredevops_group.g.origin_id}",
    }


def test_aliased_provider_and_meta_arguments():
    stack = TerraformStack(CdktfTesting.app(), "t")
    AzuredevopsProvider(stack, "default", org_service_url="https://dev.azure.com/a")
    other = AzuredevopsProvider(stack, "other", org_service_url="https://dev.azure.com/b", alias="other")
    Project(stack, "p", name="p", provider=other)
    doc = json.loads(CdktfTesting.synth(stack))
    assert doc["provider"]["azuredevops"][1] == {"alias": "other", "org_service_url": "https://dev.azure.com/b"}
    assert resource(doc, "azuredevops_project", "p")["provider"] == "azuredevops.other"


def test_none_arguments_are_left_out_and_blocks_take_keyword_arguments_only():
    assert to_terraform(VariableGroupVariable(name="x")) == {"name": "x"}
    with pytest.raises(TypeError):
        GitRepositoryInitialization("Clean")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        GitRepositoryInitialization(init_type="Clean").init_type = "Import"  # type: ignore[misc]
    stack = TerraformStack(CdktfTesting.app(), "t")
    with pytest.raises(TypeError):
        Project(stack, "p", "team-a")  # type: ignore[misc]


def _argument_names(cls: type) -> set[str]:
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls)}
    return set(inspect.signature(cls.__init__).parameters) - META


def test_no_binding_takes_a_secret():
    bindings = [
        c
        for c in vars(ado_module).values()
        if isinstance(c, type) and issubclass(c, (Block, BindingResource, BindingDataSource, BindingProvider))
    ]
    assert len(bindings) > 50
    for cls in bindings:
        names = _argument_names(cls)
        assert names or cls.__name__ == "DataAzuredevopsClientConfig", f"{cls.__name__}: no arguments found"
        assert not names & SECRETS, cls.__name__
    assert {"personal_access_token", "client_secret", "oidc_token"}.isdisjoint(
        inspect.signature(AzuredevopsProvider.__init__).parameters
    )
    assert "password" not in _argument_names(GitRepositoryInitialization)


def test_every_class_has_a_docstring_with_the_registry_link():
    for cls in classes(ado_module, BindingResource) + classes(ado_module, BindingDataSource):
        short = cls.TF_TYPE.removeprefix("azuredevops_")
        kind = "resources" if issubclass(cls, BindingResource) else "data-sources"
        assert f"/azuredevops/{VERSION}/docs/{kind}/{short}" in (cls.__doc__ or ""), cls.__name__
    first_line = Path(ado_module.__file__).read_text().splitlines()[0]
    assert first_line == f"# generated by scripts/gen_bindings.py from azuredevops {VERSION}; do not edit."
