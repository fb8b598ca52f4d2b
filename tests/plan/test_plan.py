"""The team plan (infra/plan.py): what it decides, that it is plain frozen data, and that the seed
files it renders (infra/seeds.py) agree with it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from infra.config import load_org
from infra.plan import Approval, BranchControl, ExclusiveLock, RequiredTemplate, team_plan
from infra.seeds import render_seeds
from tests.conftest import ORG, REPO, team_named

PRIVATE = REPO / "tests" / "fixtures" / "private-team"


@pytest.fixture(scope="module")
def example():
    org = load_org(ORG)
    team = team_named(org)
    return org, team, team_plan(org, team)


def dev_only(make_teams):
    text = (ORG / "example.yaml").read_text()
    dev = text.split("  staging:")[0] + text[text.index("data_lake:"):] + "registry: {host_environment: dev}\n"
    org = load_org(make_teams({"example.yaml": dev}))
    return team_plan(org, team_named(org))


def test_the_release_deploys_after_dev_and_each_environment_has_its_gates(example):
    _, _, plan = example
    assert plan.deploy_targets == ("staging", "prod")
    kinds = {env.name: [g.kind for g in env.gates] for env in plan.environments.values()}
    assert kinds == {
        "dev": [],
        "staging": ["branch_control", "required_template"],
        "prod": ["approval", "branch_control", "required_template", "exclusive_lock"],
    }
    # a connection carries the environment's gates a pipeline can bypass by not deploying (training)
    conns = {env.connection.name: [g.kind for g in env.connection.gates] for env in plan.environments.values()}
    assert conns == {"arm-dev": [], "arm-staging": ["branch_control", "required_template"],
                     "arm-prod": ["approval", "branch_control", "required_template"]}


def test_gates_hold_what_their_checks_need(example):
    _, team, plan = example
    approval, branch, templates, lock = plan.environments["prod"].gates
    assert approval == Approval(team.groups.approvers, team.devops.approvals.minimum_approvers,
                                team.devops.approvals.timeout_minutes, team.devops.approvals.instructions)
    assert branch == BranchControl("refs/heads/main")
    # only the pipelines that reach prod (training, release) are named: model-ci and app-ci never do
    assert templates == RequiredTemplate("example/mlops-templates", "refs/heads/main",
                                         ("pipelines/release.yml", "pipelines/training.yml"))
    assert lock == ExclusiveLock(team.devops.approvals.timeout_minutes)


def test_names_repos_pipelines_and_registry(example):
    org, _, plan = example
    assert {k: (r.name, r.kit_owned) for k, r in plan.repos.items()} == {
        "model": ("example-model", False), "app": ("example-app", False), "templates": ("mlops-templates", True)}
    assert [(p.name, p.repo, p.yaml_path, p.folder) for p in plan.pipelines.values()] == [
        ("example-model-ci", "model", "pipelines/model-ci.yml", "\\example"),
        ("example-app-ci", "app", "pipelines/app-ci.yml", "\\example"),
        ("example-training", "model", "pipelines/training.yml", "\\example"),
        ("example-release", "model", "pipelines/release.yml", "\\example"),
    ]
    assert plan.pipelines["release"].deploys_to == plan.deploy_targets
    prod = plan.environments["prod"]
    assert prod.connection.identity.resource_id == (
        f"/subscriptions/{prod.subscription_id}/resourceGroups/{prod.names.name('resource_group')}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{prod.names.name('user_assigned_identity', 'pipelines')}")
    assert plan.registry.name == org.namer(team_named(org), "shared").name("ml_registry")
    assert plan.registry.promoter == "staging"
    assert prod.profile.lock and prod.profile.data_replication == "GZRS"  # infra/profile.py, unchanged


def test_a_dev_only_team_releases_to_dev_ungated_and_promotes_from_dev(make_teams):
    plan = dev_only(make_teams)
    assert plan.deploy_targets == ("dev",) and plan.registry.promoter == "dev"
    assert plan.environments["dev"].gates == () and plan.environments["dev"].connection.gates == ()


def test_business_hours_are_the_last_prod_gate(make_teams):
    hours = "  business_hours: {start: '07:00', end: '19:00', time_zone: UTC, days: [monday, friday]}\n"
    text = (ORG / "example.yaml").read_text().replace("devops:\n", "devops:\n" + hours)
    org = load_org(make_teams({"example.yaml": text}))
    gate = team_plan(org, team_named(org)).environments["prod"].gates[-1]
    assert (gate.kind, gate.label) == ("business_hours", "business hours: mon, fri 07:00-19:00 UTC")


def test_network_placement_comes_from_the_profile():
    org = load_org(PRIVATE)
    (tf,) = org.teams
    plan = team_plan(org, tf.team)
    for env in plan.environments.values():
        assert env.network_mode == tf.team.environments[env.name].network.mode
        assert (env.profile.placement is not None) == (env.network_mode == "private")


def test_the_plan_is_frozen(example):
    _, _, plan = example
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.environments["prod"].gates = ()  # type: ignore[misc]


def test_the_plan_layer_imports_no_cdktf():
    code = ("import sys, infra.plan, infra.seeds, infra.diagram; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('cdktf', 'constructs', 'jsii')); "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_seeded_pipelines_extend_the_template_their_plan_names(example):
    org, team, plan = example
    files = render_seeds(plan, team)
    for p in plan.pipelines.values():
        assert f"template: {p.extends}@templates" in files[p.repo][p.yaml_path]
        assert p.extends in files["templates"]


def test_a_plan_that_disagrees_with_the_seeded_yaml_fails_rendering(example):
    """The required-template checks list the plan's paths: a seeded pipeline extending anything else
    would be refused by its own checks at run time, so rendering refuses it first."""
    _, team, plan = example
    pipes = dict(plan.pipelines)
    pipes["training"] = dataclasses.replace(pipes["training"], extends="pipelines/other.yml")
    with pytest.raises(ValueError, match=r"infra/assets/model/pipelines/training.yml: extends 'pipelines/training.yml', "
                                         r"the plan says 'pipelines/other.yml'"):
        render_seeds(dataclasses.replace(plan, pipelines=pipes), team)
