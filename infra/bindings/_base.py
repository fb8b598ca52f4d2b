"""Runtime shared by the typed provider bindings (hand-written; the generated modules import it).

A binding is a cdktf element (``TerraformResource``, ``TerraformDataSource`` or ``TerraformProvider``)
whose constructor collects its Terraform arguments in a plain dict, keyed by their Terraform names.
``_synthesize_attributes`` turns that dict into Terraform JSON: ``None`` values are dropped, nested
blocks (frozen dataclasses deriving from :class:`Block`) become objects, and tokens pass through for
cdktf to resolve into ``${...}`` references.

Numbers: Terraform number arguments accept :data:`NumberLike`, i.e. an ``int``/``float`` literal, a
numeric string, or a token. A string token from another resource (``BuildDefinition(...).id``) works
as is, because Terraform converts ``"${azuredevops_build_definition.x.id}"`` to a number;
``Token.as_number(...)`` renders the same. Any other string is rejected at construction time.

Only JSON synthesis is supported (``_synthesize_hcl_attributes`` is not implemented): the kit
synthesizes JSON, which is what checkov and tf-schema-check read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from cdktf import (
    ITerraformDependable,
    TerraformDataSource,
    TerraformProvider,
    TerraformProviderGeneratorMetadata,
    TerraformResource,
    TerraformResourceLifecycle,
    Token,
)
from constructs import Construct

NumberLike = int | float | str
"""A Terraform number: an int or float, a numeric string, or a (string or number) token."""


@dataclasses.dataclass(frozen=True)
class ProviderInfo:
    """Where a provider comes from: what ``terraform.required_providers`` gets."""

    name: str
    """Local name and resource-type prefix, e.g. ``azuredevops``."""
    source: str
    """Registry source, e.g. ``microsoft/azuredevops``."""
    version_constraint: str
    """Version constraint, e.g. ``~> 1.16.0``."""

    def metadata(self) -> TerraformProviderGeneratorMetadata:
        return TerraformProviderGeneratorMetadata(
            provider_name=self.name,
            provider_version_constraint=self.version_constraint,
        )


class Block:
    """Base of the nested-block dataclasses: each one knows its Terraform JSON shape."""

    def to_terraform(self) -> dict[str, Any]:
        raise NotImplementedError


def to_terraform(value: Any) -> Any:
    """Terraform JSON for a value: blocks become dicts, ``None`` entries are dropped."""
    if isinstance(value, Block):
        return to_terraform(value.to_terraform())
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_terraform(v) for k, v in value.items() if v is not None}
    if isinstance(value, (set, frozenset)):
        return [to_terraform(v) for v in sorted(value, key=repr)]
    if isinstance(value, Sequence):
        return [to_terraform(v) for v in value]
    return value


def one(block: Block | None) -> list[Block] | None:
    """A list-mode block that takes at most one item: the API takes the item, Terraform a list."""
    return None if block is None else [block]


def number(name: str, value: NumberLike | None) -> NumberLike | None:
    """Check that ``value`` can stand for a Terraform number; return it unchanged."""
    if value is None or isinstance(value, float):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name}: expects a number, got the bool {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if Token.is_unresolved(value):
            return value
        try:
            float(value)
        except ValueError:
            raise ValueError(
                f"{name}: expects a number, a numeric string or a token (e.g. another resource's id), got {value!r}"
            ) from None
        return value
    raise TypeError(f"{name}: expects a number, got {type(value).__name__}")


def numbers(name: str, values: Sequence[NumberLike] | None) -> Sequence[NumberLike] | None:
    """Check every item of a list or set of numbers; return it unchanged."""
    if values is None:
        return None
    if isinstance(values, str):
        raise TypeError(f"{name}: expects a list of numbers, got a string")
    for i, v in enumerate(values):
        number(f"{name}[{i}]", v)
    return values


def require_items(name: str, values: Sequence[Any] | None, min_items: int) -> Sequence[Any] | None:
    """Check that a block list has at least ``min_items`` items; return it unchanged."""
    if values is not None and len(values) < min_items:
        raise ValueError(f"{name}: takes at least {min_items} block(s), got {len(values)}")
    return values


class Binding:
    """What every resource and data-source binding shares (the provider binding reuses its synthesis).

    Mixed in before the cdktf class (``class BindingResource(Binding, TerraformResource)``): the
    constructor hands ``TF_TYPE`` and ``PROVIDER`` to cdktf and keeps the Terraform arguments;
    ``_synthesize_attributes`` overrides cdktf's (jsii finds the override on any class before the
    cdktf one in the MRO) and renders them with :func:`to_terraform`.
    """

    TF_TYPE: ClassVar[str]
    PROVIDER: ClassVar[ProviderInfo]
    _tf_arguments: dict[str, Any]

    def __init__(
        self,
        scope: Construct,
        id_: str,
        arguments: Mapping[str, Any],
        *,
        depends_on: Sequence[ITerraformDependable] | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
        provider: TerraformProvider | None = None,
    ) -> None:
        # The next class in the MRO is TerraformResource or TerraformDataSource (same keyword arguments).
        element: Any = super()
        element.__init__(
            scope,
            id_,
            terraform_resource_type=self.TF_TYPE,
            terraform_generator_metadata=self.PROVIDER.metadata(),
            depends_on=depends_on,
            lifecycle=lifecycle,
            provider=provider,
        )
        self._tf_arguments = dict(arguments)

    def _synthesize_attributes(self) -> Mapping[str, Any]:
        attributes: Mapping[str, Any] = to_terraform(self._tf_arguments)  # a dict in, a dict out
        return attributes


class BindingResource(Binding, TerraformResource):
    """Base of the resource bindings: a subclass sets ``TF_TYPE`` and ``PROVIDER``."""


class BindingDataSource(Binding, TerraformDataSource):
    """Base of the data-source bindings: a subclass sets ``TF_TYPE`` and ``PROVIDER``.

    The generated and hand-written data sources take no ``lifecycle`` (Terraform ignores most of it on data).
    """


class BindingProvider(TerraformProvider):
    """Base of the provider bindings: a subclass sets ``PROVIDER``.

    Sets ``terraform_provider_source`` so that ``required_providers`` names the right source
    (without it Terraform would look for ``hashicorp/<name>``), and overrides cdktf's ``alias``
    property so that ``provider=`` on a resource renders as ``<name>.<alias>``.
    """

    PROVIDER: ClassVar[ProviderInfo]

    def __init__(
        self,
        scope: Construct,
        id_: str,
        arguments: Mapping[str, Any],
        *,
        alias: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type=self.PROVIDER.name,
            terraform_generator_metadata=self.PROVIDER.metadata(),
            terraform_provider_source=self.PROVIDER.source,
        )
        self._tf_arguments = dict(arguments)
        self._alias = alias

    @property
    def alias(self) -> str | None:
        return getattr(self, "_alias", None)

    @alias.setter
    def alias(self, value: str | None) -> None:
        self._alias = value

    _synthesize_attributes = Binding._synthesize_attributes
