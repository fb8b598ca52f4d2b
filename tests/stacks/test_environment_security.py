"""Every security default of an environment stack, asserted on the synthesized Terraform JSON.

example-dev and example-staging are public-mode environments; example-prod is private mode.
"""

from __future__ import annotations

import pytest

from tests.conftest import one, resources

PUBLIC, PRIVATE = "example-dev", "example-prod"


def named(stack: dict, rtype: str, prefix: str) -> dict:
    found = [r for r in resources(stack, rtype).values() if str(r.get("name", "")).startswith(prefix)]
    assert len(found) == 1, f"expected one {rtype} named {prefix}*, found {len(found)}"
    return found[0]


def workspace_address(stack: dict) -> str:
    found = [a for a, r in resources(stack, "azapi_resource").items()
             if r["type"].startswith("Microsoft.MachineLearningServices/workspaces@")]
    assert len(found) == 1, found
    return found[0]


def workspace(stack: dict) -> dict:
    return resources(stack, "azapi_resource")[workspace_address(stack)]


def ref(resource_type: str, stack: dict, prefix: str) -> str:
    """The `${type.address.id}` reference of the resource whose name starts with prefix."""
    for address, r in resources(stack, resource_type).items():
        if str(r.get("name", "")).startswith(prefix):
            return "${" + f"{resource_type}.{address}.id" + "}"
    raise AssertionError(f"no {resource_type} named {prefix}*")


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_key_vault(example, stack_name):
    kv = one(example[stack_name], "azurerm_key_vault")
    private = stack_name == PRIVATE
    assert kv["rbac_authorization_enabled"] is True and "access_policy" not in kv
    assert kv["purge_protection_enabled"] is True and kv["soft_delete_retention_days"] == 90
    assert kv["public_network_access_enabled"] is (not private)
    assert kv["network_acls"]["default_action"] == ("Deny" if private else "Allow")
    assert kv["lifecycle"]["prevent_destroy"] is True


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_container_registry(example, stack_name):
    cr = one(example[stack_name], "azurerm_container_registry")
    private = stack_name == PRIVATE
    assert cr["admin_enabled"] is False and cr["anonymous_pull_enabled"] is False
    assert cr["sku"] == ("Premium" if private else "Standard")
    assert cr["public_network_access_enabled"] is (not private)


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_storage_accounts_are_entra_only_and_recoverable(example, stack_name):
    accounts = resources(example[stack_name], "azurerm_storage_account")
    assert len(accounts) >= 3  # Azure ML, data lake, trigger function (+ its deployment packages)
    for sa in accounts.values():
        assert sa["shared_access_key_enabled"] is False and sa["default_to_oauth_authentication"] is True
        assert sa["min_tls_version"] == "TLS1_2" and sa["https_traffic_only_enabled"] is True
        assert sa["allow_nested_items_to_be_public"] is False
        assert sa["blob_properties"]["delete_retention_policy"]["days"] >= 7
        assert sa["blob_properties"]["container_delete_retention_policy"]["days"] >= 7
        if stack_name == PRIVATE and sa["name"].startswith(("stmlk", "dlsmlk")):
            assert sa["network_rules"] == {"default_action": "Deny", "bypass": ["AzureServices"]}
            # Only the lake (Event Grid dead-letters into it as a trusted service) keeps its public
            # endpoint, behind the firewall; the others are closed (tests/stacks/test_private_mode.py).
            assert sa["public_network_access_enabled"] is sa["name"].startswith("dlsmlk")
        elif stack_name == PUBLIC:
            assert sa["public_network_access_enabled"] is True


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_ml_storage_keeps_versions(example, stack_name):
    sa = named(example[stack_name], "azurerm_storage_account", "stmlk")
    assert sa["blob_properties"]["versioning_enabled"] is True and sa["is_hns_enabled"] is False


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_workspace(example, stack_name):
    stack = example[stack_name]
    ws = workspace(stack)
    private = stack_name == PRIVATE
    props = ws["body"]["properties"]
    assert ws["identity"] == [{"type": "SystemAssigned"}]
    assert props["v1LegacyMode"] is False
    assert props["publicNetworkAccess"] == ("Disabled" if private else "Enabled")
    assert props["managedNetwork"]["isolationMode"] == ("AllowOnlyApprovedOutbound" if private else "Disabled")
    assert props["hbiWorkspace"] is private  # prod is the private one in the example
    assert ws["lifecycle"]["prevent_destroy"] is True
    assert props["storageAccount"] == ref("azurerm_storage_account", stack, "stmlk")
    assert props["keyVault"] == "${azurerm_key_vault." + next(iter(resources(stack, "azurerm_key_vault"))) + ".id}"
    assert props["containerRegistry"].startswith("${azurerm_container_registry.")
    assert props["applicationInsights"].startswith("${azurerm_application_insights.")
    assert ("imageBuildCompute" in props) is private


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_compute_cluster_scales_to_zero_without_local_auth(example, stack_name):
    cc = one(example[stack_name], "azurerm_machine_learning_compute_cluster")
    private = stack_name == PRIVATE
    assert cc["scale_settings"]["min_node_count"] == 0
    assert cc["local_auth_enabled"] is False and cc["ssh_public_access_enabled"] is False
    assert cc["node_public_ip_enabled"] is (not private)
    # Private prod uses the workspace's managed network: no customer subnet (how-to-managed-network).
    assert "subnet_resource_id" not in cc


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_data_lake(example, stack_name):
    stack = example[stack_name]
    lake = named(stack, "azurerm_storage_account", "dlsmlk")
    assert lake["is_hns_enabled"] is True and lake["shared_access_key_enabled"] is False
    assert lake["min_tls_version"] == "TLS1_2"
    assert lake["lifecycle"]["prevent_destroy"] is True
    lake_ref = ref("azurerm_storage_account", stack, "dlsmlk")
    filesystems = {c["name"] for c in resources(stack, "azurerm_storage_container").values()
                   if c["storage_account_id"] == lake_ref}
    assert filesystems == {"raw", "curated", "eventgrid-deadletter"}


