"""Fixtures for the CLI tests: the CLI in-process, a fake credential, the fake Azure's baseline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from azure.core.credentials import AccessToken
from typer.testing import CliRunner, Result

from scripts.cli import app
from tests.cli.fake_azure import AzureState

# The subscriptions and state storage of the fixture org (tests/fixtures/org: platform.yaml + example.yaml).
SUBS = {
    "dev": "00000000-0000-0000-0000-0000000000d1",
    "staging": "00000000-0000-0000-0000-0000000000d2",
    "prod": "00000000-0000-0000-0000-0000000000d3",
    "state": "00000000-0000-0000-0000-00000000aaaa",
}
STATE_RG, STATE_ACCOUNT, STATE_CONTAINER = "rg-mlk-tfstate", "stmlktfstate001", "tfstate"


class FakeCredential:
    """Stands in for DefaultAzureCredential: a token per scope, or the error `get_token` raises."""

    def __init__(self, error: Exception | None = None):
        self.error = error
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_kwargs) -> AccessToken:
        self.scopes.extend(scopes)
        if self.error is not None:
            raise self.error
        return AccessToken(f"token-for-{scopes[0]}", int(time.time()) + 3600)


@pytest.fixture()
def azure_ok() -> AzureState:
    """Everything the example org needs exists and is allowed."""
    return AzureState(
        subscriptions=dict.fromkeys(SUBS.values(), "Enabled"),
        storage_accounts={f"{STATE_RG}/{STATE_ACCOUNT}"},
        containers={f"{STATE_ACCOUNT}/{STATE_CONTAINER}"},
    )


@pytest.fixture()
def cli() -> Callable[..., Result]:
    """Run `mlops-kit ARGS` in-process; wide output so table rows stay on one line."""
    runner = CliRunner()

    def run(*args: str | Path, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], input=input, env={"COLUMNS": "400", **(env or {})})

    return run
