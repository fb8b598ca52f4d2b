"""Settings.from_env: names the infra sets, normalisation, and one-line errors naming setting and fix."""

from __future__ import annotations

import pytest
from trigger_core.settings import (
    OPTIONAL_SETTINGS,
    REQUIRED_SETTINGS,
    SETTING_DEFAULTS,
    Settings,
    SettingsError,
    normalise_folder,
)

from .conftest import CLIENT_ID, base_env


def test_setting_names_are_the_ones_the_infra_sets() -> None:
    assert set(REQUIRED_SETTINGS) == {
        "AZDO_ORG_URL", "AZDO_PROJECT", "TRAINING_PIPELINE_NAME", "RELEASE_PIPELINE_NAME", "PIPELINE_FOLDER",
        "AZURE_CLIENT_ID", "IDEMPOTENCY_ACCOUNT_URL", "IDEMPOTENCY_CONTAINER", "TRAINING_FILESYSTEM",
        "ENVIRONMENT_NAME", "MODEL_NAME",
        # the queue trigger's binding settings, read by the Functions host
        "EVENT_QUEUE_NAME", "EventQueue__queueServiceUri", "EventQueue__credential", "EventQueue__clientId",
    }
    assert {"TRAINING_PATH_PREFIX", "MARKER_SUFFIX", "HTTP_TIMEOUT_SECONDS", "MAX_ATTEMPTS"} <= set(OPTIONAL_SETTINGS)
    assert not set(REQUIRED_SETTINGS) & set(OPTIONAL_SETTINGS)
    assert set(OPTIONAL_SETTINGS) == set(SETTING_DEFAULTS)


def test_valid_settings_are_normalised_and_defaults_applied() -> None:
    env = base_env(AZDO_ORG_URL="https://dev.azure.com/example-org/", PIPELINE_FOLDER="/example/",
                   TRAINING_PATH_PREFIX="/landing/zone/")
    for name in ("MARKER_SUFFIX", "HTTP_TIMEOUT_SECONDS", "MAX_ATTEMPTS"):
        env.pop(name, None)
    settings = Settings.from_env(env)
    assert settings.azdo_org_url == "https://dev.azure.com/example-org"
    assert settings.pipeline_folder == "\\example"
    assert settings.training_path_prefix == "landing/zone/"
    assert settings.marker_suffix == "_SUCCESS"
    assert settings.http_timeout_seconds == 10.0
    assert settings.max_attempts == 5
    assert settings.azure_client_id == CLIENT_ID


def test_empty_prefix_means_whole_filesystem() -> None:
    assert Settings.from_env(base_env(TRAINING_PATH_PREFIX="")).training_path_prefix == ""


def test_settings_are_frozen() -> None:
    settings = Settings.from_env(base_env())
    with pytest.raises(AttributeError):
        settings.max_attempts = 9  # type: ignore[misc]


