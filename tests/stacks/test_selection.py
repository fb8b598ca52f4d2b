"""Stack selection: only the stacks matching the patterns are constructed."""

from __future__ import annotations

import pytest

from infra.config import load_org
from stacks import stack_plan
from stacks.selection import SelectionError, parse_patterns, select
from tests.conftest import TEAMS, function_package, synth_dir

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
    app = App(outdir=str(tmp_path), context={"stacks": "example-prod", **function_package()})
    build_app(load_org(TEAMS), app=app)
    assert [c.node.id for c in app.node.children] == [p.name for p in stack_plan(load_org(TEAMS))]
    app = App(outdir=str(tmp_path / "chosen"), context=function_package())
    build_app(load_org(TEAMS), app=app, patterns=["example-dev"])
    assert [c.node.id for c in app.node.children] == ["example-dev"]


# ------------------------------------------------------------------ exact team selection (issue 14)
TEAM_STACKS = ["platform-bootstrap", "fraud-shared", "fraud-dev", "fraud-devops",
               "fraud-ml-shared", "fraud-ml-dev", "fraud-ml-devops"]
TEAM_OF = {n: ("fraud-ml" if n.startswith("fraud-ml-") else "fraud") for n in TEAM_STACKS if n != "platform-bootstrap"}


def test_a_prefix_glob_selects_the_other_team_too():
    """Why the docs use team:<name>: `fraud-*` also matches fraud-ml's stacks."""
    assert "fraud-ml-dev" in select(TEAM_STACKS, ["fraud-*"], TEAM_OF)


def test_team_selector_selects_exactly_that_team():
    assert select(TEAM_STACKS, parse_patterns("team:fraud"), TEAM_OF) == ["fraud-shared", "fraud-dev", "fraud-devops"]
    assert select(TEAM_STACKS, ["team:fraud-ml"], TEAM_OF) == ["fraud-ml-shared", "fraud-ml-dev", "fraud-ml-devops"]
    assert select(TEAM_STACKS, ["team:fraud", "platform-*"], TEAM_OF)[0] == "platform-bootstrap"


def test_unknown_team_is_one_line_listing_the_teams():
    with pytest.raises(SelectionError) as exc:
        select(TEAM_STACKS, ["team:frau"], TEAM_OF)
    assert str(exc.value) == ("MLOPS_KIT_STACKS: pattern 'team:frau' matches no stack. "
                              "Fix: use one of: team:fraud, team:fraud-ml")


def test_a_glob_spanning_teams_warns():
    from stacks.selection import spanning_globs

    (line,) = spanning_globs(TEAM_STACKS, ["fraud-*", "team:fraud"], TEAM_OF)
    assert "pattern 'fraud-*' selects the stacks of 2 teams (fraud, fraud-ml)" in line and "team:fraud" in line
    assert spanning_globs(TEAM_STACKS, ["fraud-dev"], TEAM_OF) == []


def test_build_app_honours_the_team_selector(make_teams, tmp_path):
    """Two real teams, fraud and fraud-ml: only fraud's stacks are constructed (no synth)."""
    import yaml
    from cdktf import App

    from stacks import build_app

    example = (TEAMS / "example.yaml").read_text()
    public = yaml.safe_load(example.replace("name: example", "name: fraud-ml"))
    del public["environments"]["prod"]  # two teams may not share the prod network's private DNS zones
    public["registry"] = {"host_environment": "staging"}
    teams = make_teams({"example.yaml": None, "fraud.yaml": example.replace("name: example", "name: fraud"),
                        "fraud-ml.yaml": yaml.safe_dump(public)})
    app = App(outdir=str(tmp_path / "out"), context=function_package())
    build_app(load_org(teams), app=app, patterns=["team:fraud"])
    assert [c.node.id for c in app.node.children] == ["fraud-shared", "fraud-dev", "fraud-staging", "fraud-prod",
                                                       "fraud-devops"]
