"""Typed cdktf bindings for the ``Azure/azapi`` provider, 2.x (pinned ``~> 2.5``); hand-written.

No schema of azapi is at hand, so this module covers only what the kit needs: the provider and
``azapi_resource`` (the Azure ML registry has no azurerm resource). It follows the conventions of
the generated ``azuredevops`` module (keyword-only typed arguments, frozen dataclasses for blocks,
token getters, no secrets).

Verified, argument by argument (names, types, block or attribute, required or optional):

- ``azapi_resource``: the cdktf bindings generated from the azapi **2.7.0** schema
  (``// https://registry.terraform.io/providers/azure/azapi/2.7.0/docs/resources/resource``,
  ``ResourceConfig``) and ``docs/resources/resource.md`` of Azure/terraform-provider-azapi at two
  commits: a 2.x one from before 2.4 (has ``retry``, no ``sensitive_body``) and a recent one (2.9+).
  Every argument used here appears in all three, so it exists across ``~> 2.5``.
  ``ignore_null_property`` arrived in 2.5.0 (release notes), hence the pin.
  ``body`` is *Dynamic*: since 2.0 it takes an HCL object only ("The body field now only accepts an
  HCL object", v2.0.1 release notes), so it is synthesized as a JSON object and a string is refused.
  ``response_export_values`` is *Dynamic*: a list of paths or a map of name -> JMESPath query.
  ``identity`` is a list block (``type`` required, ``identity_ids`` optional; computed
  ``principal_id``, ``tenant_id``). ``retry`` is a single object attribute.
  ``name`` and ``parent_id`` are optional in the schema (provider defaults); this binding requires
  them, because every kit resource names its parent explicitly.
- ``data "azapi_resource"`` (``DataAzapiResource``): the cdktf bindings generated from the azapi
  2.2.0 and 2.7.0 schemas (``DataAzapiResourceConfig``: ``type`` required, exactly one of ``name``
  or ``resource_id``, ``response_export_values`` dynamic). Only ``type``, ``resource_id`` and
  ``response_export_values`` are exposed.
- ``azapi_update_resource`` (``AzapiUpdateResource``): the provider's docs
  (``docs/resources/update_resource.md``): ``type`` required, ``resource_id`` (or ``name`` +
  ``parent_id``), ``body`` dynamic. Only ``type``, ``resource_id`` and ``body`` are exposed.
- ``azapi_resource_action`` (``AzapiResourceAction``): the provider's v2.12.0 source and docs
  (see the class).
- the provider: ``AzapiProviderConfig`` of the same 2.7.0 bindings, and the 2.0.1-2.3.0 release
  notes for ``disable_default_output`` (2.0.1), ``enable_preflight`` and
  ``oidc_azure_service_connection_id`` (present by 2.3.0).

Left out on purpose: secrets (``client_secret``, ``client_certificate``,
``client_certificate_password``, ``oidc_token``, ``oidc_request_token``, ``sensitive_body``),
the paths that only serve secret-based auth (``client_secret_file_path``,
``client_certificate_path``), arguments added after 2.5 (``list_unique_id_property``,
``ignore_other_items_in_list``), deprecated ones (``retry.multiplier``,
``retry.randomization_factor``, ``maximum_busy_retry_attempts``), and the per-request headers and
query parameters; ``add_override`` is the escape hatch for anything else.

https://registry.terraform.io/providers/Azure/azapi/latest/docs/resources/resource
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import IResolvable, ITerraformDependable, TerraformProvider, TerraformResourceLifecycle, Token
from constructs import Construct

from ._base import BindingDataSource, BindingProvider, BindingResource, Block, NumberLike, ProviderInfo, number, one

AZAPI = ProviderInfo(name="azapi", source="Azure/azapi", version_constraint="~> 2.5")


class AzapiProvider(BindingProvider):
    """The ``azapi`` provider (Azure/azapi).

    https://registry.terraform.io/providers/Azure/azapi/latest/docs
    """

    PROVIDER = AZAPI

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        auxiliary_tenant_ids: Sequence[str] | None = None,
        client_id: str | None = None,
        client_id_file_path: str | None = None,
        default_location: str | None = None,
        default_tags: Mapping[str, str] | None = None,
        disable_default_output: bool | None = None,
        disable_terraform_partner_id: bool | None = None,
        enable_preflight: bool | None = None,
        environment: str | None = None,
        oidc_azure_service_connection_id: str | None = None,
        oidc_request_url: str | None = None,
        oidc_token_file_path: str | None = None,
        partner_id: str | None = None,
        skip_provider_registration: bool | None = None,
        subscription_id: str | None = None,
        tenant_id: str | None = None,
        use_cli: bool | None = None,
        use_msi: bool | None = None,
        use_oidc: bool | None = None,
        alias: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            {
                "auxiliary_tenant_ids": auxiliary_tenant_ids,
                "client_id": client_id,
                "client_id_file_path": client_id_file_path,
                "default_location": default_location,
                "default_tags": default_tags,
                "disable_default_output": disable_default_output,
                "disable_terraform_partner_id": disable_terraform_partner_id,
                "enable_preflight": enable_preflight,
                "environment": environment,
                "oidc_azure_service_connection_id": oidc_azure_service_connection_id,
                "oidc_request_url": oidc_request_url,
                "oidc_token_file_path": oidc_token_file_path,
                "partner_id": partner_id,
                "skip_provider_registration": skip_provider_registration,
                "subscription_id": subscription_id,
                "tenant_id": tenant_id,
                "use_cli": use_cli,
                "use_msi": use_msi,
                "use_oidc": use_oidc,
            },
            alias=alias,
        )


@dataclass(frozen=True, kw_only=True)
class AzapiResourceIdentity(Block):
    """Block ``identity`` of ``azapi_resource`` (at most one).

    ``type``: ``SystemAssigned``, ``UserAssigned``, ``SystemAssigned, UserAssigned`` or ``None``.
    """

    type: str
    identity_ids: Sequence[str] | None = None

    def to_terraform(self) -> dict[str, Any]:
        return {"type": self.type, "identity_ids": self.identity_ids}


@dataclass(frozen=True, kw_only=True)
class AzapiResourceRetry(Block):
    """Attribute ``retry`` of ``azapi_resource``: retry on errors matching a regular expression."""

    error_message_regex: Sequence[str]
    interval_seconds: NumberLike | None = None
    max_interval_seconds: NumberLike | None = None

    def __post_init__(self) -> None:
        if isinstance(self.error_message_regex, str) or not self.error_message_regex:
            raise ValueError("error_message_regex: takes a non-empty list of regular expressions")
        number("interval_seconds", self.interval_seconds)
        number("max_interval_seconds", self.max_interval_seconds)

    def to_terraform(self) -> dict[str, Any]:
        return {
            "error_message_regex": self.error_message_regex,
            "interval_seconds": self.interval_seconds,
            "max_interval_seconds": self.max_interval_seconds,
        }


@dataclass(frozen=True, kw_only=True)
class AzapiResourceTimeouts(Block):
    """Block ``timeouts`` of ``azapi_resource`` (a single block); durations like ``"30m"``."""

    create: str | None = None
    delete: str | None = None
    read: str | None = None
    update: str | None = None

    def to_terraform(self) -> dict[str, Any]:
        return {"create": self.create, "delete": self.delete, "read": self.read, "update": self.update}


class AzapiResource(BindingResource):
    """Resource ``azapi_resource``: any Azure Resource Manager resource, by type and API version.

    ``type`` is ``<resource-type>@<api-version>``, e.g.
    ``Microsoft.MachineLearningServices/registries@2025-06-01``. ``body`` is the request body as a
    dict (tokens allowed anywhere inside), never a JSON string.

    https://registry.terraform.io/providers/Azure/azapi/latest/docs/resources/resource
    """

    TF_TYPE = "azapi_resource"
    PROVIDER = AZAPI

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        type: str,
        name: str,
        parent_id: str,
        body: Mapping[str, Any] | None = None,
        identity: AzapiResourceIdentity | None = None,
        ignore_casing: bool | None = None,
        ignore_missing_property: bool | None = None,
        ignore_null_property: bool | None = None,
        location: str | None = None,
        locks: Sequence[str] | None = None,
        replace_triggers_external_values: Any = None,
        replace_triggers_refs: Sequence[str] | None = None,
        response_export_values: Sequence[str] | Mapping[str, str] | None = None,
        retry: AzapiResourceRetry | None = None,
        schema_validation_enabled: bool | None = None,
        tags: Mapping[str, str] | None = None,
        timeouts: AzapiResourceTimeouts | None = None,
        depends_on: Sequence[ITerraformDependable] | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
        provider: TerraformProvider | None = None,
    ) -> None:
        if not Token.is_unresolved(type) and "@" not in type:
            raise ValueError(f"type: expects '<resource-type>@<api-version>', got {type!r}")
        if body is not None and not isinstance(body, Mapping):
            raise TypeError(
                f"body: azapi 2.x takes the request body as an object (a dict), got {body.__class__.__name__}"
            )
        if isinstance(response_export_values, str):
            raise TypeError("response_export_values: takes a list of paths or a map of name -> query")
        super().__init__(
            scope,
            id_,
            {
                "body": body,
                "identity": one(identity),
                "ignore_casing": ignore_casing,
                "ignore_missing_property": ignore_missing_property,
                "ignore_null_property": ignore_null_property,
                "location": location,
                "locks": locks,
                "name": name,
                "parent_id": parent_id,
                "replace_triggers_external_values": replace_triggers_external_values,
                "replace_triggers_refs": replace_triggers_refs,
                "response_export_values": response_export_values,
                "retry": retry,
                "schema_validation_enabled": schema_validation_enabled,
                "tags": tags,
                "timeouts": timeouts,
                "type": type,
            },
            depends_on=depends_on,
            lifecycle=lifecycle,
            provider=provider,
        )

    @property
    def id(self) -> str:
        """The Azure resource ID."""
        return self.get_string_attribute("id")

    @property
    def name(self) -> str:
        return self.get_string_attribute("name")

    @property
    def parent_id(self) -> str:
        return self.get_string_attribute("parent_id")

    @property
    def location(self) -> str:
        return self.get_string_attribute("location")

    @property
    def output(self) -> IResolvable:
        """The whole ``output`` object (dynamic): what ``response_export_values`` selected."""
        return self.interpolation_for_attribute("output")

    def output_value(self, path: str) -> str:
        """A string token for one value of ``output``, e.g. ``output_value("properties.discoveryUrl")``."""
        return self.get_string_attribute(f"output.{path}")

    @property
    def identity_principal_id(self) -> str:
        """Principal ID of the resource's system-assigned identity (``identity[0].principal_id``)."""
        return self.get_string_attribute("identity[0].principal_id")

    @property
    def identity_tenant_id(self) -> str:
        """Tenant ID of the resource's system-assigned identity (``identity[0].tenant_id``)."""
        return self.get_string_attribute("identity[0].tenant_id")


