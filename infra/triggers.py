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
its app settings are exactly the settings the function reads, named by the function's own contract
(functions/pipeline_trigger/trigger_core/contract.py, `DeployedSettings`), plus the host's
identity-based settings: no key, SAS, connection string with a secret. Props come in the small
groups of infra/event_flow.py and the interface contract (infra/interfaces.py): its
`private_endpoints` (None: public) decides everything private mode changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from constructs import Construct
from trigger_core.contract import POISON_QUEUE_SUFFIX, DeployedSettings

from infra import azurerm as az
from infra.event_flow import (
    CodePackage,
    DeliveryPolicy,
    DevopsTarget,
    EventSources,
    FunctionNetwork,
    ResourceGroupRef,
    Telemetry,
    TriggerNames,
    check_network,
)
from infra.event_grid import EventGrid, EventGridProps, QueueTarget
from infra.function_app import DEFAULT_MAX_INSTANCES, FlexFunctionApp, FlexFunctionAppProps
from infra.interfaces import Interfaces, Supports, Target, apply_interfaces, role
from infra.storage import SecureStorageProps, secure_storage_account
from infra.suppressions import Reasons, suppress

IDEMPOTENCY_CONTAINER = "trigger-idempotency"
# The queue Event Grid delivers to; the function learns its name from EVENT_QUEUE_NAME and reads it
# through the connection `EventQueue`; the host poisons into `<queue>-poison` (trigger_core/contract.py).
EVENT_QUEUE = "pipeline-events"
POISON_QUEUE = f"{EVENT_QUEUE}{POISON_QUEUE_SUFFIX}"
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
    resource_group: ResourceGroupRef
    names: TriggerNames
    sources: EventSources
    delivery: DeliveryPolicy
    devops: DevopsTarget
    telemetry: Telemetry
    # diagnostics: the site, the function storage (blob and queue services) and both topics; private_endpoints:
    # private mode (storage firewall and its `blob`/`queue` endpoints, the package account's endpoint, the site
    # closed and VNet-integrated); role_assignments and tags: the site's.
    interfaces: Interfaces
    network: FunctionNetwork | None = None  # the app's outbound subnet: given exactly in private mode
    package: CodePackage | None = None  # None: the app is created without code
    maximum_instance_count: int = DEFAULT_MAX_INSTANCES

    def __post_init__(self) -> None:
        check_network(self.interfaces, self.network)


