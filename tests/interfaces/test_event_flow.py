"""The event flow on the interface contract: same addresses as before it, placement and subnet together.

PipelineTriggers applies its interfaces itself (the site, the function storage's blob and queue
services) and hands the placement to FlexFunctionApp (the package account); the construct ids are
those of the releases before the contract, so no Terraform address moves (the address snapshot,
tests/fixtures/addresses/, checks the whole stacks; this checks the ids where they are made).
"""

from __future__ import annotations

import json

import pytest
from cdktf import App, TerraformStack
from cdktf import Testing as CdktfTesting

from infra.event_flow import FunctionNetwork
from infra.function_app import FlexFunctionAppProps
from infra.interfaces import Diagnostics, Interfaces
from infra.triggers import PipelineTriggers
from tests.interfaces.test_contract import CONTRACT, EVENT_NAMES, GROUP, LAW, LINK


def _triggers(interfaces: Interfaces) -> tuple[TerraformStack, PipelineTriggers]:
    stack = TerraformStack(CdktfTesting.app(), "flow")
    triggers = CONTRACT[PipelineTriggers](stack, interfaces)
    assert isinstance(triggers, PipelineTriggers)
    return stack, triggers


def test_interface_resources_keep_the_construct_ids_of_earlier_releases():
    _, t = _triggers(Interfaces(diagnostics=Diagnostics(LAW), private_endpoints=LINK))
    app = t.function_app
    paths = {
        r.node.path.removeprefix("flow/triggers/")
        for r in (
            t.applied.diagnostics, t.storage_applied.diagnostics, t.queues_applied.diagnostics,
            *t.storage_applied.private_endpoints.values(), *app.package_applied.private_endpoints.values(),
        )
        if r is not None
    }
    assert paths == {"function_diagnostics", "storage_diagnostics", "storage_queue_diagnostics",
                     "storage_blob_endpoint", "storage_queue_endpoint", "function_app/package_blob_endpoint"}
    names = {e.name_input for e in (*t.storage_applied.private_endpoints.values(),
                                    *app.package_applied.private_endpoints.values())}
    assert names == {"pep-stfncontract-blob", "pep-stfncontract-queue", "pep-stpkcontract-blob"}


def test_without_diagnostics_nothing_logs_and_public_mode_places_nothing():
    stack, _ = _triggers(Interfaces())
    res = json.loads(CdktfTesting.synth(stack))["resource"]
    # The topics' diagnostic settings follow the same input (infra/event_grid.py).
    assert "azurerm_monitor_diagnostic_setting" not in res and "azurerm_private_endpoint" not in res
    (site,) = res["azapi_resource"].values()
    assert site["body"]["properties"]["publicNetworkAccess"] == "Enabled"
    assert "virtualNetworkSubnetId" not in site["body"]["properties"]


def test_with_diagnostics_the_site_storage_services_and_topics_log():
    stack, _ = _triggers(Interfaces(diagnostics=Diagnostics(LAW)))
    settings = list(json.loads(CdktfTesting.synth(stack))["resource"]["azurerm_monitor_diagnostic_setting"].values())
    # "${azurerm_storage_account.<address>.id}/blobServices/default" -> "azurerm_storage_account/blobServices/default"
    kinds = sorted(t.split(".")[0].removeprefix("${") + t.split("}")[1] for t in
                   (s["target_resource_id"] for s in settings))
    assert kinds == ["azapi_resource", "azurerm_eventgrid_system_topic", "azurerm_eventgrid_system_topic",
                     "azurerm_storage_account/blobServices/default", "azurerm_storage_account/queueServices/default"]
    assert {s["log_analytics_workspace_id"] for s in settings} == {LAW}


@pytest.mark.parametrize("private", [True, False], ids=["private-without-subnet", "public-with-subnet"])
def test_the_function_subnet_comes_exactly_with_the_placement(private):
    interfaces = Interfaces(private_endpoints=LINK) if private else Interfaces()
    network = None if private else FunctionNetwork("snet-fn")
    with pytest.raises(ValueError, match="event flow: .*network") as refused:
        FlexFunctionAppProps(resource_group=GROUP, names=EVENT_NAMES, plan_id="plan", identity_id="uai",
                             identity_principal_id="uai-p", app_settings={}, interfaces=interfaces, network=network)
    assert "\n" not in str(refused.value)


def test_the_function_app_owns_its_code_asset(tmp_path):
    """Issue 13 item 4: the construct makes the built zip a TerraformAsset (the stack only passes the path);
    the asset sits where earlier releases had it, so the upload's `source` (ForceNew) keeps its value."""
    from infra.event_flow import CodePackage
    from infra.function_app import FlexFunctionApp, FlexFunctionAppProps
    from tests.interfaces.test_contract import EVENT_NAMES, GROUP

    zip_path = tmp_path / "abc123.zip"
    zip_path.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    app = App(outdir=str(tmp_path / "out"), skip_validation=True)  # no provider blocks: only the asset matters
    stack = TerraformStack(app, "flow")
    FlexFunctionApp(stack, "app", FlexFunctionAppProps(
        resource_group=GROUP, names=EVENT_NAMES, plan_id="plan", identity_id="uai", identity_principal_id="uai-p",
        app_settings={}, interfaces=Interfaces(), package=CodePackage(zip_path=str(zip_path), content_hash="abc123"),
    ))
    app.synth()
    blob = next(iter(json.loads((tmp_path / "out/stacks/flow/cdk.tf.json").read_text())["resource"]
                     ["azurerm_storage_blob"].values()))
    assert blob["source"] == "assets/function_package/ABC123/abc123.zip"
    assert (tmp_path / "out/stacks/flow" / blob["source"]).read_bytes() == zip_path.read_bytes()
