"""`mlops-kit preflight` against a real HTTP server standing in for Azure Resource Manager and Azure DevOps.

Every way a check can fail is provoked once, and the test reads the row of the printed table: the
check is `failed` and the row carries its fix. The exit code is 1 whenever a check fails.
"""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from scripts import preflight as pf
from tests.cli.conftest import SUBS, FakeCredential
from tests.cli.fake_azure import TENANT, AzureState, FakeAzure, closed_port_url
from tests.conftest import TEAMS

LOGIN_FIX = f"az login --tenant {TENANT}"


def row(output: str, check: str) -> str:
    """The table row (one line, the output is wide) whose check column starts with `check`."""
    lines = [ln for ln in output.splitlines() if f"│ {check}" in ln]
    assert len(lines) == 1, f"expected one row for {check!r} in:\n{output}"
    return lines[0]


@pytest.fixture()
def preflight(cli, monkeypatch):
    """Run `mlops-kit preflight` against a FakeAzure with the given state and credential."""

    def run(state: AzureState, credential=None, *args: str, devops_url: str | None = None):
        cred = credential or FakeCredential()
        monkeypatch.setattr(pf, "default_credential", lambda: cred)
        with FakeAzure(state) as fake:
            result = cli("preflight", "--teams", TEAMS, "--arm-url", fake.arm_url,
                         "--devops-url", devops_url or fake.devops_url, *args)
        return result, fake, cred

    return run


def test_all_good_passes_every_check_with_the_right_tokens(preflight, azure_ok):
    result, fake, cred = preflight(azure_ok)
    assert result.exit_code == 0, result.output
    for check in ("sign-in: token for Azure Resource Manager", "sign-in: token for Azure DevOps",
                  *(f"subscription {s}" for s in SUBS.values()),
                  *(f"resource providers in {s}" for s in SUBS.values()),
                  "state storage account stmlktfstate001", "state container stmlktfstate001/tfstate",
                  "Azure DevOps organization", "permission: create projects"):
        assert "passed" in row(result.stdout, check)
    assert "│ failed" not in result.stdout and "│ skipped" not in result.stdout
    assert "ok preflight: 14 passed, 0 failed, 0 skipped" in result.stdout
    assert cred.scopes == [pf.ARM_SCOPE, pf.DEVOPS_SCOPE]
    # ARM calls carry the ARM token, Azure DevOps calls the Azure DevOps token.
    for req in fake.state.requests:
        scope = pf.ARM_SCOPE if req.path.startswith("/subscriptions") else pf.DEVOPS_SCOPE
        assert req.authorization == f"Bearer token-for-{scope}", req
    perm = [r for r in fake.state.requests if "/_apis/permissions/" in r.path]
    assert perm[0].path.endswith("/_apis/permissions/3e65f728-f8bc-4ecd-8764-7e378b19bfa7/4")
    assert perm[0].query["alwaysAllowAdministrators"] == ["true"]


def test_subscription_labels_name_the_teams_and_environments_that_use_it(preflight, azure_ok):
    result, _, _ = preflight(azure_ok)
    assert "(example prod)" in row(result.stdout, f"subscription {SUBS['prod']}")
    assert "(terraform state)" in row(result.stdout, f"subscription {SUBS['state']}")


def test_base_urls_can_come_from_the_environment(cli, azure_ok, monkeypatch):
    monkeypatch.setattr(pf, "default_credential", FakeCredential)
    with FakeAzure(azure_ok) as fake:
        result = cli("preflight", "--teams", TEAMS,
                     env={"MLOPS_KIT_ARM_URL": fake.arm_url, "MLOPS_KIT_DEVOPS_URL": fake.devops_url})
    assert result.exit_code == 0, result.output
    assert fake.state.requests


# ---------------------------------------------------------------- every failed-check path and its fix
def test_credential_failure_fails_both_token_checks_with_az_login(preflight, azure_ok):
    error = ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token from the included credentials.")
    result, fake, _ = preflight(azure_ok, FakeCredential(error))
    assert result.exit_code == 1
    for check in ("sign-in: token for Azure Resource Manager", "sign-in: token for Azure DevOps"):
        line = row(result.stdout, check)
        assert "failed" in line and "ClientAuthenticationError" in line and LOGIN_FIX in line
    assert "skipped" in row(result.stdout, f"subscription {SUBS['dev']}")
    assert "skipped" in row(result.stdout, "Azure DevOps organization")
    assert fake.state.requests == []  # nothing is called without a token
    assert "Traceback" not in result.output


