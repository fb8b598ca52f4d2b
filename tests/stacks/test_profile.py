"""The environment profile (infra/profile.py) of the fixture teams, and stack constructors that stay short.

The profile is "what prod gets" in one place; these tests pin its values for the frozen fixture teams
(tests/fixtures/org: example, public dev/staging and private prod; tests/fixtures/private-team:
secure, every environment private) and check that the synthesized stacks apply it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from infra.config import load_org
from infra.profile import EnvironmentProfile, PrivatePlacement, environment_profile
from tests.conftest import ORG, REPO, resources, team_named

PRIVATE_TEAM = REPO / "tests" / "fixtures" / "private-team"
MAX_CONSTRUCTOR_LINES = 60

EXAMPLE_PROD_NET = (
    "/subscriptions/00000000-0000-0000-0000-0000000000d3/resourceGroups/rg-network-prod/providers/"
    "Microsoft.Network/virtualNetworks/vnet-prod/subnets/"
)
NONPROD_NET = (
    "/subscriptions/00000000-0000-0000-0000-00000000cc01/resourceGroups/rg-network-nonprod/providers/"
    "Microsoft.Network/virtualNetworks/vnet-nonprod/subnets/"
)
SECURE_PROD_NET = (
    "/subscriptions/00000000-0000-0000-0000-0000000000e3/resourceGroups/rg-network-prod/providers/"
    "Microsoft.Network/virtualNetworks/vnet-secure-prod/subnets/"
)


def profiles(teams_dir: Path, team: str) -> dict[str, EnvironmentProfile]:
    org = load_org(teams_dir)
    found = team_named(org, team)
    return {env: environment_profile(org, found, env) for env in found.env_names}


def non_prod(env: str, placement: PrivatePlacement | None, isolation_mode: str) -> EnvironmentProfile:
    return EnvironmentProfile(
        env=env,
        location="westeurope",
        log_retention_days=30,
        data_soft_delete_days=30,
        data_replication="LRS",
        lock=False,
        high_business_impact=False,
        isolation_mode=isolation_mode,
        placement=placement,
    )


def prod(placement: PrivatePlacement) -> EnvironmentProfile:
    return EnvironmentProfile(
        env="prod",
        location="westeurope",
        log_retention_days=90,
        data_soft_delete_days=30,
        data_replication="GZRS",
        lock=True,
        high_business_impact=True,
        isolation_mode="AllowOnlyApprovedOutbound",
        placement=placement,
    )


def test_example_team_profiles():
    example_prod = PrivatePlacement(
        private_endpoint_subnet_id=EXAMPLE_PROD_NET + "snet-private-endpoints",
        function_subnet_id=EXAMPLE_PROD_NET + "snet-functions",
    )
    assert profiles(ORG, "example") == {
        "dev": non_prod("dev", None, "Disabled"),
        "staging": non_prod("staging", None, "Disabled"),
        "prod": prod(example_prod),
    }


def test_private_team_profiles():
    got = profiles(PRIVATE_TEAM, "secure")
    hub_zones = got["dev"].placement.existing_zone_ids if got["dev"].placement else {}
    assert len(hub_zones) == 9 and all("/rg-dns-hub/" in zone_id for zone_id in hub_zones.values())
    nonprod = {
        "private_endpoint_subnet_id": NONPROD_NET + "snet-private-endpoints",
        "function_subnet_id": NONPROD_NET + "snet-functions",
        "existing_zone_ids": hub_zones,
    }
    assert got == {
        "dev": non_prod("dev", PrivatePlacement(**nonprod), "AllowOnlyApprovedOutbound"),
        # managed_network: Disabled puts the compute in the customer subnet.
        "staging": non_prod(
            "staging", PrivatePlacement(**nonprod, compute_subnet_id=NONPROD_NET + "snet-ml-compute"), "Disabled"
        ),
        # prod has its own network and no hub zones: its stack creates them.
        "prod": prod(
            PrivatePlacement(
                private_endpoint_subnet_id=SECURE_PROD_NET + "snet-private-endpoints",
                function_subnet_id=SECURE_PROD_NET + "snet-functions",
            )
        ),
    }
    assert all(p.private and p.network_mode == "private" for p in got.values())


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_environment_stack_applies_its_profile(example, env):
    """Retention, replication, locks, HBI and placement in the synthesized JSON are the profile's."""
    profile = profiles(ORG, "example")[env]
    stack = example[f"example-{env}"]
    law = next(iter(resources(stack, "azurerm_log_analytics_workspace").values()))
    assert law["retention_in_days"] == profile.log_retention_days
    org = load_org(ORG)
    names = org.namer(team_named(org), env)
    replication = {
        a["name"]: a["account_replication_type"] for a in resources(stack, "azurerm_storage_account").values()
    }
    assert replication[names.name("data_lake")] == replication[names.name("ml_storage")] == profile.data_replication
    assert stack["resource"]["azapi_resource"]["ml_workspace_46391A20"]["body"]["properties"]["hbiWorkspace"] is (
        profile.high_business_impact
    )
    locks = resources(stack, "azurerm_management_lock")
    assert bool(locks) == profile.lock
    assert bool(resources(stack, "azurerm_private_endpoint")) == profile.private


def long_constructors(source: str) -> list[str]:
    """`Class.__init__ (N lines)` for every constructor in `source` longer than MAX_CONSTRUCTOR_LINES."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__" and item.end_lineno:
                    lines = item.end_lineno - item.lineno + 1
                    if lines > MAX_CONSTRUCTOR_LINES:
                        found.append(f"{node.name}.__init__ ({lines} lines)")
    return found


def test_the_length_check_sees_a_long_constructor():
    body = "".join(f"        self.a{i} = {i}\n" for i in range(MAX_CONSTRUCTOR_LINES))
    assert long_constructors(f"class S:\n    def __init__(self):\n{body}") == ["S.__init__ (61 lines)"]
    assert long_constructors("class S:\n    def __init__(self):\n        pass\n") == []


def test_no_stack_constructor_is_over_60_lines():
    """A stack composes constructs in named steps; a long constructor hides what differs between them."""
    too_long = {
        str(path.relative_to(REPO)): found
        for path in sorted((REPO / "stacks").rglob("*.py"))
        if (found := long_constructors(path.read_text()))
    }
    assert not too_long, f"split these into named methods (ids and creation order unchanged): {too_long}"