@pytest.mark.parametrize("name", REQUIRED_SETTINGS)
def test_each_missing_required_setting_is_named(name: str) -> None:
    env = base_env()
    del env[name]
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert len(info.value.errors) == 1
    assert info.value.errors[0].startswith(f"{name} is missing or empty: set it to")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("AZDO_ORG_URL", "dev.azure.com/org", "AZDO_ORG_URL='dev.azure.com/org' is not an http(s) URL"),
        ("AZDO_ORG_URL", "http://dev.azure.com/org", "uses http"),
        ("AZDO_ORG_URL", "https://dev.azure.com", "has no organization"),
        ("AZDO_ORG_URL", "https://evil.example#.visualstudio.com", "must not contain a query (?) or a fragment"),
        ("AZDO_ORG_URL", "https://dev.azure.com/org?x=1", "must not contain a query"),
        ("AZDO_ORG_URL", "https://me:pw@dev.azure.com/org", "must not contain user information"),
        ("AZDO_ORG_URL", "https://evil.example/org", "names host 'evil.example'"),
        ("AZDO_ORG_URL", "https://dev.azure.com.evil.example/org", "names host"),
        ("AZDO_ORG_URL", "https://a.b.visualstudio.com", "names host"),
        ("AZDO_ORG_URL", "https://org.visualstudio.com/DefaultCollection", "no path after"),
        ("AZDO_ORG_URL", "https://dev.azure.com/org/project", "more than one path segment"),
        ("AZDO_ORG_URL", "https://dev.azure.com:8443/org", "must not name a port"),
        ("MODEL_NAME", "my model", "is not a model name"),
        ("EVENT_QUEUE_NAME", "Pipeline_Events", "is not a valid queue name"),
        ("EventQueue__queueServiceUri", "http://st.queue.core.windows.net", "is not an https URL"),
        ("EventQueue__credential", "connectionstring", "set it to managedidentity"),
        ("EventQueue__clientId", "not-a-guid", "is not a GUID"),
        ("MAX_DEQUEUE_COUNT", "0", "MAX_DEQUEUE_COUNT=0 is out of range"),
        ("AZURE_CLIENT_ID", "/subscriptions/x/identity", "is not a GUID"),
        ("IDEMPOTENCY_ACCOUNT_URL", "http://st.blob.core.windows.net", "is not an https URL"),
        ("IDEMPOTENCY_CONTAINER", "Claims_Container", "is not a valid container name"),
        ("TRAINING_FILESYSTEM", "a", "is not a valid filesystem name"),
        ("ENVIRONMENT_NAME", "Prod Env", "is not an environment name"),
        ("MARKER_SUFFIX", "   ", "MARKER_SUFFIX is empty"),
        ("MAX_ATTEMPTS", "three", "MAX_ATTEMPTS='three' is not an integer"),
        ("MAX_ATTEMPTS", "0", "MAX_ATTEMPTS=0 is out of range"),
        ("HTTP_TIMEOUT_SECONDS", "-1", "HTTP_TIMEOUT_SECONDS=-1 is out of range"),
        ("CLAIM_TIMEOUT_SECONDS", "60", "CLAIM_TIMEOUT_SECONDS=60 is too short"),
    ],
)
def test_invalid_values_give_one_line_naming_setting_and_fix(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(base_env(**{name: value}))
    [error] = info.value.errors
    assert error.startswith(name)
    assert expected in error
    assert "\n" not in error
    assert any(word in error for word in ("set it", "use", "remove it", "must be"))


def test_local_http_org_url_is_allowed_for_test_servers() -> None:
    assert Settings.from_env(base_env(AZDO_ORG_URL="http://127.0.0.1:8080/org")).azdo_org_url.endswith("/org")


def test_all_problems_are_reported_at_once() -> None:
    env = base_env(AZURE_CLIENT_ID="nope", MAX_ATTEMPTS="x")
    del env["AZDO_PROJECT"]
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert [e.split(" ")[0].split("=")[0] for e in info.value.errors] == ["AZDO_PROJECT", "AZURE_CLIENT_ID",
                                                                          "MAX_ATTEMPTS"]
    assert str(info.value).count("\n") == 3


@pytest.mark.parametrize(
    ("raw", "folder"),
    [("example", "\\example"), ("/example/", "\\example"), ("\\example\\", "\\example"), ("\\", "\\"),
     ("a/b\\c", "\\a\\b\\c")],
)
def test_pipeline_folder_normalisation(raw: str, folder: str) -> None:
    assert normalise_folder(raw) == folder


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("https://dev.azure.com/example-org", "https://dev.azure.com/example-org"),
     ("https://dev.azure.com/example-org/", "https://dev.azure.com/example-org"),
     ("https://example-org.visualstudio.com", "https://example-org.visualstudio.com"),
     ("https://Example-Org.VisualStudio.com/", "https://example-org.visualstudio.com"),
     ("http://127.0.0.1:8080/org", "http://127.0.0.1:8080/org")],
)
def test_both_organization_url_forms_are_accepted(raw: str, normalised: str) -> None:
    assert Settings.from_env(base_env(AZDO_ORG_URL=raw)).azdo_org_url == normalised


def test_long_bad_values_are_truncated_in_the_message() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(base_env(AZDO_ORG_URL="https://evil.example/" + "x" * 5000))
    [error] = info.value.errors
    assert len(error) < 400


def test_queue_settings_and_the_poison_queue_name() -> None:
    settings = Settings.from_env(base_env())
    assert (settings.event_queue_name, settings.poison_queue_name) == ("pipeline-events", "pipeline-events-poison")
    assert settings.model_name == "example-model"
    assert settings.max_dequeue_count == 5
