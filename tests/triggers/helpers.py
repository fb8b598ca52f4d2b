"""Small readers for the synthesized environment stacks (event flow, function app, registry)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import REPO, resources

PUBLIC, PRIVATE = "example-dev", "example-prod"
ENV_STACKS = ("example-dev", "example-staging", "example-prod")
SETTINGS_MODULE = REPO / "functions" / "pipeline_trigger" / "trigger_core" / "settings.py"


def ref(rtype: str, address: str, attribute: str = "id") -> str:
    return "${" + f"{rtype}.{address}.{attribute}" + "}"


def address_of(stack: dict, rtype: str, path_suffix: str) -> str:
    """Address of the one resource of `rtype` whose construct path ends with `path_suffix`."""
    found = [a for a, r in resources(stack, rtype).items() if r["//"]["metadata"]["path"].endswith(path_suffix)]
    assert len(found) == 1, f"expected one {rtype} at */{path_suffix}, found {found}"
    return found[0]


def by_path(stack: dict, rtype: str, path_suffix: str) -> dict:
    return resources(stack, rtype)[address_of(stack, rtype, path_suffix)]


def subscription(stack: dict, name: str) -> dict:
    found = [s for s in resources(stack, "azurerm_eventgrid_system_topic_event_subscription").values()
             if s["name"] == name]
    assert len(found) == 1, f"expected one event subscription {name}"
    return found[0]


SITE = "azapi_resource"


def function_app(stack: dict) -> dict:
    """The trigger function's `Microsoft.Web/sites` (azapi)."""
    return by_path(stack, SITE, "triggers/function_app/site")


def site_address(stack: dict) -> str:
    return address_of(stack, SITE, "triggers/function_app/site")


def app_settings(stack: dict) -> dict[str, str]:
    """The site's `siteConfig.appSettings` as a dict (each name once)."""
    pairs = function_app(stack)["body"]["properties"]["siteConfig"]["appSettings"]
    settings = {p["name"]: p["value"] for p in pairs}
    assert len(settings) == len(pairs), "an app setting is listed twice"
    return settings


def load_settings_module() -> ModuleType:
    """functions/pipeline_trigger/trigger_core/settings.py, loaded by path (stdlib only)."""
    spec = importlib.util.spec_from_file_location("_pipeline_trigger_settings", SETTINGS_MODULE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def stack_dir(example_out: Path, stack: str) -> Path:
    return example_out / "stacks" / stack
