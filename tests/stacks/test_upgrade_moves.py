"""Kit upgrades that changed a resource's type carry `moved` blocks, so existing state is not destroyed.

The workspace (run history, model lineage) and the function app became `azapi_resource`s; without
the moves an upgraded stack would destroy the old resources and create new ones with the same names.
That checkov still scans these stacks is tests/policies/test_scan.py's gate on the example.
"""

from __future__ import annotations

import pytest

from tests.conftest import resources

ENV_STACKS = ("example-dev", "example-staging", "example-prod")


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_moves_point_from_the_first_release_addresses_to_resources_that_exist(example, stack_name):
    stack = example[stack_name]
    moves = {m["from"]: m["to"] for m in stack.get("moved", [])}
    assert set(moves) == {
        "azurerm_machine_learning_workspace.ml_workspace_46391A20",
        "azurerm_function_app_flex_consumption.triggers_function_app_7F7BB144",
    }
    for target in moves.values():
        rtype, name = target.split(".")
        assert name in resources(stack, rtype), f"moved target {target} is not in {stack_name}"
    site_name = moves["azurerm_function_app_flex_consumption.triggers_function_app_7F7BB144"].split(".")[1]
    site = resources(stack, "azapi_resource")[site_name]
    assert site["type"].startswith("Microsoft.Web/sites@")
    workspace = resources(stack, "azapi_resource")["ml_workspace_46391A20"]
    assert workspace["type"].startswith("Microsoft.MachineLearningServices/workspaces@")