def test_locks_only_in_prod(example):
    locks = resources(example[PRIVATE], "azurerm_management_lock").values()
    # Locks protect data (lake, vault, the images prod deploys; the ML registry's is in the shared stack),
    # never the workspace, whose child deployments and compute must stay replaceable (docs/architecture.md, Locks).
    assert {lk["name"] for lk in locks} == {"lock-data-lake", "lock-key-vault", "lock-container-registry"}
    assert all(lk["lock_level"] == "CanNotDelete" for lk in locks)
    assert resources(example[PUBLIC], "azurerm_management_lock") == {}


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_diagnostics_reach_log_analytics(example, stack_name):
    stack = example[stack_name]
    law = "${azurerm_log_analytics_workspace." + next(iter(resources(stack, "azurerm_log_analytics_workspace"))) + ".id}"
    targets = {d["target_resource_id"] for d in resources(stack, "azurerm_monitor_diagnostic_setting").values()
               if d["log_analytics_workspace_id"] == law}
    ws = "${azapi_resource." + workspace_address(stack) + ".id}"
    kv = "${azurerm_key_vault." + next(iter(resources(stack, "azurerm_key_vault"))) + ".id}"
    acr = "${azurerm_container_registry." + next(iter(resources(stack, "azurerm_container_registry"))) + ".id}"
    assert ws in targets and kv in targets and acr in targets
    for prefix in ("stmlk", "dlsmlk"):
        assert ref("azurerm_storage_account", stack, prefix) + "/blobServices/default" in targets
    appi = one(stack, "azurerm_application_insights")
    assert appi["workspace_id"] == law


def test_private_endpoints_and_dns_only_in_private_mode(example):
    assert resources(example[PUBLIC], "azurerm_private_endpoint") == {}
    assert resources(example[PUBLIC], "azurerm_private_dns_zone") == {}
    endpoints = resources(example[PRIVATE], "azurerm_private_endpoint").values()
    subresources = sorted(e["private_service_connection"]["subresource_names"][0] for e in endpoints)
    assert {"amlregistry", "amlworkspace", "blob", "dfs", "file", "registry", "vault"} <= set(subresources)
    zones = {z["name"] for z in resources(example[PRIVATE], "azurerm_private_dns_zone").values()}
    assert {"privatelink.api.azureml.ms", "privatelink.vaultcore.azure.net", "privatelink.dfs.core.windows.net"} <= zones
    links = resources(example[PRIVATE], "azurerm_private_dns_zone_virtual_network_link").values()
    assert len(links) == len(zones)
    assert all(lk["virtual_network_id"].endswith("/virtualNetworks/vnet-prod") for lk in links)
    for e in endpoints:
        assert e["subnet_id"].endswith("/subnets/snet-private-endpoints")
        assert e["private_dns_zone_group"]["private_dns_zone_ids"]


def _grants(stack: dict) -> set[tuple[str, str, str]]:
    return {(r.get("role_definition_name", r.get("role_definition_id")), r["principal_id"], r["scope"].split(".")[0])
            for r in resources(stack, "azurerm_role_assignment").values()}


