"""The azapi bindings synthesize azapi 2.x JSON: body as an object, identity as a block list."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from infra.bindings.azapi import AzapiProvider, AzapiResource, AzapiResourceIdentity, AzapiResourceRetry

REGISTRY_TYPE = "Microsoft.MachineLearningServices/registries@2025-06-01"


def resource(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in doc["resource"]["azapi_resource"][name].items() if k != "//"}


def test_required_providers_names_the_azure_source_and_pins_2_5(azapi_doc):
    assert azapi_doc["terraform"]["required_providers"]["azapi"] == {"source": "Azure/azapi", "version": "~> 2.5"}
    assert azapi_doc["provider"]["azapi"] == [
        {
            "use_oidc": True,
            "subscription_id": "00000000-0000-0000-0000-000000000001",
            "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        }
    ]


def test_registry_body_is_a_json_object_not_a_string(azapi_doc):
    registry = resource(azapi_doc, "registry")
    assert registry["type"] == REGISTRY_TYPE
    assert registry["name"] == "mlreg-team-a"
    assert registry["parent_id"].endswith("/resourceGroups/rg-team-a-shared")
    assert isinstance(registry["body"], dict)
    (region,) = registry["body"]["properties"]["regionDetails"]
    assert region["acrDetails"] == [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}]
    assert region["storageAccountDetails"][0]["systemCreatedStorageAccount"]["allowBlobPublicAccess"] is False
    assert registry["body"]["properties"]["publicNetworkAccess"] == "Disabled"


def test_registry_arguments_and_blocks(azapi_doc):
    registry = resource(azapi_doc, "registry")
    assert registry["identity"] == [{"type": "SystemAssigned"}]
    assert registry["response_export_values"] == ["properties.discoveryUrl", "properties.mlFlowRegistryUri"]
    assert registry["retry"] == {"error_message_regex": ["ScopeLocked"], "interval_seconds": 10}
    assert registry["tags"] == {"team": "team-a", "managed-by": "mlops-kit"}
    assert registry["schema_validation_enabled"] is True
    assert registry["lifecycle"] == {"prevent_destroy": True}
    assert set(registry) == {
        "type",
        "name",
        "parent_id",
        "location",
        "identity",
        "body",
        "tags",
        "response_export_values",
        "schema_validation_enabled",
        "locks",
        "retry",
        "lifecycle",
    }


def test_references_into_output_and_identity(azapi_doc):
    tag = resource(azapi_doc, "registry_tag")
    assert tag["parent_id"] == "${azapi_resource.registry.id}"
    assert tag["body"] == {
        "properties": {"tags": {"discovery": "${azapi_resource.registry.output.properties.discoveryUrl}"}}
    }
    assert tag["response_export_values"] == {"tag_names": "properties.tags"}
    assert (
        azapi_doc["output"]["registry_principal_id"]["value"] == "${azapi_resource.registry.identity[0].principal_id}"
    )


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"body": '{"properties": {}}'}, TypeError, "body: azapi 2.x takes the request body as an object"),
        ({"type": "Microsoft.MachineLearningServices/registries"}, ValueError, "<api-version>"),
        ({"response_export_values": "properties.discoveryUrl"}, TypeError, "response_export_values"),
    ],
)
def test_mistakes_are_refused_at_construction(overrides, error, match):
    stack = TerraformStack(CdktfTesting.app(), "t")
    args = {"type": REGISTRY_TYPE, "name": "r", "parent_id": "/subscriptions/x/resourceGroups/y"} | overrides
    with pytest.raises(error, match=match):
        AzapiResource(stack, "r", **args)


def test_retry_needs_a_pattern():
    with pytest.raises(ValueError, match="error_message_regex"):
        AzapiResourceRetry(error_message_regex=[])


def test_aliased_azapi_provider():
    stack = TerraformStack(CdktfTesting.app(), "t")
    AzapiProvider(stack, "azapi")
    other = AzapiProvider(stack, "other", alias="hub", subscription_id="s2")
    AzapiResource(
        stack,
        "r",
        type=REGISTRY_TYPE,
        name="r",
        parent_id="/subscriptions/s2/resourceGroups/y",
        identity=AzapiResourceIdentity(type="UserAssigned", identity_ids=["/subscriptions/s2/uai"]),
        provider=other,
    )
    doc = json.loads(CdktfTesting.synth(stack))
    assert doc["provider"]["azapi"] == [{}, {"alias": "hub", "subscription_id": "s2"}]
    assert resource(doc, "r")["provider"] == "azapi.hub"
    assert resource(doc, "r")["identity"] == [{"type": "UserAssigned", "identity_ids": ["/subscriptions/s2/uai"]}]


def test_no_secret_arguments():
    secrets = {
        "client_secret",
        "client_secret_file_path",
        "client_certificate",
        "client_certificate_password",
        "client_certificate_path",
        "oidc_token",
        "oidc_request_token",
        "sensitive_body",
    }
    for cls in (AzapiProvider, AzapiResource):
        params = set(inspect.signature(cls.__init__).parameters)
        assert "use_oidc" in params or "body" in params
        assert not params & secrets, cls.__name__
