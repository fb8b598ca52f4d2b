"""The trigger function app: a Flex Consumption site through azapi, its identity, storage, settings and network."""

from __future__ import annotations

import json
import re

import pytest
from trigger_core.contract import OPTIONAL_SETTINGS, REQUIRED_SETTINGS

from infra.function_app import DEFAULT_MAX_INSTANCES, MAX_INSTANCES, MIN_INSTANCES, check_instance_count
from infra.triggers import (
    APPINSIGHTS_AUTH_SETTING,
    APPINSIGHTS_SETTING,
    EVENT_QUEUE,
    HOST_STORAGE_SETTINGS,
    IDEMPOTENCY_CONTAINER,
    POISON_QUEUE,
)
from tests.conftest import REPO, one, resources
from tests.triggers.helpers import (
    ENV_STACKS,
    PRIVATE,
    PUBLIC,
    address_of,
    app_settings,
    by_path,
    function_app,
    function_settings,
    ref,
    site_address,
)

UAI = "azurerm_user_assigned_identity"
STORAGE = ("azurerm_storage_account", "triggers/storage")
PACKAGE_STORAGE = ("azurerm_storage_account", "triggers/function_app/package_storage")


def trigger_identity(stack: dict) -> str:
    return address_of(stack, UAI, "triggers/identity")


