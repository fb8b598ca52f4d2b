"""Provider blocks shared by the stacks. Credentials never appear here: Terraform reads them from
the environment (Azure CLI locally, OIDC/workload identity in pipelines; see docs/deploy.md)."""

from __future__ import annotations

from constructs import Construct

from infra import azurerm as az


def azurerm_provider(scope: Construct, *, subscription_id: str, tenant_id: str, alias: str | None = None):
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
            )
        ],
    )
