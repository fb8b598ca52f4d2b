"""The trigger function app on Flex Consumption, through azapi, and its code deployment in the same apply.

Why azapi and not `azurerm_function_app_flex_consumption` (azurerm 4.55, read at the tag):
- the resource always writes `AzureWebJobsStorage=DefaultEndpointsProtocol=https;AccountName=...;
  AccountKey=<storage_access_key>` into the app settings, on create and on update, whatever the
  storage authentication type (function_app_flex_consumption_resource.go ~443-448 and ~868-875,
  `StorageStringFmt`, passed to `ExpandSiteConfigFunctionFlexConsumptionApp`, which appends it):
  with identity auth the key is empty and the setting shadows the identity-based
  `AzureWebJobsStorage__*` settings (azurerm #29693, #29149);
- `zip_deploy_file` pushes the zip to Kudu's `/api/zipdeploy` with the site's publishing
  credentials, which Flex does not serve (azurerm #29630, open; fix #31937 closed unmerged).

So the site is a `Microsoft.Web/sites` (kind `functionapp,linux`) whose `functionAppConfig` carries
what Flex reads: deployment storage (a blob container, read and written with the user-assigned
identity), scale (`maximumInstanceCount` 40-1000, the same bounds azurerm validates with
`IntBetween(40, 1000)` and the Flex docs state), runtime python 3.11. `siteConfig.appSettings` is
exactly the list the caller passes (identity-based settings only). Basic publishing credentials
are off for both `scm` and `ftp` (`basicPublishingCredentialsPolicies`, allow = false).

Code deployment: Flex accepts only One Deploy, and in a template "use the `/onedeploy` resource
definition for the remote URL that contains the deployment package ... named
`released-package.zip`; the Functions host must be able to access both this remote package source
and the deployment container" (Functions docs, functions-infrastructure-as-code, Flex pivot,
"Deployment package"; uploading to the container alone "doesn't get automatically deployed").
The kit uploads the package built at synth into the app's own deployment container (an
`azurerm_storage_blob`, Entra ID auth), then PUTs `<site>/extensions/onedeploy` with that blob as
`packageUri` and `remoteBuild = false` through Resource Manager (`azapi_resource_action`): the
platform pulls the package, no request goes to the app's SCM endpoint, and no publishing
credential exists. A new package (its content hash is in the blob name) changes the request body,
so the next apply deploys it again.

The deployment container lives in its own storage account (`stpk...`): code only, Entra ID only,
public network (the deploying runner uploads there) also in private mode, where the app reaches it
through a private endpoint. Host state, the event queue and the claims stay in the function's
private storage account, which no runner outside the network ever calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from cdktf import AssetType, ITerraformDependable, TerraformAsset, TerraformStack
from constructs import Construct

from infra import azurerm as az
from infra.bindings.azapi import AzapiResourceAction, AzapiResourceIdentity, AzapiUpdateResource
from infra.event_flow import CodePackage, FunctionNetwork, ResourceGroupRef, TriggerNames, check_network
from infra.interfaces import Interfaces, Supports, Target, apply_interfaces, role
from infra.storage import SecureStorageProps, secure_storage_account
from infra.suppressions import Reasons, suppress, unsuppress
from infra.tags import TaggedAzapiResource

SITE_TYPE = "Microsoft.Web/sites@2024-04-01"
PUBLISHING_POLICY_TYPE = "Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01"
EXTENSION_TYPE = "Microsoft.Web/sites/extensions@2024-04-01"
DEPLOYMENT_CONTAINER = "app-package"
# Flex One Deploy wants the package under this file name (functions-infrastructure-as-code, Flex pivot).
PACKAGE_FILE = "released-package.zip"
PYTHON_VERSION = "3.11"
# Flex Consumption scale bounds: "The lowest maximum scale ... is 40. The highest currently supported
# value is 1000" (flex-consumption-plan.md, Considerations); azurerm validates the same IntBetween(40, 1000).
MIN_INSTANCES, MAX_INSTANCES = 40, 1000
DEFAULT_MAX_INSTANCES = 40
INSTANCE_MEMORY_MB = 2048


def check_instance_count(value: int) -> int:
    if not MIN_INSTANCES <= value <= MAX_INSTANCES:
        raise ValueError(f"maximum_instance_count: Flex Consumption takes {MIN_INSTANCES}-{MAX_INSTANCES}, got {value}")
    return value


@dataclass(frozen=True)
class FlexFunctionAppProps:
    resource_group: ResourceGroupRef
    names: TriggerNames  # function_app (the site), package_storage
    plan_id: str
    identity_id: str  # user-assigned identity: runs the app and reads/writes its deployment container
    identity_principal_id: str
    app_settings: Mapping[str, str]  # identity-based settings only (the caller's tests check)
    # private_endpoints set: private mode (the site closed and VNet-integrated, the package account's `blob`
    # endpoint); role_assignments and tags: the site's.
    interfaces: Interfaces
    network: FunctionNetwork | None = None  # the app's outbound subnet: given exactly in private mode
    package: CodePackage | None = None  # None: no code is deployed
    maximum_instance_count: int = DEFAULT_MAX_INSTANCES
    depends_on: Sequence[ITerraformDependable] = ()  # grants and queues the host needs at start
    upload_after: Sequence[ITerraformDependable] = ()  # slow resources the package upload waits for

    def __post_init__(self) -> None:
        check_network(self.interfaces, self.network)


def site_body(p: FlexFunctionAppProps, deployment_container_url: str) -> dict[str, Any]:
    """The `Microsoft.Web/sites` body: Flex config, HTTPS and TLS 1.2, the given settings, nothing else."""
    network: dict[str, Any] = {"publicNetworkAccess": "Enabled"}
    if p.network is not None:  # private mode (check_network: exactly when interfaces.private_endpoints is set)
        network = {"publicNetworkAccess": "Disabled", "virtualNetworkSubnetId": p.network.function_subnet_id}
    return {
        "kind": "functionapp,linux",
        "properties": {
            "serverFarmId": p.plan_id,
            "httpsOnly": True,
            "clientCertEnabled": False,
            **network,
            "functionAppConfig": {
                "deployment": {
                    "storage": {
                        "type": "blobContainer",
                        "value": deployment_container_url,
                        "authentication": {
                            "type": "UserAssignedIdentity",
                            "userAssignedIdentityResourceId": p.identity_id,
                        },
                    }
                },
                "scaleAndConcurrency": {
                    "maximumInstanceCount": check_instance_count(p.maximum_instance_count),
                    "instanceMemoryMB": INSTANCE_MEMORY_MB,
                },
                "runtime": {"name": "python", "version": PYTHON_VERSION},
            },
            "siteConfig": {
                "minTlsVersion": "1.2",
                "scmMinTlsVersion": "1.2",
                "ftpsState": "Disabled",
                "http20Enabled": True,
                "remoteDebuggingEnabled": False,
                "appSettings": [{"name": k, "value": v} for k, v in sorted(p.app_settings.items())],
            },
        },
    }


class FlexFunctionApp(Construct):
    """The site (azapi, Flex Consumption), its code-only deployment account and the code deployment."""

    SUPPORTS: ClassVar[Supports] = Supports(
        private_endpoints=True,
        role_assignments=True,
        tags=True,
        reasons={
            "lock": "nothing to keep: the site is rebuilt from its configuration and the package account holds "
            "only the code package, rebuilt at every synth",
            "diagnostics": "the site's diagnostic setting belongs to the composing construct (PipelineTriggers "
            "sends it to Log Analytics with its storage's, at the address of earlier releases); the package "
            "account's writes are in the Activity log and the app's deployment history",
        },
    )

    def __init__(self, scope: Construct, id_: str, props: FlexFunctionAppProps):
        super().__init__(scope, id_)
        self.props = props
        container_url = self._deployment_storage()
        # Tagged: the stack's tagging aspect reaches it like any azurerm resource; interface tags win.
        self.site = TaggedAzapiResource(
            self,
            "site",
            type=SITE_TYPE,
            name=props.names.function_app,
            parent_id=props.resource_group.id,
            location=props.resource_group.location,
            identity=AzapiResourceIdentity(type="UserAssigned", identity_ids=[props.identity_id]),
            body=site_body(props, container_url),
            # The host starts with the app: its storage roles and queues must exist first.
            depends_on=[self.deployment_grant, *props.depends_on],
        )
        # Inbound, nothing: no private endpoint on the site (nothing calls the app; private mode closes it).
        self.applied = apply_interfaces(
            self, self.site, replace(props.interfaces, private_endpoints=None), supports=self.SUPPORTS,
            target=Target(name=props.names.function_app, kind="function-app"),
        )
        self.publishing = [
            AzapiUpdateResource(
                self, f"{kind}_basic_auth_off", type=PUBLISHING_POLICY_TYPE,
                resource_id=f"{self.site.id}/basicPublishingCredentialsPolicies/{kind}",
                body={"properties": {"allow": False}},
            )
            for kind in ("scm", "ftp")
        ]
        self.package_blob: az.StorageBlob | None = None
        self.deploy: AzapiResourceAction | None = None
        if props.package is not None:
            self.package_blob, self.deploy = self._deploy_code(props.package, container_url)

    def _deployment_storage(self) -> str:
        """The code-only account and its container, the app's data role on it; returns the container URL."""
        p = self.props
        self.package_storage = secure_storage_account(
            self,
            "package_storage",
            SecureStorageProps(
                name=p.names.package_storage, resource_group_name=p.resource_group.name,
                location=p.resource_group.location, private=False,
            ),
        )
        if p.interfaces.private:
            # The account gets a private endpoint below, so CKV2_AZURE_33 passes: drop the public-mode
            # suppression secure_storage_account recorded.
            unsuppress(suppress(self.package_storage, Reasons.PACKAGES_PUBLIC_NETWORK), "CKV2_AZURE_33")
        else:
            suppress(self.package_storage, Reasons.PACKAGES_PUBLIC)
        suppress(self.package_storage, Reasons.PACKAGES_DISPOSABLE)
        self.deployment_container = az.StorageContainer(
            self, "deployment_container", name=DEPLOYMENT_CONTAINER, storage_account_id=self.package_storage.id,
            container_access_type="private",
        )
        suppress(self.deployment_container, Reasons.PACKAGE_CONTAINER_LOGS)
        # The platform reads and writes the deployment container with the app's identity (functionAppConfig).
        self.deployment_grant = role(
            self, "deployment_storage", scope_id=self.deployment_container.id,
            role_name="Storage Blob Data Contributor", principal_id=p.identity_principal_id,
            principal_type="ServicePrincipal", description="trigger function: its deployment container",
        )
        # Private mode: the app reads its package through a `blob` endpoint (package_blob_endpoint, as before).
        package = Target(p.names.package_storage, "function-packages", subresources=("blob",), prefix="package",
                         name_by_subresource=True)
        self.package_applied = apply_interfaces(
            self, self.package_storage, Interfaces(private_endpoints=p.interfaces.private_endpoints),
            target=package, supports=self.SUPPORTS,
        )
        return f"{self.package_storage.primary_blob_endpoint}{DEPLOYMENT_CONTAINER}"

    def _asset(self, package: CodePackage) -> str:
        """The zip as a TerraformAsset; its path in cdktf.out is what the blob uploads.

        Created at the stack's root under the id `function_package`, where earlier releases had it: the
        asset's folder name comes from that position, and the blob's `source` (ForceNew) must not change.
        The content hash names the folder, so the JSON is the same in every checkout.
        """
        asset = TerraformAsset(
            TerraformStack.of(self), "function_package", path=package.zip_path, type=AssetType.FILE,
            asset_hash=package.content_hash.upper(),
        )
        return asset.path

    def _deploy_code(self, package: CodePackage, container_url: str) -> tuple[az.StorageBlob, AzapiResourceAction]:
        """Upload the zip into the deployment container, then One Deploy it through Resource Manager."""
        if not package.content_hash:
            raise ValueError("package.content_hash: required (it names the blob, so a new package redeploys)")
        blob_name = f"source/{package.content_hash}/{PACKAGE_FILE}"
        # The deployer writes the package with Entra ID: a data role on this one container. It is
        # created with the account; the upload waits for the site and `upload_after`, which gives
        # the new role minutes to propagate (Azure RBAC is eventually consistent).
        client = az.DataAzurermClientConfig(self, "deployer")
        deployer_grant = az.RoleAssignment(
            self, "deployer_upload", scope=self.deployment_container.id,
            role_definition_name="Storage Blob Data Contributor", principal_id=client.object_id,
            description="mlops-kit: the deploying identity uploads the function package (Entra ID auth)",
        )
        blob = az.StorageBlob(
            self, "package", name=blob_name, storage_account_name=self.package_storage.name,
            storage_container_name=self.deployment_container.name, type="Block", source=self._asset(package),
            content_type="application/zip",
            depends_on=[deployer_grant, self.site, *self.props.upload_after],
        )
        deploy = AzapiResourceAction(
            self,
            "onedeploy",
            type=EXTENSION_TYPE,
            resource_id=f"{self.site.id}/extensions/onedeploy",
            method="PUT",
            body={"properties": {"packageUri": f"{container_url}/{blob_name}", "remoteBuild": False}},
            depends_on=[blob, self.deployment_grant, *self.publishing],
        )
        return blob, deploy
