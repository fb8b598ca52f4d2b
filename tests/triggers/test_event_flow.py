"""Event Grid in each environment: what starts a run, how it reaches the queue, where failures land."""

from __future__ import annotations

import pytest
from trigger_core.contract import BLOB_CREATED, COMMITTED_WRITE_APIS, MODEL_REGISTERED
from trigger_core.events import EventEnvelope, Ignore, RunRequest, plan_run

from infra.event_grid import QUEUE_MESSAGE_TTL_SECONDS
from infra.triggers import CLAIM_RETENTION_DAYS, EVENT_QUEUE, POISON_QUEUE
from tests.conftest import resources
from tests.triggers.helpers import (
    ENV_STACKS,
    PRIVATE,
    PUBLIC,
    address_of,
    app_settings,
    by_path,
    function_settings,
    ref,
    subscription,
)

LAKE = ("azurerm_storage_account", "data_lake/account")
DEAD_LETTER = ("azurerm_storage_container", "data_lake/dead_letter")
FUNCTION_STORAGE = ("azurerm_storage_account", "triggers/storage")
QUEUE = ("azurerm_storage_queue", "triggers/event_queue")
SUBSCRIPTIONS = ["training-data-ready", "model-registered"]


def topic_ref(stack: dict, key: str, attribute: str = "id") -> str:
    return ref("azurerm_eventgrid_system_topic", address_of(stack, "azurerm_eventgrid_system_topic", f"triggers/{key}_topic"),
               attribute)


def grants_of(stack: dict, principal: str) -> dict[str, dict]:
    return {a: r for a, r in resources(stack, "azurerm_role_assignment").items() if r["principal_id"] == principal}


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_system_topics_watch_the_lake_and_the_workspace_with_their_own_identity(example, stack_name):
    stack = example[stack_name]
    lake = by_path(stack, "azurerm_eventgrid_system_topic", "triggers/lake_topic")
    ml = by_path(stack, "azurerm_eventgrid_system_topic", "triggers/ml_topic")
    assert lake["topic_type"] == "Microsoft.Storage.StorageAccounts"
    assert lake["source_resource_id"] == ref(LAKE[0], address_of(stack, *LAKE))
    assert ml["topic_type"] == "Microsoft.MachineLearningServices.Workspaces"
    assert ml["source_resource_id"] == ref("azapi_resource", address_of(stack, "azapi_resource", "ml/workspace"))
    for topic in (lake, ml):
        assert topic["identity"] == {"type": "SystemAssigned"}
        assert "source_arm_resource_id" not in topic  # the deprecated name (reference sheet B0)
    env = stack_name.split("-")[1]
    code = {"dev": "dev", "staging": "stg", "prod": "prd"}[env]
    assert lake["name"] == f"egst-mlk-example-lake-{code}" and ml["name"] == f"egst-mlk-example-ml-{code}"


def test_training_subscription_fires_once_per_committed_marker_under_the_prefix(example):
    sub = subscription(example[PUBLIC], "training-data-ready")
    assert sub["included_event_types"] == [BLOB_CREATED]
    # example.yaml: triggers.training = {filesystem: raw, prefix: "landing/", marker_suffix: _SUCCESS}
    assert sub["subject_filter"] == {
        "subject_begins_with": "/blobServices/default/containers/raw/blobs/landing/",
        "subject_ends_with": "_SUCCESS",
        "case_sensitive": True,
    }
    (string_in,) = sub["advanced_filter"]["string_in"]
    assert string_in["key"] == "data.api"
    assert {"FlushWithClose", "PutBlockList"} <= set(string_in["values"]) == set(COMMITTED_WRITE_APIS)
    assert "CreateFile" not in string_in["values"]  # an ADLS file is empty when it is created
    assert "CopyBlob" not in string_in["values"]  # on an HNS account it fires when the copy starts
    assert set(sub["advanced_filter"]) == {"string_in"}
    assert sub["system_topic"] == topic_ref(example[PUBLIC], "lake", "name")


LAKE_TOPIC = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stlakeexample"


