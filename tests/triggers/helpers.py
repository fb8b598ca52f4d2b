"""Small readers for the synthesized environment stacks (event flow, function app, registry)."""

from __future__ import annotations

from pathlib import Path

from trigger_core.settings import Settings

from tests.conftest import resources

PUBLIC, PRIVATE = "example-dev", "example-prod"
ENV_STACKS = ("example-dev", "example-staging", "example-prod")


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


def function_settings(stack: dict) -> Settings:
    """The site's app settings parsed by the function itself, Terraform references replaced by plausible values."""
    settings = dict(app_settings(stack))
    for key in ("AZURE_CLIENT_ID", "EventQueue__clientId"):
        settings[key] = "00000000-0000-0000-0000-000000000001"
    settings["IDEMPOTENCY_ACCOUNT_URL"] = "https://stfnexample.blob.core.windows.net/"
    settings["EventQueue__queueServiceUri"] = "https://stfnexample.queue.core.windows.net/"
    return Settings.from_env(settings)


def stack_dir(example_out: Path, stack: str) -> Path:
    return example_out / "stacks" / stack
