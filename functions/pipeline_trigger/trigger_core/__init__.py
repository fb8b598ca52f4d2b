"""Logic of the pipeline_trigger Azure Function (no azure.functions imports: tests use it directly).

Modules: contract (what the deployment must provide: setting names, event types, committed-write
APIs; stdlib only, imported by the kit's infra/), settings (app settings), events (queue message /
event -> run request), devops (Azure DevOps client: retries, run search by event id), ledger
(idempotency per event id in Blob Storage), handler (the flow and the queue's ack/retry/poison
rules), runtime (wiring), replay (re-enqueue poison-queue messages and dead-lettered events).

The names below load on first use (PEP 562), so `import trigger_core.contract` (the kit, at synth)
runs no module that needs requests or the Azure SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> the module that defines it
_EXPORTS = {
    "BLOB_CREATED": "contract",
    "COMMITTED_WRITE_APIS": "contract",
    "MODEL_REGISTERED": "contract",
    "OPTIONAL_SETTINGS": "contract",
    "REQUIRED_SETTINGS": "contract",
    "SETTING_DEFAULTS": "contract",
    "ClaimBusy": "ledger",
    "ConfigurationError": "runtime",
    "DevOpsAuthError": "devops",
    "DevOpsRejected": "devops",
    "DevOpsUnavailable": "devops",
    "InvocationFailed": "devops",
    "LedgerUnavailable": "ledger",
    "MalformedEvent": "events",
    "MessageResult": "handler",
    "Outcome": "handler",
    "PipelineNotFound": "devops",
    "PipelineTrigger": "handler",
    "QueueDelivery": "handler",
    "RunLookupInconclusive": "devops",
    "RunOutcomeUnknown": "devops",
    "RunPending": "ledger",
    "Settings": "settings",
    "SettingsError": "settings",
    "build_trigger": "runtime",
    "decode_queue_body": "events",
    "get_trigger": "runtime",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