def test_every_write_the_subscription_delivers_starts_a_training_run_and_no_other(example):
    """The synthesized `data.api` filter and the function's own check (both the contract's tuple) agree."""
    stack = example[PUBLIC]
    sub, settings = subscription(stack, "training-data-ready"), function_settings(stack)
    (string_in,) = sub["advanced_filter"]["string_in"]
    marker = sub["subject_filter"]["subject_begins_with"] + "sales/2024-06-01/" + sub["subject_filter"]["subject_ends_with"]

    def planned(api: str) -> RunRequest | Ignore:
        event = EventEnvelope(id="e-1", event_type=sub["included_event_types"][0], subject=marker,
                              data={"api": api}, topic=LAKE_TOPIC)
        return plan_run(event, settings)

    for api in string_in["values"]:
        run = planned(api)
        assert isinstance(run, RunRequest) and run.kind == "training", api
        assert run.template_parameters["dataPath"] == "abfss://raw@stlakeexample.dfs.core.windows.net/landing/sales/2024-06-01"
    for api in ("CreateFile", "CopyBlob", "SetBlobMetadata"):  # filtered out by Event Grid, ignored by the function
        assert api not in string_in["values"] and isinstance(planned(api), Ignore), api


def test_a_registration_the_subscription_delivers_starts_a_release(example):
    stack = example[PUBLIC]
    sub = subscription(stack, "model-registered")
    event = EventEnvelope(id="e-2", event_type=sub["included_event_types"][0],
                          subject=sub["subject_filter"]["subject_begins_with"] + "3",
                          data={"modelName": "example-model", "modelVersion": "3"})
    run = plan_run(event, function_settings(stack))
    assert isinstance(run, RunRequest) and run.kind == "release"


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_model_subscription_fires_only_for_the_teams_model(example, stack_name):
    """ModelRegistered subjects are `models/<name>:<version>` (reference sheet; Azure ML event schema)."""
    stack = example[stack_name]
    sub = subscription(stack, "model-registered")
    assert sub["included_event_types"] == [MODEL_REGISTERED]
    assert sub["subject_filter"] == {"subject_begins_with": "models/example-model:", "case_sensitive": True}
    assert "advanced_filter" not in sub
    assert sub["system_topic"] == topic_ref(stack, "ml", "name")
    # The function filters on the same name (the name the seeded training pipeline registers).
    assert app_settings(stack)["MODEL_NAME"] == "example-model"


@pytest.mark.parametrize("stack_name", ENV_STACKS)
@pytest.mark.parametrize("name", SUBSCRIPTIONS)
def test_delivery_is_the_event_queue_with_the_topic_identity(example, stack_name, name):
    """No Azure Function endpoint: Azure validates those at creation, before any code exists."""
    stack = example[stack_name]
    sub = subscription(stack, name)
    queue = address_of(stack, *QUEUE)
    assert sub["storage_queue_endpoint"] == {
        "storage_account_id": ref(FUNCTION_STORAGE[0], address_of(stack, *FUNCTION_STORAGE)),
        "queue_name": ref(QUEUE[0], queue, "name"),
        "queue_message_time_to_live_in_seconds": QUEUE_MESSAGE_TTL_SECONDS,
    }
    assert sub["delivery_identity"] == {"type": "SystemAssigned"}
    assert sub["event_delivery_schema"] == "EventGridSchema"
    assert not {"azure_function_endpoint", "webhook_endpoint", "delivery_property"} & set(sub)
    assert resources(stack, QUEUE[0])[queue]["name"] == EVENT_QUEUE


def test_queued_events_never_outlive_their_claims():
    # A message is processed (and claimed) after it is enqueued, so a claim kept as long as the
    # message lives covers every redelivery of it.
    assert QUEUE_MESSAGE_TTL_SECONDS <= CLAIM_RETENTION_DAYS * 24 * 3600
    assert QUEUE_MESSAGE_TTL_SECONDS >= 24 * 3600  # longer than Event Grid's own retries (event_ttl <= 1 day)


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_queues_are_resource_manager_resources_in_the_function_storage(example, stack_name):
    """`storage_account_id` (not the data-plane `storage_account_name`): azurerm 4.55 uses the queueServices API."""
    stack = example[stack_name]
    account = ref(FUNCTION_STORAGE[0], address_of(stack, *FUNCTION_STORAGE))
    queues = resources(stack, QUEUE[0])
    assert {q["name"]: q["storage_account_id"] for q in queues.values()} == {EVENT_QUEUE: account, POISON_QUEUE: account}
    assert not any("storage_account_name" in q for q in queues.values())
    assert f"{EVENT_QUEUE}-poison" == POISON_QUEUE  # the host's poison-queue naming (functions/pipeline_trigger)


