"""The one place that imports the prebuilt azurerm bindings.

Importing `cdktf_cdktf_provider_azurerm` costs seconds; keeping every import here makes that cost
visible and keeps a future switch (cdktn fork, regenerated bindings) a one-file change.
"""

from cdktf_cdktf_provider_azurerm.application_insights import ApplicationInsights
from cdktf_cdktf_provider_azurerm.container_registry import ContainerRegistry, ContainerRegistryNetworkRuleSet
from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktf_cdktf_provider_azurerm.data_azurerm_user_assigned_identity import DataAzurermUserAssignedIdentity
from cdktf_cdktf_provider_azurerm.eventgrid_system_topic import EventgridSystemTopic, EventgridSystemTopicIdentity
from cdktf_cdktf_provider_azurerm.eventgrid_system_topic_event_subscription import (
    EventgridSystemTopicEventSubscription,
    EventgridSystemTopicEventSubscriptionAdvancedFilter,
    EventgridSystemTopicEventSubscriptionAdvancedFilterStringIn,
    EventgridSystemTopicEventSubscriptionAzureFunctionEndpoint,
    EventgridSystemTopicEventSubscriptionDeadLetterIdentity,
    EventgridSystemTopicEventSubscriptionDeliveryIdentity,
    EventgridSystemTopicEventSubscriptionRetryPolicy,
    EventgridSystemTopicEventSubscriptionStorageBlobDeadLetterDestination,
    EventgridSystemTopicEventSubscriptionStorageQueueEndpoint,
    EventgridSystemTopicEventSubscriptionSubjectFilter,
)
from cdktf_cdktf_provider_azurerm.federated_identity_credential import FederatedIdentityCredential
from cdktf_cdktf_provider_azurerm.function_app_flex_consumption import (
    FunctionAppFlexConsumption,
    FunctionAppFlexConsumptionIdentity,
    FunctionAppFlexConsumptionSiteConfig,
    FunctionAppFlexConsumptionSiteConfigIpRestriction,
)
from cdktf_cdktf_provider_azurerm.key_vault import KeyVault, KeyVaultNetworkAcls
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.machine_learning_compute_cluster import (
    MachineLearningComputeCluster,
    MachineLearningComputeClusterIdentity,
    MachineLearningComputeClusterScaleSettings,
)
from cdktf_cdktf_provider_azurerm.machine_learning_workspace import (
    MachineLearningWorkspace,
    MachineLearningWorkspaceIdentity,
    MachineLearningWorkspaceManagedNetwork,
)
from cdktf_cdktf_provider_azurerm.management_lock import ManagementLock
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.private_dns_zone import PrivateDnsZone
from cdktf_cdktf_provider_azurerm.private_dns_zone_virtual_network_link import PrivateDnsZoneVirtualNetworkLink
from cdktf_cdktf_provider_azurerm.private_endpoint import (
    PrivateEndpoint,
    PrivateEndpointPrivateDnsZoneGroup,
    PrivateEndpointPrivateServiceConnection,
)
from cdktf_cdktf_provider_azurerm.provider import (
    AzurermProvider,
    AzurermProviderFeatures,
    AzurermProviderFeaturesKeyVault,
    AzurermProviderFeaturesResourceGroup,
    AzurermProviderFeaturesStorage,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.role_definition import RoleDefinition, RoleDefinitionPermissions
from cdktf_cdktf_provider_azurerm.service_plan import ServicePlan
from cdktf_cdktf_provider_azurerm.storage_account import (
    StorageAccount,
    StorageAccountBlobProperties,
    StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
    StorageAccountBlobPropertiesCorsRule,
    StorageAccountBlobPropertiesDeleteRetentionPolicy,
    StorageAccountNetworkRules,
    StorageAccountShareProperties,
    StorageAccountSharePropertiesCorsRule,
)
from cdktf_cdktf_provider_azurerm.storage_blob import StorageBlob
from cdktf_cdktf_provider_azurerm.storage_container import StorageContainer
from cdktf_cdktf_provider_azurerm.storage_management_policy import (
    StorageManagementPolicy,
    StorageManagementPolicyRule,
    StorageManagementPolicyRuleActions,
    StorageManagementPolicyRuleActionsBaseBlob,
    StorageManagementPolicyRuleFilters,
)
from cdktf_cdktf_provider_azurerm.storage_queue import StorageQueue
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity

__all__ = [
    "ApplicationInsights",
    "AzurermProvider",
    "AzurermProviderFeatures",
    "AzurermProviderFeaturesKeyVault",
    "AzurermProviderFeaturesResourceGroup",
    "AzurermProviderFeaturesStorage",
    "ContainerRegistry",
    "ContainerRegistryNetworkRuleSet",
    "DataAzurermClientConfig",
    "DataAzurermUserAssignedIdentity",
    "FederatedIdentityCredential",
    "KeyVault",
    "KeyVaultNetworkAcls",
    "LogAnalyticsWorkspace",
    "MachineLearningComputeCluster",
    "MachineLearningComputeClusterIdentity",
    "MachineLearningComputeClusterScaleSettings",
    "MachineLearningWorkspace",
    "MachineLearningWorkspaceIdentity",
    "MachineLearningWorkspaceManagedNetwork",
    "ManagementLock",
    "MonitorDiagnosticSetting",
    "MonitorDiagnosticSettingEnabledLog",
    "MonitorDiagnosticSettingEnabledMetric",
    "PrivateDnsZone",
    "PrivateDnsZoneVirtualNetworkLink",
    "PrivateEndpoint",
    "PrivateEndpointPrivateDnsZoneGroup",
    "PrivateEndpointPrivateServiceConnection",
    "ResourceGroup",
    "RoleAssignment",
    "RoleDefinition",
    "RoleDefinitionPermissions",
    "StorageAccount",
    "StorageAccountBlobProperties",
    "StorageAccountBlobPropertiesContainerDeleteRetentionPolicy",
    "StorageAccountBlobPropertiesCorsRule",
    "StorageAccountBlobPropertiesDeleteRetentionPolicy",
    "StorageAccountNetworkRules",
    "StorageAccountShareProperties",
    "StorageAccountSharePropertiesCorsRule",
    "StorageBlob",
    "StorageContainer",
    "StorageManagementPolicy",
    "StorageManagementPolicyRule",
    "StorageManagementPolicyRuleActions",
    "StorageManagementPolicyRuleActionsBaseBlob",
    "StorageManagementPolicyRuleFilters",
    "StorageQueue",
    "UserAssignedIdentity",
    "EventgridSystemTopic",
    "EventgridSystemTopicIdentity",
    "EventgridSystemTopicEventSubscription",
    "EventgridSystemTopicEventSubscriptionAdvancedFilter",
    "EventgridSystemTopicEventSubscriptionAdvancedFilterStringIn",
    "EventgridSystemTopicEventSubscriptionAzureFunctionEndpoint",
    "EventgridSystemTopicEventSubscriptionDeadLetterIdentity",
    "EventgridSystemTopicEventSubscriptionDeliveryIdentity",
    "EventgridSystemTopicEventSubscriptionRetryPolicy",
    "EventgridSystemTopicEventSubscriptionStorageBlobDeadLetterDestination",
    "EventgridSystemTopicEventSubscriptionStorageQueueEndpoint",
    "EventgridSystemTopicEventSubscriptionSubjectFilter",
    "FunctionAppFlexConsumption",
    "FunctionAppFlexConsumptionIdentity",
    "FunctionAppFlexConsumptionSiteConfig",
    "FunctionAppFlexConsumptionSiteConfigIpRestriction",
    "ServicePlan",
]
