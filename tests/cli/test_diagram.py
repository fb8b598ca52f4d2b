"""The team diagram and wiki page: what they show, Azure DevOps wiki syntax, and agreement with the stacks."""

from __future__ import annotations

import re

import pytest

from infra.config import load_org
from infra.diagram import PIPELINE_REPO, PIPELINES, env_gates, team_diagram, wiki_page
from tests.conftest import ORG, REPO, synth_dir, team_named

HOURS = "  business_hours: {start: '07:00', end: '19:00', time_zone: UTC, days: [monday, friday]}\n"


def team_of(teams, name="example"):
    org = load_org(teams)
    return org, next(tf.team for tf in org.teams if tf.team.name == name)


def with_business_hours(make_teams, extra: str = ""):
    text = (ORG / "example.yaml").read_text().replace("devops:\n", "devops:\n" + HOURS) + extra
    return make_teams({"example.yaml": text})


def edges(diagram: str) -> list[tuple[str, str]]:
    found = []
    for line in diagram.splitlines():
        m = re.fullmatch(r"\s*(\w+) -(?:->|\.->)(?:\|[^|]*\|)? (\w+)", line)
        if m:
            found.append((m.group(1), m.group(2)))
    return found


def path_from(diagram: str, start: str) -> list[str]:
    """Follow the single chain of edges that leaves `start` through gates and environments."""
    nxt = {}
    for a, b in edges(diagram):
        if a == start or a.startswith(("gate_", "env_")):
            nxt[a] = b
    chain, node = [start], start
    while node in nxt:
        node = nxt[node]
        chain.append(node)
    return chain


def test_the_release_walks_staging_then_prod_through_their_gates():
    org, team = team_of(ORG)
    d = team_diagram(org, team)
    assert path_from(d, "p_release") == ["p_release", "gate_staging_0", "gate_staging_1", "env_staging",
                                         "gate_prod_0", "gate_prod_1", "gate_prod_2", "gate_prod_3", "env_prod"]
    assert 'gate_staging_0{{"branch control: only main, branch protection verified"}}' in d
    assert ('gate_prod_0{{"approval by approvers group 33333333-3333-3333-3333-333333333333: at least 1, '
            'not the requester, times out after 4320 min"}}') in d
    assert 'gate_staging_1{{"required template: only runs that extend the kit\'s templates' in d
    assert 'gate_prod_3{{"exclusive lock: one deployment at a time"}}' in d
    assert "business hours" not in d  # not configured for the example


def test_business_hours_appear_on_prod_when_configured(make_teams):
    org, team = team_of(with_business_hours(make_teams))
    d = team_diagram(org, team)
    assert 'gate_prod_4{{"business hours: mon, fri 07:00-19:00 UTC"}}' in d
    assert path_from(d, "p_release")[-2:] == ["gate_prod_4", "env_prod"]


def test_repos_feed_their_pipelines_and_the_event_flow_starts_training_and_release():
    org, team = team_of(ORG)
    d = team_diagram(org, team)
    e = set(edges(d))
    assert {("repo_model", "p_model_ci"), ("repo_model", "p_training"), ("repo_model", "p_release"),
            ("repo_app", "p_app_ci"), ("repo_app", "p_release")} <= e
    assert {("lake", "topic_lake"), ("topic_lake", "trigger"), ("trigger", "p_training"),
            ("p_training", "workspace"), ("workspace", "topic_ml"), ("topic_ml", "trigger"),
            ("trigger", "p_release"), ("p_release", "registry")} <= e
    assert 'lake[("data lake: raw/landing/*_SUCCESS")]' in d  # filesystem, prefix and marker from config
    assert 'registry[("Azure ML registry mlr-mlk-example-shr-' in d
    assert 'p_release["example-release"]' in d and 'repo_app["example-app"]' in d


def test_dev_only_team_releases_to_dev_without_gates(make_teams):
    text = (ORG / "example.yaml").read_text()
    dev_only = text.split("  staging:")[0] + text[text.index("data_lake:"):] + "registry: {host_environment: dev}\n"
    org, team = team_of(make_teams({"example.yaml": dev_only}))
    assert team.env_names == ["dev"]
    d = team_diagram(org, team)
    assert path_from(d, "p_release") == ["p_release", "env_dev"]
    assert "gate_" not in d


def test_diagram_uses_only_syntax_azure_devops_wikis_render():
    org, team = team_of(ORG)
    d = team_diagram(org, team)
    assert d.startswith("graph LR\n")  # `flowchart` is not understood by every ADO Mermaid build
    assert "<" not in d and ">" not in d.replace("-->", "").replace("-.->", "")  # no HTML
    assert "---->" not in d and "fa:" not in d  # no long arrows, no FontAwesome
    subgraphs = set(re.findall(r"subgraph (\w+)", d))
    assert subgraphs == {"repos", "pipelines", "envs"}
    assert not [edge for edge in edges(d) if set(edge) & subgraphs]  # no links to or from subgraphs
    assert d.count("subgraph ") == d.count("\n  end\n")


