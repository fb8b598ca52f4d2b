"""The trigger function's code package, as the entry point found it, for the environment stack.

`mlops-kit package` (scripts/package.py) builds the zip; the entry point that synthesizes (main.py,
`mlops-kit synth`) checks it against the function's source and passes what it found in the app
context under `PACKAGE_CONTEXT`: `{"zip": <absolute path>, "hash": <content hash>}`, `{"zip": ""}`
when the checkout has no function (the app is created without code), or `{"problem": <one line>}`
when the package is missing or stale. This module reads no file and no environment and starts no
process: it turns that value into a `CodePackage`, or raises the line (exit 2, no traceback).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.config import ConfigError

if TYPE_CHECKING:  # scripts/package.py imports this module: the CLI's fast commands must not start jsii
    from constructs import Construct

    from infra.event_flow import CodePackage

PACKAGE_CONTEXT = "mlops-kit:function-package"
NOT_GIVEN = (
    f"no function package was passed to this synth (app context {PACKAGE_CONTEXT!r}). "
    "Fix: run mlops-kit package, then synth with mlops-kit synth or npx cdktf synth"
)


class PackagingError(ConfigError):
    """The package cannot be built or used; one line, reported like a config problem (no traceback)."""

    def __init__(self, line: str):
        super().__init__([line])


def function_package(scope: Construct) -> CodePackage | None:
    """The package the entry point passed in the app context, or None when the checkout has no function.

    The construct that deploys it (infra/function_app.py) makes it a TerraformAsset: it owns its asset.
    """
    from infra.event_flow import CodePackage

    given = scope.node.try_get_context(PACKAGE_CONTEXT)
    if not isinstance(given, dict):
        raise PackagingError(NOT_GIVEN)
    if given.get("problem"):
        raise PackagingError(str(given["problem"]))
    if not given.get("zip"):
        return None
    return CodePackage(zip_path=str(given["zip"]), content_hash=str(given["hash"]))
