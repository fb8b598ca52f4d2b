"""Shared entry-point helpers: where the config lives and how user mistakes are reported.

A user mistake (bad YAML, a stack pattern that matches nothing) prints one line per problem and
exits 2; it never shows a traceback. Bugs in the kit still show theirs. Importing this module does
not import cdktf (the CLI's fast commands rely on that).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.config import ConfigError
from stacks.selection import SelectionError

TEAMS_DIR_VAR = "MLOPS_KIT_TEAMS_DIR"
EXIT_USER_ERROR = 2


def teams_dir(override: Path | None = None) -> Path:
    """`--teams`, else MLOPS_KIT_TEAMS_DIR, else ./teams."""
    return override or Path(os.environ.get(TEAMS_DIR_VAR, "teams"))


def error(line: str) -> None:
    print(f"error: {line}", file=sys.stderr)


@contextmanager
def user_errors() -> Iterator[None]:
    """ConfigError and SelectionError -> one `error:` line each on stderr, exit 2."""
    try:
        yield
    except ConfigError as e:
        for line in e.lines:
            error(line)
        sys.exit(EXIT_USER_ERROR)
    except SelectionError as e:
        error(str(e))
        sys.exit(EXIT_USER_ERROR)
