"""Event -> run request mapping (pure logic, payloads shaped like reference B8)."""

from __future__ import annotations

import base64
import json

import pytest
from trigger_core.events import Ignore, MalformedEvent, RunRequest, decode_queue_body, parse_event, plan_run
from trigger_core.settings import Settings

from .conftest import MODEL, RELEASE, TRAINING, base_env, blob_created, model_registered

SETTINGS = Settings.from_env(base_env())


def plan(raw: object, settings: Settings = SETTINGS) -> RunRequest | Ignore:
    return plan_run(parse_event(raw), settings)


@pytest.mark.parametrize("api", ["FlushWithClose", "PutBlockList", "PutBlob"])
def test_committed_marker_starts_training_with_folder_and_event_id(api: str) -> None:
    event = blob_created("landing/sales/2024-06-01/_SUCCESS", api=api, event_id="evt-1")
    result = plan(event)
    assert result == RunRequest("training", TRAINING, {
        "dataPath": "abfss://raw@examplelake.dfs.core.windows.net/landing/sales/2024-06-01",
        "eventId": "evt-1",
        "environment": "dev",
    })
    assert all(isinstance(v, str) for v in result.template_parameters.values())


@pytest.mark.parametrize(
    ("path", "filesystem", "api", "why"),
    [
        ("landing/sales/_SUCCESS", "raw", "CreateFile", "not a committed write"),
        ("landing/sales/part-0001.parquet", "raw", "FlushWithClose", "not a marker"),
        ("landing/sales/_SUCCESS", "curated", "FlushWithClose", "not the training filesystem"),
        ("archive/sales/_SUCCESS", "raw", "FlushWithClose", "outside the prefix"),
        ("landingzone/sales/_SUCCESS", "raw", "FlushWithClose", "outside the prefix"),  # prefix is a folder
    ],
)
def test_non_marker_events_are_ignored_with_reason(path: str, filesystem: str, api: str, why: str) -> None:
    result = plan(blob_created(path, filesystem=filesystem, api=api))
    assert isinstance(result, Ignore)
    assert why in result.reason


def test_custom_marker_suffix_and_root_marker_with_empty_prefix() -> None:
    settings = Settings.from_env(base_env(TRAINING_PATH_PREFIX="", MARKER_SUFFIX=".ready"))
    assert isinstance(plan(blob_created("batch/_SUCCESS"), settings), Ignore)
    result = plan(blob_created("batch-7.ready", event_id="e"), settings)
    assert result.template_parameters["dataPath"] == "abfss://raw@examplelake.dfs.core.windows.net/"


def test_endpoint_suffix_comes_from_the_event_url_and_account_from_topic() -> None:
    event = blob_created("landing/x/_SUCCESS", account="chinalake")
    event["data"]["url"] = "https://chinalake.blob.core.chinacloudapi.cn/raw/landing/x/_SUCCESS"
    assert plan(event).template_parameters["dataPath"] == "abfss://raw@chinalake.dfs.core.chinacloudapi.cn/landing/x"
    del event["topic"]
    assert plan(event).template_parameters["dataPath"].startswith("abfss://raw@chinalake.dfs.")


@pytest.mark.parametrize(
    ("casing", "version", "expected"),
    [("pascal", 20, "20"), ("camel", "3", "3"), ("pascal", "7", "7"), ("camel", 12.0, "12")],
)
def test_model_registered_starts_release_with_string_parameters(casing: str, version: object, expected: str) -> None:
    result = plan(model_registered(MODEL, version, casing=casing, event_id="evt-m"))
    assert result == RunRequest("release", RELEASE, {"modelName": MODEL, "modelVersion": expected,
                                                     "eventId": "evt-m", "environment": "dev"})


def test_model_keys_are_read_case_insensitively_and_subject_is_a_fallback() -> None:
    event = model_registered(MODEL, 4)
    event["data"] = {"MODELNAME": MODEL, "modelversion": 4}
    assert plan(event).template_parameters["modelVersion"] == "4"
    event["data"] = {}
    event["subject"] = f"models/{MODEL}:9"
    assert plan(event).template_parameters == {"modelName": MODEL, "modelVersion": "9", "eventId": event["id"],
                                               "environment": "dev"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ([blob_created("landing/_SUCCESS")], "JSON array"),
        (42, "expected a JSON object"),
        ({k: v for k, v in blob_created("a/_SUCCESS").items() if k != "id"}, "'id'"),
        ({**blob_created("a/_SUCCESS"), "eventType": ""}, "'eventType'"),
        ({k: v for k, v in blob_created("a/_SUCCESS").items() if k != "subject"}, "'subject'"),
        ({**blob_created("a/_SUCCESS"), "data": "x"}, "'data'"),
        ({**blob_created("a/_SUCCESS"), "eventType": "Contoso.Items.ItemReceived"}, "unknown event type"),
        ({**blob_created("a/_SUCCESS"), "subject": "/containers/raw/a/_SUCCESS"}, "subject"),
        ({**blob_created("a/_SUCCESS"), "data": {"url": "https://x"}}, "no data.api"),
        ({**model_registered("m", 1), "data": {"ModelVersion": 1}, "subject": "models"}, "no model name"),
        (model_registered("m", True), "not a version"),
        (model_registered("m", 1.5), "not a number/string"),
        ({**model_registered("m", 1), "data": {"ModelName": "m"}, "subject": ""}, "version"),
    ],
)
def test_malformed_events_raise_with_reason(raw: object, reason: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        plan(raw)
    assert reason in str(info.value)


def test_json_text_is_accepted() -> None:
    assert isinstance(plan(json.dumps(blob_created("landing/a/_SUCCESS"))), RunRequest)


@pytest.mark.parametrize("event_type", ["Microsoft.Storage.BlobDeleted",
                                        "Microsoft.MachineLearningServices.ModelDeployed",
                                        "Microsoft.EventGrid.SubscriptionValidationEvent"])
def test_other_known_event_types_are_ignored(event_type: str) -> None:
    result = plan({**blob_created("landing/a/_SUCCESS"), "eventType": event_type})
    assert isinstance(result, Ignore)
    assert event_type in result.reason


@pytest.mark.parametrize("name", ["other-team-model", "example-model-v2", "Example-Model", "example"])
def test_a_model_other_than_model_name_is_ignored_not_released(name: str) -> None:
    result = plan(model_registered(name, 3))
    assert isinstance(result, Ignore)
    assert f"is not the team's model '{MODEL}'" in result.reason


def test_queue_messages_are_accepted_base64_encoded_or_as_raw_json() -> None:
    event = blob_created("landing/a/_SUCCESS")
    text = json.dumps(event)
    assert decode_queue_body(text) == event
    assert decode_queue_body(text.encode()) == event
    assert decode_queue_body(base64.b64encode(text.encode())) == event
    assert decode_queue_body(base64.b64encode(text.encode()).decode() + "\n") == event
    assert decode_queue_body(json.dumps([event])) == event  # a one-event batch


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "empty"), (b"\xff\xfe", "not UTF-8"), ("hello world", "neither JSON nor base64"),
     (base64.b64encode(b"plain text"), "does not decode to a JSON object"), ("{not json", "not JSON")],
)
def test_undecodable_queue_messages_are_malformed(body: bytes | str, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        decode_queue_body(body)
