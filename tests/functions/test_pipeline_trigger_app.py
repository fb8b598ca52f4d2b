"""The Functions adapter and the deployable files: function name, binding, host.json, pins."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys

import azure.functions as func
import pytest
import trigger_core
from trigger_core import runtime
from trigger_core.devops import InvocationFailed

from .conftest import FUNCTION_DIR, TRAINING, base_env, blob_created


@pytest.fixture(scope="module")
def function_app():
    import function_app as module

    return module


def grid_event(raw: dict) -> func.EventGridEvent:
    return func.EventGridEvent(id=raw["id"], data=raw["data"], topic=raw["topic"], subject=raw["subject"],
                               event_type=raw["eventType"], data_version=raw["dataVersion"],
                               event_time=datetime.datetime(2024, 6, 1, 10, 0, tzinfo=datetime.UTC))


def test_function_is_named_pipeline_trigger_with_an_event_grid_trigger(function_app) -> None:
    [function] = function_app.app.get_functions()
    assert function.get_function_name() == "pipeline_trigger"  # -> <function_app_id>/functions/pipeline_trigger
    [binding] = json.loads(function.get_function_json())["bindings"]
    assert binding == {"type": "eventGridTrigger", "name": "event", "direction": "IN"}


def test_binding_event_is_converted_to_the_event_grid_schema(function_app) -> None:
    raw = blob_created("landing/x/_SUCCESS", event_id="evt-a")
    converted = function_app.event_to_dict(grid_event(raw))
    assert {k: converted[k] for k in ("id", "eventType", "subject", "topic", "data")} == {
        k: raw[k] for k in ("id", "eventType", "subject", "topic", "data")}
    assert converted["eventTime"] == "2024-06-01T10:00:00+00:00"


def test_invocation_runs_the_core_handler(function_app, make_harness, monkeypatch) -> None:
    h = make_harness()
    monkeypatch.setattr(function_app, "get_trigger", lambda: h.trigger)
    assert function_app.pipeline_trigger(grid_event(blob_created("landing/x/_SUCCESS", event_id="evt-b"))) is None
    [run] = h.server.runs
    assert run.template_parameters["eventId"] == "evt-b"
    assert h.trigger.ledger.read("evt-b")["pipeline"] == TRAINING


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


def test_invalid_settings_are_logged_when_the_worker_loads_the_app() -> None:
    env = {k: v for k, v in os.environ.items() if k not in base_env()}
    env.update({k: v for k, v in base_env().items() if k != "TRAINING_FILESYSTEM"})
    probe = subprocess.run([sys.executable, "-c", "import function_app"], cwd=FUNCTION_DIR, env=env,
                           capture_output=True, text=True, timeout=60, check=True)
    [line] = [ln for ln in probe.stderr.splitlines() if ln.startswith("{")]
    record = json.loads(line)
    assert (record["msg"], record["outcome"]) == ("settings_invalid", "misconfigured")
    assert "TRAINING_FILESYSTEM is missing or empty" in record["reason"]
