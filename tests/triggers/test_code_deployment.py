"""Code deployment in the same apply: the package in the deployment container, then One Deploy through ARM.

No Kudu push (`zip_deploy_file` posts to `/api/zipdeploy`, which Flex does not serve: azurerm
#29630), no publishing credentials, in every environment, the private one and prod included.
"""

from __future__ import annotations

import pytest

from infra.function_app import DEPLOYMENT_CONTAINER, PACKAGE_FILE
from tests.conftest import REPO, resources
from tests.triggers.helpers import ENV_STACKS, PRIVATE, address_of, by_path, function_app, ref, site_address, stack_dir

ACTION = "azapi_resource_action"
BLOB = "azurerm_storage_blob"


def deploy(stack: dict) -> dict:
    return by_path(stack, ACTION, "triggers/function_app/onedeploy")


def package_blob(stack: dict) -> dict:
    return by_path(stack, BLOB, "triggers/function_app/package")


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_every_environment_deploys_its_code_with_one_deploy_through_resource_manager(example, stack_name):
    stack = example[stack_name]
    action = deploy(stack)
    site = site_address(stack)
    assert action["type"] == "Microsoft.Web/sites/extensions@2024-04-01" and action["method"] == "PUT"
    assert action["resource_id"] == ref("azapi_resource", site) + "/extensions/onedeploy"
    blob = package_blob(stack)
    container_url = function_app(stack)["body"]["properties"]["functionAppConfig"]["deployment"]["storage"]["value"]
    # The package source is the app's own deployment container, read with the deployment identity.
    assert action["body"] == {"properties": {"packageUri": f"{container_url}/{blob['name']}", "remoteBuild": False}}
    assert container_url.endswith(f"}}{DEPLOYMENT_CONTAINER}")


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_the_uploaded_package_is_the_synthesized_asset_named_by_its_content(example, example_out, stack_name):
    from scripts.package import package_dir

    stack = example[stack_name]
    blob = package_blob(stack)
    path = stack_dir(example_out, stack_name) / blob["source"]
    assert blob["source"].startswith("assets/function_package/") and path.is_file()
    assert path.read_bytes() == (package_dir() / path.name).read_bytes()  # what `mlops-kit package` built, copied
    assert path.parent.name == path.stem.upper()  # named by content, not by the checkout's path
    # Flex One Deploy wants `released-package.zip`; the hash in the folder makes a new package a new deploy.
    assert blob["name"] == f"source/{path.stem}/{PACKAGE_FILE}"
    assert blob["type"] == "Block" and blob["content_type"] == "application/zip"
    assert blob["storage_container_name"] == ref(
        "azurerm_storage_container", address_of(stack, "azurerm_storage_container", "triggers/function_app/deployment_container"),
        "name",
    )


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_deploy_order_grants_then_site_then_upload_then_one_deploy(example, stack_name):
    stack = example[stack_name]
    blob_address = address_of(stack, BLOB, "triggers/function_app/package")
    blob = package_blob(stack)
    deployer = address_of(stack, "azurerm_role_assignment", "triggers/function_app/deployer_upload")
    grant = resources(stack, "azurerm_role_assignment")[deployer]
    (client,) = stack["data"]["azurerm_client_config"]
    assert grant["principal_id"] == "${data.azurerm_client_config." + client + ".object_id}"  # whoever deploys
    assert grant["role_definition_name"] == "Storage Blob Data Contributor"
    assert grant["scope"] == ref("azurerm_storage_container", address_of(
        stack, "azurerm_storage_container", "triggers/function_app/deployment_container"))
    # The upload waits for the deployer's data role, the site and the topics (which wait for the
    # workspace and the lake): minutes for the new role to propagate.
    topics = {f"azurerm_eventgrid_system_topic.{address_of(stack, 'azurerm_eventgrid_system_topic', f'triggers/{k}_topic')}"
              for k in ("lake", "ml")}
    assert {f"azurerm_role_assignment.{deployer}", f"azapi_resource.{site_address(stack)}", *topics} <= set(
        blob["depends_on"])
    deployment_grant = address_of(stack, "azurerm_role_assignment", "triggers/function_app/deployment_storage")
    assert {f"{BLOB}.{blob_address}", f"azurerm_role_assignment.{deployment_grant}"} <= set(deploy(stack)["depends_on"])


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_basic_publishing_credentials_are_off(example, stack_name):
    stack = example[stack_name]
    site = ref("azapi_resource", site_address(stack))
    policies = {r["resource_id"]: r for r in resources(stack, "azapi_update_resource").values()
                if "basicPublishingCredentialsPolicies" in r["resource_id"]}
    assert set(policies) == {f"{site}/basicPublishingCredentialsPolicies/scm", f"{site}/basicPublishingCredentialsPolicies/ftp"}
    for policy in policies.values():
        assert policy["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01"
        assert policy["body"] == {"properties": {"allow": False}}


def test_no_kudu_push_anywhere(example):
    for name in ENV_STACKS:
        text = str(example[name])
        assert "zip_deploy_file" not in text and "/api/zipdeploy" not in text
        assert "webdeploy_publish_basic_authentication_enabled" not in text
    # The private stack deploys too: the runner never calls the app or its private storage.
    assert deploy(example[PRIVATE])


def test_no_manual_deploy_step_left_in_the_docs():
    for doc in (REPO / "docs").rglob("*.md"):
        assert "az functionapp deploy" not in doc.read_text(), doc


def test_the_action_binding_refuses_what_azapi_would_refuse(tmp_path):
    from cdktf import App, TerraformStack

    from infra.bindings.azapi import AzapiResourceAction

    stack = TerraformStack(App(outdir=str(tmp_path / "out")), "s")  # App() would create ./cdktf.out
    with pytest.raises(ValueError, match="api-version"):
        AzapiResourceAction(stack, "a", type="Microsoft.Web/sites/extensions", resource_id="/x", method="PUT")
    with pytest.raises(ValueError, match="method"):
        AzapiResourceAction(stack, "b", type="Microsoft.Web/sites/extensions@2024-04-01", resource_id="/x",
                            method="put")
    with pytest.raises(TypeError, match="body"):
        AzapiResourceAction(stack, "c", type="Microsoft.Web/sites/extensions@2024-04-01", resource_id="/x",
                            method="PUT", body='{"properties": {}}')  # type: ignore[arg-type]
