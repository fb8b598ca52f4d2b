"""Logic of the pipeline_trigger Azure Function (no azure.functions imports: tests use it directly).

Modules: settings (app settings), events (event -> run request), devops (Azure DevOps client with
retries), ledger (idempotency per event id in Blob Storage), handler (the flow), runtime (wiring),
replay (re-deliver dead-lettered events).
"""

from .devops import DevOpsAuthError, DevOpsRejected, DevOpsUnavailable, InvocationFailed, PipelineNotFound
from .events import BLOB_CREATED, COMMITTED_WRITE_APIS, MODEL_REGISTERED, MalformedEvent
from .handler import Outcome, PipelineTrigger
from .ledger import ClaimBusy, LedgerUnavailable
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
    "Outcome",
    "PipelineNotFound",
    "PipelineTrigger",
    "Settings",
    "SettingsError",
    "build_trigger",
    "get_trigger",
]
