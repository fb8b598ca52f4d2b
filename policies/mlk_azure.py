"""The kit's Azure checks (one resource at a time): CKV_MLK_1 .. CKV_MLK_6. See docs/policies.md."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.mlk_common import (
    block,
    blocks,
    fail,
    guideline,
    is_false,
    is_true,
    is_unresolved,
    network_mode,
    prevent_destroy,
    value,
)

AML_WORKSPACE_TYPE = "Microsoft.MachineLearningServices/workspaces@"


class MlWorkspaceIsolation(BaseResourceCheck):
    """CKV_MLK_1: workspace not reachable from the internet in a private environment; v1 mode off.

    The kit creates the workspace as an azapi_resource (infra/ml_workspace.py): its body is judged
    the same way (properties.publicNetworkAccess, properties.v1LegacyMode)."""

    def __init__(self) -> None:
        super().__init__(
            name="ML workspace: public network access off in private environments, v1 legacy mode off",
            id="CKV_MLK_1",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("azurerm_machine_learning_workspace", "azapi_resource"),
            guideline=guideline("CKV_MLK_1"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if self.entity_type == "azapi_resource":
            return self._scan_azapi(conf)
        self.evaluated_keys = ["tags/network", "public_network_access_enabled", "v1_legacy_mode_enabled"]
        problems = []
        # v1 legacy mode lets v1 APIs bypass the workspace's network isolation: off everywhere.
        if not is_false(value(conf, "v1_legacy_mode_enabled", False)):
            problems.append("v1_legacy_mode_enabled must be false")
        mode = network_mode(conf)
        if mode is None:
            problems.append("tag `network` (public|private) is missing: the environment's mode is unknown")
        elif mode == "private" and not is_false(value(conf, "public_network_access_enabled")):
            # Absent means the provider default: public access on.
            problems.append("private environment: public_network_access_enabled must be false")
        return fail(self, *problems) if problems else CheckResult.PASSED

    def _scan_azapi(self, conf: dict[str, list[Any]]) -> CheckResult:
        rtype = value(conf, "type")
        if is_unresolved(rtype):
            return fail(self, f"azapi_resource type {rtype!r} is an expression: cannot tell whether it is a workspace")
        if not (isinstance(rtype, str) and rtype.startswith(AML_WORKSPACE_TYPE)):
            return CheckResult.UNKNOWN  # not a workspace: nothing to judge (no record)
        self.evaluated_keys = ["tags/network", "body/[0]/properties/[0]/publicNetworkAccess",
                               "body/[0]/properties/[0]/v1LegacyMode"]
        props = block(block(conf, "body"), "properties")
        problems = []
        if not is_false(value(props, "v1LegacyMode", False)):  # API default: false
            problems.append("body.properties.v1LegacyMode must be false")
        mode = network_mode(conf)
        if mode is None:
            problems.append("tag `network` (public|private) is missing: the environment's mode is unknown")
        elif mode == "private" and value(props, "publicNetworkAccess") != "Disabled":
            # Absent means the API default: public access on.
            problems.append("private environment: body.properties.publicNetworkAccess must be \"Disabled\"")
        return fail(self, *problems) if problems else CheckResult.PASSED


class ComputeClusterNoLocalAuthScaleToZero(BaseResourceCheck):
    """CKV_MLK_2: compute clusters authenticate with Entra ID only and scale to zero."""

    def __init__(self) -> None:
        super().__init__(
            name="ML compute cluster: local auth off and scale_settings.min_node_count = 0",
            id="CKV_MLK_2",
            categories=(CheckCategories.IAM,),
            supported_resources=("azurerm_machine_learning_compute_cluster",),
            guideline=guideline("CKV_MLK_2"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        self.evaluated_keys = ["local_auth_enabled", "scale_settings/[0]/min_node_count"]
        problems = []
        if not is_false(value(conf, "local_auth_enabled")):  # provider default: true
            problems.append("local_auth_enabled must be false (set explicitly; the provider default is true)")
        min_nodes = value(block(conf, "scale_settings"), "min_node_count")
        if min_nodes not in (0, "0"):
            problems.append(f"scale_settings.min_node_count must be 0 (idle clusters cost nothing), got {min_nodes!r}")
        return fail(self, *problems) if problems else CheckResult.PASSED


class DataLakeEntraOnly(BaseResourceCheck):
    """CKV_MLK_3: a data lake (HNS storage account) takes Entra ID only: shared keys off."""

    def __init__(self) -> None:
        super().__init__(
            name="Data lake (storage account with is_hns_enabled): hierarchical namespace on, shared keys off",
            id="CKV_MLK_3",
            categories=(CheckCategories.IAM,),
            supported_resources=("azurerm_storage_account",),
            guideline=guideline("CKV_MLK_3"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        hns = value(conf, "is_hns_enabled")
        if hns is None or is_false(hns):
            return CheckResult.UNKNOWN  # not a data lake: nothing to judge (no record)
        self.evaluated_keys = ["is_hns_enabled", "shared_access_key_enabled"]
        problems = []
        if not is_true(hns):
            problems.append(f"is_hns_enabled must be the literal true, got {hns!r}")
        if not is_false(value(conf, "shared_access_key_enabled")):  # provider default: true
            problems.append("shared_access_key_enabled must be false (Entra ID only; the provider default is true)")
        return fail(self, *problems) if problems else CheckResult.PASSED


SITE_TYPE = "Microsoft.Web/sites@"


class FunctionAppHttpsOnly(BaseResourceCheck):
    """CKV_MLK_4: function apps refuse plain HTTP (azurerm apps, and `Microsoft.Web/sites` through azapi)."""

    def __init__(self) -> None:
        super().__init__(
            name="Function app: https_only = true (azapi Microsoft.Web/sites: properties.httpsOnly = true)",
            id="CKV_MLK_4",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("azurerm_function_app_flex_consumption", "azurerm_linux_function_app", "azapi_resource"),
            guideline=guideline("CKV_MLK_4"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if self.entity_type == "azapi_resource":
            rtype = value(conf, "type")
            if is_unresolved(rtype):
                return fail(self, f"azapi_resource type {rtype!r} is an expression: cannot tell whether it is a site")
            if not (isinstance(rtype, str) and rtype.startswith(SITE_TYPE)):
                return CheckResult.UNKNOWN  # not a site: nothing to judge (no record)
            self.evaluated_keys = ["body/[0]/properties/[0]/httpsOnly"]
            if is_true(value(block(block(conf, "body"), "properties"), "httpsOnly")):  # API default: false
                return CheckResult.PASSED
            return fail(self, "body.properties.httpsOnly must be true (the API default is false)")
        self.evaluated_keys = ["https_only"]
        if is_true(value(conf, "https_only")):  # provider default: false
            return CheckResult.PASSED
        return fail(self, "https_only must be true (the provider default is false)")


class EventSubscriptionRetryAndDeadLetter(BaseResourceCheck):
    """CKV_MLK_5: an Event Grid subscription retries and keeps what it cannot deliver."""

    def __init__(self) -> None:
        super().__init__(
            name="Event Grid subscription: retry_policy and storage_blob_dead_letter_destination set",
            id="CKV_MLK_5",
            categories=(CheckCategories.BACKUP_AND_RECOVERY,),
            supported_resources=(
                "azurerm_eventgrid_system_topic_event_subscription",
                "azurerm_eventgrid_event_subscription",
            ),
            guideline=guideline("CKV_MLK_5"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        self.evaluated_keys = ["retry_policy", "storage_blob_dead_letter_destination"]
        problems = []
        retry = block(conf, "retry_policy")
        if retry is None:
            problems.append("retry_policy block missing (set max_delivery_attempts and event_time_to_live)")
        dead_letter = blocks(conf, "storage_blob_dead_letter_destination")
        if not dead_letter or not all(
            value(d, "storage_account_id") and value(d, "storage_blob_container_name") for d in dead_letter
        ):
            problems.append(
                "storage_blob_dead_letter_destination missing or incomplete (storage_account_id and "
                "storage_blob_container_name): undeliverable events would be dropped"
            )
        return fail(self, *problems) if problems else CheckResult.PASSED


AML_REGISTRY_TYPE = "Microsoft.MachineLearningServices/registries@"


class DataBearingPreventDestroy(BaseResourceCheck):
    """CKV_MLK_6: Terraform refuses any plan that would delete a resource holding data."""

    def __init__(self) -> None:
        super().__init__(
            name="Data-bearing resource (storage, Key Vault, ML workspace, ML registry): lifecycle.prevent_destroy = true",
            id="CKV_MLK_6",
            categories=(CheckCategories.BACKUP_AND_RECOVERY,),
            supported_resources=(
                "azurerm_storage_account",
                "azurerm_key_vault",
                "azurerm_machine_learning_workspace",
                "azapi_resource",
            ),
            guideline=guideline("CKV_MLK_6"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if self.entity_type == "azapi_resource":
            rtype = value(conf, "type")
            if is_unresolved(rtype):
                return fail(self, f"azapi_resource type {rtype!r} is an expression: cannot tell whether it holds data")
            if not (isinstance(rtype, str) and rtype.startswith((AML_REGISTRY_TYPE, AML_WORKSPACE_TYPE))):
                return CheckResult.UNKNOWN  # not data-bearing: nothing to judge (no record)
        self.evaluated_keys = ["lifecycle/[0]/prevent_destroy"]
        if prevent_destroy(conf):
            return CheckResult.PASSED
        return fail(self, "lifecycle.prevent_destroy must be true: this resource holds data (infra.interfaces.PROTECTED)")


CHECKS = (
    MlWorkspaceIsolation(),
    ComputeClusterNoLocalAuthScaleToZero(),
    DataLakeEntraOnly(),
    FunctionAppHttpsOnly(),
    EventSubscriptionRetryAndDeadLetter(),
    DataBearingPreventDestroy(),
)
