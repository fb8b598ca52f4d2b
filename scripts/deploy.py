"""`mlops-kit deploy`: `npx cdktf deploy` that waits out Azure RBAC propagation instead of failing a first deploy.

A first deploy creates role assignments and uses some of them minutes later in the same apply: the
deploying identity uploads the function package with the Storage Blob Data Contributor role the
environment stack has just given it on `app-package` (infra/function_app.py). Azure applies a new
role assignment within minutes, not at once ("Troubleshoot Azure RBAC": Resource Manager caches
permissions, changes can take up to 30 minutes), and Terraform cannot retry the upload: azurerm 4.55
retries 429 and 5xx answers only (go-azure-sdk sdk/client/client.go, retryablehttp's default
policy), so a 403 `AuthorizationPermissionMismatch` stops the apply. The state then holds everything
created before it, and the same deploy run again resumes at the upload.

This command is that rerun, bounded and only for that cause: it runs `npx cdktf deploy <arguments>`,
passes its output through (stderr merged into stdout), and when the run failed and its output names
one of PROPAGATION_ERRORS, waits and runs the same command again (`--attempts`, waits doubling from
`--wait` seconds up to MAX_WAIT_SECONDS). Any other failure ends it at once with cdktf's exit code.
A loop around one subprocess: no library does "rerun this CLI on that message", and the matching is
the part worth reading.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scripts.exit_codes import EXIT_TOOL_FAILURE, EXIT_USER_ERROR

CDKTF = ("npx", "cdktf", "deploy")
# Storage's error code for a caller whose data role is not (yet) effective: "This request is not
# authorized to perform this operation using this permission." (Azure Storage REST, "Blob service
# error codes"). Only this one: a firewall refusal (AuthorizationFailure) or a missing role assignment
# permission does not heal by waiting.
PROPAGATION_ERRORS = ("AuthorizationPermissionMismatch",)
DEFAULT_ATTEMPTS = 5
DEFAULT_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 480  # 60 + 120 + 240 + 480: about 15 minutes of waiting over five attempts


@dataclass(frozen=True)
class Attempt:
    returncode: int
    propagation: str | None  # the propagation error the output named, if any


def run_once(command: Sequence[str], echo: Callable[[str], None]) -> Attempt:
    """One run of `command`, its output echoed line by line as it comes and scanned for PROPAGATION_ERRORS."""
    seen: str | None = None
    with subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            echo(line)
            seen = seen or next((code for code in PROPAGATION_ERRORS if code in line), None)
    return Attempt(proc.returncode, seen)


def waits(attempts: int, first: float) -> list[float]:
    """The pauses between attempts: `first`, doubling, capped at MAX_WAIT_SECONDS."""
    return [min(first * 2**i, MAX_WAIT_SECONDS) for i in range(attempts - 1)]


def deploy(
    arguments: Sequence[str],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    first_wait: float = DEFAULT_WAIT_SECONDS,
    command: Sequence[str] = CDKTF,
    echo: Callable[[str], None] = lambda line: print(line, end="", flush=True),
    note: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run `command + arguments`; rerun it after a pause while it fails on RBAC propagation. Returns the exit code."""
    if attempts < 1:
        note("error: --attempts: must be at least 1. Fix: --attempts 5 (the default)")
        return EXIT_USER_ERROR
    full = [*command, *arguments]
    pauses = waits(attempts, first_wait)
    for number in range(1, attempts + 1):
        try:
            result = run_once(full, echo)
        except FileNotFoundError:
            note(f"error: {full[0]}: not found. Fix: install Node.js 20 and run `npm ci` in the kit's checkout")
            return EXIT_TOOL_FAILURE
        if result.returncode == 0 or result.propagation is None:
            return result.returncode
        if number == attempts:
            note(f"error: still {result.propagation} after {attempts} attempts: the role assignment this deploy "
                 "created is not effective yet. Fix: run the same command again later (the state keeps what was "
                 "created), or check that the role assignment exists")
            return result.returncode
        pause = pauses[number - 1]
        note(f"mlops-kit deploy: {result.propagation}: a role assignment from this deploy is still propagating "
             f"(Azure RBAC); running the same deploy again in {pause:.0f} s (attempt {number + 1} of {attempts})")
        sleep(pause)
    return EXIT_TOOL_FAILURE  # not reached: the loop returns
