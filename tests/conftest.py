"""Shared fixtures: real config loading and real cdktf synth of whole organizations.

Synth runs in-process through the same `build_app` that `main.py` calls; the jsii runtime starts
once per test session, so fixtures that synthesize are session-scoped.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO = Path(__file__).resolve().parent.parent
TEAMS = REPO / "teams"
SHARED = REPO.parent / "shared"

Synth = dict[str, dict]


def synth_dir(teams_dir: Path, outdir: Path, patterns: list[str] | None = None) -> Synth:
    """Synthesize every selected stack of the org in `teams_dir`; return {stack name: Terraform JSON}."""
    from cdktf import App

    from infra.config import load_org
    from stacks import build_app

    app = App(outdir=str(outdir))
    build_app(load_org(teams_dir), app=app, patterns=patterns).synth()
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


@pytest.fixture(scope="session")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cdktf.out of the repository's own teams/ (the example team and platform bootstrap)."""
    out = tmp_path_factory.mktemp("example") / "cdktf.out"
    synth_dir(TEAMS, out)
    return out


@pytest.fixture(scope="session")
def example(example_out: Path) -> Synth:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((example_out / "stacks").glob("*/cdk.tf.json"))}


@pytest.fixture()
def make_teams(tmp_path: Path) -> Callable[..., Path]:
    """Copy teams/ to a temp folder, then apply {relative file: YAML text or None to delete}."""

    def make(files: dict[str, str | None] | None = None) -> Path:
        target = tmp_path / "teams"
        shutil.copytree(TEAMS, target)
        for name, text in (files or {}).items():
            if text is None:
                (target / name).unlink()
            else:
                (target / name).write_text(text)
        return target

    return make


def resources(stack: dict, rtype: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(rtype, {})


def one(stack: dict, rtype: str) -> dict:
    found = resources(stack, rtype)
    assert len(found) == 1, f"expected one {rtype}, found {sorted(found)}"
    return next(iter(found.values()))
