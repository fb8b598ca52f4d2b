"""`mlops-kit preflight`: can this identity deploy the organization's config? Checked before `cdktf deploy`.

Checks, in order (a check whose prerequisite failed is skipped, with the reason):
  1. Entra tokens for Azure Resource Manager (`https://management.azure.com/.default`) and Azure
     DevOps (`499b84ac-1321-427f-aa17-267ca6975798/.default`) from `DefaultAzureCredential`.
  2. Every configured subscription (teams' environments and the state subscription) answers
     `GET {arm}/subscriptions/{id}?api-version=2022-12-01` with state `Enabled`, in the platform's tenant.
  3. The resource providers the stacks use are registered in each subscription
     (`GET {arm}/subscriptions/{id}/providers?api-version=2021-04-01`): each subscription is checked
     for the namespaces of the stacks it hosts (`required_providers`). Those come from the resource
     types the stacks synthesize (`namespaces_in` reads a stack's Terraform JSON: azurerm types
     through `AZURERM_NAMESPACES`, azapi resources by their `type`); tests/cli/test_preflight.py
     synthesizes public and private environments and checks that the sets here are exactly that.
  4. The state storage account and container of platform.yaml `state:` exist
     (`.../storageAccounts/{a}` and `.../blobServices/default/containers/{c}`, api-version 2023-05-01);
     skipped when no state is configured.
  5. The Azure DevOps organization answers `GET {org}/_apis/projects?api-version=7.1`.
  6. The identity may create projects: `GET {org}/_apis/permissions/{namespace}/{bit}?tokens=NAMESPACE
     &alwaysAllowAdministrators=true&api-version=7.1-preview.2` answers true.
     "Create new projects" (`CREATE_PROJECTS`, bit 4) is an action of the **Collection** security
     namespace `3e65f728-f8bc-4ecd-8764-7e378b19bfa7` (azure-devops-docs
     docs/organizations/security/namespace-reference.md, "Organization-level namespaces"; bits
     GENERIC_READ=1, GENERIC_WRITE=2, CREATE_PROJECTS=4). It is not in the *Project* namespace
     `52d39943-...`, where bit 4 is DELETE. The root token of the Collection namespace is
     `NAMESPACE`; the endpoint and its api-version are from MicrosoftDocs/vsts-rest-api-specs
     specification/security/7.1/security.json ("Permissions_Has Permissions", 7.1-preview.2).

Every request has a timeout; a timeout, a refused connection or an unexpected answer is a failed
check with its fix, never a hang or a traceback. Base URLs can point elsewhere (`arm_url`,
`devops_url`), which is how the tests run against a local fake. The credential is injectable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from infra.config import Environment, Org

ARM_URL = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"
DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
ARM_URL_VAR = "MLOPS_KIT_ARM_URL"
DEVOPS_URL_VAR = "MLOPS_KIT_DEVOPS_URL"
DEFAULT_TIMEOUT = 10.0

# Resource provider namespaces, per stack kind. Microsoft.Resources (resource groups) is always
# registered and never checked.
ML, STORAGE, AUTH = "Microsoft.MachineLearningServices", "Microsoft.Storage", "Microsoft.Authorization"
NETWORK, APP = "Microsoft.Network", "Microsoft.App"
ENV_PROVIDERS = (
    ML, STORAGE, "Microsoft.KeyVault", "Microsoft.ContainerRegistry", "Microsoft.OperationalInsights",
    "Microsoft.Insights", "Microsoft.Web", "Microsoft.EventGrid", "Microsoft.ManagedIdentity", AUTH,
)
# The registry: Azure creates its storage account and container registry in a managed resource
# group of the same subscription; the reader role and the lock are Microsoft.Authorization.
SHARED_PROVIDERS = (ML, STORAGE, "Microsoft.ContainerRegistry", AUTH)
BOOTSTRAP_PROVIDERS = (STORAGE, AUTH)
PROVIDERS = (*ENV_PROVIDERS, NETWORK, APP)  # every namespace any stack uses, in display order
ALWAYS_REGISTERED = frozenset({"Microsoft.Resources"})

# azurerm resource/data type prefix -> namespaces it creates resources in (longest prefix wins).
AZURERM_NAMESPACES: dict[str, tuple[str, ...]] = {
    "azurerm_resource_group": ("Microsoft.Resources",),
    "azurerm_client_config": (),  # a data source that calls no resource provider
    "azurerm_machine_learning_": (ML,),
    "azurerm_storage_": (STORAGE,),
    "azurerm_key_vault": ("Microsoft.KeyVault",),
    "azurerm_container_registry": ("Microsoft.ContainerRegistry",),
    "azurerm_log_analytics_": ("Microsoft.OperationalInsights",),
    "azurerm_application_insights": ("Microsoft.Insights",),
    "azurerm_monitor_": ("Microsoft.Insights",),
    "azurerm_eventgrid_": ("Microsoft.EventGrid",),
    "azurerm_service_plan": ("Microsoft.Web",),
    "azurerm_function_app_flex_consumption": ("Microsoft.Web",),
    "azurerm_user_assigned_identity": ("Microsoft.ManagedIdentity",),
    "azurerm_federated_identity_credential": ("Microsoft.ManagedIdentity",),
    "azurerm_role_": (AUTH,),
    "azurerm_management_lock": (AUTH,),
    "azurerm_private_": (NETWORK,),
    "azurerm_virtual_network": (NETWORK,),
    "azurerm_subnet": (NETWORK,),
}


class UnknownResourceType(ValueError):
    pass


def _azurerm_namespaces(rtype: str) -> tuple[str, ...]:
    matches = [prefix for prefix in AZURERM_NAMESPACES if rtype.startswith(prefix)]
    if not matches:
        raise UnknownResourceType(f"{rtype}: add its resource provider namespace to AZURERM_NAMESPACES")
    return AZURERM_NAMESPACES[max(matches, key=len)]


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _isolated(isolation_mode: object) -> bool:
    return isinstance(isolation_mode, str) and isolation_mode not in ("", "Disabled")


def namespaces_in(stack: dict) -> set[str]:
    """Every resource provider namespace one synthesized stack (its cdk.tf.json) creates resources in.

    Implied ones: a workspace with a managed virtual network needs Microsoft.Network
    (how-to-managed-network, prerequisites), and a Flex Consumption app with virtual network
    integration needs Microsoft.App (its subnet is delegated to Microsoft.App/environments).
    """
    found: set[str] = set()
    for kind in ("resource", "data"):
        for rtype, instances in stack.get(kind, {}).items():
            if rtype.startswith("azapi_"):
                for r in instances.values():
                    namespace = str(r.get("type", "")).split("/", 1)[0]
                    found.add(namespace)
                    body = _mapping(r.get("body"))
                    props = _mapping(body.get("properties"))
                    if namespace == ML and _isolated(_mapping(props.get("managedNetwork")).get("isolationMode")):
                        found.add(NETWORK)
                    if str(r.get("type", "")).startswith("Microsoft.Web/sites@") and props.get("virtualNetworkSubnetId"):
                        found.add(APP)  # a Flex Consumption site with virtual network integration
            elif rtype.startswith("azurerm_"):
                found.update(_azurerm_namespaces(rtype))
                for r in instances.values():
                    network = r.get("managed_network") or {}
                    if rtype == "azurerm_machine_learning_workspace" and _isolated(network.get("isolation_mode")):
                        found.add(NETWORK)
                    if rtype == "azurerm_function_app_flex_consumption" and r.get("virtual_network_subnet_id"):
                        found.add(APP)
    return found - ALWAYS_REGISTERED


def env_providers(env: Environment) -> tuple[str, ...]:
    """What one environment stack needs in its subscription (the example's stacks are checked against it)."""
    extra = []
    if env.private or env.isolation_mode != "Disabled":
        extra.append(NETWORK)  # private endpoints, DNS zones, the workspace's managed network
    if env.network.function_subnet_id:
        extra.append(APP)
    return (*ENV_PROVIDERS, *extra)


def required_providers(org: Org, teams: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    """{subscription id: namespaces its stacks use}, each in PROVIDERS order."""
    wanted = set(teams) if teams else None
    need: dict[str, set[str]] = {}
    for tf in org.teams:
        team = tf.team
        if wanted is not None and team.name not in wanted:
            continue
        for name in team.env_names:
            env = team.environments[name]
            need.setdefault(env.subscription_id.lower(), set()).update(env_providers(env))
        host = team.environments[team.registry.host_environment].subscription_id.lower()
        need.setdefault(host, set()).update(SHARED_PROVIDERS)
    if org.platform.state is not None:
        need.setdefault(org.platform.state.subscription_id.lower(), set()).update(BOOTSTRAP_PROVIDERS)
    return {sub: tuple(p for p in PROVIDERS if p in names) for sub, names in need.items()}


COLLECTION_NAMESPACE = "3e65f728-f8bc-4ecd-8764-7e378b19bfa7"
CREATE_PROJECTS_BIT = 4
COLLECTION_TOKEN = "NAMESPACE"

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, or why there was none (`error` set, `status` 0)."""

    status: int = 0
    body: Any = None
    error: str = ""


def default_credential():
    """DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI, ...).

    Its warnings are muted: a failure becomes a row of the preflight table instead of a log dump.
    """
    import logging

    from azure.identity import DefaultAzureCredential

    logging.getLogger("azure.identity").setLevel(logging.CRITICAL)
    return DefaultAzureCredential()


def _credential_problem(e: Exception, login_fix: str) -> tuple[str, str]:
    """(detail, fix) for a credential that could not get a token."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()] or [type(e).__name__]
    detail = f"{type(e).__name__}: {lines[0][:160]}"
    cli = next((ln for ln in lines[1:] if ln.startswith("AzureCliCredential:")), None)
    if cli:
        detail += f" ({cli[:120]})"
    if cli and "not found" in cli.lower():
        return detail, f"install the Azure CLI, then {login_fix}"
    return detail, login_fix


class _Http:
    def __init__(self, timeout: float):
        import requests

        self._requests = requests
        self.session = requests.Session()
        self.timeout = timeout

    def get(self, url: str, token: str) -> Reply:
        req = self._requests
        try:
            r = self.session.get(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                                 timeout=self.timeout, allow_redirects=False)
        except req.Timeout:
            return Reply(error=f"no answer within {self.timeout:g} s")
        except req.ConnectionError as e:
            reason = str(e.args[0] if e.args else e)
            return Reply(error=f"cannot connect ({reason[:120]})")
        except req.RequestException as e:
            return Reply(error=f"request failed ({type(e).__name__})")
        try:
            body = r.json()
        except (ValueError, json.JSONDecodeError):
            body = None
        return Reply(status=r.status_code, body=body)


def _message(reply: Reply) -> str:
    if reply.error:
        return reply.error
    err = reply.body.get("error") if isinstance(reply.body, dict) else None
    if isinstance(err, dict) and err.get("code"):
        return f"HTTP {reply.status} {err['code']}"
    if isinstance(reply.body, dict) and reply.body.get("message"):
        return f"HTTP {reply.status}: {str(reply.body['message'])[:120]}"
    return f"HTTP {reply.status}"


def subscriptions(org: Org, teams: Iterable[str] | None = None) -> dict[str, list[str]]:
    """{subscription id: ["<team> <env>", "terraform state", ...]} in config order."""
    wanted = set(teams) if teams else None
    out: dict[str, list[str]] = {}
    for tf in org.teams:
        if wanted is not None and tf.team.name not in wanted:
            continue
        for env in tf.team.env_names:
            out.setdefault(tf.team.environments[env].subscription_id.lower(), []).append(f"{tf.team.name} {env}")
    if org.platform.state is not None:
        out.setdefault(org.platform.state.subscription_id.lower(), []).append("terraform state")
    return out


def run_checks(
    org: Org,
    *,
    credential: Any = None,
    arm_url: str | None = None,
    devops_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    teams: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Check]:
    """Run every check; never raises for anything the environment or Azure does."""
    say = progress or (lambda _m: None)
    arm = (arm_url or ARM_URL).rstrip("/")
    org_url = (devops_url or org.platform.devops.organization_url).rstrip("/")
    tenant = org.platform.tenant_id
    login_fix = f"az login --tenant {tenant}"
    http = _Http(timeout)
    checks: list[Check] = []

    say("getting Entra tokens")
    cred = credential if credential is not None else default_credential()
    tokens: dict[str, str | None] = {}
    for label, scope in (("Azure Resource Manager", ARM_SCOPE), ("Azure DevOps", DEVOPS_SCOPE)):
        name = f"sign-in: token for {label}"
        try:
            tokens[scope] = cred.get_token(scope).token
            checks.append(Check(name, "passed", f"scope {scope}"))
        except Exception as e:  # any credential failure is the environment's, not a kit bug
            tokens[scope] = None
            checks.append(Check(name, "failed", *_credential_problem(e, login_fix)))
    arm_token, devops_token = tokens[ARM_SCOPE], tokens[DEVOPS_SCOPE]

    # ---------------------------------------------------------------- Azure Resource Manager
    subs = subscriptions(org, teams)
    reachable: list[str] = []
    for sub, users in subs.items():
        name = f"subscription {sub} ({', '.join(users)})"
        if arm_token is None:
            checks.append(Check(name, "skipped", "no Azure Resource Manager token"))
            continue
        say(f"reading subscription {sub}")
        r = http.get(f"{arm}/subscriptions/{sub}?api-version=2022-12-01", arm_token)
        state = r.body.get("state") if isinstance(r.body, dict) else None
        sub_tenant = r.body.get("tenantId") if isinstance(r.body, dict) else None
        if r.status == 200 and state == "Enabled" and sub_tenant and sub_tenant.lower() != tenant.lower():
            checks.append(Check(name, "failed", f"belongs to tenant {sub_tenant}, platform.yaml says {tenant}",
                                "fix tenant_id in teams/platform.yaml or the subscription id in the team file"))
        elif r.status == 200 and state == "Enabled":
            checks.append(Check(name, "passed", "Enabled"))
            reachable.append(sub)
        elif r.status == 200:
            checks.append(Check(name, "failed", f"state is {state}, deployments need Enabled",
                                "re-enable the subscription (Azure portal > Subscriptions) or use another one"))
        else:
            checks.append(Check(name, "failed", _message(r), _arm_fix(r, login_fix, f"/subscriptions/{sub}", sub)))

    needed = required_providers(org, teams)
    for sub in subs:
        name = f"resource providers in {sub}"
        if arm_token is None or sub not in reachable:  # reachable is empty without a token
            checks.append(Check(name, "skipped", "subscription not reachable"))
            continue
        say(f"reading resource providers of {sub}")
        r = http.get(f"{arm}/subscriptions/{sub}/providers?api-version=2021-04-01", arm_token)
        if r.status != 200 or not isinstance(r.body, dict):
            checks.append(Check(name, "failed", _message(r), _arm_fix(r, login_fix, f"/subscriptions/{sub}", sub)))
            continue
        states = {str(p.get("namespace", "")).lower(): p.get("registrationState") for p in r.body.get("value", [])}
        missing = [p for p in needed.get(sub, ()) if states.get(p.lower()) != "Registered"]
        if missing:
            detail = ", ".join(f"{p} is {states.get(p.lower()) or 'NotRegistered'}" for p in missing)
            fix = "; ".join(f"az provider register --namespace {p} --subscription {sub}" for p in missing)
            checks.append(Check(name, "failed", detail, fix))
        else:
            checks.append(Check(name, "passed", f"{len(needed.get(sub, ()))} providers Registered"))

    state = org.platform.state
    if state is None:
        checks.append(Check("terraform state storage", "skipped",
                            "no `state:` in platform.yaml: every stack uses local state"))
    else:
        sub = state.subscription_id.lower()
        account_id = (f"/subscriptions/{sub}/resourceGroups/{state.resource_group}"
                      f"/providers/Microsoft.Storage/storageAccounts/{state.storage_account}")
        acct_name = f"state storage account {state.storage_account}"
        cont_name = f"state container {state.storage_account}/{state.container}"
        bootstrap = ("deploy it once with local state: npx cdktf deploy platform-bootstrap "
                     "(docs/getting-started.md), or fix `state:` in teams/platform.yaml")
        if arm_token is None or sub not in reachable:
            checks.append(Check(acct_name, "skipped", "state subscription not reachable"))
            checks.append(Check(cont_name, "skipped", "state subscription not reachable"))
        else:
            say(f"reading state storage {state.storage_account}")
            r = http.get(f"{arm}{account_id}?api-version=2023-05-01", arm_token)
            if r.status == 200:
                checks.append(Check(acct_name, "passed", f"in {state.resource_group}"))
                r = http.get(f"{arm}{account_id}/blobServices/default/containers/{state.container}"
                             "?api-version=2023-05-01", arm_token)
                if r.status == 200:
                    checks.append(Check(cont_name, "passed", "exists"))
                elif r.status == 404:
                    checks.append(Check(cont_name, "failed", "container not found", bootstrap))
                else:
                    checks.append(Check(cont_name, "failed", _message(r), _arm_fix(r, login_fix, account_id, sub)))
            else:
                fix = bootstrap if r.status == 404 else _arm_fix(r, login_fix, account_id, sub)
                detail = f"not found in resource group {state.resource_group}" if r.status == 404 else _message(r)
                checks.append(Check(acct_name, "failed", detail, fix))
                checks.append(Check(cont_name, "skipped", "storage account not reachable"))

    # ---------------------------------------------------------------- Azure DevOps
    org_name = f"Azure DevOps organization {org_url}"
    perm_name = "permission: create projects"
    if devops_token is None:
        checks.append(Check(org_name, "skipped", "no Azure DevOps token"))
        checks.append(Check(perm_name, "skipped", "no Azure DevOps token"))
        return checks
    say(f"calling {org_url}")
    r = http.get(f"{org_url}/_apis/projects?api-version=7.1", devops_token)
    if r.status == 200 and isinstance(r.body, dict) and "value" in r.body:
        checks.append(Check(org_name, "passed", f"{r.body.get('count', len(r.body['value']))} projects visible"))
    else:
        if r.error:
            fix = ("check devops.organization_url in teams/platform.yaml and your network/proxy "
                   "(https://dev.azure.com must be reachable)")
        elif r.status in (401, 403) or (r.status in (200, 203, 302) and r.body is None):
            fix = ("add this identity to the organization (Organization settings > Users, Basic access) "
                   f"and sign in to its tenant: {login_fix}")
        elif r.status == 404:
            fix = "check devops.organization_url in teams/platform.yaml (the organization was not found)"
        else:
            fix = "retry later; if it persists, check https://status.dev.azure.com"
        detail = _message(r) if r.body is not None or r.error else f"HTTP {r.status}, not a JSON answer (sign-in page?)"
        checks.append(Check(org_name, "failed", detail, fix))
        checks.append(Check(perm_name, "skipped", "organization not reachable"))
        return checks

    say("checking the 'Create new projects' permission")
    r = http.get(
        f"{org_url}/_apis/permissions/{COLLECTION_NAMESPACE}/{CREATE_PROJECTS_BIT}?tokens={COLLECTION_TOKEN}"
        "&alwaysAllowAdministrators=true&api-version=7.1-preview.2",
        devops_token,
    )
    values = r.body.get("value") if isinstance(r.body, dict) else r.body
    grant = ("ask an organization administrator to allow 'Create new projects' for this identity "
             "(Organization settings > Permissions), or add it to Project Collection Administrators")
    if r.status == 200 and isinstance(values, list) and values and all(v is True for v in values):
        checks.append(Check(perm_name, "passed", "'Create new projects' is allowed"))
    elif r.status == 200 and isinstance(values, list) and values:
        checks.append(Check(perm_name, "failed", "'Create new projects' is not allowed for this identity", grant))
    else:
        checks.append(Check(perm_name, "failed", _message(r), grant if r.status in (401, 403) else
                            "retry; if it persists, check the identity's access level in the organization"))
    return checks


def _arm_fix(r: Reply, login_fix: str, scope: str, sub: str) -> str:
    if r.error:
        return "check your network/proxy (https://management.azure.com must be reachable), then retry"
    if r.status == 401:
        return f"the token was rejected: {login_fix}"
    if r.status == 403:
        return f"ask for Reader (deploying needs Owner or Contributor + User Access Administrator) on {scope}"
    if r.status == 404:
        return f"check the subscription id {sub} in the team file, and that your account can see it: az account list"
    return "retry; if it persists, check https://status.azure.com"


def failed(checks: list[Check]) -> bool:
    return any(c.status == "failed" for c in checks)
