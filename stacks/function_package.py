"""The trigger function's code package as a Terraform asset of the environment stack.

`mlops-kit package` (scripts/package.py) builds the zip; the entry point that synthesizes (main.py,
`mlops-kit synth`) checks it against the function's source and passes what it found in the app
context under `PACKAGE_CONTEXT`: `{"zip": <absolute path>, "hash": <content hash>}`, `{"zip": ""}`
when the checkout has no function (the app is created without code), or `{"problem": <one line>}`
when the package is missing or stale. This module reads no file and no environment and starts no
process: it turns that value into a TerraformAsset, or raises the line (exit 2, no traceback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.config import ConfigError

if TYPE_CHECKING:
    from constructs import Construct

PACKAGE_CONTEXT = "mlops-kit:function-package"
NOT_GIVEN = (
    f"no function package was passed to this synth (app context {PACKAGE_CONTEXT!r}). "
    "Fix: run mlops-kit package, then synth with mlops-kit synth or npx cdktf synth"
)


class PackagingError(ConfigError):
    """The package cannot be built or used; one line, reported like a config problem (no traceback)."""

    def __init__(self, line: str):
        super().__init__([line])


@dataclass(frozen=True)
class PackageAsset:
    """The package as the stack hands it to the construct: its Terraform path and its content hash."""

    path: str  # relative to the stack's folder in cdktf.out (a TerraformAsset)
    content_hash: str  # names the asset folder and the uploaded blob: a new package is a new deployment


def function_package_asset(scope: Construct) -> PackageAsset | None:
    """The function's package as a TerraformAsset in `scope`, or None when the checkout has no function."""
    from cdktf import AssetType, TerraformAsset

    given = scope.node.try_get_context(PACKAGE_CONTEXT)
    if not isinstance(given, dict):
        raise PackagingError(NOT_GIVEN)
    if given.get("problem"):
        raise PackagingError(str(given["problem"]))
    if not given.get("zip"):
        return None
    content_hash = str(given["hash"])
    # The content hash names the asset folder: cdktf's default hashes the absolute path, which would
    # make the synthesized JSON differ between checkouts. The zip's name (<hash>.zip) is the asset's file.
    asset = TerraformAsset(
        scope, "function_package", path=str(given["zip"]), type=AssetType.FILE, asset_hash=content_hash.upper()
    )
    return PackageAsset(path=asset.path, content_hash=content_hash)