def test_no_az_login_is_a_failed_check_not_a_traceback(preflight, azure_ok):
    error = CredentialUnavailableError("Please run 'az login' to set up an account")
    result, _, _ = preflight(azure_ok, FakeCredential(error))
    assert result.exit_code == 1
    assert LOGIN_FIX in row(result.stdout, "sign-in: token for Azure Resource Manager")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_401_from_resource_manager_says_sign_in_again(preflight, azure_ok):
    azure_ok.status = {"/subscriptions": 401}
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, f"subscription {SUBS['dev']}")
    assert "failed" in line and "HTTP 401 AuthenticationFailed" in line and LOGIN_FIX in line
    assert "skipped" in row(result.stdout, f"resource providers in {SUBS['dev']}")
    assert "skipped" in row(result.stdout, "state storage account")


def test_403_on_a_subscription_asks_for_a_role_on_it(preflight, azure_ok):
    azure_ok.status = {f"/subscriptions/{SUBS['staging']}": 403}
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, f"subscription {SUBS['staging']}")
    assert "failed" in line and "AuthorizationFailed" in line
    assert f"ask for Reader (deploying needs Owner or Contributor + User Access Administrator) on /subscriptions/{SUBS['staging']}" in line
    assert "passed" in row(result.stdout, f"subscription {SUBS['dev']}")


def test_unknown_subscription_points_at_the_team_file(preflight, azure_ok):
    del azure_ok.subscriptions[SUBS["prod"]]
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, f"subscription {SUBS['prod']}")
    assert "failed" in line and "HTTP 404 SubscriptionNotFound" in line
    assert f"check the subscription id {SUBS['prod']} in the team file" in line and "az account list" in line


def test_disabled_subscription_fails(preflight, azure_ok):
    azure_ok.subscriptions[SUBS["dev"]] = "Disabled"
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, f"subscription {SUBS['dev']}")
    assert "failed" in line and "state is Disabled" in line and "re-enable the subscription" in line


def test_subscription_of_another_tenant_fails(preflight, azure_ok):
    azure_ok.tenant = "99999999-9999-9999-9999-999999999999"
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, f"subscription {SUBS['dev']}")
    assert "belongs to tenant 99999999-9999-9999-9999-999999999999" in line and "tenant_id in teams/platform.yaml" in line


def test_slow_answer_is_a_timeout_failure_not_a_hang(preflight, azure_ok):
    azure_ok.delay = {f"/subscriptions/{SUBS['dev']}": 3.0}
    started = time.monotonic()
    result, _, _ = preflight(azure_ok, None, "--timeout", "0.3")
    assert time.monotonic() - started < 2.5  # the 3 s answer was not awaited
    assert result.exit_code == 1
    line = row(result.stdout, f"subscription {SUBS['dev']}")
    assert "failed" in line and "no answer within 0.3 s" in line
    assert "check your network/proxy (https://management.azure.com must be reachable)" in line


def test_unregistered_provider_gets_its_register_command(preflight, azure_ok):
    azure_ok.providers["Microsoft.EventGrid"] = "NotRegistered"
    del azure_ok.providers["Microsoft.MachineLearningServices"]
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, f"resource providers in {SUBS['dev']}")
    assert "Microsoft.EventGrid is NotRegistered" in line and "Microsoft.MachineLearningServices is NotRegistered" in line
    assert f"az provider register --namespace Microsoft.EventGrid --subscription {SUBS['dev']}" in line
    assert f"az provider register --namespace Microsoft.MachineLearningServices --subscription {SUBS['dev']}" in line


# ---------------------------------------------------------------- resource providers, per subscription
REQUIRED = {"Microsoft.MachineLearningServices", "Microsoft.Storage", "Microsoft.KeyVault",
            "Microsoft.ContainerRegistry", "Microsoft.OperationalInsights", "Microsoft.Insights", "Microsoft.Web",
            "Microsoft.App", "Microsoft.EventGrid", "Microsoft.ManagedIdentity", "Microsoft.Network",
            "Microsoft.Authorization"}


def test_each_subscription_is_checked_for_the_providers_of_its_stacks(preflight, azure_ok):
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 0, result.output
    # dev and staging are public (10), prod is private and hosts the registry (+ Network, App), state: 2.
    for env, count in (("dev", 10), ("staging", 10), ("prod", 12), ("state", 2)):
        assert f"{count} providers Registered" in row(result.stdout, f"resource providers in {SUBS[env]}")
    assert set(pf.PROVIDERS) == REQUIRED


