"""Who may do what in one environment: the pipelines' managed identity and least-privilege roles.

| principal                | dev                                               | staging, prod        |
|--------------------------|---------------------------------------------------|----------------------|
| data scientists (group)  | AzureML Data Scientist on the workspace,          | Reader on the RG     |
|                          | Storage Blob Data Contributor on the data lake    |                      |
| app developers (group)   | Reader on the resource group                      | same                 |
| pipeline identity        | Reader on the resource group, AzureML Data Scientist on the workspace, AcrPush on |
|                          | the registry, Storage Blob Data Contributor on the lake, Key Vault Secrets User   |
| compute cluster identity | Storage Blob Data Contributor on the lake, AcrPull on the registry               |

Every scope is inside the environment's resource group; nothing is granted at subscription level.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import role


@dataclass(frozen=True)
class PipelineIdentityProps:
    name: str
    resource_group_name: str
    location: str


class PipelineIdentity(Construct):
    """User-assigned identity the team's Azure DevOps service connection federates into (no secret)."""

    def __init__(self, scope: Construct, id_: str, props: PipelineIdentityProps):
        super().__init__(scope, id_)
        self.identity = az.UserAssignedIdentity(
            self, "identity", name=props.name, resource_group_name=props.resource_group_name, location=props.location
        )


@dataclass(frozen=True)
class TeamAccessProps:
    env: str
    data_scientists_group_id: str
    app_developers_group_id: str
    pipeline_principal_id: str
    compute_principal_id: str
    resource_group_id: str
    workspace_id: str
    data_lake_id: str
    key_vault_id: str
    container_registry_id: str


class TeamAccess(Construct):
    """The role table in this module's docstring, as role assignments."""

    def __init__(self, scope: Construct, id_: str, p: TeamAccessProps):
        super().__init__(scope, id_)
        grants: list[tuple[str, str, str, str, str]] = [
            # (construct id, scope, role, principal, principal type)
            ("app_developers_reader", p.resource_group_id, "Reader", p.app_developers_group_id, "Group"),
            ("pipeline_reader", p.resource_group_id, "Reader", p.pipeline_principal_id, "ServicePrincipal"),
            ("pipeline_ml", p.workspace_id, "AzureML Data Scientist", p.pipeline_principal_id, "ServicePrincipal"),
            ("pipeline_acr_push", p.container_registry_id, "AcrPush", p.pipeline_principal_id, "ServicePrincipal"),
            ("pipeline_lake", p.data_lake_id, "Storage Blob Data Contributor", p.pipeline_principal_id,
             "ServicePrincipal"),
            ("pipeline_secrets", p.key_vault_id, "Key Vault Secrets User", p.pipeline_principal_id, "ServicePrincipal"),
            ("compute_lake", p.data_lake_id, "Storage Blob Data Contributor", p.compute_principal_id,
             "ServicePrincipal"),
            ("compute_acr_pull", p.container_registry_id, "AcrPull", p.compute_principal_id, "ServicePrincipal"),
        ]
        if p.env == "dev":
            grants += [
                ("data_scientists_ml", p.workspace_id, "AzureML Data Scientist", p.data_scientists_group_id, "Group"),
                ("data_scientists_lake", p.data_lake_id, "Storage Blob Data Contributor", p.data_scientists_group_id,
                 "Group"),
            ]
        else:
            grants.append(("data_scientists_reader", p.resource_group_id, "Reader", p.data_scientists_group_id, "Group"))
        for id_, scope_id, role_name, principal, kind in grants:
            role(
                self, id_, scope_id=scope_id, role_name=role_name, principal_id=principal, principal_type=kind,
                description=f"{id_.replace('_', ' ')} ({p.env})",
            )
