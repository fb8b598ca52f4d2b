"""Stack selection: only the stacks matching the patterns are constructed."""

from __future__ import annotations

import pytest

from infra.config import load_org
from stacks import stack_plan
from stacks.selection import SelectionError, parse_patterns, select
from tests.conftest import TEAMS, synth_dir

NAMES = ["platform-bootstrap", "a-dev", "a-prod", "b-dev", "b-prod"]


def test_no_pattern_selects_everything():
    assert select(NAMES, None) == NAMES
    assert parse_patterns("  ") is None and parse_patterns(None) is None


def test_globs_commas_and_spaces():
    assert select(NAMES, parse_patterns("a-*, b-dev")) == ["a-dev", "a-prod", "b-dev"]
    assert select(NAMES, parse_patterns("*-prod platform-*")) == ["platform-bootstrap", "a-prod", "b-prod"]


def test_a_pattern_that_matches_nothing_is_an_error_listing_the_stacks():
    with pytest.raises(SelectionError) as exc:
        select(NAMES, ["c-*", "a-dev"])
    msg = str(exc.value)
    assert "'c-*' matches no stack" in msg and "a-dev" in msg and "\n" not in msg


def test_plan_lists_stacks_from_config_alone():
    names = [p.name for p in stack_plan(load_org(TEAMS))]
    assert names == ["platform-bootstrap", "example-shared", "example-dev", "example-staging", "example-prod",
                     "example-devops"]


def test_only_selected_stacks_are_synthesized(tmp_path):
    out = synth_dir(TEAMS, tmp_path / "out", patterns=["example-dev"])
    assert sorted(out) == ["example-dev"]


def test_entry_point_reads_the_environment_variable_first(tmp_path, monkeypatch):
    from cdktf import App

    from scripts.entry import stack_patterns

    monkeypatch.setenv("MLOPS_KIT_STACKS", "platform-*, example-dev")
    assert stack_patterns(App(outdir=str(tmp_path), context={"stacks": "example-prod"})) == ["platform-*",
                                                                                            "example-dev"]


def test_entry_point_reads_the_context_when_no_environment_variable(tmp_path, monkeypatch):
    from cdktf import App

    from scripts.entry import stack_patterns

    monkeypatch.delenv("MLOPS_KIT_STACKS", raising=False)
    assert stack_patterns(App(outdir=str(tmp_path), context={"stacks": "example-prod"})) == ["example-prod"]
    assert stack_patterns(App(outdir=str(tmp_path / "none"))) is None


def test_build_app_ignores_an_exported_selection(tmp_path, monkeypatch):
    """The README has users export MLOPS_KIT_STACKS; that must not empty what a caller (a fixture) builds."""
    from cdktf import App

    from stacks import build_app

    monkeypatch.setenv("MLOPS_KIT_STACKS", "platform-*")
    app = App(outdir=str(tmp_path), context={"stacks": "example-prod"})
    build_app(load_org(TEAMS), app=app)
    assert [c.node.id for c in app.node.children] == [p.name for p in stack_plan(load_org(TEAMS))]
    app = App(outdir=str(tmp_path / "chosen"))
    build_app(load_org(TEAMS), app=app, patterns=["example-dev"])
    assert [c.node.id for c in app.node.children] == ["example-dev"]
