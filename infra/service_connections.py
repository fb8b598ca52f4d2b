"""Secret-free Azure service connections and the variable groups of each environment.

Each environment gets one Azure Resource Manager service connection using workload identity
federation: Azure DevOps issues an OIDC token for the connection, and Entra ID trusts it through a
federated credential on the environment's pipeline identity (a user-assigned identity created by
the `<team>-<env>` stack). No client secret or certificate exists anywhere.

Ordering: the identity already exists (the environment stack is deployed first); this stack reads
it by its deterministic resource id and adds the federated credential with the connection's
issuer and subject, so both sides are created in one apply of `<team>-devops`. Both go through
azapi with full resource ids: one provider block reaches every environment's subscription.

Gates on the protected connections (staging, prod), on top of the environments' checks, because
a pipeline can use a connection without deploying to an environment (training does):
- branch control: only runs from `refs/heads/main`, with branch protection verified;
- a required-template check: only runs whose YAML extends one of the kit's templates from
  `mlops-templates@main` (when the team pipelines extend them), so a contributor cannot write a
  pipeline that runs arbitrary steps as the staging or prod identity;
- prod: an approval by the approvers group, so queueing training or release with `environment=prod`
  runs as the prod identity only after a human said yes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from constructs import Construct

from infra.bindings import azapi
from infra.bindings import azuredevops as ado
from infra.environments import Approval, TemplateGate, require_templates
from infra.pipelines import connection_name, variable_group_name

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31"
CREDENTIAL_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31"


# Microsoft.ManagedIdentity federatedIdentityCredentials names (Azure's documented rule).
CREDENTIAL_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$")


def federated_credential_name(project_name: str, env: str) -> str:
    """`azure-devops-<project>-<env>` with every character Azure refuses (space, `.`) turned into `-`."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "-", f"azure-devops-{project_name}-{env}")[:120]
    if not CREDENTIAL_NAME.fullmatch(name):  # cannot happen for the config's project-name pattern
        raise ValueError(f"federated credential name {name!r} breaks {CREDENTIAL_NAME.pattern}")
    return name


def identity_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )


def read_identity(scope: Construct, id_: str, resource_id: str) -> azapi.DataAzapiResource:
    """An existing user-assigned identity; `.output_value("properties.clientId" | "properties.principalId")`."""
    return azapi.DataAzapiResource(
        scope,
        id_,
        type=IDENTITY_TYPE,
        resource_id=resource_id,
        response_export_values=["properties.clientId", "properties.principalId"],
    )


@dataclass(frozen=True)
class EnvironmentTarget:
    env: str
    subscription_id: str
    resource_group_name: str
    identity_name: str
    key_vault_name: str
    variables: Mapping[str, str]  # non-secret settings the pipelines read
    key_vault_secrets: Sequence[str] = ()  # secret names exposed through a Key Vault-linked group


@dataclass(frozen=True)
class ServiceConnectionsProps:
    team: str
    project_id: str
    project_name: str
    tenant_id: str
    targets: Sequence[EnvironmentTarget]
    prod_approval: Approval | None = None  # approval check on the prod connection
    templates: TemplateGate | None = None  # required-template checks on the staging and prod connections


class ServiceConnections(Construct):
    def __init__(self, scope: Construct, id_: str, props: ServiceConnectionsProps):
        super().__init__(scope, id_)
        self.connections: dict[str, ado.ServiceendpointAzurerm] = {}
        self.variable_groups: dict[str, ado.VariableGroup] = {}
        self.secret_groups: dict[str, ado.VariableGroup] = {}
        for t in props.targets:
            identity = read_identity(
                self, f"{t.env}_identity", identity_id(t.subscription_id, t.resource_group_name, t.identity_name)
            )
            connection = ado.ServiceendpointAzurerm(
                self,
                f"{t.env}_connection",
                project_id=props.project_id,
                service_endpoint_name=connection_name(t.env),
                description=f"mlops-kit: {props.team} {t.env}, workload identity federation (no secret)",
                service_endpoint_authentication_scheme="WorkloadIdentityFederation",
                azurerm_spn_tenantid=props.tenant_id,
                azurerm_subscription_id=t.subscription_id,
                azurerm_subscription_name=f"{props.team}-{t.env}",
                credentials=ado.ServiceendpointAzurermCredentials(
                    serviceprincipalid=identity.output_value("properties.clientId")
                ),
            )
            azapi.AzapiResource(
                self,
                f"{t.env}_federated_credential",
                type=CREDENTIAL_TYPE,
                name=federated_credential_name(props.project_name, t.env),
                parent_id=identity.id,
                body={
                    "properties": {
                        "audiences": [TOKEN_EXCHANGE_AUDIENCE],
                        "issuer": connection.workload_identity_federation_issuer,
                        "subject": connection.workload_identity_federation_subject,
                    }
                },
            )
            self.connections[t.env] = connection
            if t.env in ("staging", "prod"):
                # The connection reaches a protected subscription: only pipelines running from main may use it.
                ado.CheckBranchControl(
                    self,
                    f"{t.env}_connection_branch_control",
                    project_id=props.project_id,
                    target_resource_id=connection.id,
                    target_resource_type="endpoint",
                    display_name="Only main uses this connection",
                    allowed_branches="refs/heads/main",
                    verify_branch_protection=True,
                    ignore_unknown_protection_status=False,
                )
                require_templates(
                    self,
                    f"{t.env}_connection_required_template",
                    props.templates,
                    t.env,
                    project_id=props.project_id,
                    target_id=connection.id,
                    kind="endpoint",
                )
            if t.env == "prod" and props.prod_approval is not None:
                a = props.prod_approval
                ado.CheckApproval(
                    self,
                    "prod_connection_approval",
                    project_id=props.project_id,
                    target_resource_id=connection.id,
                    target_resource_type="endpoint",
                    approvers=list(a.approver_ids),
                    minimum_required_approvers=a.minimum_approvers,
                    requester_can_approve=False,
                    instructions=a.instructions,
                    timeout=a.timeout_minutes,
                )
            self.variable_groups[t.env] = ado.VariableGroup(
                self,
                f"{t.env}_variables",
                project_id=props.project_id,
                name=variable_group_name(props.team, t.env),
                description=f"mlops-kit: non-secret settings of {props.team} {t.env}",
                allow_access=False,  # each pipeline is authorized explicitly
                variable=[ado.VariableGroupVariable(name=k, value=v) for k, v in sorted(t.variables.items())],
            )
            if t.key_vault_secrets:
                self.secret_groups[t.env] = ado.VariableGroup(
                    self,
                    f"{t.env}_secrets",
                    project_id=props.project_id,
                    name=f"{variable_group_name(props.team, t.env)}-secrets",
                    description=f"mlops-kit: secrets of {props.team} {t.env}, read from Key Vault {t.key_vault_name}",
                    allow_access=False,
                    key_vault=ado.VariableGroupKeyVault(name=t.key_vault_name, service_endpoint_id=connection.id),
                    variable=[ado.VariableGroupVariable(name=s) for s in t.key_vault_secrets],
                )
