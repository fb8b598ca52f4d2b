"""Event Grid of one environment: two system topics, each subscription delivering to the event queue.

Delivery goes to a Storage queue with the system topic's own managed identity
(`delivery_identity { type = SystemAssigned }` + `storage_queue_endpoint`, azurerm 4.55
eventgrid_system_topic_event_subscription_resource.go: the identity wraps the destination in
`DeliveryWithResourceIdentity`). Nothing at the destination has to exist but the queue, so the
subscriptions are created before any code is deployed, and the function needs no inbound endpoint.
Each topic identity holds exactly two data roles: Storage Queue Data Message Sender on that queue,
and Storage Blob Data Contributor on the lake's dead-letter container; the subscriptions depend on
both grants, so the first event is delivered or dead-lettered, never refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from constructs import Construct
from trigger_core.contract import BLOB_CREATED, COMMITTED_WRITE_APIS, MODEL_REGISTERED

from infra import azurerm as az
from infra.event_flow import DeliveryPolicy, EventSources, ResourceGroupRef, TriggerNames
from infra.interfaces import diagnostics, role

# The event types and the committed-write APIs (`data.api` filter) are the function's contract
# (functions/pipeline_trigger/trigger_core/contract.py): Event Grid filters on the same tuple the
# function checks again, so an event the subscription lets through is one the function acts on.

# A queued event older than this is dropped by the queue. It equals the claims' retention
# (infra.triggers.CLAIM_RETENTION_DAYS): a message never outlives the claim written when it was
# first processed, so a late redelivery still finds its claim.
QUEUE_MESSAGE_TTL_SECONDS = 7 * 24 * 3600


def model_subject_prefix(model_name: str) -> str:
    """ModelRegistered subjects are `models/<name>:<version>` (Event Grid docs, Azure ML event schema)."""
    return f"models/{model_name}:"


@dataclass(frozen=True)
class QueueTarget:
    """The event queue in the function's storage account."""

    account_id: str
    name: str
    id: str  # ARM id of the queue (role scope)


@dataclass(frozen=True)
class EventGridProps:
    resource_group: ResourceGroupRef
    names: TriggerNames  # lake_topic, ml_topic
    sources: EventSources
    delivery: DeliveryPolicy
    queue: QueueTarget
    log_analytics_workspace_id: str | None  # None: no diagnostic settings on the topics (the caller's interfaces)


class EventGrid:
    """Builds straight into `scope` (no construct level of its own): topic and subscription addresses
    stay what they were when they lived in infra/triggers.py, so an upgrade updates them in place."""

    def __init__(self, scope: Construct, props: EventGridProps):
        self.scope = scope
        self.props = p = props
        self.lake_topic, lake_grants = self._topic(
            "lake", p.names.lake_topic, "Microsoft.Storage.StorageAccounts", p.sources.data_lake_id
        )
        self.ml_topic, ml_grants = self._topic(
            "ml", p.names.ml_topic, "Microsoft.MachineLearningServices.Workspaces", p.sources.workspace_id
        )
        self.training_subscription = self._subscription(
            "training_data", "training-data-ready", self.lake_topic, lake_grants, **self._training_filters()
        )
        # Only the team's own model starts a release (the function checks MODEL_NAME again).
        self.model_subscription = self._subscription(
            "model_registered",
            "model-registered",
            self.ml_topic,
            ml_grants,
            included_event_types=[MODEL_REGISTERED],
            subject_filter=az.EventgridSystemTopicEventSubscriptionSubjectFilter(
                subject_begins_with=model_subject_prefix(p.sources.model_name), case_sensitive=True
            ),
        )

    def _training_filters(self) -> dict[str, Any]:
        """A BlobCreated of the marker under the training prefix, after a committed write only."""
        s = self.props.sources
        return {
            "included_event_types": [BLOB_CREATED],
            "subject_filter": az.EventgridSystemTopicEventSubscriptionSubjectFilter(
                subject_begins_with=f"/blobServices/default/containers/{s.training_filesystem}/blobs/{s.training_prefix}",
                subject_ends_with=s.marker_suffix,
                case_sensitive=True,  # ADLS paths are case-sensitive: `_success` is not the marker
            ),
            "advanced_filter": az.EventgridSystemTopicEventSubscriptionAdvancedFilter(
                string_in=[
                    az.EventgridSystemTopicEventSubscriptionAdvancedFilterStringIn(
                        key="data.api", values=list(COMMITTED_WRITE_APIS)
                    )
                ]
            ),
        }

    def _topic(
        self, key: str, name: str, topic_type: str, source_id: str
    ) -> tuple[az.EventgridSystemTopic, list[az.RoleAssignment]]:
        p = self.props
        topic = az.EventgridSystemTopic(
            self.scope, f"{key}_topic", name=name, resource_group_name=p.resource_group.name,
            location=p.resource_group.location, topic_type=topic_type, source_resource_id=source_id,
            identity=az.EventgridSystemTopicIdentity(type="SystemAssigned"),
        )
        principal = topic.identity.principal_id
        sender = role(
            self.scope, f"{key}_topic_queue_sender", scope_id=p.queue.id, role_name="Storage Queue Data Message Sender",
            principal_id=principal, principal_type="ServicePrincipal", description=f"{key} events into the event queue",
        )
        dead_letter = role(
            self.scope, f"{key}_topic_dead_letter", scope_id=p.delivery.dead_letter_container_id,
            role_name="Storage Blob Data Contributor", principal_id=principal,
            principal_type="ServicePrincipal", description=f"{key} events that could not be delivered",
        )
        if p.log_analytics_workspace_id is not None:
            diagnostics(
                self.scope, f"{key}_topic_diagnostics", target_resource_id=topic.id,
                log_analytics_workspace_id=p.log_analytics_workspace_id,
            )
        return topic, [sender, dead_letter]

    def _subscription(
        self,
        key: str,
        name: str,
        topic: az.EventgridSystemTopic,
        grants: list[az.RoleAssignment],
        **filters: Any,
    ) -> az.EventgridSystemTopicEventSubscription:
        p, delivery = self.props, self.props.delivery
        return az.EventgridSystemTopicEventSubscription(
            self.scope,
            f"{key}_subscription",
            name=name,
            system_topic=topic.name,
            resource_group_name=p.resource_group.name,
            event_delivery_schema="EventGridSchema",
            storage_queue_endpoint=az.EventgridSystemTopicEventSubscriptionStorageQueueEndpoint(
                storage_account_id=p.queue.account_id, queue_name=p.queue.name,
                queue_message_time_to_live_in_seconds=QUEUE_MESSAGE_TTL_SECONDS,
            ),
            delivery_identity=az.EventgridSystemTopicEventSubscriptionDeliveryIdentity(type="SystemAssigned"),
            retry_policy=az.EventgridSystemTopicEventSubscriptionRetryPolicy(
                max_delivery_attempts=delivery.max_delivery_attempts, event_time_to_live=delivery.event_ttl_minutes
            ),
            storage_blob_dead_letter_destination=az.EventgridSystemTopicEventSubscriptionStorageBlobDeadLetterDestination(
                storage_account_id=p.sources.data_lake_id,
                storage_blob_container_name=delivery.dead_letter_container_name,
            ),
            dead_letter_identity=az.EventgridSystemTopicEventSubscriptionDeadLetterIdentity(type="SystemAssigned"),
            # Delivery and dead-lettering work from the first event on.
            depends_on=grants,
            **filters,
        )
