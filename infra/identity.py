"""Who may do what in one environment: the pipelines' managed identity and least-privilege roles.

| principal                | dev                                        | staging, prod         |
|--------------------------|--------------------------------------------|-----------------------|
| data scientists (group)  | AzureML Data Scientist on the workspace;   | Reader on the RG      |
|                          | workspace storage: Blob Data Contributor + |                       |
|                          | File Data Privileged Contributor; lake:    |                       |
|                          | Blob Data Contributor on each filesystem   |                       |
| app developers (group)   | Reader on the resource group               | same                  |
| pipeline identity        | Reader on the RG, AzureML Data Scientist on the workspace, Key Vault Secrets    |
|                          | User; workspace storage: Blob Data Contributor + File Data Privileged           |
|                          | Contributor; lake: Blob Data Reader on each filesystem                          |
| compute cluster identity | workspace storage: Blob Data Contributor + File Data Privileged Contributor;     |
|                          | lake: Blob Data Reader on each filesystem; AcrPull on the container registry     |
| dev pipeline identity    | -                                          | live model check role |
|                          |                                            | on the workspace (app-ci) |

Why, and what is left out on purpose:
- **Workspace storage.** It has shared keys off and the workspace's datastores use identity
  (`systemDatastoresAuthMode: identity`), so every principal that uploads code or models, reads job
  outputs or browses data in Studio needs the two data roles of Azure ML's "Disable shared key
  access for your workspace's storage account", scenarios table: Blob Data Contributor for
  datastores, `az ml model create --path` and job inputs/outputs, File Data Privileged Contributor
  for notebooks and compute instances (azure-ai-docs articles/machine-learning/
  how-to-disable-local-auth-storage.md). The workspace's own identity gets them in infra/ml_workspace.
- **Data lake.** Roles sit on each filesystem container (`<account>/blobServices/default/
  containers/<name>`), never on the account, so nobody here can touch the Event Grid dead-letter
  container. Only data scientists write (dev: they land and curate data); pipelines and jobs read
  (the training job takes its input from the lake, its outputs go to the workspace storage). A team
  whose jobs write back to the lake grants that container explicitly.
- **No AcrPush.** Nothing pushes images: the seeded pipelines (infra/assets) submit jobs and create
  models and deployments; Azure ML builds environment images itself. The compute keeps AcrPull.
- **Model registry** roles are in infra/model_registry.py (read-only except the one promotion identity).

Every scope is inside the environment's resource group; nothing is granted at subscription level.
The bootstrap stack's `StateAccess` gives the deploying identity data access to the state container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import Interfaces, Supports, Target, apply_interfaces, role

BLOB_CONTRIBUTOR = "Storage Blob Data Contributor"
BLOB_READER = "Storage Blob Data Reader"
FILE_PRIVILEGED_CONTRIBUTOR = "Storage File Data Privileged Contributor"
# Azure ML's table for identity-based workspace storage: datastores/uploads (blob), notebooks (file).
WORKSPACE_STORAGE_ROLES = (("blob", BLOB_CONTRIBUTOR), ("file", FILE_PRIVILEGED_CONTRIBUTOR))


@dataclass(frozen=True)
class PipelineIdentityProps:
    name: str
    resource_group_name: str
    location: str
    interfaces: Interfaces = field(default_factory=Interfaces)


class PipelineIdentity(Construct):
    """User-assigned identity the team's Azure DevOps service connection federates into (no secret)."""

    SUPPORTS: ClassVar[Supports] = Supports(
        lock=True,
        role_assignments=True,
        tags=True,
        reasons={
            "diagnostics": "managed identities have no resource logs; their sign-ins are in Entra ID's logs",
            "private_endpoints": "an identity is not reached over the network",
        },
    )

    def __init__(self, scope: Construct, id_: str, props: PipelineIdentityProps):
        super().__init__(scope, id_)
        self.identity = az.UserAssignedIdentity(
            self, "identity", name=props.name, resource_group_name=props.resource_group_name, location=props.location
        )
        self.applied = apply_interfaces(
            self,
            self.identity,
            props.interfaces,
            supports=self.SUPPORTS,
            target=Target(name=props.name, kind="pipeline-identity", prefix="identity"),
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
    workspace_storage_id: str
    key_vault_id: str
    container_registry_id: str
    # data-lake filesystem name -> its container's ARM id (not the dead-letter container)
    lake_filesystem_ids: Mapping[str, str] = field(default_factory=dict)


class TeamAccess(Construct):
    """The role table in this module's docstring, as role assignments."""

    def __init__(self, scope: Construct, id_: str, p: TeamAccessProps):
        super().__init__(scope, id_)
        sp, group = "ServicePrincipal", "Group"
        grants: list[tuple[str, str, str, str, str]] = [
            # (construct id, scope, role, principal, principal type)
            ("app_developers_reader", p.resource_group_id, "Reader", p.app_developers_group_id, group),
            ("pipeline_reader", p.resource_group_id, "Reader", p.pipeline_principal_id, sp),
            ("pipeline_ml", p.workspace_id, "AzureML Data Scientist", p.pipeline_principal_id, sp),
            ("pipeline_secrets", p.key_vault_id, "Key Vault Secrets User", p.pipeline_principal_id, sp),
            ("compute_acr_pull", p.container_registry_id, "AcrPull", p.compute_principal_id, sp),
        ]
        users = [("pipeline", p.pipeline_principal_id, sp), ("compute", p.compute_principal_id, sp)]
        if p.env == "dev":
            users.append(("data_scientists", p.data_scientists_group_id, group))
            grants.append(
                ("data_scientists_ml", p.workspace_id, "AzureML Data Scientist", p.data_scientists_group_id, group)
            )
        else:
            grants.append(("data_scientists_reader", p.resource_group_id, "Reader", p.data_scientists_group_id, group))
        for who, principal, kind in users:
            grants += [
                (f"{who}_workspace_storage_{key}", p.workspace_storage_id, name, principal, kind)
                for key, name in WORKSPACE_STORAGE_ROLES
            ]
        for fs, container_id in p.lake_filesystem_ids.items():
            grants += [
                (f"pipeline_lake_{fs}", container_id, BLOB_READER, p.pipeline_principal_id, sp),
                (f"compute_lake_{fs}", container_id, BLOB_READER, p.compute_principal_id, sp),
            ]
            if p.env == "dev":
                grants.append(
                    (f"data_scientists_lake_{fs}", container_id, BLOB_CONTRIBUTOR, p.data_scientists_group_id, group)
                )
        for id_, scope_id, role_name, principal, kind in grants:
            role(
                self,
                id_,
                scope_id=scope_id,
                role_name=role_name,
                principal_id=principal,
                principal_type=kind,
                description=f"{id_.replace('_', ' ')} ({p.env})",
            )


@dataclass(frozen=True)
class StateAccessProps:
    container_id: str  # ARM id of the Terraform state container


class StateAccess(Construct):
    """The identity that deploys the bootstrap stack may read and write Terraform state.

    Every other stack's `azurerm` backend uses Entra ID (`use_azuread_auth`; the account has shared
    keys off), which needs a data role on the container: Storage Blob Data Contributor (reads,
    writes and the blob leases Terraform locks state with). The principal is whoever runs the
    bootstrap (`azurerm_client_config.object_id`, a user or a service principal, so no principal
    type is set). Other deployers get the same role by hand (docs/deploy.md).
    """

    def __init__(self, scope: Construct, id_: str, props: StateAccessProps):
        super().__init__(scope, id_)
        self.client = az.DataAzurermClientConfig(self, "deployer")
        self.grant = az.RoleAssignment(
            self,
            "deployer_state",
            scope=props.container_id,
            role_definition_name=BLOB_CONTRIBUTOR,
            principal_id=self.client.object_id,
            description="mlops-kit: the deploying identity reads and writes Terraform state (Entra ID auth)",
        )


# What app-ci does in staging and prod with `arm-dev`: find the endpoint, read its traffic and the
# serving deployment's model, and replay the app's interactions against each serving deployment
# (aad_token endpoints need score/action: Azure ML, "Authenticate clients for online endpoints").
LIVE_MODEL_CHECK_ACTIONS = (
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read",
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/read",
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action",
)


@dataclass(frozen=True)
class LiveModelReaderProps:
    env: str
    resource_group_id: str
    workspace_id: str
    workspace_name: str
    reader_identity_id: str  # resource id of the dev pipeline identity (another stack, deployed first)


class LiveModelReader(Construct):
    """The dev pipeline identity may check this environment's live models, and nothing else.

    app-ci runs on every pull request with the `arm-dev` connection and checks the app against the
    models each environment's endpoint serves (`az ml online-endpoint list/show`, `online-deployment
    show`, then `contract_check.py replay` against each serving deployment); without a role here it
    fails with 403 on its first run. A custom role with exactly LIVE_MODEL_CHECK_ACTIONS: it cannot
    change endpoints, read keys, data or secrets. The identity is read by its deterministic id, so
    this stack deploys after `<team>-dev`.
    """

    def __init__(self, scope: Construct, id_: str, props: LiveModelReaderProps):
        super().__init__(scope, id_)
        from infra.service_connections import read_identity  # the devops stack's lookup, same rule

        reader = read_identity(self, "dev_pipeline_identity", props.reader_identity_id)
        self.definition = az.RoleDefinition(
            self,
            "role",
            name=f"mlops-kit live model check ({props.workspace_name})",
            scope=props.resource_group_id,
            assignable_scopes=[props.resource_group_id],
            description=f"mlops-kit: app-ci (arm-dev) reads and scores the live models of {props.env}",
            permissions=[az.RoleDefinitionPermissions(actions=list(LIVE_MODEL_CHECK_ACTIONS))],
        )
        self.grant = az.RoleAssignment(
            self,
            "dev_pipeline_checker",
            scope=props.workspace_id,
            role_definition_id=self.definition.role_definition_resource_id,
            principal_id=reader.output_value("properties.principalId"),
            principal_type="ServicePrincipal",
            description=f"mlops-kit: app-ci (arm-dev) checks the live models of {props.env}",
        )