class PipelineTriggers(Construct):
    SUPPORTS: ClassVar[Supports] = Supports(
        diagnostics=True,
        private_endpoints=True,
        role_assignments=True,
        tags=True,
        reasons={
            "lock": "nothing to keep: the function storage holds the host's locks and keys, event claims that "
            "matter only while an event can be redelivered and queued events that dead-lettering and replay "
            "cover; the site, plan and topics are rebuilt from configuration",
        },
    )

    def __init__(self, scope: Construct, id_: str, props: PipelineTriggersProps):
        super().__init__(scope, id_)
        self.props = p = props
        self.identity = az.UserAssignedIdentity(
            self, "identity", name=p.names.identity, resource_group_name=p.resource_group.name,
            location=p.resource_group.location,
        )
        self._storage()
        grants = self._grants()
        # Event Grid needs only the queue.
        self.events = EventGrid(
            self,
            EventGridProps(
                resource_group=p.resource_group, names=p.names, sources=p.sources, delivery=p.delivery,
                queue=QueueTarget(account_id=self.storage.id, name=self.event_queue.name, id=self.event_queue.id),
                log_analytics_workspace_id=p.interfaces.diagnostics.log_analytics_workspace_id
                if p.interfaces.diagnostics else None,
            ),
        )
        self.lake_topic, self.ml_topic = self.events.lake_topic, self.events.ml_topic
        self.training_subscription = self.events.training_subscription
        self.model_subscription = self.events.model_subscription
        self.plan = self._plan()
        client_id = self.identity.client_id
        self.function_settings = function_settings(
            p, client_id, self.storage.primary_blob_endpoint, self.storage.primary_queue_endpoint
        )
        self.app_settings = {**self.function_settings, **host_settings(p.telemetry, self.storage.name, client_id)}
        self.function_app = FlexFunctionApp(
            self,
            "function_app",
            FlexFunctionAppProps(
                resource_group=p.resource_group, names=p.names, plan_id=self.plan.id, identity_id=self.identity.id,
                identity_principal_id=self.identity.principal_id, app_settings=self.app_settings,
                interfaces=Interfaces(private_endpoints=p.interfaces.private_endpoints),  # the site's are applied here
                network=p.network, package=p.package, maximum_instance_count=p.maximum_instance_count,
                depends_on=[*grants, self.event_queue, self.poison_queue],
                # The topics come after the workspace and the lake (their sources), minutes into the
                # apply: uploading after them leaves the deployer's new data role time to propagate.
                upload_after=[self.lake_topic, self.ml_topic],
            ),
        )
        self.site = self.function_app.site
        self._apply_interfaces()

    def _storage(self) -> None:
        """The function's own account: host state, the event and poison queues, the claims (and their cleanup)."""
        p = self.props
        # Private mode: selected networks (default Deny, AzureServices bypass), so that Event Grid,
        # a trusted service with a managed identity, can write to the queue; the app itself goes
        # through the private endpoints (`_storage_endpoints`; infra/storage.py, `trusted_services`).
        private = p.interfaces.private
        self.storage = secure_storage_account(
            self,
            "storage",
            SecureStorageProps(
                name=p.names.storage, resource_group_name=p.resource_group.name, location=p.resource_group.location,
                private=private, trusted_services=private,
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
        self._storage_suppressions()

    def _storage_suppressions(self) -> None:
        suppress(self.storage, Reasons.FUNCTION_STORAGE_DISPOSABLE)
        suppress(self.storage, Reasons.FUNCTION_STORAGE_QUEUE_LOGS)
        suppress(self.idempotency_container, Reasons.FUNCTION_CLAIMS_LOGS)

    def _grants(self) -> list[az.RoleAssignment]:
        """The function identity's data roles on its own storage (and on App Insights when local auth is off)."""
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
        telemetry = self.props.telemetry
        if telemetry.app_insights_local_auth_disabled:
            grants.append(grant("function_telemetry", telemetry.app_insights_id, "Monitoring Metrics Publisher",
                                "telemetry"))
        return grants

    def _plan(self) -> az.ServicePlan:
        p = self.props
        plan = az.ServicePlan(
            self, "plan", name=p.names.plan, resource_group_name=p.resource_group.name,
            location=p.resource_group.location, os_type="Linux", sku_name="FC1",
        )
        suppress(plan, Reasons.FLEX_PLAN_NO_WORKER_COUNT)
        suppress(plan, Reasons.FLEX_PLAN_NO_ZONE_BALANCING)
        return plan

    def _apply_interfaces(self) -> None:
        """The site takes the interfaces; the function storage shares the diagnostics (blob and queue services) and
        the placement: outbound only, the app reaches its storage through `blob` and `queue` endpoints, nothing
        reaches the app. Construct ids are those of earlier releases (function_diagnostics, storage_diagnostics,
        storage_queue_diagnostics, storage_<sub>_endpoint)."""
        i, names = self.props.interfaces, self.props.names
        logs = Interfaces(diagnostics=i.diagnostics)
        placed = replace(logs, private_endpoints=i.private_endpoints)
        storage = Target(names.storage, "function-storage", subresources=("blob", "queue"), prefix="storage",
                         diagnostics_path="/blobServices/default", metric_category="Transaction")
        queues = Target(names.storage, "function-queues", prefix="storage_queue",
                        diagnostics_path="/queueServices/default", metric_category="Transaction")
        site = Target(names.function_app, "function-app", prefix="function")
        self.applied = apply_interfaces(self, self.site, replace(i, private_endpoints=None), target=site,
                                        supports=self.SUPPORTS)
        self.storage_applied = apply_interfaces(self, self.storage, placed, target=storage, supports=self.SUPPORTS)
        self.queues_applied = apply_interfaces(self, self.storage, logs, target=queues, supports=self.SUPPORTS)


def function_settings(
    p: PipelineTriggersProps, client_id: str, blob_endpoint: str, queue_endpoint: str
) -> dict[str, str]:
    """The settings functions/pipeline_trigger reads, named by its contract (trigger_core.contract)."""
    return DeployedSettings(
        azdo_org_url=p.devops.org_url.rstrip("/"),
        azdo_project=p.devops.project,
        training_pipeline_name=p.devops.training_pipeline,
        release_pipeline_name=p.devops.release_pipeline,
        pipeline_folder=p.devops.pipeline_folder,
        client_id=client_id,
        idempotency_account_url=blob_endpoint,
        idempotency_container=IDEMPOTENCY_CONTAINER,
        training_filesystem=p.sources.training_filesystem,
        training_path_prefix=p.sources.training_prefix,
        marker_suffix=p.sources.marker_suffix,
        environment_name=p.devops.environment_name,
        model_name=p.sources.model_name,
        event_queue_name=EVENT_QUEUE,
        event_queue_service_uri=queue_endpoint,
    ).app_settings()


def host_settings(telemetry: Telemetry, storage_name: str, client_id: str) -> dict[str, str]:
    """The Functions host's own settings: storage by identity, telemetry (Entra auth when local auth is off)."""
    settings = {
        "AzureWebJobsStorage__accountName": storage_name,
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": client_id,
        # Ingestion endpoint and instrumentation key: an identifier, "not considered a security token or
        # key" (Application Insights docs, "Connection strings"); with local auth off, ingestion needs Entra.
        APPINSIGHTS_SETTING: telemetry.app_insights_connection_string,
    }
    if telemetry.app_insights_local_auth_disabled:
        settings[APPINSIGHTS_AUTH_SETTING] = f"ClientId={client_id};Authorization=AAD"
    return settings
