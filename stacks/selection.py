"""Which stacks to construct: all of them, or those matching MLOPS_KIT_STACKS / the `stacks` context.

Patterns are shell globs separated by commas or spaces (`example-*`, `example-dev,platform-*`), or
`team:<name>`: exactly that team's stacks (`<name>-shared`, `-<env>`, `-devops`). Use the team
selector for one team: with teams `fraud` and `fraud-ml`, the glob `fraud-*` selects both.
Stack names come from the config alone, so unselected stacks cost nothing: deploying one team in a
100-team organization constructs that team's stacks, not 300.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

ENV_VAR = "MLOPS_KIT_STACKS"
CONTEXT_KEY = "stacks"
TEAM_PREFIX = "team:"


class SelectionError(ValueError):
    """A pattern that matches no stack (one line, names the patterns and the known stacks)."""


def parse_patterns(raw: str | None) -> list[str] | None:
    if raw is None or not raw.strip():
        return None
    return [p for p in re.split(r"[,\s]+", raw.strip()) if p]


def _matches(name: str, pattern: str, teams: Mapping[str, str]) -> bool:
    if pattern.startswith(TEAM_PREFIX):
        return teams.get(name) == pattern[len(TEAM_PREFIX) :]
    return fnmatch.fnmatchcase(name, pattern)


def _shown(items: list[str]) -> str:
    return ", ".join(items[:12]) + (" ..." if len(items) > 12 else "")


def select(names: list[str], patterns: list[str] | None, teams: Mapping[str, str] | None = None) -> list[str]:
    """The names matched by any pattern, in the given order; every pattern must match something.

    `teams` maps a stack name to its team's name (stacks of no team, platform-bootstrap, are absent).
    """
    if patterns is None:
        return list(names)
    teams = teams or {}
    unmatched = [p for p in patterns if not any(_matches(n, p, teams) for n in names)]
    if unmatched:
        if any(p.startswith(TEAM_PREFIX) for p in unmatched):
            known = sorted(set(teams.values()))
            fix = f"use one of: {_shown([TEAM_PREFIX + t for t in known]) or 'no teams'}"
        else:
            fix = f"use one of: {_shown(names)}"
        raise SelectionError(
            f"{ENV_VAR}: pattern {', '.join(repr(p[:80]) for p in unmatched[:5])} matches no stack. Fix: {fix}"
        )
    return [n for n in names if any(_matches(n, p, teams) for p in patterns)]


def spanning_globs(names: list[str], patterns: list[str] | None, teams: Mapping[str, str]) -> list[str]:
    """One warning per glob that selects the stacks of more than one team (e.g. `fraud-*` with `fraud-ml`)."""
    out = []
    for p in patterns or []:
        if p.startswith(TEAM_PREFIX):
            continue
        hit = sorted({teams[n] for n in names if n in teams and fnmatch.fnmatchcase(n, p)})
        if len(hit) > 1:
            out.append(
                f"{ENV_VAR}: pattern {p[:80]!r} selects the stacks of {len(hit)} teams ({_shown(hit)}). "
                f"Fix: to select one team, use team:{hit[0]}"
            )
    return out