def props(stack: dict) -> dict:
    return function_app(stack)["body"]["properties"]


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_flex_consumption_python_311_https_only(example, stack_name):
    stack = example[stack_name]
    site = function_app(stack)
    plan = one(stack, "azurerm_service_plan")
    assert plan["sku_name"] == "FC1" and plan["os_type"] == "Linux"
    assert site["type"] == "Microsoft.Web/sites@2024-04-01" and site["body"]["kind"] == "functionapp,linux"
    assert site["parent_id"] == ref("azurerm_resource_group", "resource_group")
    p = props(stack)
    assert p["serverFarmId"] == ref("azurerm_service_plan", address_of(stack, "azurerm_service_plan", "triggers/plan"))
    assert p["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}
    assert p["httpsOnly"] is True and p["clientCertEnabled"] is False
    config = p["siteConfig"]
    assert config["minTlsVersion"] == "1.2" and config["scmMinTlsVersion"] == "1.2"
    assert config["remoteDebuggingEnabled"] is False and config["ftpsState"] == "Disabled"
    assert site["name"].startswith("func-mlk-example-")
    # A TaggedAzapiResource: the stack's tagging aspect reaches the site like any azurerm resource.
    assert site["tags"]["team"] == "example" and site["tags"]["network"] in ("public", "private")
    # azurerm's Flex resource (zip_deploy_file -> Kudu, AccountKey= in AzureWebJobsStorage) is gone.
    assert "azurerm_function_app_flex_consumption" not in stack.get("resource", {})


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_maximum_instance_count_is_within_flex_bounds(example, stack_name):
    """Flex takes 40-1000 (azurerm: `IntBetween(40, 1000)`; Flex docs: "the lowest maximum scale is 40")."""
    scale = props(example[stack_name])["functionAppConfig"]["scaleAndConcurrency"]
    assert MIN_INSTANCES <= scale["maximumInstanceCount"] <= MAX_INSTANCES
    assert scale["maximumInstanceCount"] == DEFAULT_MAX_INSTANCES == 40
    assert scale["instanceMemoryMB"] == 2048


@pytest.mark.parametrize("bad", [0, 10, 39, 1001])
def test_instance_counts_flex_refuses_are_refused_at_synth(bad):
    with pytest.raises(ValueError, match="40-1000"):
        check_instance_count(bad)
    assert check_instance_count(40) == 40 and check_instance_count(1000) == 1000


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_user_assigned_identity_named_for_the_devops_stack(example, stack_name):
    stack = example[stack_name]
    code = {"dev": "dev", "staging": "stg", "prod": "prd"}[stack_name.split("-")[1]]
    uai = resources(stack, UAI)[trigger_identity(stack)]
    assert uai["name"] == f"id-mlk-example-trigger-{code}"  # Namer.name("user_assigned_identity", "trigger")
    site = function_app(stack)
    assert site["identity"] == [{"type": "UserAssigned", "identity_ids": [ref(UAI, trigger_identity(stack))]}]
    auth = props(stack)["functionAppConfig"]["deployment"]["storage"]["authentication"]
    assert auth == {"type": "UserAssignedIdentity", "userAssignedIdentityResourceId": ref(UAI, trigger_identity(stack))}


def test_private_mode_has_no_inbound_and_leaves_through_the_vnet(example):
    """Queue-triggered: nothing has to reach the app, so private mode turns its public endpoint off."""
    public, private = props(example[PUBLIC]), props(example[PRIVATE])
    assert public["publicNetworkAccess"] == "Enabled" and "virtualNetworkSubnetId" not in public
    assert private["publicNetworkAccess"] == "Disabled"
    assert private["virtualNetworkSubnetId"].endswith("/subnets/snet-functions")
    for p in (public, private):
        assert not {"ipSecurityRestrictions", "scmIpSecurityRestrictions"} & set(p["siteConfig"])


def test_private_mode_endpoints_are_outbound_only(example):
    def targets(stack):
        return {(e["private_service_connection"]["subresource_names"][0], e["name"])
                for e in resources(stack, "azurerm_private_endpoint").values()}

    prod = targets(example[PRIVATE])
    storage = by_path(example[PRIVATE], *STORAGE)["name"]
    packages = by_path(example[PRIVATE], *PACKAGE_STORAGE)["name"]
    assert {("blob", f"pep-{storage}-blob"), ("queue", f"pep-{storage}-queue"), ("blob", f"pep-{packages}-blob")} <= prod
    assert not [n for kind, n in prod if kind == "sites"]  # no inbound endpoint for the app
    assert resources(example[PUBLIC], "azurerm_private_endpoint") == {}


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_function_storage_is_entra_only_and_lets_event_grid_in_privately(example, stack_name):
    stack = example[stack_name]
    storage = by_path(stack, *STORAGE)
    assert storage["name"].startswith("stfnmlkexample")
    assert storage["shared_access_key_enabled"] is False and storage["allow_nested_items_to_be_public"] is False
    if stack_name == PRIVATE:
        # Selected networks (infra/storage.py `trusted_services`): Event Grid's identity is a trusted
        # service on the public endpoint; `Disabled` would refuse it too.
        assert storage["public_network_access_enabled"] is True
        assert storage["network_rules"] == {"default_action": "Deny", "bypass": ["AzureServices"]}
    account = ref("azurerm_storage_account", address_of(stack, *STORAGE))
    containers = {c["name"] for c in resources(stack, "azurerm_storage_container").values()
                  if c["storage_account_id"] == account}
    assert containers == {IDEMPOTENCY_CONTAINER}


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_deployment_storage_is_its_own_code_only_account(example, stack_name):
    """The runner uploads the package there, so it is reachable over Entra ID also in private mode."""
    stack = example[stack_name]
    packages = by_path(stack, *PACKAGE_STORAGE)
    assert re.fullmatch(r"stpkmlkexample(dev|stg|prd)[0-9a-f]{4}", packages["name"])
    assert packages["shared_access_key_enabled"] is False and packages["allow_nested_items_to_be_public"] is False
    assert packages["public_network_access_enabled"] is True
    account = address_of(stack, *PACKAGE_STORAGE)
    container = address_of(stack, "azurerm_storage_container", "triggers/function_app/deployment_container")
    c = resources(stack, "azurerm_storage_container")[container]
    assert (c["name"], c["storage_account_id"], c["container_access_type"]) == (
        "app-package", ref("azurerm_storage_account", account), "private")
    storage = props(stack)["functionAppConfig"]["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["value"] == ref("azurerm_storage_account", account, "primary_blob_endpoint") + "app-package"


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_function_identity_gets_storage_and_queue_roles_and_nothing_else(example, stack_name):
    stack = example[stack_name]
    principal = ref(UAI, trigger_identity(stack), "principal_id")
    grants = {(r["role_definition_name"], r["scope"]) for r in resources(stack, "azurerm_role_assignment").values()
              if r["principal_id"] == principal}
    account = address_of(stack, *STORAGE)
    idem = address_of(stack, "azurerm_storage_container", "triggers/idempotency_container")
    deployment = address_of(stack, "azurerm_storage_container", "triggers/function_app/deployment_container")
    queue = address_of(stack, "azurerm_storage_queue", "triggers/event_queue")
    poison = address_of(stack, "azurerm_storage_queue", "triggers/poison_queue")
    assert grants == {
        ("Storage Blob Data Owner", ref("azurerm_storage_account", account)),
        ("Storage Blob Data Contributor", ref("azurerm_storage_container", idem)),
        ("Storage Blob Data Contributor", ref("azurerm_storage_container", deployment)),
        ("Storage Queue Data Reader", ref("azurerm_storage_queue", queue)),
        ("Storage Queue Data Message Processor", ref("azurerm_storage_queue", queue)),
        ("Storage Queue Data Contributor", ref("azurerm_storage_queue", poison)),
    }
    # The host starts with the site: every grant and both queues exist first.
    needed = {f"azurerm_role_assignment.{a}" for a, r in resources(stack, "azurerm_role_assignment").items()
              if r["principal_id"] == principal}
    needed |= {f"azurerm_storage_queue.{queue}", f"azurerm_storage_queue.{poison}"}
    assert needed <= set(function_app(stack)["depends_on"])


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_every_setting_the_function_requires_is_set_and_nothing_it_does_not_read(example, stack_name):
    """Read from the function's contract (trigger_core/contract.py), the one list of its settings."""
    keys = set(app_settings(example[stack_name]))
    function_keys = keys - set(HOST_STORAGE_SETTINGS) - {APPINSIGHTS_SETTING, APPINSIGHTS_AUTH_SETTING}
    assert set(REQUIRED_SETTINGS) <= function_keys, f"required settings missing: {set(REQUIRED_SETTINGS) - keys}"
    assert function_keys <= set(REQUIRED_SETTINGS) | set(OPTIONAL_SETTINGS), (
        f"settings the function does not read: {sorted(function_keys - set(REQUIRED_SETTINGS))}"
    )
    assert set(HOST_STORAGE_SETTINGS) <= keys
    assert app_settings(example[stack_name])["ENVIRONMENT_NAME"] == stack_name.split("-")[1]
    # App Insights keeps local auth in the kit, so no Entra authentication string is needed.
    assert APPINSIGHTS_AUTH_SETTING not in keys


def test_app_settings_values(example):
    stack = example[PUBLIC]
    uai = trigger_identity(stack)
    storage = address_of(stack, *STORAGE)
    appi = address_of(stack, "azurerm_application_insights", "monitoring/app_insights")
    assert app_settings(stack) == {
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
        "MODEL_NAME": "example-model",
        "EVENT_QUEUE_NAME": EVENT_QUEUE,
        "EventQueue__queueServiceUri": ref("azurerm_storage_account", storage, "primary_queue_endpoint"),
        "EventQueue__credential": "managedidentity",
        "EventQueue__clientId": ref(UAI, uai, "client_id"),
        "AzureWebJobsStorage__accountName": ref("azurerm_storage_account", storage, "name"),
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": ref(UAI, uai, "client_id"),
        APPINSIGHTS_SETTING: ref("azurerm_application_insights", appi, "connection_string"),
    }


def test_app_settings_validate_with_the_function(example):
    """The literal settings pass the function's own validation (references replaced by plausible values)."""
    parsed = function_settings(example[PUBLIC])
    assert parsed.pipeline_folder == "\\example" and parsed.training_path_prefix == "landing/"
    assert parsed.model_name == "example-model"
    # The queues the kit creates are the ones the function reads and poisons into.
    assert (parsed.event_queue_name, parsed.poison_queue_name) == (EVENT_QUEUE, POISON_QUEUE)


def test_pipeline_names_match_the_devops_stack():
    from infra.plan import pipeline_folder, pipeline_name

    assert pipeline_name("example", "training") == "example-training"
    assert pipeline_name("example", "release") == "example-release"
    assert pipeline_folder("example") == "\\example"


# What a storage key or a connection string with a credential looks like in a setting.
CREDENTIAL = re.compile(r"AccountKey=|SharedAccessSignature|DefaultEndpointsProtocol=|[?&]sig=|password|secret|"
                        r"primary_access_key|secondary_access_key|_connection_string\}", re.IGNORECASE)


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_no_setting_holds_a_key_or_a_storage_connection_string(example, stack_name):
    """Item 4: only identity settings reach the host; azurerm's Flex resource would add `AzureWebJobsStorage=...AccountKey=`."""
    stack = example[stack_name]
    settings = app_settings(stack)
    assert "AzureWebJobsStorage" not in settings and "DEPLOYMENT_STORAGE_CONNECTION_STRING" not in settings
    for key, value in settings.items():
        if key == APPINSIGHTS_SETTING:
            # Ingestion endpoint + instrumentation key: "not considered a security token or key" (App Insights docs).
            assert value.endswith(".connection_string}") and "azurerm_application_insights." in value
            continue
        assert not CREDENTIAL.search(f"{key}={value}"), key
        assert not key.endswith(("__accountKey", "__connectionString")), key
    # Nothing else in the site's JSON carries a key either (the whole body, serialized).
    body = json.dumps(function_app(stack)["body"])
    assert "AccountKey=" not in body and "primary_access_key" not in body and "listKeys" not in body
    assert not [a for a in resources(stack, "azurerm_function_app_flex_consumption")]


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


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_site_address_is_stable(example, stack_name):
    assert site_address(example[stack_name]).startswith("triggers_function_app_site_")



def test_the_upgrade_note_names_the_legacy_and_the_new_site_address(example):
    """The move in docs/event-flow.md must name the addresses the stacks really had and have."""
    from infra.triggers import LEGACY_SITE_ADDRESS

    doc = (REPO / "docs" / "event-flow.md").read_text()
    assert f"azurerm_function_app_flex_consumption.{LEGACY_SITE_ADDRESS}" in doc
    assert f"azapi_resource.{site_address(example[PUBLIC])}" in doc
