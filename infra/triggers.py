"""Event flow of one environment: Event Grid -> the `pipeline_trigger` function -> Azure DevOps runs.

- Data lake (system topic `Microsoft.Storage.StorageAccounts`): `BlobCreated` of the marker file
  (`<filesystem>/<prefix>...<marker_suffix>`, default `_SUCCESS`) after a committed write starts the
  training pipeline: a 10,000-file upload followed by one marker starts one run.
- Azure ML workspace (system topic `Microsoft.MachineLearningServices.Workspaces`):
  `ModelRegistered` starts the release pipeline.
- Both subscriptions retry (`team.triggers`) and dead-letter to the lake's `eventgrid-deadletter`
  container, written by the topic's own managed identity (Storage Blob Data Contributor on that
  one container, nothing else). docs/event-flow.md explains how to replay dead-lettered events.

The function app runs on Flex Consumption with a user-assigned identity (the Azure DevOps stack
finds it by name and entitles it in the organization). It reaches its own storage by identity
(shared keys are off), and its app settings are exactly the settings the function reads
(functions/pipeline_trigger/trigger_core/settings.py) plus the host's identity-based storage
settings: no key, SAS or secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs import Construct

from infra import azurerm as az
from infra.interfaces import PrivateLink, diagnostics, private_endpoint, role
from infra.storage import SecureStorageProps, secure_storage_account
from infra.suppressions import suppress

FUNCTION_NAME = "pipeline_trigger"
DEPLOYMENT_CONTAINER = "app-package"
IDEMPOTENCY_CONTAINER = "trigger-idempotency"
# Event Grid stops redelivering after event_time_to_live (at most 24 h): claims older than this
# protect nothing, and a lifecycle rule deletes them.
CLAIM_RETENTION_DAYS = 7
PYTHON_VERSION = "3.11"
BLOB_CREATED = "Microsoft.Storage.BlobCreated"
MODEL_REGISTERED = "Microsoft.MachineLearningServices.ModelRegistered"
# The REST calls after which a BlobCreated event means "the file is fully committed" on the lake
# (Event Grid docs, "Azure Blob Storage as an Event Grid source"). Left out: CreateFile (ADLS
# creates the file empty, before its data is flushed) and CopyBlob (on hierarchical-namespace
# accounts its event fires when the copy starts, not when it completes). Same list as the
# function's own check (trigger_core.settings.COMMITTED_WRITE_APIS; tests/triggers compares them).
COMMITTED_WRITE_APIS = ("FlushWithClose", "PutBlockList", "PutBlob")
# Host storage by identity (Functions docs, "identity-based connections"): names, not credentials.
HOST_STORAGE_SETTINGS = ("AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential",
                         "AzureWebJobsStorage__clientId")
APPINSIGHTS_AUTH_SETTING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"


@dataclass(frozen=True)
class PipelineTriggersProps:
    resource_group_name: str
    location: str
    # names (infra/naming.py)
    function_app_name: str
    plan_name: str
    storage_name: str
    identity_name: str
    lake_topic_name: str
    ml_topic_name: str
    # event sources
    data_lake_id: str
    workspace_id: str
    training_filesystem: str
    training_prefix: str
    marker_suffix: str
    # delivery
    max_delivery_attempts: int
    event_ttl_minutes: int
    dead_letter_container_name: str
    dead_letter_container_id: str  # resource manager id of the container (role scope)
    # Azure DevOps
    environment_name: str  # the kit environment this function serves (passed to both pipelines)
    devops_org_url: str
    devops_project: str
    training_pipeline_name: str
    release_pipeline_name: str
    pipeline_folder: str
    # monitoring
    app_insights_connection_string: str
    app_insights_id: str
    app_insights_local_auth_disabled: bool
    log_analytics_workspace_id: str
    # network
    private: bool
    private_link: PrivateLink | None = None
    function_subnet_id: str | None = None  # outbound VNet integration (required in private mode)
    # Path of the code package (a zip; the stack makes it a TerraformAsset). None: no code deployed.
    package_path: str | None = None
    maximum_instance_count: int = 10


def event_grid_only() -> dict:
    """site_config arguments: inbound only from Event Grid; the deployment (Kudu) endpoint closed."""
    return {
        "ip_restriction_default_action": "Deny",
        "ip_restriction": [
            az.FunctionAppFlexConsumptionSiteConfigIpRestriction(
                name="event-grid", priority=100, action="Allow", service_tag="AzureEventGrid"
            )
        ],
        "scm_ip_restriction_default_action": "Deny",
    }


class PipelineTriggers(Construct):
    def __init__(self, scope: Construct, id_: str, props: PipelineTriggersProps):
        super().__init__(scope, id_)
        p = props
        law = p.log_analytics_workspace_id

        # ------------------------------------------------------------ function app
        self.identity = az.UserAssignedIdentity(
            self, "identity", name=p.identity_name, resource_group_name=p.resource_group_name, location=p.location
        )
        self.storage = secure_storage_account(
            self,
            "storage",
            SecureStorageProps(
                name=p.storage_name, resource_group_name=p.resource_group_name, location=p.location, private=p.private
            ),
        )
        self.deployment_container = az.StorageContainer(
            self, "deployment_container", name=DEPLOYMENT_CONTAINER, storage_account_id=self.storage.id,
            container_access_type="private",
        )
        self.idempotency_container = az.StorageContainer(
            self, "idempotency_container", name=IDEMPOTENCY_CONTAINER, storage_account_id=self.storage.id,
            container_access_type="private",
        )
        az.StorageManagementPolicy(
            self, "claims_cleanup", storage_account_id=self.storage.id,
            rule=[az.StorageManagementPolicyRule(
                name="delete-old-event-claims", enabled=True,
                filters=az.StorageManagementPolicyRuleFilters(
                    blob_types=["blockBlob"], prefix_match=[f"{IDEMPOTENCY_CONTAINER}/"]
                ),
                actions=az.StorageManagementPolicyRuleActions(
                    base_blob=az.StorageManagementPolicyRuleActionsBaseBlob(
                        delete_after_days_since_modification_greater_than=CLAIM_RETENTION_DAYS
                    )
                ),
            )],
        )
        suppress(self.storage, "CKV_MLK_6", "holds no data worth keeping: the code package (rebuilt at every synth), "
                 "the Functions host's locks and keys, and event claims that only matter while Event Grid retries; "
                 "a destroy loses nothing the kit cannot recreate, so it is not protected like the lake")
        for container in (self.deployment_container, self.idempotency_container):
            suppress(container, "CKV2_AZURE_21", "blob reads, writes and deletes of the function storage go to Log "
                     "Analytics through the account's diagnostic setting (blobServices/default, category group "
                     "allLogs); the check only recognises classic Storage Analytics")
        uai = self.identity.principal_id
        # Flex Consumption reads its package and keeps its host state (locks, keys) in this account.
        storage_owner = role(
            self, "function_storage_owner", scope_id=self.storage.id, role_name="Storage Blob Data Owner",
            principal_id=uai, principal_type="ServicePrincipal",
            description="trigger function: deployment package and host storage",
        )
        idempotency_writer = role(
            self, "function_idempotency", scope_id=self.idempotency_container.resource_manager_id,
            role_name="Storage Blob Data Contributor", principal_id=uai, principal_type="ServicePrincipal",
            description="trigger function: event claims (idempotency)",
        )
        grants = [storage_owner, idempotency_writer]
        if p.app_insights_local_auth_disabled:
            grants.append(role(
                self, "function_telemetry", scope_id=p.app_insights_id, role_name="Monitoring Metrics Publisher",
                principal_id=uai, principal_type="ServicePrincipal", description="trigger function: telemetry",
            ))

        self.plan = az.ServicePlan(
            self, "plan", name=p.plan_name, resource_group_name=p.resource_group_name, location=p.location,
            os_type="Linux", sku_name="FC1",
        )
        suppress(self.plan, "CKV_AZURE_212", "Flex Consumption (FC1): the platform allocates instances per execution "
                 "and scales from zero, so a plan worker count does not apply; Event Grid retries a failed delivery")
        suppress(self.plan, "CKV_AZURE_225", "Flex Consumption (FC1): zone_balancing_enabled is an App Service plan "
                 "setting for dedicated workers; a lost delivery is retried by Event Grid for up to the event TTL "
                 "and then dead-lettered, never dropped")
        self.function_settings = function_settings(p, self.identity.client_id, self.storage.primary_blob_endpoint)
        host_settings = {
            "AzureWebJobsStorage__accountName": self.storage.name,
            "AzureWebJobsStorage__credential": "managedidentity",
            "AzureWebJobsStorage__clientId": self.identity.client_id,
        }
        if p.app_insights_local_auth_disabled:
            host_settings[APPINSIGHTS_AUTH_SETTING] = f"ClientId={self.identity.client_id};Authorization=AAD"
        deploys_code = p.package_path is not None and not p.private
        self.app = az.FunctionAppFlexConsumption(
            self,
            "function_app",
            name=p.function_app_name,
            resource_group_name=p.resource_group_name,
            location=p.location,
            service_plan_id=self.plan.id,
            runtime_name="python",
            runtime_version=PYTHON_VERSION,
            maximum_instance_count=p.maximum_instance_count,
            instance_memory_in_mb=2048,
            identity=az.FunctionAppFlexConsumptionIdentity(type="UserAssigned", identity_ids=[self.identity.id]),
            storage_container_type="blobContainer",
            storage_container_endpoint=f"{self.storage.primary_blob_endpoint}{DEPLOYMENT_CONTAINER}",
            storage_authentication_type="UserAssignedIdentity",
            storage_user_assigned_identity_id=self.identity.id,
            https_only=True,
            # Event Grid cannot deliver through a private endpoint, so the app keeps a public
            # endpoint; in private mode its access restrictions admit only the AzureEventGrid
            # service tag, and outbound traffic leaves through the team's VNet.
            public_network_access_enabled=True,
            virtual_network_subnet_id=p.function_subnet_id if p.private else None,
            client_certificate_enabled=False,
            # azurerm 4.55 pushes `zip_deploy_file` to the app's Kudu endpoint with the site's
            # publishing credentials, so basic publishing auth stays on only while it deploys code.
            # In private mode Kudu admits no one from outside the network: the package is deployed
            # from inside it (docs/event-flow.md), and Terraform deploys no code.
            webdeploy_publish_basic_authentication_enabled=deploys_code,
            zip_deploy_file=p.package_path if deploys_code else None,
            site_config=az.FunctionAppFlexConsumptionSiteConfig(
                application_insights_connection_string=p.app_insights_connection_string,
                minimum_tls_version="1.2",
                scm_minimum_tls_version="1.2",
                http2_enabled=True,
                remote_debugging_enabled=False,
                **(event_grid_only() if p.private else {}),
            ),
            app_settings={**self.function_settings, **host_settings},
            # The package is fetched by identity at deploy time: the roles must exist first.
            depends_on=grants,
        )
        diagnostics(self, "function_diagnostics", target_resource_id=self.app.id, log_analytics_workspace_id=law)
        diagnostics(
            self, "storage_diagnostics", target_resource_id=f"{self.storage.id}/blobServices/default",
            log_analytics_workspace_id=law, metric_category="Transaction",
        )
        if p.private_link:
            private_endpoint(
                self, "function_endpoint", link=p.private_link, name=f"pep-{p.function_app_name}",
                resource_id=self.app.id, subresource="sites",
            )
            private_endpoint(
                self, "storage_blob_endpoint", link=p.private_link, name=f"pep-{p.storage_name}-blob",
                resource_id=self.storage.id, subresource="blob",
            )

        # ------------------------------------------------------------ Event Grid
        function_id = f"{self.app.id}/functions/{FUNCTION_NAME}"
        self.lake_topic, lake_dead_letter = self._topic(
            "lake", p.lake_topic_name, "Microsoft.Storage.StorageAccounts", p.data_lake_id, p
        )
        self.ml_topic, ml_dead_letter = self._topic(
            "ml", p.ml_topic_name, "Microsoft.MachineLearningServices.Workspaces", p.workspace_id, p
        )
        prefix = p.training_prefix
        self.training_subscription = self._subscription(
            "training_data",
            "training-data-ready",
            self.lake_topic,
            lake_dead_letter,
            function_id,
            p,
            included_event_types=[BLOB_CREATED],
            subject_filter=az.EventgridSystemTopicEventSubscriptionSubjectFilter(
                subject_begins_with=f"/blobServices/default/containers/{p.training_filesystem}/blobs/{prefix}",
                subject_ends_with=p.marker_suffix,
                case_sensitive=True,  # ADLS paths are case-sensitive: `_success` is not the marker
            ),
            advanced_filter=az.EventgridSystemTopicEventSubscriptionAdvancedFilter(
                string_in=[
                    az.EventgridSystemTopicEventSubscriptionAdvancedFilterStringIn(
                        key="data.api", values=list(COMMITTED_WRITE_APIS)
                    )
                ]
            ),
        )
        self.model_subscription = self._subscription(
            "model_registered", "model-registered", self.ml_topic, ml_dead_letter, function_id, p,
            included_event_types=[MODEL_REGISTERED],
        )

    def _topic(
        self, key: str, name: str, topic_type: str, source_id: str, p: PipelineTriggersProps
    ) -> tuple[az.EventgridSystemTopic, az.RoleAssignment]:
        topic = az.EventgridSystemTopic(
            self, f"{key}_topic", name=name, resource_group_name=p.resource_group_name, location=p.location,
            topic_type=topic_type, source_resource_id=source_id,
            identity=az.EventgridSystemTopicIdentity(type="SystemAssigned"),
        )
        # Dead-lettering writes with the topic's identity: contributor on the dead-letter container only.
        dead_letter = role(
            self, f"{key}_topic_dead_letter", scope_id=p.dead_letter_container_id,
            role_name="Storage Blob Data Contributor", principal_id=topic.identity.principal_id,
            principal_type="ServicePrincipal", description=f"{key} events that could not be delivered",
        )
        diagnostics(
            self, f"{key}_topic_diagnostics", target_resource_id=topic.id,
            log_analytics_workspace_id=p.log_analytics_workspace_id,
        )
        return topic, dead_letter

    def _subscription(
        self,
        key: str,
        name: str,
        topic: az.EventgridSystemTopic,
        dead_letter: az.RoleAssignment,
        function_id: str,
        p: PipelineTriggersProps,
        **filters,
    ) -> az.EventgridSystemTopicEventSubscription:
        return az.EventgridSystemTopicEventSubscription(
            self,
            f"{key}_subscription",
            name=name,
            system_topic=topic.name,
            resource_group_name=p.resource_group_name,
            event_delivery_schema="EventGridSchema",
            azure_function_endpoint=az.EventgridSystemTopicEventSubscriptionAzureFunctionEndpoint(
                function_id=function_id, max_events_per_batch=1
            ),
            retry_policy=az.EventgridSystemTopicEventSubscriptionRetryPolicy(
                max_delivery_attempts=p.max_delivery_attempts, event_time_to_live=p.event_ttl_minutes
            ),
            storage_blob_dead_letter_destination=az.EventgridSystemTopicEventSubscriptionStorageBlobDeadLetterDestination(
                storage_account_id=p.data_lake_id, storage_blob_container_name=p.dead_letter_container_name
            ),
            dead_letter_identity=az.EventgridSystemTopicEventSubscriptionDeadLetterIdentity(type="SystemAssigned"),
            # Dead-lettering must work from the first event on.
            depends_on=[dead_letter],
            **filters,
        )


def function_settings(p: PipelineTriggersProps, client_id: str, blob_endpoint: str) -> Mapping[str, str]:
    """The settings functions/pipeline_trigger reads (its REQUIRED_SETTINGS plus the optional ones the kit sets)."""
    return {
        "AZDO_ORG_URL": p.devops_org_url.rstrip("/"),
        "AZDO_PROJECT": p.devops_project,
        "TRAINING_PIPELINE_NAME": p.training_pipeline_name,
        "RELEASE_PIPELINE_NAME": p.release_pipeline_name,
        "PIPELINE_FOLDER": p.pipeline_folder,
        "AZURE_CLIENT_ID": client_id,
        "IDEMPOTENCY_ACCOUNT_URL": blob_endpoint,
        "IDEMPOTENCY_CONTAINER": IDEMPOTENCY_CONTAINER,
        "TRAINING_FILESYSTEM": p.training_filesystem,
        "TRAINING_PATH_PREFIX": p.training_prefix,
        "MARKER_SUFFIX": p.marker_suffix,
        "ENVIRONMENT_NAME": p.environment_name,
    }
