"""Stack classes and `build_app`: which stacks exist for an organization, and building them.

Stacks compose constructs and pick the backend; they never build raw resources beyond the resource
group, and they never read files or the environment (config arrives as validated models, the stack
patterns as an argument: only the entry points, main.py and scripts/, read MLOPS_KIT_STACKS).

cdktf is imported only inside `build_app`: importing this package (for `stack_plan`, or
`stacks.selection` from the CLI) must not start the jsii runtime.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.config import EnvName, Org, Team
from stacks.selection import select

if TYPE_CHECKING:
    from cdktf import App, TerraformStack

BOOTSTRAP = "platform-bootstrap"


@dataclass(frozen=True)
class PlannedStack:
    name: str
    kind: str  # bootstrap | shared | env | devops
    team: Team | None = None
    env: EnvName | None = None


def stack_plan(org: Org) -> list[PlannedStack]:
    """Every stack of the organization, in deploy order, without constructing anything."""
    plan: list[PlannedStack] = []
    if org.platform.state is not None:
        plan.append(PlannedStack(BOOTSTRAP, "bootstrap"))
    for tf in org.teams:
        team = tf.team
        plan.append(PlannedStack(f"{team.name}-shared", "shared", team))
        plan += [PlannedStack(f"{team.name}-{env}", "env", team, env) for env in team.env_names]
        plan.append(PlannedStack(f"{team.name}-devops", "devops", team))
    return plan


def stack_teams(plan: list[PlannedStack]) -> dict[str, str]:
    """Stack name -> team name, for the `team:<name>` selector (stacks/selection.py)."""
    return {p.name: p.team.name for p in plan if p.team is not None}


def build_app(org: Org, app: App | None = None, patterns: list[str] | None = None) -> App:
    """Construct the stacks of `org` matching `patterns` (None: every stack) in `app`.

    The patterns are an argument, never read here: the entry points get them from MLOPS_KIT_STACKS
    or the cdktf context (`scripts.entry.stack_patterns`), so an exported variable cannot change
    what a caller such as a test fixture builds.

    Stacks that are built together get dependencies in deploy order (bootstrap, then each team's
    shared stack, its environments, then its devops stack), so `cdktf deploy` applies them in that order.
    """
    with without_gc_pauses():
        return _build_app(org, app, patterns)


@contextmanager
def without_gc_pauses() -> Iterator[None]:
    """Build with Python's cyclic garbage collector paused, then freeze what was built.

    Importing the azurerm bindings loads ~1,500 modules and the stacks hold hundreds of thousands of
    objects; the collector rescans them over and over, and again at exit. Measured (docs/benchmarks.md):
    about half of a one-stack synth. Nothing here creates garbage cycles worth collecting, and the
    synthesized output is byte-identical.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # what exists now is never scanned again, not even at exit
        if enabled:
            gc.enable()


def _build_app(org: Org, app: App | None, patterns: list[str] | None) -> App:
    from cdktf import App

    from stacks.backend import announce_local_state

    app = app or App()
    plan = stack_plan(org)
    chosen = set(select([p.name for p in plan], patterns, stack_teams(plan)))
    announce_local_state(org.platform)
    built: dict[str, TerraformStack] = {}
    for p in plan:
        if p.name in chosen:
            built[p.name] = _build(app, org, p)
    for p in plan:
        if p.name not in built:
            continue
        for before in _deploy_after(org, p):
            if before in built:
                built[p.name].add_dependency(built[before])
    return app


def _build(app: App, org: Org, p: PlannedStack) -> TerraformStack:
    from cdktf import Aspects

    from infra.tags import TaggingAspect, standard_tags
    from stacks.bootstrap import BootstrapStack
    from stacks.devops import DevopsStack
    from stacks.environment import EnvironmentStack
    from stacks.shared import SharedStack, shared_tags

    stack: TerraformStack
    if p.kind == "bootstrap":
        stack = BootstrapStack(app, org.platform)
        tags = {**org.platform.default_tags, "managed-by": "mlops-kit", "purpose": "terraform-state"}
    elif p.kind == "shared":
        assert p.team is not None
        stack = SharedStack(app, p.name, org, p.team)
        tags = shared_tags(org, p.team)
    elif p.kind == "env":
        assert p.team is not None and p.env is not None
        stack = EnvironmentStack(app, p.name, org, p.team, p.env)
        network = p.team.environments[p.env].network.mode
        tags = standard_tags(
            team=p.team.name,
            env=p.env,
            cost_center=p.team.cost_center,
            defaults=org.platform.default_tags,
            network=network,
        )
    else:
        assert p.team is not None
        stack = DevopsStack(app, p.name, org, p.team)
        tags = standard_tags(
            team=p.team.name,
            env="all",
            cost_center=p.team.cost_center,
            defaults=org.platform.default_tags,
            network=None,
        )
    Aspects.of(stack).add(TaggingAspect(tags))
    return stack


def _deploy_after(org: Org, p: PlannedStack) -> list[str]:
    """Names of the stacks `p` must be deployed after."""
    if p.kind == "bootstrap" or p.team is None:
        return []
    if p.kind == "shared":
        return [BOOTSTRAP]
    if p.kind == "env":
        # the registry its identities are granted on; staging and prod also read dev's pipeline
        # identity (app-ci checks their live models with arm-dev: infra/identity.LiveModelReader)
        after = [BOOTSTRAP, f"{p.team.name}-shared"]
        if p.env != "dev" and "dev" in p.team.env_names:
            after.append(f"{p.team.name}-dev")
        return after
    return [BOOTSTRAP] + [f"{p.team.name}-{env}" for env in p.team.env_names]
