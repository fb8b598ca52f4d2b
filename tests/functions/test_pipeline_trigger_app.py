"""The Functions adapter and the deployable files: function name, binding, host.json, pins."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys

import pytest
import trigger_core
from azure.functions.queue import QueueMessage
from trigger_core import runtime
from trigger_core.devops import InvocationFailed
from trigger_core.settings import SETTING_DEFAULTS

from tests.fakes.devops_server import RUN_PIPELINE

from .conftest import FUNCTION_DIR, TRAINING, base_env, blob_created


@pytest.fixture(scope="module")
def function_app():
    import function_app as module

    return module


class Out:
    """azure.functions.Out for the poison output binding."""

    def __init__(self) -> None:
        self.value: str | None = None

    def set(self, value: str) -> None:
        self.value = value

    def get(self) -> str | None:
        return self.value


def queue_message(raw: dict | str, *, dequeue_count: int = 1, encode: bool = True) -> QueueMessage:
    text = raw if isinstance(raw, str) else json.dumps(raw)
    body = base64.b64encode(text.encode()).decode() if encode else text
    # the worker's own subclass, as built from the trigger metadata
    return QueueMessage(id="msg-1", body=body.encode(), dequeue_count=dequeue_count)


def test_function_is_queue_triggered_on_the_event_queue_with_a_poison_output(function_app) -> None:
    [function] = function_app.app.get_functions()
    assert function.get_function_name() == "pipeline_trigger"
    bindings = {b["name"]: b for b in json.loads(function.get_function_json())["bindings"]}
    assert bindings["msg"] == {"type": "queueTrigger", "name": "msg", "direction": "IN",
                               "queueName": "%EVENT_QUEUE_NAME%", "connection": "EventQueue"}
    assert bindings["poison"] == {"type": "queue", "name": "poison", "direction": "OUT",
                                  "queueName": "%EVENT_QUEUE_NAME%-poison", "connection": "EventQueue"}
    assert not any(b["type"] == "eventGridTrigger" for b in bindings.values())


@pytest.mark.parametrize("encode", [True, False], ids=["base64", "raw-json"])
def test_invocation_runs_the_core_handler_for_both_message_encodings(function_app, make_harness, monkeypatch,
                                                                     encode: bool) -> None:
    h = make_harness()
    monkeypatch.setattr(function_app, "get_trigger", lambda: h.trigger)
    poison = Out()
    event = blob_created("landing/x/_SUCCESS", event_id=f"evt-b-{encode}")
    assert function_app.pipeline_trigger(queue_message(event, encode=encode), poison) is None
    [run] = h.server.runs
    assert run.template_parameters["eventId"] == f"evt-b-{encode}"
    assert h.trigger.ledger.read(f"evt-b-{encode}")["pipeline"] == TRAINING
    assert poison.value is None


def test_a_malformed_message_goes_to_the_poison_queue_with_the_reason(function_app, make_harness,
                                                                      monkeypatch) -> None:
    h = make_harness()
    monkeypatch.setattr(function_app, "get_trigger", lambda: h.trigger)
    poison = Out()
    function_app.pipeline_trigger(queue_message("this is not an event", encode=False), poison)
    record = json.loads(poison.value)
    assert "neither JSON nor base64-encoded JSON" in record["poisonReason"]
    assert record["rawMessage"] == "this is not an event"
    assert h.server.runs == []


def test_a_failure_raises_so_the_message_returns_to_the_queue_until_the_last_delivery(
        function_app, make_harness, monkeypatch) -> None:
    h = make_harness(MAX_ATTEMPTS="1")
    monkeypatch.setattr(function_app, "get_trigger", lambda: h.trigger)
    event = blob_created("landing/y/_SUCCESS", event_id="evt-fail")
    h.server.fail(403, route=RUN_PIPELINE, times=2)
    with pytest.raises(InvocationFailed):
        function_app.pipeline_trigger(queue_message(event, dequeue_count=1), Out())
    poison = Out()
    function_app.pipeline_trigger(queue_message(event, dequeue_count=5), poison)  # MAX_DEQUEUE_COUNT=5
    record = json.loads(poison.value)
    assert record["eventId"] == "evt-fail" and record["dequeueCount"] == 5
    assert "HTTP 403" in record["poisonReason"] and record["event"] == event


def test_host_json_queue_settings_match_the_function_settings() -> None:
    host = json.loads((FUNCTION_DIR / "host.json").read_text())
    queues = host["extensions"]["queues"]
    assert queues["maxDequeueCount"] == int(SETTING_DEFAULTS["MAX_DEQUEUE_COUNT"])
    assert queues["messageEncoding"] == "none"  # the function decodes base64 and raw JSON itself
    visibility = _seconds(queues["visibilityTimeout"])
    # the redelivery after an unanswered run request must come after the settle time
    assert float(SETTING_DEFAULTS["RUN_SETTLE_SECONDS"]) < visibility
    assert _seconds(host["functionTimeout"]) < float(SETTING_DEFAULTS["CLAIM_TIMEOUT_SECONDS"])
    assert 1 <= queues["batchSize"] <= 32


def _seconds(span: str) -> float:
    hours, minutes, seconds = span.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_bad_settings_fail_every_invocation_instead_of_dropping_events(monkeypatch) -> None:
    runtime.reset_trigger()
    env = base_env()
    del env["AZDO_ORG_URL"]
    with pytest.raises(runtime.ConfigurationError, match="AZDO_ORG_URL is missing") as info:
        runtime.get_trigger(env)
    assert isinstance(info.value, InvocationFailed)
    runtime.reset_trigger()


def test_core_does_not_import_azure_functions() -> None:
    for path in (FUNCTION_DIR / "trigger_core").glob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+azure\.functions", path.read_text(), re.M), path.name
    probe = subprocess.run([sys.executable, "-c", "import sys, trigger_core.runtime, trigger_core.replay; "
                            "print(sorted(m for m in sys.modules if m.startswith('azure.functions')))"],
                           cwd=FUNCTION_DIR, capture_output=True, text=True, timeout=60, check=True)
    assert probe.stdout.strip() == "[]"
    assert trigger_core.PipelineTrigger.handle


def test_host_json_uses_the_v4_extension_bundle() -> None:
    host = json.loads((FUNCTION_DIR / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"}


def test_requirements_are_pinned_and_cover_the_imports() -> None:
    lines = [ln.strip() for ln in (FUNCTION_DIR / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    pins = dict(ln.split("==") for ln in lines)
    assert all(re.fullmatch(r"\d+(\.\d+)+", v) for v in pins.values()), lines
    assert {"azure-functions", "azure-core", "azure-identity", "azure-storage-blob", "requests"} <= set(pins)


def test_production_wiring_uses_the_user_assigned_managed_identity(monkeypatch) -> None:
    import azure.identity
    from trigger_core.settings import Settings

    created: list[dict] = []

    class RecordingManagedIdentityCredential(azure.identity.ManagedIdentityCredential):
        def __init__(self, **kwargs) -> None:
            created.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(azure.identity, "ManagedIdentityCredential", RecordingManagedIdentityCredential)
    runtime.reset_trigger()
    try:
        trigger = runtime.get_trigger(base_env())
        assert runtime.get_trigger(base_env()) is trigger  # one per process: caches survive invocations
    finally:
        runtime.reset_trigger()
    assert created == [{"client_id": base_env()["AZURE_CLIENT_ID"]}]
    credential = trigger.devops._credential
    assert isinstance(credential, azure.identity.ManagedIdentityCredential)
    container = trigger.ledger._container
    assert container.credential is credential
    assert (container.url, container.container_name) == (
        "https://stfuncexample.blob.core.windows.net/pipeline-trigger-claims", "pipeline-trigger-claims")
    assert trigger.settings == Settings.from_env(base_env())
    # storage retries stay short (the SDK default waits 15, 18, 24 s) and bounded
    retry = container._config.retry_policy
    assert (retry.initial_backoff, retry.increment_base, retry.total_retries) == (1, 2, 3)


def test_invalid_settings_are_logged_when_the_worker_loads_the_app() -> None:
    env = {k: v for k, v in os.environ.items() if k not in base_env()}
    env.update({k: v for k, v in base_env().items() if k != "TRAINING_FILESYSTEM"})
    probe = subprocess.run([sys.executable, "-c", "import function_app"], cwd=FUNCTION_DIR, env=env,
                           capture_output=True, text=True, timeout=60, check=True)
    [line] = [ln for ln in probe.stderr.splitlines() if ln.startswith("{")]
    record = json.loads(line)
    assert (record["msg"], record["outcome"]) == ("settings_invalid", "misconfigured")
    assert "TRAINING_FILESYSTEM is missing or empty" in record["reason"]
