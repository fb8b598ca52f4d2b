"""Azure Functions entry point (Python v2 programming model): a thin adapter.

The function is named ``pipeline_trigger``, so the Event Grid subscriptions point at
``<function_app_id>/functions/pipeline_trigger``. All logic lives in ``trigger_core`` (no
azure.functions imports there). An invocation either returns (event acknowledged: started,
duplicate, ignored or rejected) or raises (Event Grid redelivers, then dead-letters).
"""

from __future__ import annotations

import logging
import os

import azure.functions as func
from trigger_core.logs import log
from trigger_core.runtime import get_trigger
from trigger_core.settings import Settings, SettingsError

app = func.FunctionApp()
# The Azure SDK logs every storage request at INFO; keep App Insights for our JSON lines.
logging.getLogger("azure").setLevel(logging.WARNING)

try:  # validate at start so a misconfiguration shows up in the logs before the first event
    Settings.from_env(os.environ)
except SettingsError as _exc:
    log(logging.CRITICAL, "settings_invalid", outcome="misconfigured", reason=str(_exc))


def event_to_dict(event: func.EventGridEvent) -> dict:
    """The Event Grid schema fields of the binding's event object, as the core expects them."""
    event_time = event.event_time
    return {
        "id": event.id,
        "eventType": event.event_type,
        "subject": event.subject,
        "topic": event.topic,
        "eventTime": event_time.isoformat() if event_time is not None else None,
        "dataVersion": event.data_version,
        "data": event.get_json(),
    }


@app.function_name(name="pipeline_trigger")
@app.event_grid_trigger(arg_name="event")
def pipeline_trigger(event: func.EventGridEvent) -> None:
    get_trigger().handle(event_to_dict(event))
