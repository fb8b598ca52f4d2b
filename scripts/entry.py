"""Shared entry-point helpers: where the config lives and how user mistakes are reported.

A user mistake (bad YAML, a stack pattern that matches nothing) prints one line per problem and
exits 2; it never shows a traceback. Ctrl-C prints `interrupted` and exits 130. Under `main.py`
(`npx cdktf synth`) a bug in the kit still shows its traceback; the `mlops-kit` console entry point
(scripts/cli.py) turns it into one line unless `--debug` is given. Importing this module does not
import cdktf (the CLI's fast commands rely on that).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from infra.config import ConfigError
from scripts.exit_codes import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_TOOL_FAILURE, EXIT_USER_ERROR
from stacks.selection import CONTEXT_KEY, ENV_VAR, SelectionError, parse_patterns

if TYPE_CHECKING:
    from cdktf import App

# jsii prints a large end-of-life banner on Node 20 at every run; silence exactly that (Node 20 only).
# Set here, in what every entry point imports, before any of them starts jsii.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

TEAMS_DIR_VAR = "MLOPS_KIT_TEAMS_DIR"

# The exit codes live in scripts/exit_codes.py; importing them from here keeps the commands' imports short.
__all__ = ["EXIT_FINDINGS", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TOOL_FAILURE", "EXIT_USER_ERROR"]


def teams_dir(override: Path | None = None) -> Path:
    """`--teams`, else MLOPS_KIT_TEAMS_DIR, else ./teams."""
    return override or Path(os.environ.get(TEAMS_DIR_VAR, "teams"))


def stack_patterns(app: App) -> list[str] | None:
    """The stacks the user asked for: MLOPS_KIT_STACKS, else the cdktf context key `stacks`, else None (all).

    Read only by entry points (main.py, `mlops-kit synth`, bench); `build_app` takes the result as an argument.
    """
    return parse_patterns(os.environ.get(ENV_VAR)) or parse_patterns(app.node.try_get_context(CONTEXT_KEY))


def error(line: str) -> None:
    print(f"error: {line}", file=sys.stderr)


@contextmanager
def user_errors() -> Iterator[None]:
    """ConfigError and SelectionError -> one `error:` line each on stderr, exit 2; Ctrl-C -> one line, exit 130.

    Also what main.py (`npx cdktf synth`) runs under: after Ctrl-C, whatever jsii raises is `interrupted`.
    """
    watch_interrupts()
    try:
        yield
    except ConfigError as e:
        for line in e.lines:
            error(line)
        sys.exit(EXIT_USER_ERROR)
    except SelectionError as e:
        error(str(e))
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        interrupted()
    except Exception:
        if was_interrupted():
            interrupted()
        raise


_SIGINT_SEEN: list[bool] = []


def watch_interrupts() -> None:
    """Remember that Ctrl-C was pressed (click turns it into Abort at a prompt, jsii into its own errors)."""

    def on_sigint(_signum: int, _frame: object) -> None:
        _SIGINT_SEEN.append(True)
        _mute_jsii_after_interrupt()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_sigint)


# The thread of the jsii runtime that copies node's stderr to ours (jsii/_kernel/providers/process.py).
JSII_STDERR_THREAD = "process.stderr_sink"


class _WithoutJsiiStderr:
    """sys.stderr minus what jsii's sink thread writes: after Ctrl-C, node's own report of it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if threading.current_thread().name == JSII_STDERR_THREAD:
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _mute_jsii_after_interrupt() -> None:
    """Ctrl-C reaches node too (the terminal signals the whole process group); whether its runtime then
    prints `Error on jsii API channel ... ECONNRESET` is a race. After an interrupt, only `interrupted` is
    said; jsii's sink writes text lines it cannot parse with print(), through sys.stderr."""
    if not isinstance(sys.stderr, _WithoutJsiiStderr):
        sys.stderr = _WithoutJsiiStderr(sys.stderr)


def was_interrupted() -> bool:
    return bool(_SIGINT_SEEN)


def interrupted() -> NoReturn:
    """Ctrl-C: one line, exit 130. A synth swaps its output in only when complete, so nothing half-written stays."""
    print("interrupted", file=sys.stderr)
    sys.exit(EXIT_INTERRUPTED)


def describe(exc: BaseException) -> str:
    """One short line for an unexpected exception (type and message, cut to 200 characters)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}{'...' if len(text) > 200 else ''}" if text else type(exc).__name__
