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
The plan (`ConnectionPlan.gates`) lists these; infra/environments.py `apply_gates` creates them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from infra.bindings import azapi
from infra.bindings import azuredevops as ado
from infra.environments import CheckTarget, apply_gates
from infra.plan import CREDENTIAL_NAME as CREDENTIAL_NAME  # re-exported: the tests of the name rule
from infra.plan import EnvironmentPlan
from infra.plan import federated_credential_name as federated_credential_name

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31"
CREDENTIAL_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31"


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
class ServiceConnectionsProps:
    team: str
    project_id: str
    tenant_id: str
    environments: Sequence[EnvironmentPlan]
    variables: Mapping[str, Mapping[str, str]]  # env -> non-secret settings the pipelines read
    approver_ids: Sequence[str] = field(default=())  # the approvers group's Azure DevOps identity (prod approval)


class ServiceConnections(Construct):
    """Per environment: the connection, its federated credential, the checks its plan lists, its variable groups."""

    def __init__(self, scope: Construct, id_: str, props: ServiceConnectionsProps):
        super().__init__(scope, id_)
        self.connections: dict[str, ado.ServiceendpointAzurerm] = {}
        self.variable_groups: dict[str, ado.VariableGroup] = {}
        self.secret_groups: dict[str, ado.VariableGroup] = {}
        for env in props.environments:
            connection = self._connection(props, env)
            self.connections[env.name] = connection
            # The connection reaches the environment's subscription: on protected ones, only main through
            # the kit's templates (and prod after an approval) may use it.
            target = CheckTarget(
                props.project_id, connection.id, "endpoint", "Only main uses this connection", props.approver_ids
            )
            apply_gates(self, f"{env.name}_connection", env.connection.gates, target)
            self._variable_groups(props, env, connection)

    def _connection(self, props: ServiceConnectionsProps, env: EnvironmentPlan) -> ado.ServiceendpointAzurerm:
        """The workload-identity connection and the federated credential that lets Entra ID trust it."""
        plan = env.connection
        identity = read_identity(self, f"{env.name}_identity", plan.identity.resource_id)
        connection = ado.ServiceendpointAzurerm(
            self,
            f"{env.name}_connection",
            project_id=props.project_id,
            service_endpoint_name=plan.name,
            description=f"mlops-kit: {props.team} {env.name}, workload identity federation (no secret)",
            service_endpoint_authentication_scheme="WorkloadIdentityFederation",
            azurerm_spn_tenantid=props.tenant_id,
            azurerm_subscription_id=env.subscription_id,
            azurerm_subscription_name=plan.subscription_name,
            credentials=ado.ServiceendpointAzurermCredentials(
                serviceprincipalid=identity.output_value("properties.clientId")
            ),
        )
        azapi.AzapiResource(
            self,
            f"{env.name}_federated_credential",
            type=CREDENTIAL_TYPE,
            name=plan.credential_name,
            parent_id=identity.id,
            body={
                "properties": {
                    "audiences": [TOKEN_EXCHANGE_AUDIENCE],
                    "issuer": connection.workload_identity_federation_issuer,
                    "subject": connection.workload_identity_federation_subject,
                }
            },
        )
        return connection

    def _variable_groups(
        self, props: ServiceConnectionsProps, env: EnvironmentPlan, connection: ado.ServiceendpointAzurerm
    ) -> None:
        plan, team = env.connection, props.team
        self.variable_groups[env.name] = ado.VariableGroup(
            self,
            f"{env.name}_variables",
            project_id=props.project_id,
            name=plan.variable_group,
            description=f"mlops-kit: non-secret settings of {team} {env.name}",
            allow_access=False,  # each pipeline is authorized explicitly
            variable=[ado.VariableGroupVariable(name=k, value=v) for k, v in sorted(props.variables[env.name].items())],
        )
        if plan.secret_group:
            key_vault = env.names.name("key_vault")
            self.secret_groups[env.name] = ado.VariableGroup(
                self,
                f"{env.name}_secrets",
                project_id=props.project_id,
                name=plan.secret_group,
                description=f"mlops-kit: secrets of {team} {env.name}, read from Key Vault {key_vault}",
                allow_access=False,
                key_vault=ado.VariableGroupKeyVault(name=key_vault, service_endpoint_id=connection.id),
                variable=[ado.VariableGroupVariable(name=s) for s in plan.key_vault_secrets],
            )
