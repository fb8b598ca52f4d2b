"""Which stacks to construct: all of them, or those matching MLOPS_KIT_STACKS / the `stacks` context.

Patterns are shell globs separated by commas or spaces (`example-*`, `example-dev,platform-*`).
Stack names come from the config alone, so unselected stacks cost nothing: deploying one team in a
100-team organization constructs that team's stacks, not 300.
"""

from __future__ import annotations

import fnmatch
import re

ENV_VAR = "MLOPS_KIT_STACKS"
CONTEXT_KEY = "stacks"


class SelectionError(ValueError):
    """A pattern that matches no stack (one line, names the patterns and the known stacks)."""


def parse_patterns(raw: str | None) -> list[str] | None:
    if raw is None or not raw.strip():
        return None
    return [p for p in re.split(r"[,\s]+", raw.strip()) if p]


def select(names: list[str], patterns: list[str] | None) -> list[str]:
    """The names matched by any pattern, in the given order; every pattern must match something."""
    if patterns is None:
        return list(names)
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    if unmatched:
        shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
        raise SelectionError(
            f"{ENV_VAR}: pattern {', '.join(repr(p) for p in unmatched)} matches no stack. "
            f"Fix: use one of: {shown}"
        )
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