@pytest.mark.parametrize("name", SUBSCRIPTIONS)
def test_retry_policy_comes_from_the_team_triggers(example, name):
    # example.yaml keeps the defaults of infra.config.Triggers (10 attempts, 1440 minutes).
    assert subscription(example[PUBLIC], name)["retry_policy"] == {"max_delivery_attempts": 10,
                                                                  "event_time_to_live": 1440}


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
@pytest.mark.parametrize(("name", "key"), [("training-data-ready", "lake"), ("model-registered", "ml")])
def test_topic_identity_may_send_to_the_queue_and_dead_letter_nothing_else(example, stack_name, name, key):
    stack = example[stack_name]
    sub = subscription(stack, name)
    container = address_of(stack, *DEAD_LETTER)
    assert sub["storage_blob_dead_letter_destination"] == {
        "storage_account_id": ref(LAKE[0], address_of(stack, *LAKE)),
        "storage_blob_container_name": ref(DEAD_LETTER[0], container, "name"),
    }
    assert resources(stack, DEAD_LETTER[0])[container]["name"] == "eventgrid-deadletter"
    assert sub["dead_letter_identity"] == {"type": "SystemAssigned"}
    grants = grants_of(stack, topic_ref(stack, key, "identity[0].principal_id"))
    # Scopes are ARM ids (`id`; `resource_manager_id` is deprecated in azurerm 4.x).
    assert {(g["role_definition_name"], g["scope"]) for g in grants.values()} == {
        ("Storage Queue Data Message Sender", ref(QUEUE[0], address_of(stack, *QUEUE))),
        ("Storage Blob Data Contributor", ref(DEAD_LETTER[0], container)),
    }
    assert all(g["principal_type"] == "ServicePrincipal" for g in grants.values())
    # Both grants exist before the subscription: the first event is delivered or dead-lettered.
    assert {f"azurerm_role_assignment.{a}" for a in grants} <= set(sub["depends_on"])


def test_config_values_reach_the_subscriptions(make_teams, tmp_path):
    """Non-default triggers (own folder and marker, retry values) land in the subscription as written."""
    from tests.conftest import TEAMS, synth_dir

    text = (TEAMS / "example.yaml").read_text().replace(
        'triggers:\n  training: {filesystem: raw, prefix: "landing/", marker_suffix: _SUCCESS}',
        "triggers:\n  training: {filesystem: curated, prefix: ingest/daily/, marker_suffix: _READY}\n"
        "  max_delivery_attempts: 3\n  event_ttl_minutes: 60",
    )
    assert "_READY" in text
    out = synth_dir(make_teams({"example.yaml": text}), tmp_path / "out", patterns=["example-dev"])
    sub = subscription(out["example-dev"], "training-data-ready")
    assert sub["subject_filter"]["subject_begins_with"] == "/blobServices/default/containers/curated/blobs/ingest/daily/"
    assert sub["subject_filter"]["subject_ends_with"] == "_READY"
    assert sub["retry_policy"] == {"max_delivery_attempts": 3, "event_time_to_live": 60}
    settings = app_settings(out["example-dev"])
    assert settings["TRAINING_FILESYSTEM"] == "curated"
    assert settings["TRAINING_PATH_PREFIX"] == "ingest/daily/" and settings["MARKER_SUFFIX"] == "_READY"


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_no_deprecated_resource_manager_id_reference(example, stack_name):
    """azurerm 4.x: `resource_manager_id` is deprecated in favour of `id` (removed in 5.0)."""
    import json

    assert "resource_manager_id" not in json.dumps(example[stack_name])


def test_event_flow_code_has_no_function_over_60_lines():
    """Issue 13: constructors split into named steps; the props are groups, not a 32-field pass-through."""
    import ast

    from tests.conftest import REPO

    files = ["infra/triggers.py", "infra/event_grid.py", "infra/function_app.py", "infra/event_flow.py",
             "functions/pipeline_trigger/trigger_core/contract.py"]
    long = [f"{f}:{n.name} ({n.end_lineno - n.lineno + 1} lines)" for f in files
            for n in ast.walk(ast.parse((REPO / f).read_text())) if isinstance(n, ast.FunctionDef)
            and n.end_lineno is not None and n.end_lineno - n.lineno + 1 > 60]
    assert not long
