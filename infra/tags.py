"""Tagging aspect: team, env, cost-center, network and managed-by on every taggable resource.

An aspect visits every construct after the stack is built, so no construct can forget tags.
Tags a resource sets itself (the `tags` interface, infra/interfaces.py) win over the defaults.
`azapi_resource` bindings take tags too, but have no `tags_input`: `TaggedAzapiResource` is the
one for ARM types that take tags, so the aspect reaches it like any azurerm resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, cast

import jsii
from cdktf import IAspect, TerraformResource
from constructs import IConstruct

from infra.bindings import azapi

MANAGED_BY = "mlops-kit"


def standard_tags(
    *, team: str, env: str, cost_center: str, defaults: Mapping[str, str], network: str | None = None
) -> dict[str, str]:
    """`network` (public|private) lets policies judge a resource by its environment's network mode."""
    tags = {**defaults, "team": team, "env": env, "cost-center": cost_center, "managed-by": MANAGED_BY}
    return tags | ({"network": network} if network else {})


class Taggable(Protocol):
    """A resource with tags (azurerm resources, `TaggedAzapiResource`): what the aspect and the interface set."""

    @property
    def tags_input(self) -> Mapping[str, str] | None: ...

    @property
    def tags(self) -> Mapping[str, str] | None: ...

    @tags.setter
    def tags(self, value: Mapping[str, str]) -> None: ...


class TaggedAzapiResource(azapi.AzapiResource):
    """An `azapi_resource` whose ARM type takes tags: the tagging aspect reaches it."""

    @property
    def tags_input(self) -> Mapping[str, str] | None:
        tags: Mapping[str, str] | None = self._tf_arguments.get("tags")
        return tags

    @property
    def tags(self) -> Mapping[str, str] | None:
        return self.tags_input

    @tags.setter
    def tags(self, value: Mapping[str, str]) -> None:
        self._tf_arguments["tags"] = dict(value)


@jsii.implements(IAspect)
class TaggingAspect:
    def __init__(self, tags: Mapping[str, str]):
        self.tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource) or not hasattr(type(node), "tags_input"):
            return
        taggable = cast(Taggable, node)
        taggable.tags = {**self.tags, **(taggable.tags_input or {})}
