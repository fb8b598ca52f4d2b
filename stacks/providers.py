"""Provider blocks shared by the stacks. Credentials never appear here: Terraform reads them from
the environment (Azure CLI locally, OIDC/workload identity in pipelines; see docs/deploy.md).

`features.storage.data_plane_available = false` keeps azurerm 4.55 off the storage data plane: with
it on, `azurerm_storage_account` waits for the blob endpoint after create and reads the queue and
static-website properties on every refresh (storage_account_resource.go, the blocks guarded by
`dataPlaneAvailable`), which a runner outside a closed network gets 403 for (azurerm #33454,
#25978). Blob and share properties (soft delete, CORS) still go through Resource Manager
(`BlobService`/`FileService` clients), containers and queues are created with
`storage_account_id` (Resource Manager), and setting `queue_properties` or `static_website` is then
a plan-time error (CustomizeDiff), so nothing in the kit can silently need the data plane.
"""

from __future__ import annotations

from constructs import Construct

from infra import azurerm as az


def azurerm_provider(
    scope: Construct, *, subscription_id: str, tenant_id: str, alias: str | None = None
) -> az.AzurermProvider:
    return az.AzurermProvider(
        scope,
        f"azurerm_{alias}" if alias else "azurerm",
        alias=alias,
        subscription_id=subscription_id,
        tenant_id=tenant_id,
        # Storage accounts have shared keys off, so data-plane calls must use Entra ID.
        storage_use_azuread=True,
        features=[
            az.AzurermProviderFeatures(
                key_vault=[
                    az.AzurermProviderFeaturesKeyVault(
                        purge_soft_delete_on_destroy=False, recover_soft_deleted_key_vaults=True
                    )
                ],
                resource_group=[az.AzurermProviderFeaturesResourceGroup(prevent_deletion_if_contains_resources=True)],
                storage=[az.AzurermProviderFeaturesStorage(data_plane_available=False)],
            )
        ],
    )
