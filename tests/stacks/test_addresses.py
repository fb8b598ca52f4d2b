"""Upgrade safety: the example team's resource addresses are locked by a snapshot.

The `example` fixture synthesizes the frozen fixture org (tests/fixtures/org), not teams/: a fork's own
team files add no address here.

A changed address makes Terraform destroy the old resource and create a new one, data included.
When a change is intended (a new resource, a deliberate move with a `moved` block), accept it with

    MLOPS_KIT_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/stacks/test_addresses.py

and commit tests/fixtures/addresses/example.json with a note on why (docs/upgrading.md).
"""

from __future__ import annotations

import json
import os

from tests.conftest import REPO

SNAPSHOT = REPO / "tests" / "fixtures" / "addresses" / "example.json"


def addresses(synth: dict) -> dict[str, list[str]]:
    return {
        stack: sorted(f"{rtype}.{address}" for rtype, items in doc.get("resource", {}).items() for address in items)
        for stack, doc in synth.items()
    }


def test_resource_addresses_match_the_snapshot(example):
    current = addresses(example)
    if os.environ.get("MLOPS_KIT_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    problems = []
    for stack in sorted(set(expected) | set(current)):
        gone = sorted(set(expected.get(stack, [])) - set(current.get(stack, [])))
        new = sorted(set(current.get(stack, [])) - set(expected.get(stack, [])))
        problems += [f"{stack}: REMOVED (terraform would destroy it): {a}" for a in gone]
        problems += [f"{stack}: added: {a}" for a in new]
    assert not problems, "resource addresses changed:\n" + "\n".join(problems) + "\n" + (__doc__ or "")
