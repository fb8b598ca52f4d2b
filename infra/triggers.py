"""Event flow of one environment: Event Grid -> Storage queue -> the `pipeline_trigger` function -> Azure DevOps runs.

- Data lake (system topic `Microsoft.Storage.StorageAccounts`): `BlobCreated` of the marker file
  (`<filesystem>/<prefix>...<marker_suffix>`, default `_SUCCESS`) after a committed write starts the
  training pipeline: a 10,000-file upload followed by one marker starts one run.
- Azure ML workspace (system topic `Microsoft.MachineLearningServices.Workspaces`):
  `ModelRegistered` of the team's model (`<team>-model`) starts the release pipeline.
- Both subscriptions deliver into the queue `pipeline-events` of the function's own storage account
  with the topic's managed identity, retry (`team.triggers`) and dead-letter to the lake's
  `eventgrid-deadletter` container (infra/event_grid.py). The function is queue-triggered; after
  `maxDequeueCount` (host.json) a message lands in `pipeline-events-poison`. docs/event-flow.md
  explains replay.

The function app runs on Flex Consumption (infra/function_app.py: the site through azapi, its code
deployed in the same apply) with a user-assigned identity (the Azure DevOps stack finds it by name
and entitles it in the organization). It reaches its storage by identity (shared keys are off), and
its app settings are exactly the settings the function reads
(functions/pipeline_trigger/trigger_core/settings.py) plus the host's identity-based settings: no
key, SAS, connection string with a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from constructs import Construct

from infra import azurerm as az
from infra.event_grid import (  # noqa: F401  (re-exported: the tests and docs name them here)
    BLOB_CREATED,
    COMMITTED_WRITE_APIS,
    MODEL_REGISTERED,
    QUEUE_MESSAGE_TTL_SECONDS,
    EventGrid,
    EventGridProps,
)
from infra.function_app import DEFAULT_MAX_INSTANCES, FlexFunctionApp, FlexFunctionAppProps
from infra.interfaces import PrivateLink, diagnostics, private_endpoint, role
from infra.storage import SecureStorageProps, secure_storage_account
from infra.suppressions import suppress

FUNCTION_NAME = "pipeline_trigger"
IDEMPOTENCY_CONTAINER = "trigger-idempotency"
# The queue contract with functions/pipeline_trigger (function_app.py: `%EVENT_QUEUE_NAME%`,
# connection "EventQueue", poison queue `%EVENT_QUEUE_NAME%-poison`).
EVENT_QUEUE = "pipeline-events"
POISON_QUEUE = f"{EVENT_QUEUE}-poison"
EVENT_QUEUE_CONNECTION = "EventQueue"
# A queued event expires after QUEUE_MESSAGE_TTL_SECONDS (7 days); claims are kept as long, so a
# message never outlives the claim its first processing wrote, and a lifecycle rule deletes them.
CLAIM_RETENTION_DAYS = 7
# Host storage by identity (Functions docs, "identity-based connections"): names, not credentials.
HOST_STORAGE_SETTINGS = ("AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential",
                         "AzureWebJobsStorage__clientId")
APPINSIGHTS_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
APPINSIGHTS_AUTH_SETTING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"
# Address of the app when it was `azurerm_function_app_flex_consumption` (construct triggers/function_app):
# docs/event-flow.md, "Upgrading", moves it to the azapi site.
LEGACY_SITE_ADDRESS = "triggers_function_app_7F7BB144"


@dataclass(frozen=True)
class PipelineTriggersProps:
    resource_group_name: str
    resource_group_id: str
    location: str
    # names (infra/naming.py)
    function_app_name: str
    plan_name: str
    storage_name: str
    package_storage_name: str
    identity_name: str
    lake_topic_name: str
    ml_topic_name: str
    # event sources
    data_lake_id: str
    workspace_id: str
    training_filesystem: str
    training_prefix: str
    marker_suffix: str
    model_name: str  # the name model-ci/training register (`<team>-model`): only its events start a release
    # delivery
    max_delivery_attempts: int
    event_ttl_minutes: int
    dead_letter_container_name: str
    dead_letter_container_id: str  # ARM id of the container (role scope)
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
    # The code package (a zip; the stack makes it a TerraformAsset) and its content hash. None: no code.
    package_path: str | None = None
    package_hash: str | None = None
    maximum_instance_count: int = DEFAULT_MAX_INSTANCES
    tags: Mapping[str, str] = field(default_factory=dict)  # azapi resources are not reached by the tagging aspect


class PipelineTriggers(Construct):
    def __init__(self, scope: Construct, id_: str, props: PipelineTriggersProps):
        super().__init__(scope, id_)
        p = props
        law = p.log_analytics_workspace_id

        # ------------------------------------------------------------ identity and storage
        self.identity = az.UserAssignedIdentity(
            self, "identity", name=p.identity_name, resource_group_name=p.resource_group_name, location=p.location
        )
        # Private mode: selected networks (default Deny, AzureServices bypass), so that Event Grid,
        # a trusted service with a managed identity, can write to the queue; the app itself goes
        # through the private endpoints below (infra/storage.py, `trusted_services`).
        self.storage = secure_storage_account(
            self,
            "storage",
            SecureStorageProps(
                name=p.storage_name, resource_group_name=p.resource_group_name, location=p.location, private=p.private,
                trusted_services=p.private,
            ),
        )
        self.idempotency_container = az.StorageContainer(
            self, "idempotency_container", name=IDEMPOTENCY_CONTAINER, storage_account_id=self.storage.id,
            container_access_type="private",
        )
        # Queues through Resource Manager: `storage_account_id` makes azurerm 4.55 use the
        # queueServices API, never the queue data plane (storage_queue_resource.go).
        self.event_queue = az.StorageQueue(self, "event_queue", name=EVENT_QUEUE, storage_account_id=self.storage.id)
        self.poison_queue = az.StorageQueue(self, "poison_queue", name=POISON_QUEUE, storage_account_id=self.storage.id)
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
        suppress(self.storage, "CKV_MLK_6", "holds no data worth keeping: the Functions host's locks and keys, "
                 "event claims that only matter while an event can be redelivered, and queued events that Event "
                 "Grid's dead-letter and replay cover; a destroy loses nothing the kit cannot recreate")
        suppress(self.storage, "CKV_AZURE_33", "queue requests go to Log Analytics through the account's diagnostic "
                 "setting (queueServices/default, category group allLogs); classic queue_properties logging is "
                 "written on the queue data plane, which the kit keeps azurerm off (stacks/providers.py)")
        suppress(self.idempotency_container, "CKV2_AZURE_21", "blob reads, writes and deletes of the function storage "
                 "go to Log Analytics through the account's diagnostic setting (blobServices/default, category group "
                 "allLogs); the check only recognises classic Storage Analytics")

        # ------------------------------------------------------------ roles of the function identity
        uai = self.identity.principal_id

        def grant(key: str, scope_id: str, role_name: str, what: str) -> az.RoleAssignment:
            return role(self, key, scope_id=scope_id, role_name=role_name, principal_id=uai,
                        principal_type="ServicePrincipal", description=f"trigger function: {what}")

        grants = [
            # AzureWebJobsStorage by identity: the host keeps locks and keys in blobs.
            grant("function_storage_owner", self.storage.id, "Storage Blob Data Owner", "host storage"),
            grant("function_idempotency", self.idempotency_container.id, "Storage Blob Data Contributor",
                  "event claims (idempotency)"),
            # Queue trigger (Functions docs, queue bindings, identity-based connections): read the
            # queue's metadata (scaling) and peek, receive and delete its messages.
            grant("function_queue_reader", self.event_queue.id, "Storage Queue Data Reader", "event queue metadata"),
            grant("function_queue_processor", self.event_queue.id, "Storage Queue Data Message Processor",
                  "receive and delete events"),
            # Poison queue: the function's output binding and the host write failed messages there
            # (and may create it if missing); replay reads and deletes them.
            grant("function_poison_queue", self.poison_queue.id, "Storage Queue Data Contributor", "poison queue"),
        ]
        if p.app_insights_local_auth_disabled:
            grants.append(grant("function_telemetry", p.app_insights_id, "Monitoring Metrics Publisher", "telemetry"))

        # ------------------------------------------------------------ Event Grid (needs only the queue)
        self.events = EventGrid(
            self,
            EventGridProps(
                resource_group_name=p.resource_group_name, location=p.location, lake_topic_name=p.lake_topic_name,
                ml_topic_name=p.ml_topic_name, data_lake_id=p.data_lake_id, workspace_id=p.workspace_id,
                training_filesystem=p.training_filesystem, training_prefix=p.training_prefix,
                marker_suffix=p.marker_suffix, model_name=p.model_name,
                max_delivery_attempts=p.max_delivery_attempts, event_ttl_minutes=p.event_ttl_minutes,
                dead_letter_container_name=p.dead_letter_container_name,
                dead_letter_container_id=p.dead_letter_container_id, queue_account_id=self.storage.id,
                queue_name=self.event_queue.name, queue_id=self.event_queue.id, log_analytics_workspace_id=law,
            ),
        )
        self.lake_topic, self.ml_topic = self.events.lake_topic, self.events.ml_topic
        self.training_subscription = self.events.training_subscription
        self.model_subscription = self.events.model_subscription

        # ------------------------------------------------------------ the function app
        self.plan = az.ServicePlan(
            self, "plan", name=p.plan_name, resource_group_name=p.resource_group_name, location=p.location,
            os_type="Linux", sku_name="FC1",
        )
        suppress(self.plan, "CKV_AZURE_212", "Flex Consumption (FC1): the platform allocates instances per execution "
                 "and scales from zero, so a plan worker count does not apply; queued events wait for an instance")
        suppress(self.plan, "CKV_AZURE_225", "Flex Consumption (FC1): zone_balancing_enabled is an App Service plan "
                 "setting for dedicated workers; an event whose processing is lost stays in the queue and is "
                 "delivered again, never dropped")
        self.function_settings = function_settings(
            p, self.identity.client_id, self.storage.primary_blob_endpoint, self.storage.primary_queue_endpoint
        )
        self.app_settings = {**self.function_settings, **host_settings(p, self.storage.name, self.identity.client_id)}
        self.function_app = FlexFunctionApp(
            self,
            "function_app",
            FlexFunctionAppProps(
                name=p.function_app_name, resource_group_id=p.resource_group_id,
                resource_group_name=p.resource_group_name, location=p.location, plan_id=self.plan.id,
                identity_id=self.identity.id, identity_principal_id=uai, package_storage_name=p.package_storage_name,
                app_settings=self.app_settings, tags=p.tags, private=p.private,
                subnet_id=p.function_subnet_id if p.private else None, private_link=p.private_link,
                package_path=p.package_path, package_hash=p.package_hash,
                maximum_instance_count=p.maximum_instance_count,
                depends_on=[*grants, self.event_queue, self.poison_queue],
                # The topics come after the workspace and the lake (their sources), minutes into the
                # apply: uploading after them leaves the deployer's new data role time to propagate.
                upload_after=[self.lake_topic, self.ml_topic],
            ),
        )
        self.site = self.function_app.site
        diagnostics(self, "function_diagnostics", target_resource_id=self.site.id, log_analytics_workspace_id=law)
        for service in ("blob", "queue"):
            diagnostics(
                self, "storage_diagnostics" if service == "blob" else "storage_queue_diagnostics",
                target_resource_id=f"{self.storage.id}/{service}Services/default",
                log_analytics_workspace_id=law, metric_category="Transaction",
            )
        if p.private_link:
            # Outbound only: the app reaches its storage through these; nothing reaches the app.
            for service in ("blob", "queue"):
                private_endpoint(
                    self, f"storage_{service}_endpoint", link=p.private_link, name=f"pep-{p.storage_name}-{service}",
                    resource_id=self.storage.id, subresource=service,
                )


def function_settings(
    p: PipelineTriggersProps, client_id: str, blob_endpoint: str, queue_endpoint: str
) -> Mapping[str, str]:
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
        "MODEL_NAME": p.model_name,
        # The queue trigger's identity-based connection "EventQueue" (read by the Functions host).
        "EVENT_QUEUE_NAME": EVENT_QUEUE,
        f"{EVENT_QUEUE_CONNECTION}__queueServiceUri": queue_endpoint,
        f"{EVENT_QUEUE_CONNECTION}__credential": "managedidentity",
        f"{EVENT_QUEUE_CONNECTION}__clientId": client_id,
    }


def host_settings(p: PipelineTriggersProps, storage_name: str, client_id: str) -> dict[str, str]:
    """The Functions host's own settings: storage by identity, telemetry (Entra auth when local auth is off)."""
    settings = {
        "AzureWebJobsStorage__accountName": storage_name,
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": client_id,
        # Ingestion endpoint and instrumentation key: an identifier, "not considered a security token or
        # key" (Application Insights docs, "Connection strings"); with local auth off, ingestion needs Entra.
        APPINSIGHTS_SETTING: p.app_insights_connection_string,
    }
    if p.app_insights_local_auth_disabled:
        settings[APPINSIGHTS_AUTH_SETTING] = f"ClientId={client_id};Authorization=AAD"
    return settings
