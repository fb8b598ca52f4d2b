"""The trigger function app: Flex Consumption, its own identity and storage, and exactly the function's settings."""

from __future__ import annotations

import re

import pytest

from infra.triggers import APPINSIGHTS_AUTH_SETTING, HOST_STORAGE_SETTINGS, IDEMPOTENCY_CONTAINER
from tests.conftest import one, resources
from tests.triggers.helpers import (
    ENV_STACKS,
    PRIVATE,
    PUBLIC,
    address_of,
    by_path,
    function_app,
    load_settings_module,
    ref,
    stack_dir,
)

UAI = "azurerm_user_assigned_identity"


def trigger_identity(stack: dict) -> str:
    return address_of(stack, UAI, "triggers/identity")


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_flex_consumption_python_311_https_only(example, stack_name):
    stack = example[stack_name]
    app = function_app(stack)
    plan = one(stack, "azurerm_service_plan")
    assert plan["sku_name"] == "FC1" and plan["os_type"] == "Linux"
    assert app["service_plan_id"] == ref("azurerm_service_plan", address_of(stack, "azurerm_service_plan", "triggers/plan"))
    assert app["runtime_name"] == "python" and app["runtime_version"] == "3.11"
    assert app["https_only"] is True
    assert app["site_config"]["minimum_tls_version"] == "1.2" and app["site_config"]["scm_minimum_tls_version"] == "1.2"
    assert app["site_config"]["remote_debugging_enabled"] is False
    assert app["name"].startswith("func-mlk-example-")


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_user_assigned_identity_named_for_the_devops_stack(example, stack_name):
    stack = example[stack_name]
    code = {"dev": "dev", "staging": "stg", "prod": "prd"}[stack_name.split("-")[1]]
    uai = resources(stack, UAI)[trigger_identity(stack)]
    assert uai["name"] == f"id-mlk-example-trigger-{code}"  # Namer.name("user_assigned_identity", "trigger")
    app = function_app(stack)
    assert app["identity"] == {"type": "UserAssigned", "identity_ids": [ref(UAI, trigger_identity(stack))]}
    assert app["storage_authentication_type"] == "UserAssignedIdentity"
    assert app["storage_user_assigned_identity_id"] == ref(UAI, trigger_identity(stack))
    assert "storage_access_key" not in app


def test_private_mode_admits_only_event_grid_and_leaves_through_the_vnet(example):
    public, private = function_app(example[PUBLIC]), function_app(example[PRIVATE])
    assert "ip_restriction" not in public["site_config"] and "virtual_network_subnet_id" not in public
    # Event Grid cannot deliver through a private endpoint: the endpoint stays, restricted to its service tag.
    assert private["public_network_access_enabled"] is True
    config = private["site_config"]
    assert config["ip_restriction_default_action"] == "Deny" and config["scm_ip_restriction_default_action"] == "Deny"
    assert [(r["service_tag"], r["action"]) for r in config["ip_restriction"]] == [("AzureEventGrid", "Allow")]
    assert private["virtual_network_subnet_id"].endswith("/subnets/snet-functions")


def test_private_mode_adds_endpoints_for_the_app_and_its_storage(example):
    def targets(stack):
        return {(e["private_service_connection"]["subresource_names"][0], e["name"])
                for e in resources(stack, "azurerm_private_endpoint").values()}

    prod = targets(example[PRIVATE])
    assert ("sites", f"pep-{function_app(example[PRIVATE])['name']}") in prod
    storage = by_path(example[PRIVATE], "azurerm_storage_account", "triggers/storage")
    assert ("blob", f"pep-{storage['name']}-blob") in prod
    assert resources(example[PUBLIC], "azurerm_private_endpoint") == {}


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_own_storage_is_entra_only_with_deployment_and_idempotency_containers(example, stack_name):
    stack = example[stack_name]
    storage = by_path(stack, "azurerm_storage_account", "triggers/storage")
    assert storage["name"].startswith("stfnmlkexample")
    assert storage["shared_access_key_enabled"] is False and storage["allow_nested_items_to_be_public"] is False
    assert storage["public_network_access_enabled"] is (stack_name != PRIVATE)
    account = ref("azurerm_storage_account", address_of(stack, "azurerm_storage_account", "triggers/storage"))
    containers = {c["name"] for c in resources(stack, "azurerm_storage_container").values()
                  if c["storage_account_id"] == account}
    assert containers == {"app-package", IDEMPOTENCY_CONTAINER}
    app = function_app(stack)
    assert app["storage_container_type"] == "blobContainer"
    assert app["storage_container_endpoint"] == (
        ref("azurerm_storage_account", address_of(stack, "azurerm_storage_account", "triggers/storage"),
            "primary_blob_endpoint") + "app-package"
    )


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_function_identity_gets_storage_roles_and_nothing_else(example, stack_name):
    stack = example[stack_name]
    principal = ref(UAI, trigger_identity(stack), "principal_id")
    grants = {(r["role_definition_name"], r["scope"]) for r in resources(stack, "azurerm_role_assignment").values()
              if r["principal_id"] == principal}
    account = address_of(stack, "azurerm_storage_account", "triggers/storage")
    idem = address_of(stack, "azurerm_storage_container", "triggers/idempotency_container")
    assert grants == {
        ("Storage Blob Data Owner", ref("azurerm_storage_account", account)),
        ("Storage Blob Data Contributor", ref("azurerm_storage_container", idem, "resource_manager_id")),
    }
    # The app (and its code deployment) waits for the grants.
    assert len(function_app(stack)["depends_on"]) == 2


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_app_settings_are_exactly_the_function_settings_plus_host_storage(example, stack_name):
    module = load_settings_module()
    keys = set(function_app(example[stack_name])["app_settings"])
    function_keys = keys - set(HOST_STORAGE_SETTINGS) - {APPINSIGHTS_AUTH_SETTING}
    assert set(module.REQUIRED_SETTINGS) <= function_keys, "a setting the function requires is missing"
    assert function_keys <= set(module.REQUIRED_SETTINGS) | set(module.OPTIONAL_SETTINGS), (
        f"settings the function does not read: {sorted(function_keys - set(module.REQUIRED_SETTINGS))}"
    )
    assert set(HOST_STORAGE_SETTINGS) <= keys
    assert function_app(example[stack_name])["app_settings"]["ENVIRONMENT_NAME"] == stack_name.split("-")[1]
    # App Insights keeps local auth in the kit, so no Entra authentication string is needed.
    assert APPINSIGHTS_AUTH_SETTING not in keys


