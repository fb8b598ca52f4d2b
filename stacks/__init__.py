"""Stack classes and `build_app`: which stacks exist for an organization, and building them.

Stacks compose constructs and pick the backend; they never build raw resources beyond the resource
group, and they never read files (config arrives as validated models).
"""

from __future__ import annotations

import os

# jsii prints a large end-of-life banner on Node 20 at every run; silence exactly that (Node 20 only).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cdktf import App, Aspects  # noqa: E402

from infra.config import Org, Team  # noqa: E402
from infra.tags import TaggingAspect, standard_tags  # noqa: E402
from stacks.backend import announce_local_state  # noqa: E402
from stacks.selection import CONTEXT_KEY, ENV_VAR, parse_patterns, select  # noqa: E402

BOOTSTRAP = "platform-bootstrap"


def stack_plan(org: Org) -> list[tuple[str, Team | None, str | None]]:
    """Every stack of the organization as (name, team, env), without constructing anything."""
    plan: list[tuple[str, Team | None, str | None]] = []
    if org.platform.state is not None:
        plan.append((BOOTSTRAP, None, None))
    for tf in org.teams:
        for env in tf.team.env_names:
            plan.append((f"{tf.team.name}-{env}", tf.team, env))
    return plan


def build_app(org: Org, app: App | None = None, patterns: list[str] | None = None) -> App:
    """Construct the selected stacks (all by default) of `org` in `app`."""
    app = app or App()
    if patterns is None:
        patterns = parse_patterns(os.environ.get(ENV_VAR)) or parse_patterns(app.node.try_get_context(CONTEXT_KEY))
    plan = stack_plan(org)
    chosen = set(select([name for name, _, _ in plan], patterns))
    announce_local_state(org.platform)
    from stacks.bootstrap import BootstrapStack
    from stacks.environment import EnvironmentStack

    for name, team, env in plan:
        if name not in chosen:
            continue
        if team is None:
            stack = BootstrapStack(app, org.platform)
            tags = {**org.platform.default_tags, "managed-by": "mlops-kit", "purpose": "terraform-state"}
        else:
            stack = EnvironmentStack(app, name, org, team, env)
            tags = standard_tags(
                team=team.name, env=env, cost_center=team.cost_center, defaults=org.platform.default_tags,
                network=team.environments[env].network.mode,
            )
        Aspects.of(stack).add(TaggingAspect(tags))
    return app