class DataAzapiResource(BindingDataSource):
    """Data source ``azapi_resource``: read any Azure Resource Manager resource by its full id.

    Reading by ``resource_id`` works in any subscription with one provider block, which is what
    the Azure DevOps stack needs to find each environment's identities (no provider alias per
    subscription). ``response_export_values`` picks the properties exposed under ``output``.

    https://registry.terraform.io/providers/Azure/azapi/latest/docs/data-sources/resource
    """

    TF_TYPE = "azapi_resource"
    PROVIDER = AZAPI

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        type: str,
        resource_id: str,
        response_export_values: Sequence[str] | Mapping[str, str] | None = None,
        depends_on: Sequence[ITerraformDependable] | None = None,
        provider: TerraformProvider | None = None,
    ) -> None:
        if not Token.is_unresolved(type) and "@" not in type:
            raise ValueError(f"type: expects '<resource-type>@<api-version>', got {type!r}")
        super().__init__(
            scope,
            id_,
            {"type": type, "resource_id": resource_id, "response_export_values": response_export_values},
            depends_on=depends_on,
            provider=provider,
        )

    @property
    def id(self) -> str:
        return self.get_string_attribute("id")

    def output_value(self, path: str) -> str:
        """A string token for one exported value, e.g. ``output_value("properties.clientId")``."""
        return self.get_string_attribute(f"output.{path}")


