"""Event Grid in each environment: what starts a run, how delivery retries and where failures land."""

from __future__ import annotations

import pytest

from infra.triggers import BLOB_CREATED, COMMITTED_WRITE_APIS, MODEL_REGISTERED
from tests.conftest import resources
from tests.triggers.helpers import (
    ENV_STACKS,
    PRIVATE,
    PUBLIC,
    address_of,
    by_path,
    load_settings_module,
    ref,
    subscription,
)

LAKE = ("azurerm_storage_account", "data_lake/account")
DEAD_LETTER = ("azurerm_storage_container", "data_lake/dead_letter")


def topic_ref(stack: dict, key: str, attribute: str = "id") -> str:
    return ref("azurerm_eventgrid_system_topic", address_of(stack, "azurerm_eventgrid_system_topic", f"triggers/{key}_topic"),
               attribute)


@pytest.mark.parametrize("stack_name", ENV_STACKS)
def test_system_topics_watch_the_lake_and_the_workspace_with_their_own_identity(example, stack_name):
    stack = example[stack_name]
    lake = by_path(stack, "azurerm_eventgrid_system_topic", "triggers/lake_topic")
    ml = by_path(stack, "azurerm_eventgrid_system_topic", "triggers/ml_topic")
    assert lake["topic_type"] == "Microsoft.Storage.StorageAccounts"
    assert lake["source_resource_id"] == ref(LAKE[0], address_of(stack, *LAKE))
    assert ml["topic_type"] == "Microsoft.MachineLearningServices.Workspaces"
    assert ml["source_resource_id"] == ref("azurerm_machine_learning_workspace",
                                           address_of(stack, "azurerm_machine_learning_workspace", "ml/workspace"))
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


def test_model_subscription_fires_on_model_registered_only(example):
    sub = subscription(example[PUBLIC], "model-registered")
    assert sub["included_event_types"] == [MODEL_REGISTERED]
    assert "subject_filter" not in sub and "advanced_filter" not in sub
    assert sub["system_topic"] == topic_ref(example[PUBLIC], "ml", "name")


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
@pytest.mark.parametrize("name", ["training-data-ready", "model-registered"])
def test_delivery_is_the_pipeline_trigger_function_one_event_at_a_time(example, stack_name, name):
    stack = example[stack_name]
    sub = subscription(stack, name)
    app = address_of(stack, "azurerm_function_app_flex_consumption", "triggers/function_app")
    assert sub["azure_function_endpoint"] == {
        "function_id": ref("azurerm_function_app_flex_consumption", app) + "/functions/pipeline_trigger",
        "max_events_per_batch": 1,
    }
    assert sub["event_delivery_schema"] == "EventGridSchema"
    assert not {"webhook_endpoint", "delivery_property", "delivery_identity"} & set(sub)


@pytest.mark.parametrize("name", ["training-data-ready", "model-registered"])
def test_retry_policy_comes_from_the_team_triggers(example, name):
    # example.yaml keeps the defaults of infra.config.Triggers (10 attempts, 1440 minutes).
    assert subscription(example[PUBLIC], name)["retry_policy"] == {"max_delivery_attempts": 10,
                                                                  "event_time_to_live": 1440}


@pytest.mark.parametrize("stack_name", [PUBLIC, PRIVATE])
@pytest.mark.parametrize(("name", "key"), [("training-data-ready", "lake"), ("model-registered", "ml")])
def test_dead_letters_go_to_the_lake_container_written_by_the_topic_identity(example, stack_name, name, key):
    stack = example[stack_name]
    sub = subscription(stack, name)
    container = address_of(stack, *DEAD_LETTER)
    assert sub["storage_blob_dead_letter_destination"] == {
        "storage_account_id": ref(LAKE[0], address_of(stack, *LAKE)),
        "storage_blob_container_name": ref(DEAD_LETTER[0], container, "name"),
    }
    assert resources(stack, DEAD_LETTER[0])[container]["name"] == "eventgrid-deadletter"
    assert sub["dead_letter_identity"] == {"type": "SystemAssigned"}
    # The topic's identity may write blobs in that one container, nothing else, before the subscription exists.
    grants = [(a, r) for a, r in resources(stack, "azurerm_role_assignment").items()
              if r["principal_id"] == topic_ref(stack, key, "identity[0].principal_id")]
    assert len(grants) == 1
    address, grant = grants[0]
    assert grant["role_definition_name"] == "Storage Blob Data Contributor"
    assert grant["scope"] == ref(DEAD_LETTER[0], container, "resource_manager_id")
    assert grant["principal_type"] == "ServicePrincipal"
    assert f"azurerm_role_assignment.{address}" in sub["depends_on"]


def test_config_values_reach_the_subscriptions(make_teams, tmp_path):
    """Non-default triggers (no prefix, own marker, retry values) land in the subscription as written."""
    from tests.conftest import TEAMS, synth_dir

    text = (TEAMS / "example.yaml").read_text().replace(
        'triggers:\n  training: {filesystem: raw, prefix: "landing/", marker_suffix: _SUCCESS}',
        "triggers:\n  training: {filesystem: curated, marker_suffix: _READY}\n"
        "  max_delivery_attempts: 3\n  event_ttl_minutes: 60",
    )
    assert "_READY" in text
    out = synth_dir(make_teams({"example.yaml": text}), tmp_path / "out", patterns=["example-dev"])
    sub = subscription(out["example-dev"], "training-data-ready")
    assert sub["subject_filter"]["subject_begins_with"] == "/blobServices/default/containers/curated/blobs/"
    assert sub["subject_filter"]["subject_ends_with"] == "_READY"
    assert sub["retry_policy"] == {"max_delivery_attempts": 3, "event_time_to_live": 60}
    settings = resources(out["example-dev"], "azurerm_function_app_flex_consumption")
    app_settings = next(iter(settings.values()))["app_settings"]
    assert app_settings["TRAINING_FILESYSTEM"] == "curated"
    assert app_settings["TRAINING_PATH_PREFIX"] == "" and app_settings["MARKER_SUFFIX"] == "_READY"


def test_event_grid_and_the_function_agree_on_committed_writes():
    assert set(load_settings_module().COMMITTED_WRITE_APIS) == set(COMMITTED_WRITE_APIS)
