"""Helpers shared by the kit's checks: reading checkov's view of a Terraform JSON resource.

checkov's terraform_json parser (checkov/terraform_json/parser.py, `hclify`) presents a resource the
way its HCL parser does, not as the JSON reads:
- every scalar and every list of scalars is wrapped in a one-item list: `"https_only": true` arrives
  as `[True]`, `"approvers": ["a"]` as `[["a"]]`;
- a nested block (a JSON object, or a list of objects) arrives as a list of dicts, each hclified in
  turn: `"scale_settings": {"min_node_count": 0}` arrives as `[{"min_node_count": [0]}]`;
- `tags` arrives as `[{"env": "dev", ...}]` with the values *not* wrapped;
- the strings "true"/"false" become booleans; the `//` comment block is passed through untouched;
- in the graph (CKV2 checks) references lose their `${...}`: `azuredevops_environment.prod.id`.
Every accessor here takes that shape, so a check never indexes `[0]` by hand.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckResult

GUIDELINE = "docs/policies.md#{anchor}"
"""Where each check is documented (id, what, why, how to fix); anchors are the lower-case ids."""

_MISSING = object()


def guideline(check_id: str) -> str:
    return GUIDELINE.format(anchor=check_id.lower().replace("_", "-"))


def value(conf: dict[str, Any] | None, key: str, default: Any = None) -> Any:
    """The value of a scalar or list argument, unwrapped from checkov's one-item list."""
    if not isinstance(conf, dict):
        return default
    raw = conf.get(key, _MISSING)
    if raw is _MISSING:
        return default
    if isinstance(raw, list):
        return raw[0] if raw else default
    return raw


def blocks(conf: dict[str, Any] | None, key: str) -> list[dict[str, Any]]:
    """Every instance of a nested block (an empty list when the block is absent)."""
    if not isinstance(conf, dict):
        return []
    raw = conf.get(key)
    if isinstance(raw, dict):
        return [raw]
    if isinstance(raw, list):
        return [b for b in raw if isinstance(b, dict)]
    return []


def block(conf: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """The first instance of a nested block, or None."""
    found = blocks(conf, key)
    return found[0] if found else None


def tags(conf: dict[str, Any] | None) -> dict[str, Any]:
    found = blocks(conf, "tags")
    return found[0] if found else {}


def is_true(v: Any) -> bool:
    return v is True


def is_false(v: Any) -> bool:
    return v is False


def is_unresolved(v: Any) -> bool:
    """A Terraform expression (variable, reference, function) the scan cannot evaluate."""
    return isinstance(v, str) and ("${" in v or v.startswith(("var.", "local.", "module.", "data.")))


NETWORK_TAG = "network"
NETWORK_MODES = ("public", "private")


def network_mode(conf: dict[str, Any]) -> str | None:
    """`public` or `private` from the resource's `network` tag (set on every env-stack resource)."""
    mode = tags(conf).get(NETWORK_TAG)
    return mode if mode in NETWORK_MODES else None


def prevent_destroy(conf: dict[str, Any]) -> bool:
    return is_true(value(block(conf, "lifecycle"), "prevent_destroy"))


_REFERENCE = re.compile(r"^(?:\$\{)?(?P<type>[a-z0-9_]+)\.(?P<name>[A-Za-z0-9_-]+)\.id\}?$")


def referenced_address(v: Any) -> str | None:
    """`type.name` when `v` is exactly a reference to another resource's id, else None.

    Accepts the JSON form (`${azuredevops_environment.prod.id}`) and checkov's graph form
    (`azuredevops_environment.prod.id`). Anything else (a literal id, an expression) is None:
    a check that needs a reference does not guess.
    """
    if not isinstance(v, str):
        return None
    m = _REFERENCE.match(v.strip())
    return f"{m['type']}.{m['name']}" if m else None


def fail(check: Any, *details: str) -> CheckResult:
    """FAILED, with the reasons in the check's `details` (checkov prints them under the finding)."""
    check.details.extend(details)
    return CheckResult.FAILED
