"""Azure Functions entry point (Python v2 programming model): a thin adapter.

Event Grid delivers each event to the Storage queue named by EVENT_QUEUE_NAME (pipeline-events);
this queue-triggered function, named ``pipeline_trigger``, reads it through the identity-based
connection ``EventQueue`` (app settings ``EventQueue__queueServiceUri``, ``EventQueue__credential
=managedidentity``, ``EventQueue__clientId``). All logic lives in ``trigger_core`` (no
azure.functions imports there).

An invocation either returns (message deleted: started, recovered, duplicate, ignored, or written
to the poison queue with its reason through the ``poison`` output binding) or raises (the host
makes the message visible again after host.json's visibilityTimeout and, after maxDequeueCount
deliveries, moves it to ``<queue>-poison`` itself).
"""

from __future__ import annotations

import logging
import os

import azure.functions as func
from trigger_core.contract import EVENT_QUEUE_CONNECTION, EVENT_QUEUE_SETTING, POISON_QUEUE_SUFFIX
from trigger_core.handler import QueueDelivery
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


def delivery_of(msg: func.QueueMessage) -> QueueDelivery:
    """The parts of the binding's message the core uses (host.json messageEncoding=none: raw text)."""
    return QueueDelivery(body=msg.get_body(), message_id=msg.id, dequeue_count=int(msg.dequeue_count or 1))


@app.function_name(name="pipeline_trigger")
# queue_name "%EVENT_QUEUE_NAME%" and "%EVENT_QUEUE_NAME%-poison": the host resolves the setting.
@app.queue_trigger(arg_name="msg", queue_name=f"%{EVENT_QUEUE_SETTING}%", connection=EVENT_QUEUE_CONNECTION)
@app.queue_output(arg_name="poison", queue_name=f"%{EVENT_QUEUE_SETTING}%{POISON_QUEUE_SUFFIX}",
                  connection=EVENT_QUEUE_CONNECTION)
def pipeline_trigger(msg: func.QueueMessage, poison: func.Out[str]) -> None:
    result = get_trigger().handle_message(delivery_of(msg))
    if result.poison is not None:
        poison.set(result.poison)