def test_private_environment_needs_microsoft_app_and_network(preflight, azure_ok):
    for sub in (SUBS["dev"], SUBS["prod"]):
        azure_ok.subscription_providers[sub] = {"Microsoft.App": "NotRegistered", "Microsoft.Network": None}
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, f"resource providers in {SUBS['prod']}")
    assert "failed" in line and "Microsoft.App is NotRegistered" in line and "Microsoft.Network is NotRegistered" in line
    assert f"az provider register --namespace Microsoft.App --subscription {SUBS['prod']}" in line
    # dev is public with no managed network and no function subnet: neither is needed there
    assert "passed" in row(result.stdout, f"resource providers in {SUBS['dev']}")


def test_authorization_is_checked_even_in_the_state_subscription(preflight, azure_ok):
    azure_ok.subscription_providers[SUBS["state"]] = {"Microsoft.Authorization": "Unregistering"}
    result, _, _ = preflight(azure_ok)
    line = row(result.stdout, f"resource providers in {SUBS['state']}")
    assert "failed" in line and "Microsoft.Authorization is Unregistering" in line
    assert "passed" in row(result.stdout, f"resource providers in {SUBS['dev']}")


def test_provider_lists_are_what_the_synthesized_stacks_use(example):
    """Derived from the Terraform JSON: a new resource type in a stack fails here until preflight knows it."""
    org = pf_org()
    team = next(tf.team for tf in org.teams if tf.team.name == "example")
    for env in team.env_names:
        assert pf.namespaces_in(example[f"example-{env}"]) == set(pf.env_providers(team.environments[env])), env
    assert pf.namespaces_in(example["platform-bootstrap"]) == set(pf.BOOTSTRAP_PROVIDERS)
    shared = pf.namespaces_in(example["example-shared"])
    # the registry's own storage account and container registry live in a managed resource group
    assert shared | {"Microsoft.Storage", "Microsoft.ContainerRegistry"} == set(pf.SHARED_PROVIDERS)
    assert pf.namespaces_in(example["example-devops"]) <= set(pf.ENV_PROVIDERS)  # identities in env subscriptions
    assert "Microsoft.Network" in pf.namespaces_in(example["example-prod"])  # private endpoints, managed network
    assert "Microsoft.App" in pf.namespaces_in(example["example-prod"])  # VNet-integrated Flex app


def test_provider_lists_match_the_all_private_fixture_team(tmp_path):
    """Every environment private (shared network with hub zones, customer-subnet compute, own network)."""
    from infra.config import load_org
    from tests.conftest import REPO, synth_dir

    teams = REPO / "tests" / "fixtures" / "private-team"
    out = synth_dir(teams, tmp_path / "out")
    team = next(tf.team for tf in load_org(teams).teams)
    for env in team.env_names:
        assert pf.namespaces_in(out[f"{team.name}-{env}"]) == set(pf.env_providers(team.environments[env])), env


def test_a_resource_type_without_a_namespace_is_named():
    with pytest.raises(pf.UnknownResourceType, match="azurerm_cosmosdb_account: add its resource provider"):
        pf.namespaces_in({"resource": {"azurerm_cosmosdb_account": {"a": {}}}})
    azapi = {"resource": {"azapi_resource": {"a": {"type": "Microsoft.Web/sites/extensions@2024-04-01"}}}}
    assert pf.namespaces_in(azapi) == {"Microsoft.Web"}
    workspace = {"type": "Microsoft.MachineLearningServices/workspaces@2025-06-01",
                 "body": {"properties": {"managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound"}}}}
    assert pf.namespaces_in({"resource": {"azapi_resource": {"w": workspace}}}) == {
        "Microsoft.MachineLearningServices", "Microsoft.Network"}
    site = {"type": "Microsoft.Web/sites@2024-04-01", "body": {"properties": {"virtualNetworkSubnetId": "/sub/x"}}}
    assert pf.namespaces_in({"resource": {"azapi_resource": {"s": site}}}) == {"Microsoft.Web", "Microsoft.App"}


def test_missing_state_account_says_deploy_the_bootstrap_stack(preflight, azure_ok):
    azure_ok.storage_accounts.clear()
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, "state storage account stmlktfstate001")
    assert "failed" in line and "not found in resource group rg-mlk-tfstate" in line
    assert "npx cdktf deploy platform-bootstrap" in line
    assert "skipped" in row(result.stdout, "state container")


def test_missing_state_container_says_deploy_the_bootstrap_stack(preflight, azure_ok):
    azure_ok.containers.clear()
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    assert "passed" in row(result.stdout, "state storage account")
    line = row(result.stdout, "state container stmlktfstate001/tfstate")
    assert "failed" in line and "container not found" in line and "npx cdktf deploy platform-bootstrap" in line