def test_wiki_page_uses_the_ado_mermaid_block_and_links_everything(make_teams):
    text = (ORG / "example.yaml").read_text().replace("devops:\n", "devops:\n  project_name: Fraud Detection\n")
    org, team = team_of(make_teams({"example.yaml": text}))
    page = wiki_page(org, team)
    assert page.startswith("# How your environment works\n")
    block = page.split("::: mermaid\n", 1)[1].split("\n:::\n", 1)[0]
    assert block == team_diagram(org, team).rstrip("\n")
    assert "```" not in page
    base = "https://dev.azure.com/contoso-ml/Fraud%20Detection"
    assert f"[example-model]({base}/_git/example-model)" in page
    assert f"[example-app]({base}/_git/example-app)" in page
    assert f"({base}/_build?definitionScope=%5Cexample)" in page
    assert f"[Environments]({base}/_environments)" in page
    assert "| prod | 00000000-0000-0000-0000-0000000000d3 | private | approval by approvers group" in page


def test_github_flavor_uses_a_fenced_block():
    org, team = team_of(ORG)
    page = wiki_page(org, team, fence="github")
    assert "```mermaid\ngraph LR\n" in page and "::: mermaid" not in page


def test_cli_writes_docs_teams_page_and_prints_its_path(cli, tmp_path):
    result = cli("diagram", "example", "--teams", ORG, "--out", tmp_path / "docs" / "teams")
    assert result.exit_code == 0, result.output
    path = tmp_path / "docs" / "teams" / "example.md"
    assert result.stdout.strip() == str(path)
    org, team = team_of(ORG)
    assert path.read_text() == wiki_page(org, team, fence="github")
    assert [p.name for p in path.parent.iterdir()] == ["example.md"]  # no temporary file left


def test_cli_unknown_team_is_a_user_error(cli):
    result = cli("diagram", "nope", "--teams", ORG)
    assert result.exit_code == 2
    assert result.stderr == (f"error: {ORG}: team 'nope' not found. Fix: use one of: example "
                             "(or create it: mlops-kit new-team nope)\n")


def test_committed_example_page_is_current():
    org, team = team_of(ORG)
    committed = REPO / "docs" / "teams" / "example.md"
    assert committed.read_text() == wiki_page(org, team, fence="github"), "run: mlops-kit diagram example"


# ------------------------------------------------------------------ agreement with what the stacks build
@pytest.fixture(scope="module")
def devops_stack(tmp_path_factory):
    """The example team's devops stack, with business hours so every kind of check exists."""
    teams = tmp_path_factory.mktemp("teams")
    for f in ORG.glob("*.yaml"):
        (teams / f.name).write_text(f.read_text())
    example = teams / "example.yaml"
    example.write_text(example.read_text().replace("devops:\n", "devops:\n" + HOURS))
    out = tmp_path_factory.mktemp("out")
    return load_org(teams), synth_dir(teams, out, ["example-devops"])["example-devops"]


def test_gates_match_the_checks_the_devops_stack_creates(devops_stack):
    org, doc = devops_stack
    team = team_named(org)
    resources = doc["resource"]
    env_names = {f"${{azuredevops_environment.{addr}.id}}": r["name"]
                 for addr, r in resources["azuredevops_environment"].items()}
    built: dict[str, set[str]] = {env: set() for env in env_names.values()}
    for rtype, items in resources.items():
        if rtype.startswith("azuredevops_check_"):
            for r in items.values():
                if r["target_resource_id"] in env_names:
                    built[env_names[r["target_resource_id"]]].add(rtype.removeprefix("azuredevops_check_"))
    shown = {env: {g.kind for g in env_gates(team, env)} for env in team.env_names}
    assert shown == built
    assert "business_hours" in built["prod"]


def test_pipelines_and_repos_match_the_devops_stack(devops_stack):
    org, doc = devops_stack
    team = team_named(org)
    resources = doc["resource"]
    repo_name = {f"${{azuredevops_git_repository.{addr}.id}}": r["name"]
                 for addr, r in resources["azuredevops_git_repository"].items()}
    built = {r["name"]: (repo_name[r["repository"][0]["repo_id"]], r["path"])
             for r in resources["azuredevops_build_definition"].values()}
    shown = {f"{team.name}-{p}": (f"{team.name}-{PIPELINE_REPO[p]}", f"\\{team.name}") for p in PIPELINES}
    assert shown == built  # same names, same repos, folder \<team> (the page's definitionScope link)
