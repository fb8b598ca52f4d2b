"""Shared fixtures: real config loading and real cdktf synth of whole organizations.

Every fixture reads the frozen fixture org in tests/fixtures/org (platform.yaml + example.yaml), never
the live teams/: a fork adds its own team files there, and that must change no test result
(tests/test_fork_safety.py proves it). The real teams/ is checked by validate, synth and scan in CI.

Synth runs in-process through the same `build_app` that `main.py` calls; the jsii runtime starts
once per test session, so fixtures that synthesize are session-scoped. Before the first synth the
session runs the real `mlops-kit package` command function once (`function_package`): it builds
build/function-package/ when the function changed (pip) and is a hash check otherwise.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.config import Org, Team

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO = Path(__file__).resolve().parent.parent
ORG = REPO / "tests" / "fixtures" / "org"  # the frozen fixture org: what assertions read
TEAMS = ORG  # older name of the same folder; it is NOT the live teams/
SHARED = REPO.parent / "shared"

Synth = dict[str, dict]


@functools.cache
def function_package() -> dict[str, dict[str, str]]:
    """`mlops-kit package` (its command function, unmocked), once per session; the app context synth needs."""
    from scripts.package import package_command, require_package
    from stacks.function_package import PACKAGE_CONTEXT

    package_command(out=None, force=False)
    return {PACKAGE_CONTEXT: require_package()}


def synth_dir(teams_dir: Path, outdir: Path, patterns: list[str] | None = None) -> Synth:
    """Synthesize every selected stack of the org in `teams_dir`; return {stack name: Terraform JSON}."""
    from cdktf import App

    from infra.config import load_org
    from stacks import build_app

    app = App(outdir=str(outdir), context=function_package())
    build_app(load_org(teams_dir), app=app, patterns=patterns).synth()
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


@pytest.fixture(scope="session")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cdktf.out of the fixture org (the example team and platform bootstrap), every stack."""
    out = tmp_path_factory.mktemp("example") / "cdktf.out"
    synth_dir(ORG, out)
    return out


@pytest.fixture(scope="session")
def example(example_out: Path) -> Synth:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((example_out / "stacks").glob("*/cdk.tf.json"))}


@pytest.fixture()
def make_teams(tmp_path: Path) -> Callable[..., Path]:
    """Copy the fixture org to a temp `teams/` folder, then apply {relative file: YAML text or None to delete}."""

    def make(files: dict[str, str | None] | None = None) -> Path:
        target = tmp_path / "teams"
        shutil.copytree(ORG, target)
        for name, text in (files or {}).items():
            if text is None:
                (target / name).unlink()
            else:
                (target / name).write_text(text)
        return target

    return make


def team_named(org: Org, name: str = "example") -> Team:
    """The team called `name` (never `org.teams[0]`: which team sorts first depends on the folder)."""
    return next(tf.team for tf in org.teams if tf.team.name == name)


def resources(stack: dict, rtype: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(rtype, {})


def one(stack: dict, rtype: str) -> dict:
    found = resources(stack, rtype)
    assert len(found) == 1, f"expected one {rtype}, found {sorted(found)}"
    return next(iter(found.values()))


# Tests write only under tmp_path: a test that leaves ./cdktf.out behind (cdktf's `App()` without
# an outdir creates it) would make the next `mlops-kit synth` refuse that folder (no manifest).
# A checkout that already has one (a developer's synth) is checked by its fingerprint instead.
def _out_fingerprint() -> tuple[tuple[str, int], ...] | None:
    out = REPO / "cdktf.out"
    if not out.exists():
        return None
    found = [out, *out.glob("*"), *out.glob("*/*")]  # cdktf writes manifest.json and stacks/<name>/
    return tuple(sorted((str(p.relative_to(out)), p.stat().st_mtime_ns) for p in found))


_OUT_AT_START = _out_fingerprint()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _out_fingerprint() != _OUT_AT_START:
        session.config.get_terminal_writer().line(
            "error: a test wrote into ./cdktf.out in the checkout; give cdktf.App an outdir under tmp_path", red=True)
        session.exitstatus = 1