def test_no_state_configured_is_skipped_with_a_note(cli, make_teams, azure_ok, monkeypatch):
    platform = (TEAMS / "platform.yaml").read_text()
    teams = make_teams({"platform.yaml": platform.split("# Remote state")[0]})
    monkeypatch.setattr(pf, "default_credential", FakeCredential)
    with FakeAzure(azure_ok) as fake:
        result = cli("preflight", "--teams", teams, "--arm-url", fake.arm_url, "--devops-url", fake.devops_url)
    assert result.exit_code == 0, result.output
    assert "no `state:` in platform.yaml: every stack uses local state" in row(result.stdout, "terraform state storage")


def test_organization_not_answering(preflight, azure_ok):
    result, _, _ = preflight(azure_ok, devops_url=closed_port_url())
    assert result.exit_code == 1
    line = row(result.stdout, "Azure DevOps organization")
    assert "failed" in line and "cannot connect" in line
    assert "check devops.organization_url in teams/platform.yaml and your network/proxy" in line
    assert "skipped" in row(result.stdout, "permission: create projects")


def test_organization_rejecting_the_identity(preflight, azure_ok):
    azure_ok.status = {"/contoso-ml/": 401}
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, "Azure DevOps organization")
    assert "failed" in line and "HTTP 401" in line
    assert "add this identity to the organization" in line and LOGIN_FIX in line


@pytest.mark.parametrize("status", [203, 302])
def test_organization_answering_with_a_sign_in_page(preflight, azure_ok, status):
    azure_ok.raw = {"/contoso-ml/_apis/projects": (status, "<html><title>Azure DevOps Services | Sign In</title></html>")}
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, "Azure DevOps organization")
    assert f"HTTP {status}, not a JSON answer (sign-in page?)" in line
    assert "add this identity to the organization" in line


def test_azure_cli_missing_says_install_it(preflight, azure_ok):
    error = ClientAuthenticationError(
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n\tEnvironmentCredential: EnvironmentCredential authentication unavailable.\n"
        "\tAzureCliCredential: Azure CLI not found on path\n")
    result, _, _ = preflight(azure_ok, FakeCredential(error))
    line = row(result.stdout, "sign-in: token for Azure Resource Manager")
    assert "(AzureCliCredential: Azure CLI not found on path)" in line
    assert f"install the Azure CLI, then {LOGIN_FIX}" in line


def test_slow_organization_times_out(preflight, azure_ok):
    azure_ok.delay = {"/contoso-ml/_apis/projects": 3.0}
    result, _, _ = preflight(azure_ok, None, "--timeout", "0.3")
    assert result.exit_code == 1
    assert "no answer within 0.3 s" in row(result.stdout, "Azure DevOps organization")


def test_no_create_project_permission(preflight, azure_ok):
    azure_ok.can_create_projects = False
    result, _, _ = preflight(azure_ok)
    assert result.exit_code == 1
    line = row(result.stdout, "permission: create projects")
    assert "failed" in line and "'Create new projects' is not allowed" in line
    assert "allow 'Create new projects' for this identity" in line


@pytest.mark.parametrize("breakage", [
    {"status": {"/subscriptions": 500}},
    {"status": {"/contoso-ml/_apis/permissions": 403}},
    {"status": {f"/subscriptions/{SUBS['dev']}/providers": 403}},
    {"status": {f"/subscriptions/{SUBS['state']}/resourceGroups": 403}},
    {"delay": {"/subscriptions": 3.0}},
])
def test_every_failed_check_has_a_fix(breakage, azure_ok):
    for key, value in breakage.items():
        setattr(azure_ok, key, value)
    with FakeAzure(azure_ok) as fake:
        checks = pf.run_checks(pf_org(), credential=FakeCredential(), arm_url=fake.arm_url,
                               devops_url=fake.devops_url, timeout=0.3)
    bad = [c for c in checks if c.status == "failed"]
    assert bad, checks
    assert all(c.fix for c in bad), bad


def test_only_the_selected_team_is_checked(preflight, azure_ok):
    result, fake, _ = preflight(azure_ok, None, "--team", "example")
    assert result.exit_code == 0
    result, _, _ = preflight(azure_ok, None, "--team", "nope")
    assert result.exit_code == 2 and "team 'nope' not found" in result.stderr


def test_invalid_config_is_a_user_error(cli, make_teams):
    teams = make_teams({"example.yaml": "name: Example\n"})
    result = cli("preflight", "--teams", teams)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {teams}/example.yaml: name: invalid value 'Example'")


def pf_org():
    from infra.config import load_org

    return load_org(TEAMS)