class AzapiUpdateResource(BindingResource):
    """Resource ``azapi_update_resource``: set properties azurerm does not expose on a resource it manages.

    Terraform PATCHes ``body`` onto the existing resource and never deletes it; destroying this
    resource only forgets the update.

    https://registry.terraform.io/providers/Azure/azapi/latest/docs/resources/update_resource
    """

    TF_TYPE = "azapi_update_resource"
    PROVIDER = AZAPI

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        type: str,
        resource_id: str,
        body: Mapping[str, Any],
        depends_on: Sequence[ITerraformDependable] | None = None,
        provider: TerraformProvider | None = None,
    ) -> None:
        if not Token.is_unresolved(type) and "@" not in type:
            raise ValueError(f"type: expects '<resource-type>@<api-version>', got {type!r}")
        if not isinstance(body, Mapping):
            raise TypeError(f"body: takes an object (a dict), got {body.__class__.__name__}")
        super().__init__(
            scope, id_, {"type": type, "resource_id": resource_id, "body": body},
            depends_on=depends_on, provider=provider,
        )

    @property
    def id(self) -> str:
        return self.get_string_attribute("id")


class AzapiResourceAction(BindingResource):
    """Resource ``azapi_resource_action``: one request on an existing resource, run at apply.

    Verified against Azure/terraform-provider-azapi v2.12.0 (``docs/resources/resource_action.md``,
    ``internal/services/azapi_resource_action_resource.go``): ``type`` and ``resource_id``
    required; ``method`` one of POST (default), PATCH, PUT, DELETE, GET, HEAD; ``body`` dynamic.
    A change of ``body`` runs the request again (``Update`` calls ``Action``); long-running
    operations are polled until done (``ResourceClient.Action``); destroying the resource sends
    nothing (``when`` defaults to ``apply``). Only ``type``, ``resource_id``, ``method`` and
    ``body`` are exposed.

    https://registry.terraform.io/providers/Azure/azapi/latest/docs/resources/resource_action
    """

    TF_TYPE = "azapi_resource_action"
    PROVIDER = AZAPI
    METHODS = ("POST", "PATCH", "PUT", "DELETE", "GET", "HEAD")

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        type: str,
        resource_id: str,
        method: str = "POST",
        body: Mapping[str, Any] | None = None,
        depends_on: Sequence[ITerraformDependable] | None = None,
        provider: TerraformProvider | None = None,
    ) -> None:
        if not Token.is_unresolved(type) and "@" not in type:
            raise ValueError(f"type: expects '<resource-type>@<api-version>', got {type!r}")
        if method not in self.METHODS:
            raise ValueError(f"method: one of {', '.join(self.METHODS)}, got {method!r}")
        if body is not None and not isinstance(body, Mapping):
            raise TypeError(f"body: takes an object (a dict), got {body.__class__.__name__}")
        super().__init__(
            scope, id_, {"type": type, "resource_id": resource_id, "method": method, "body": body},
            depends_on=depends_on, provider=provider,
        )

    @property
    def id(self) -> str:
        return self.get_string_attribute("id")
