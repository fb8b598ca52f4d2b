"""Logic of the pipeline_trigger Azure Function (no azure.functions imports: tests use it directly).

Modules: settings (app settings), events (queue message / event -> run request), devops (Azure
DevOps client: retries, run search by event id), ledger (idempotency per event id in Blob
Storage), handler (the flow and the queue's ack/retry/poison rules), runtime (wiring), replay
(re-enqueue poison-queue messages and dead-lettered events).
"""

from .devops import (
    DevOpsAuthError,
    DevOpsRejected,
    DevOpsUnavailable,
    InvocationFailed,
    PipelineNotFound,
    RunLookupInconclusive,
    RunOutcomeUnknown,
)
from .events import BLOB_CREATED, COMMITTED_WRITE_APIS, MODEL_REGISTERED, MalformedEvent, decode_queue_body
from .handler import MessageResult, Outcome, PipelineTrigger, QueueDelivery
from .ledger import ClaimBusy, LedgerUnavailable, RunPending
from .runtime import ConfigurationError, build_trigger, get_trigger
from .settings import OPTIONAL_SETTINGS, REQUIRED_SETTINGS, SETTING_DEFAULTS, Settings, SettingsError

__all__ = [
    "BLOB_CREATED",
    "COMMITTED_WRITE_APIS",
    "MODEL_REGISTERED",
    "OPTIONAL_SETTINGS",
    "REQUIRED_SETTINGS",
    "SETTING_DEFAULTS",
    "ClaimBusy",
    "ConfigurationError",
    "DevOpsAuthError",
    "DevOpsRejected",
    "DevOpsUnavailable",
    "InvocationFailed",
    "LedgerUnavailable",
    "MalformedEvent",
    "MessageResult",
    "Outcome",
    "PipelineNotFound",
    "PipelineTrigger",
    "QueueDelivery",
    "RunLookupInconclusive",
    "RunOutcomeUnknown",
    "RunPending",
    "Settings",
    "SettingsError",
    "build_trigger",
    "decode_queue_body",
    "get_trigger",
]
