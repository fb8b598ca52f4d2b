"""Tagging aspect: team, env, cost-center, network and managed-by on every taggable resource.

An aspect visits every construct after the stack is built, so no construct can forget tags.
Tags a resource sets itself win over the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from cdktf import IAspect, TerraformResource
from constructs import IConstruct

MANAGED_BY = "mlops-kit"


def standard_tags(
    *, team: str, env: str, cost_center: str, defaults: Mapping[str, str], network: str | None = None
) -> dict[str, str]:
    """`network` (public|private) lets policies judge a resource by its environment's network mode."""
    tags = {**defaults, "team": team, "env": env, "cost-center": cost_center, "managed-by": MANAGED_BY}
    return tags | ({"network": network} if network else {})


@jsii.implements(IAspect)
class TaggingAspect:
    def __init__(self, tags: Mapping[str, str]):
        self.tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource) or not hasattr(type(node), "tags_input"):
            return
        own = node.tags_input
        node.tags = {**self.tags, **(own or {})}
