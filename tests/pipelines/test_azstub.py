"""The `az` stub's token and scoring-URI answers follow az itself (tests/pipelines/azstub.py docstring)."""

from __future__ import annotations

import subprocess
import sys

from tests.pipelines.azstub import token_for
from tests.pipelines.harness import STUB


def az(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, str(STUB), *args],
        capture_output=True,
        text=True,
        env={"AZ_LOG": str(tmp_path / "az.log"), "AZ_STATE": str(tmp_path / "state.json"), "PATH": "", **env},
        timeout=30,
    )


def test_get_access_token_needs_exactly_one_audience_and_answers_a_token_per_resource(tmp_path):
    ok = az(tmp_path, "account", "get-access-token", "--resource", "https://ml.azure.com", "--query", "accessToken")
    assert ok.returncode == 0 and ok.stdout.strip() == f'"{token_for("https://ml.azure.com")}"'
    other = az(tmp_path, "account", "get-access-token", "--scope", "https://management.azure.com/.default", "-o", "tsv")
    assert token_for("https://ml.azure.com") not in other.stdout
    both = az(tmp_path, "account", "get-access-token", "--resource", "https://ml.azure.com", "--scope", "x/.default")
    assert both.returncode == 2 and "mutually exclusive" in both.stderr
    none = az(tmp_path, "account", "get-access-token")
    assert none.returncode == 2 and "the following arguments are required" in none.stderr


def test_endpoint_show_answers_its_scoring_uri(tmp_path):
    ws = ["-g", "rg-x", "-w", "mlw-x"]
    assert az(tmp_path, "ml", "online-endpoint", "create", "-n", "mle-x", *ws).returncode == 0
    show = ["ml", "online-endpoint", "show", "-n", "mle-x", *ws, "--query", "scoring_uri", "-o", "tsv"]
    assert az(tmp_path, *show).stdout.strip() == "https://mle-x.westeurope.inference.ml.azure.com/score"
    local = az(tmp_path, *show, AZ_STUB_SCORING_URI="http://127.0.0.1:1/{endpoint}/score")
    assert local.stdout.strip() == "http://127.0.0.1:1/mle-x/score"
