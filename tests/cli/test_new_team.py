"""`mlops-kit new-team`: a valid teams/NAME.yaml, or no change to teams/ at all."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.config import Network, load_org
from scripts.cli import SUBNET_FLAGS
from scripts.new_team import SUBNET_FIELDS, EnvAnswers, TeamAnswers, render

G1, G2, G3 = ("aaaaaaaa-0000-0000-0000-00000000000" + c for c in "123")
SUB = {"dev": "bbbbbbbb-0000-0000-0000-0000000000d1", "staging": "bbbbbbbb-0000-0000-0000-0000000000d2",
       "prod": "bbbbbbbb-0000-0000-0000-0000000000d3"}
SUBNET = "/subscriptions/" + SUB["prod"] + "/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/"


def flags(**over: str | None) -> list[str]:
    """Flags of a complete non-interactive dev+prod team; `over` replaces (None removes) a flag."""
    base = {"--display-name": "Fraud ML", "--cost-center": "CC-42", "--data-scientists": G1,
            "--app-developers": G2, "--approvers": G3, "--dev-subscription": SUB["dev"],
            "--prod-subscription": SUB["prod"]}
    base.update(over)
    return [x for k, v in base.items() if v is not None for x in (k, v)] + ["--yes"]


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_creates_a_file_that_validates_with_the_org(cli, make_teams):
    teams = make_teams()
    result = cli("new-team", "fraud", "--teams", teams, *flags())
    assert result.exit_code == 0, result.output
    path = teams / "fraud.yaml"
    assert f"created {path}" in result.stdout
    assert "mlops-kit synth 'fraud-*'" in result.stdout and "mlops-kit preflight" in result.stdout
    team = next(tf.team for tf in load_org(teams).teams if tf.team.name == "fraud")
    assert (team.display_name, team.cost_center) == ("Fraud ML", "CC-42")
    assert (team.groups.data_scientists, team.groups.app_developers, team.groups.approvers) == (G1, G2, G3)
    assert team.env_names == ["dev", "prod"]
    assert team.environments["prod"].subscription_id == SUB["prod"]
    assert all(team.environments[e].network.mode == "public" for e in team.env_names)
    assert sorted(p.name for p in teams.iterdir()) == ["example.yaml", "fraud.yaml", "platform.yaml"]


@pytest.mark.parametrize("extra, host", [([], "dev"), (["--staging-subscription", SUB["staging"]], "staging")])
def test_team_without_prod_hosts_its_registry_in_its_last_environment(cli, make_teams, extra, host):
    teams = make_teams()
    result = cli("new-team", "fraud", "--teams", teams, *flags(**{"--prod-subscription": None}), *extra)
    assert result.exit_code == 0, result.output
    team = next(tf.team for tf in load_org(teams).teams if tf.team.name == "fraud")
    assert "prod" not in team.env_names and team.registry.host_environment == host


def test_private_network_per_environment(cli, make_teams):
    teams = make_teams()
    subnet_flags = [x for f, flag in SUBNET_FLAGS.items() for x in (flag, f"prod={SUBNET}{f}")]
    result = cli("new-team", "fraud", "--teams", teams, *flags(), "--network", "prod=private", *subnet_flags)
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((teams / "fraud.yaml").read_text())
    assert data["environments"]["dev"]["network"] == {"mode": "public"}
    assert data["environments"]["prod"]["network"] == {"mode": "private", **{f: f"{SUBNET}{f}" for f in SUBNET_FLAGS}}


def test_every_subnet_of_the_config_has_a_flag():
    assert set(SUBNET_FLAGS) == set(SUBNET_FIELDS) == {f for f in Network.model_fields if f.endswith("_subnet_id")}


def test_private_without_subnets_is_refused_naming_the_flag(cli, make_teams):
    teams = make_teams()
    before = listing(teams)
    result = cli("new-team", "fraud", "--teams", teams, *flags(), "--network", "private")
    assert result.exit_code == 2
    assert "error: new-team: --private-endpoint-subnet: dev is private and needs its subnet. " \
           "Fix: pass --private-endpoint-subnet dev=<subnet resource id>" in result.stderr
    assert listing(teams) == before


def test_refuses_to_overwrite_without_force(cli, make_teams):
    teams = make_teams()
    before = listing(teams)
    result = cli("new-team", "example", "--teams", teams, *flags())
    assert result.exit_code == 2
    assert result.stderr == (f"error: {teams}/example.yaml: file exists. "
                             "Fix: choose another team name, or pass --force to replace it\n")
    assert listing(teams) == before


def test_force_replaces_an_existing_team(cli, make_teams):
    teams = make_teams()
    result = cli("new-team", "example", "--teams", teams, *flags(), "--force")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((teams / "example.yaml").read_text())["display_name"] == "Fraud ML"


def test_invalid_values_write_nothing_and_name_the_final_file(cli, make_teams):
    teams = make_teams()
    before = listing(teams)
    result = cli("new-team", "fraud", "--teams", teams, *flags(**{"--data-scientists": "not-a-guid",
                                                                 "--dev-subscription": "nope"}))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert f"error: {teams}/fraud.yaml: groups.data_scientists: invalid value 'not-a-guid'. Fix: use the " \
           "object/subscription/tenant id GUID, e.g. 00000000-0000-0000-0000-000000000000" in lines
    assert any(ln.startswith(f"error: {teams}/fraud.yaml: environments.dev.subscription_id: ") for ln in lines)
    assert ".new" not in result.stderr  # the temporary file's name never shows
    assert listing(teams) == before  # no file, no temporary left behind


def test_failed_force_keeps_the_original_file(cli, make_teams):
    teams = make_teams()
    before = listing(teams)
    result = cli("new-team", "example", "--teams", teams, *flags(**{"--approvers": "x"}), "--force")
    assert result.exit_code == 2
    assert "groups.approvers: invalid value 'x'" in result.stderr
    assert listing(teams) == before


def test_names_too_long_for_azure_are_refused(cli, make_teams):
    teams = make_teams()
    before = listing(teams)
    name = "a" * 30
    result = cli("new-team", name, "--teams", teams, *flags())
    assert result.exit_code == 2
    assert f"error: {teams}/{name}.yaml: name: Key Vault name" in result.stderr
    assert "Fix: choose a shorter team name" in result.stderr
    assert listing(teams) == before


@pytest.mark.parametrize("name", ["Fraud", "1abc", "a", "../escape", "x_y", "ends-"])
def test_invalid_team_names_are_refused_before_anything_else(cli, make_teams, name):
    teams = make_teams()
    result = cli("new-team", name, "--teams", teams, "--yes")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {teams}/{name}.yaml: name: invalid team name {name!r}. Fix: use 2-32")
    assert not (teams.parent / "escape.yaml").exists()


def test_yes_lists_every_missing_flag(cli, make_teams):
    teams = make_teams()
    result = cli("new-team", "fraud", "--teams", teams, "--yes", "--prod-subscription", SUB["prod"])
    assert result.exit_code == 2
    missing = [ln.split(":")[2].strip() for ln in result.stderr.splitlines()]
    assert missing == ["--display-name", "--cost-center", "--data-scientists", "--app-developers",
                       "--dev-subscription", "--approvers"]
    assert "prod needs an approvers group" in result.stderr


def test_bad_environment_in_a_flag_is_a_user_error(cli, make_teams):
    result = cli("new-team", "fraud", "--teams", make_teams(), *flags(), "--network", "qa=private")
    assert result.exit_code == 2
    assert "--network 'qa=private': expected ENV=VALUE with ENV dev, staging or prod" in result.stderr


def test_interactive_prompts_for_what_the_flags_leave_out(cli, make_teams):
    teams = make_teams()
    answers = ["Fraud ML", "CC-42", G1, G2, SUB["dev"], "", SUB["prod"], G3, "public", "private",
               *(f"{SUBNET}{f}" for f in SUBNET_FIELDS)]
    result = cli("new-team", "fraud", "--teams", teams, input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    team = next(tf.team for tf in load_org(teams).teams if tf.team.name == "fraud")
    assert team.env_names == ["dev", "prod"]  # staging was skipped with an empty answer
    assert team.environments["prod"].network.compute_subnet_id == f"{SUBNET}compute_subnet_id"
    assert "Subscription id of staging (empty: no such environment)" in result.stdout


def test_collision_with_another_team_is_reported(cli, make_teams):
    teams = make_teams()
    # A second file with the same team name inside: every globally unique name collides.
    (teams / "copy.yaml").write_text((teams / "example.yaml").read_text())
    result = cli("new-team", "fraud", "--teams", teams, *flags())
    assert result.exit_code == 2
    assert "is also computed for" in result.stderr
    assert not (teams / "fraud.yaml").exists()


def test_render_quotes_free_text_so_it_stays_one_value():
    text = render(TeamAnswers(name="fraud", display_name='Fraud: "ML" # team', cost_center="CC: 1",
                              data_scientists=G1, app_developers=G2,
                              environments={"dev": EnvAnswers(subscription_id=SUB["dev"])}))
    data = yaml.safe_load(text)
    assert data["display_name"] == 'Fraud: "ML" # team' and data["cost_center"] == "CC: 1"
    assert text.startswith("# Team fraud: created by `mlops-kit new-team`.")
