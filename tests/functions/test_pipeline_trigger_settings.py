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
        "ENVIRONMENT_NAME",
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
        ("AZDO_ORG_URL", "dev.azure.com/org", "AZDO_ORG_URL='dev.azure.com/org' is not a URL"),
        ("AZDO_ORG_URL", "http://dev.azure.com/org", "uses http"),
        ("AZDO_ORG_URL", "https://dev.azure.com", "has no organization"),
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
