"""The team diagram and wiki page: what they show, Azure DevOps wiki syntax, and that they draw the
plan the devops stack applied (infra/plan.py: one plan, read by both)."""

from __future__ import annotations

import re

import pytest

from infra.config import load_org
from infra.diagram import team_diagram, wiki_page
from infra.plan import Approval, BranchControl, BusinessHours, ExclusiveLock, RequiredTemplate, team_plan
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


# ------------------------------------------------------------------ the diagram shows what the stack applied
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


def checks_by_target(doc: dict) -> dict[str, dict[str, dict]]:
    """{environment name or connection name: {check kind: the check's arguments}} of the synthesized stack."""
    resources = doc["resource"]
    targets = {f"${{azuredevops_environment.{a}.id}}": r["name"] for a, r in resources["azuredevops_environment"].items()}
    targets |= {f"${{azuredevops_serviceendpoint_azurerm.{a}.id}}": r["service_endpoint_name"]
                for a, r in resources["azuredevops_serviceendpoint_azurerm"].items()}
    found: dict[str, dict[str, dict]] = {}
    for rtype, items in resources.items():
        if rtype.startswith("azuredevops_check_"):
            for r in items.values():
                kind = rtype.removeprefix("azuredevops_check_")
                assert kind not in found.setdefault(targets[r["target_resource_id"]], {}), (kind, r)
                found[targets[r["target_resource_id"]]][kind] = r
    return found


def gate_arguments(gate) -> dict:
    """What a plan gate says its check holds, in the provider's argument names."""
    match gate:
        case Approval():
            return {"minimum_required_approvers": gate.minimum_approvers, "timeout": gate.timeout_minutes,
                    "instructions": gate.instructions, "requester_can_approve": False}
        case BranchControl():
            return {"allowed_branches": gate.branch, "verify_branch_protection": True}
        case RequiredTemplate():
            return {"required_template": [{"repository_type": "azuregit", "repository_name": gate.repository,
                                           "repository_ref": gate.ref, "template_path": p} for p in gate.paths]}
        case ExclusiveLock():
            return {"timeout": gate.timeout_minutes}
        case BusinessHours():
            return {"start_time": gate.start, "end_time": gate.end, "time_zone": gate.time_zone,
                    **{d: d in gate.days for d in ("monday", "tuesday", "friday", "sunday")}}


def test_the_stack_creates_exactly_the_plans_gates_on_environments_and_connections(devops_stack):
    """Driven from the plan: every gate of every environment and connection is one check with the
    gate's values, and there is no check the plan does not list."""
    org, doc = devops_stack
    plan = team_plan(org, team_named(org))
    built = checks_by_target(doc)
    expected = {env.name: env.gates for env in plan.environments.values() if env.gates}
    expected |= {env.connection.name: env.connection.gates for env in plan.environments.values() if env.connection.gates}
    assert {t: set(kinds) for t, kinds in built.items()} == {t: {g.kind for g in gates} for t, gates in expected.items()}
    for target, gates in expected.items():
        for gate in gates:
            check = built[target][gate.kind]
            assert {k: check[k] for k in gate_arguments(gate)} == gate_arguments(gate), (target, gate.kind)
    assert {"approval", "business_hours", "exclusive_lock"} <= set(built["prod"])  # every kind is exercised


def test_the_diagram_shows_the_checks_the_stack_created_in_the_release_order(devops_stack):
    org, doc = devops_stack
    team = team_named(org)
    plan, built = team_plan(org, team), checks_by_target(doc)
    labels = dict(re.findall(r'^  (gate_\w+)\{\{"(.*)"\}\}$', team_diagram(org, team), re.M))
    walk = [n for n in path_from(team_diagram(org, team), "p_release") if n.startswith("gate_")]
    shown = [labels[n].replace("#quot;", '"') for n in walk]
    applied = [g.label for env in plan.deploy_targets for g in plan.environments[env].gates
               if g.kind in built.get(env, {})]
    assert shown == applied and len(shown) == sum(len(built.get(env, {})) for env in plan.deploy_targets)


def test_pipelines_and_repos_in_the_stack_are_the_plans(devops_stack):
    org, doc = devops_stack
    plan = team_plan(org, team_named(org))
    resources = doc["resource"]
    repos = {f"${{azuredevops_git_repository.{a}.id}}": r for a, r in resources["azuredevops_git_repository"].items()}
    assert {(r["name"], r["default_branch"]) for r in repos.values()} == {
        (r.name, r.default_branch) for r in plan.repos.values()}
    built = {(d["name"], repos[d["repository"][0]["repo_id"]]["name"], d["path"], d["repository"][0]["yml_path"],
              d["repository"][0]["branch_name"]) for d in resources["azuredevops_build_definition"].values()}
    assert built == {(p.name, plan.repos[p.repo].name, p.folder, p.yaml_path, p.branch)
                     for p in plan.pipelines.values()}
    # the page's "all pipelines" link scopes to the folder the definitions are in
    assert {d["path"] for d in resources["azuredevops_build_definition"].values()} == {"\\example"}
    assert "definitionScope=%5Cexample)" in wiki_page(org, team_named(org))
