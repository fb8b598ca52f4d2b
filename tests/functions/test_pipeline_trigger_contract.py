"""trigger_core.contract: the one list of what the deployment gives the function; the kit imports it at synth."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys

from trigger_core import contract
from trigger_core.contract import OPTIONAL_SETTINGS, REQUIRED_SETTINGS, DeployedSettings
from trigger_core.settings import Settings

from .conftest import CLIENT_ID, FUNCTION_DIR

DEPLOYED = DeployedSettings(
    azdo_org_url="https://dev.azure.com/contoso-ml",
    azdo_project="example",
    training_pipeline_name="example-training",
    release_pipeline_name="example-release",
    pipeline_folder="\\example",
    client_id=CLIENT_ID,
    idempotency_account_url="https://stfnexample.blob.core.windows.net",
    idempotency_container="trigger-idempotency",
    training_filesystem="raw",
    training_path_prefix="landing/",
    marker_suffix="_READY",
    environment_name="dev",
    model_name="example-model",
    event_queue_name="pipeline-events",
    event_queue_service_uri="https://stfnexample.queue.core.windows.net",
)


def test_deployed_settings_cover_every_required_setting_and_only_settings_the_function_reads() -> None:
    keys = set(DEPLOYED.app_settings())
    assert set(REQUIRED_SETTINGS) <= keys, set(REQUIRED_SETTINGS) - keys
    assert keys <= set(REQUIRED_SETTINGS) | set(OPTIONAL_SETTINGS), keys - set(REQUIRED_SETTINGS)


def test_each_deployed_value_reaches_the_field_the_function_reads_it_into() -> None:
    """A swapped name in `app_settings()` (say the project under TRAINING_PIPELINE_NAME) fails here."""
    parsed = Settings.from_env(DEPLOYED.app_settings())
    for deployed in dataclasses.fields(DeployedSettings):
        value = getattr(DEPLOYED, deployed.name)
        if deployed.name == "client_id":
            assert parsed.azure_client_id == value
            continue
        assert getattr(parsed, deployed.name) == value, deployed.name


def test_contract_is_stdlib_only_and_loads_nothing_else() -> None:
    """infra/ imports it at synth: it must not pull requests, the Azure SDK or the rest of trigger_core."""
    tree = ast.parse((FUNCTION_DIR / "trigger_core" / "contract.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 0]
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; before = set(sys.modules); import trigger_core.contract; "
         "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] not in sys.stdlib_module_names))"],
        cwd=FUNCTION_DIR, capture_output=True, text=True, timeout=60, check=True,
    )
    assert probe.stdout.split() == ["['trigger_core',", "'trigger_core.contract']"], probe.stdout


def test_the_package_still_exports_its_names_lazily() -> None:
    import trigger_core

    assert trigger_core.COMMITTED_WRITE_APIS is contract.COMMITTED_WRITE_APIS
    assert trigger_core.Settings is Settings
    assert set(trigger_core.__all__) >= {"PipelineTrigger", "Settings", "REQUIRED_SETTINGS", "build_trigger"}
    assert all(getattr(trigger_core, name) is not None for name in trigger_core.__all__)