def test_app_settings_values(example):
    stack = example[PUBLIC]
    settings = function_app(stack)["app_settings"]
    uai = trigger_identity(stack)
    storage = address_of(stack, "azurerm_storage_account", "triggers/storage")
    assert settings == {
        "AZDO_ORG_URL": "https://dev.azure.com/contoso-ml",
        "AZDO_PROJECT": "example",
        "TRAINING_PIPELINE_NAME": "example-training",
        "RELEASE_PIPELINE_NAME": "example-release",
        "PIPELINE_FOLDER": "\\example",
        "AZURE_CLIENT_ID": ref(UAI, uai, "client_id"),
        "IDEMPOTENCY_ACCOUNT_URL": ref("azurerm_storage_account", storage, "primary_blob_endpoint"),
        "IDEMPOTENCY_CONTAINER": IDEMPOTENCY_CONTAINER,
        "TRAINING_FILESYSTEM": "raw",
        "TRAINING_PATH_PREFIX": "landing/",
        "MARKER_SUFFIX": "_SUCCESS",
        "ENVIRONMENT_NAME": "dev",
        "AzureWebJobsStorage__accountName": ref("azurerm_storage_account", storage, "name"),
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": ref(UAI, uai, "client_id"),
    }


def test_app_settings_validate_with_the_function(example):
    """The literal settings pass the function's own validation (references replaced by plausible values)."""
    module = load_settings_module()
    settings = dict(function_app(example[PUBLIC])["app_settings"])
    settings["AZURE_CLIENT_ID"] = "00000000-0000-0000-0000-000000000001"
    settings["IDEMPOTENCY_ACCOUNT_URL"] = "https://stfnexample.blob.core.windows.net/"
    parsed = module.Settings.from_env(settings)
    assert parsed.pipeline_folder == "\\example" and parsed.training_path_prefix == "landing/"


def test_pipeline_names_match_the_devops_stack():
    from infra.pipelines import pipeline_folder, pipeline_name

    assert pipeline_name("example", "training") == "example-training"
    assert pipeline_name("example", "release") == "example-release"
    assert pipeline_folder("example") == "\\example"


SECRET_MARKERS = re.compile(r"AccountKey=|SharedAccessSignature|[?&]sig=|password|secret|primary_access_key|"
                            r"connection_string|InstrumentationKey=", re.IGNORECASE)


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_no_secret_in_app_settings_or_the_app(example, stack_name):
    app = function_app(example[stack_name])
    for key, value in app["app_settings"].items():
        assert not SECRET_MARKERS.search(f"{key}={value}"), key
    assert not {"storage_access_key", "connection_string", "auth_settings", "auth_settings_v2"} & set(app)
    # The App Insights connection string (ingestion endpoint + key, not a credential) goes in site_config.
    assert app["site_config"]["application_insights_connection_string"].endswith(".connection_string}")


def test_code_is_deployed_from_the_synthesized_asset(example, example_out):
    from stacks.function_package import CACHE_DIR

    for name in ENV_STACKS:
        app = function_app(example[name])
        if name == PRIVATE:  # Kudu is closed to the outside: the package is deployed from inside the network
            assert "zip_deploy_file" not in app and app["webdeploy_publish_basic_authentication_enabled"] is False
            continue
        path = stack_dir(example_out, name) / app["zip_deploy_file"]
        assert app["zip_deploy_file"].startswith("assets/function_package/") and path.is_file()
        assert path.read_bytes() == (CACHE_DIR / path.name).read_bytes()  # the cached build, copied
        # named by the package's content hash, not by where the checkout lives: the same JSON everywhere
        assert path.parent.name == path.stem.upper()
        # azurerm 4.55 pushes the zip with the site's publishing credentials (docs/event-flow.md).
        assert app["webdeploy_publish_basic_authentication_enabled"] is True


def test_old_event_claims_are_deleted_after_event_grid_stops_retrying(example):
    from infra.triggers import CLAIM_RETENTION_DAYS

    for name in ENV_STACKS:
        (policy,) = resources(example[name], "azurerm_storage_management_policy").values()
        (rule,) = policy["rule"]
        assert rule["enabled"] is True
        assert rule["filters"]["prefix_match"] == [f"{IDEMPOTENCY_CONTAINER}/"]
        assert rule["actions"]["base_blob"]["delete_after_days_since_modification_greater_than"] == CLAIM_RETENTION_DAYS
        # Event Grid's time to live is at most a day: a claim outlives every redelivery it guards
        assert CLAIM_RETENTION_DAYS * 24 * 60 > 1440