def test_least_privilege_roles(example):
    ds, apps = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
    dev, prod = _grants(example[PUBLIC]), _grants(example[PRIVATE])
    assert ("AzureML Data Scientist", ds, "${azapi_resource") in dev
    assert ("Reader", ds, "${azurerm_resource_group") in prod
    assert not any(p == ds and role != "Reader" for role, p, _ in prod)
    for grants in (dev, prod):
        assert {role for role, p, _ in grants if p == apps} == {"Reader"}
    for name in (PUBLIC, PRIVATE):
        for r in resources(example[name], "azurerm_role_assignment").values():
            if "/providers/Microsoft.MachineLearningServices/registries/" in r["scope"]:  # the team registry
                continue  # (its roles: tests/triggers/test_registry.py)
            # Every scope is a resource of this stack (inside its resource group), never a subscription.
            assert r["scope"].startswith(("${azurerm_", "${azapi_resource.")) and "subscriptions/" not in r["scope"]
            assert r.get("role_definition_name") not in {"Owner", "Contributor", "User Access Administrator"}
    pipeline_roles = {r.get("role_definition_name") for r in resources(example[PUBLIC], "azurerm_role_assignment").values()
                      if "azurerm_user_assigned_identity.pipeline_identity" in r["principal_id"]}
    # No AcrPush (nothing pushes images); in dev the registry is read-only (infra/identity.py, model_registry.py).
    assert pipeline_roles == {"Reader", "AzureML Data Scientist", "Storage Blob Data Contributor",
                              "Storage File Data Privileged Contributor", "Storage Blob Data Reader",
                              "Key Vault Secrets User", "mlops-kit registry reader (mlr-mlk-example-shr-bbd4)"}


def test_pipeline_identity_exists(example):
    for name in (PUBLIC, PRIVATE):
        uai = named(example[name], "azurerm_user_assigned_identity", "id-mlk-example-pipelines-")
        assert uai["name"].startswith("id-mlk-example-pipelines-")


# Resource types whose azurerm schema has no `tags` argument.
UNTAGGABLE = {"azurerm_role_assignment", "azurerm_management_lock", "azurerm_monitor_diagnostic_setting",
              "azurerm_storage_container", "azurerm_eventgrid_system_topic_event_subscription",
              "azapi_update_resource", "azapi_resource_action", "azurerm_storage_management_policy",
              "azurerm_storage_blob", "azurerm_storage_queue", "azurerm_role_definition"}


def test_every_taggable_resource_carries_the_standard_tags(example):
    for name in (PUBLIC, PRIVATE):
        env = name.split("-", 1)[1]
        for rtype, instances in example[name]["resource"].items():
            for address, r in instances.items():
                if rtype in UNTAGGABLE:
                    assert "tags" not in r
                    continue
                tags = r.get("tags", {})
                assert tags.get("team") == "example" and tags.get("env") == env, (rtype, address)
                assert tags.get("cost-center") == "CC-0001" and tags.get("managed-by") == "mlops-kit"
                assert tags.get("owner") == "platform-engineering"  # platform default_tags merged in
                assert tags.get("network") == ("private" if name == PRIVATE else "public")


def test_backend_per_stack_with_entra_auth(example):
    for name, stack in example.items():
        backend = stack["terraform"]["backend"]
        if name == "platform-bootstrap":
            assert backend == {"local": {"path": "../../../terraform.platform-bootstrap.tfstate"}}
            continue
        assert backend["azurerm"]["key"] == f"{name}.tfstate"
        assert backend["azurerm"]["use_azuread_auth"] is True
        assert "access_key" not in backend["azurerm"] and "sas_token" not in backend["azurerm"]


def test_bootstrap_state_storage(example):
    stack = example["platform-bootstrap"]
    sa = one(stack, "azurerm_storage_account")
    assert sa["name"] == "stmlktfstate001"
    assert sa["shared_access_key_enabled"] is False and sa["allow_nested_items_to_be_public"] is False
    assert sa["blob_properties"]["versioning_enabled"] is True
    assert sa["blob_properties"]["delete_retention_policy"]["days"] >= 7
    assert sa["lifecycle"]["prevent_destroy"] is True
    container = one(stack, "azurerm_storage_container")
    assert container["name"] == "tfstate" and container["container_access_type"] == "private"
    assert one(stack, "azurerm_management_lock")["lock_level"] == "CanNotDelete"


def test_providers_carry_no_credentials_and_azurerm_uses_entra_for_storage(example):
    secrets = {"client_secret", "client_certificate", "client_certificate_password", "personal_access_token",
               "oidc_token", "oidc_request_token", "client_secret_path", "client_certificate_path"}
    for name, stack in example.items():
        for provider_name, blocks in stack["provider"].items():
            for block in blocks:
                assert not secrets & set(block), (name, provider_name)
                if provider_name == "azurerm":
                    assert block["storage_use_azuread"] is True
        assert "azurerm" in stack["provider"] or name.endswith("-devops")


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
def test_workspace_reaches_its_storage_by_identity(example, stack_name):
    stack = example[stack_name]
    # Set when the workspace is created, not patched afterwards (issue 10, item 7).
    assert workspace(stack)["body"]["properties"]["systemDatastoresAuthMode"] == "identity"
    assert not [u for u in resources(stack, "azapi_update_resource").values()
                if workspace_address(stack) in u["resource_id"]]
    storage = ref("azurerm_storage_account", stack, "stmlk")
    identity = "${azapi_resource." + workspace_address(stack) + ".identity[0].principal_id}"
    granted = {r["role_definition_name"] for r in resources(stack, "azurerm_role_assignment").values()
               if r["principal_id"] == identity and r["scope"] == storage}
    assert {"Storage Blob Data Contributor", "Storage File Data Privileged Contributor"} <= granted
