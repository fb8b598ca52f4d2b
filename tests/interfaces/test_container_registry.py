"""The container registry takes the contract like the other data constructs (it had neither diagnostics nor a lock).

Asserted on the synthesized fixture orgs: diagnostics to the environment's Log Analytics in every
environment, a CanNotDelete lock exactly where the environment profile locks data (prod).
"""

from __future__ import annotations

import pytest

from infra.profile import environment_profile
from tests.conftest import ORG, one, resources, team_named

ENVS = ("dev", "staging", "prod")


def _ref(stack: dict, rtype: str) -> str:
    (address,) = resources(stack, rtype)
    return "${" + f"{rtype}.{address}.id" + "}"


@pytest.mark.parametrize("env", ENVS)
def test_registry_logs_and_metrics_reach_log_analytics(example, env):
    stack = example[f"example-{env}"]
    acr = _ref(stack, "azurerm_container_registry")
    (setting,) = [d for d in resources(stack, "azurerm_monitor_diagnostic_setting").values()
                  if d["target_resource_id"] == acr]
    assert setting["log_analytics_workspace_id"] == _ref(stack, "azurerm_log_analytics_workspace")
    # Login and repository events (the registry's two log categories) come with the category group.
    assert setting["enabled_log"] == [{"category_group": "allLogs"}]
    assert setting["enabled_metric"] == [{"category": "AllMetrics"}]


@pytest.mark.parametrize("env", ENVS)
def test_registry_is_locked_where_the_profile_locks_data(example, env):
    from infra.config import load_org

    org = load_org(ORG)
    stack = example[f"example-{env}"]
    acr = _ref(stack, "azurerm_container_registry")
    locks = [lk for lk in resources(stack, "azurerm_management_lock").values() if lk["scope"] == acr]
    if environment_profile(org, team_named(org), env).lock:
        (lock,) = locks
        assert (lock["name"], lock["lock_level"]) == ("lock-container-registry", "CanNotDelete")
    else:
        assert locks == []


def test_private_registry_keeps_its_endpoint_and_gets_the_same_interfaces(example):
    stack = example["example-prod"]  # private mode in the fixture org
    acr = _ref(stack, "azurerm_container_registry")
    assert one(stack, "azurerm_container_registry")["public_network_access_enabled"] is False
    (endpoint,) = [e for e in resources(stack, "azurerm_private_endpoint").values()
                   if e["private_service_connection"]["private_connection_resource_id"] == acr]
    assert endpoint["private_service_connection"]["subresource_names"] == ["registry"]
    assert [d for d in resources(stack, "azurerm_monitor_diagnostic_setting").values()
            if d["target_resource_id"] == acr]
    assert [lk for lk in resources(stack, "azurerm_management_lock").values() if lk["scope"] == acr]
