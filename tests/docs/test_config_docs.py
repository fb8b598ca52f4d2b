"""docs/configuration.md and docs/schema/*.schema.json are generated from infra/config.py and must not drift from it."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from infra import config
from infra.config import ConfigError, Team, load_org
from scripts import gen_config_docs as gen
from tests.conftest import ORG, REPO, TEAMS

FIXTURES = REPO / "tests" / "fixtures"
TEAM_FIXTURES = [ORG / "example.yaml", FIXTURES / "private-team" / "secure.yaml"]
PLATFORM_FIXTURES = [ORG / "platform.yaml", FIXTURES / "private-team" / "platform.yaml"]


def test_committed_doc_matches_the_generator():
    assert gen.OUTPUT.read_text(encoding="utf-8") == gen.render(), (
        "docs/configuration.md is stale. Fix: .venv/bin/python scripts/gen_config_docs.py"
    )


def test_every_key_has_a_description():
    assert gen.missing_descriptions() == [], "add `Field(description=...)` to these fields in infra/config.py"


def test_every_field_of_every_config_model_describes_itself():
    models = [m for m in vars(config).values()
              if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == config.__name__]
    assert len(models) > 15
    bare = [f"{m.__name__}.{name}" for m in models for name, f in m.model_fields.items() if not f.description]
    assert bare == [], "add Field(description=...) in infra/config.py"


def test_committed_schemas_match_the_generator():
    for kind, name in gen.SCHEMA_FILES.items():
        committed = (REPO / "docs" / "schema" / name).read_text(encoding="utf-8")
        assert json.loads(committed) == gen.schema(kind), f"docs/schema/{name} is stale. Fix: " \
            ".venv/bin/python scripts/gen_config_docs.py"
        assert committed == gen.outputs()[gen.schema_path(kind)]


def _validator(kind: str) -> jsonschema.Draft7Validator:
    schema = json.loads(gen.schema_path(kind).read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_a_ref_has_no_sibling_that_draft_07_would_ignore():
    """Draft-07 ignores a `$ref`'s siblings: only annotations (shown by editors, never checked) may sit there."""

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield set(node) - {"$ref"}
            for v in node.values():
                yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    siblings = [s for kind in gen.SCHEMA_FILES for s in refs(gen.schema(kind))]
    assert siblings and set().union(*siblings) <= {"description", "default", "title"}


@pytest.mark.parametrize("kind, path", [*(("team", p) for p in TEAM_FIXTURES),
                                        *(("platform", p) for p in PLATFORM_FIXTURES)])
def test_the_fixture_files_validate_against_their_schema(kind, path):
    errors = [e.message for e in _validator(kind).iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize("where", [(), ("environments", "dev"), ("environments", "prod", "network"), ("devops",)])
def test_an_unknown_key_is_refused_by_the_schema_as_by_the_models(where):
    data = yaml.safe_load((ORG / "example.yaml").read_text())
    node = data
    for key in where:
        node = node[key]
    node["colour"] = "blue"
    errors = list(_validator("team").iter_errors(data))
    assert [(e.validator, list(e.absolute_path)) for e in errors] == [("additionalProperties", list(where))]
    assert "'colour' was unexpected" in errors[0].message
    with pytest.raises(Exception, match="extra_forbidden"):
        Team.model_validate(data)


def test_schema_checks_values_and_map_keys_like_the_models():
    data = yaml.safe_load((ORG / "example.yaml").read_text())
    bad = copy.deepcopy(data)
    bad["environments"]["qa"] = copy.deepcopy(bad["environments"]["dev"])  # not dev/staging/prod
    bad["environments"]["dev"]["subscription_id"] = "not-a-guid"
    bad["devops"]["min_reviewers"] = 1  # below the model's ge=2
    found = {(e.validator, ".".join(map(str, e.absolute_path))) for e in _validator("team").iter_errors(bad)}
    assert found == {("enum", "environments"), ("pattern", "environments.dev.subscription_id"),
                     ("minimum", "devops.min_reviewers")}
    platform = yaml.safe_load((ORG / "platform.yaml").read_text())
    platform["default_tags"] = {"a/b": "x"}  # `/` is not allowed in an Azure tag name: no pattern key matches
    assert [e.validator for e in _validator("platform").iter_errors(platform)] == ["additionalProperties"]


def _patterns(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "pattern":
                yield v
            if k == "patternProperties":
                yield from v
            yield from _patterns(v)
    elif isinstance(node, list):
        for v in node:
            yield from _patterns(v)


@pytest.mark.skipif(shutil.which("node") is None, reason="node (the cdktf runtime) is not installed")
def test_schema_patterns_mean_in_javascript_what_the_models_mean_in_python():
    """Editors run the patterns in JavaScript (`new RegExp(p, "u")`): each must compile there and accept and
    refuse the same sample values as the model's python-re pattern (`\\A...\\Z` rewritten to `^...$`)."""
    patterns = sorted({p for kind in gen.SCHEMA_FILES for p in _patterns(gen.schema(kind))})
    assert patterns and not [p for p in patterns if "\\A" in p or "\\Z" in p]

    def leaves(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield str(k)
                yield from leaves(v)
        elif isinstance(node, list):
            for v in node:
                yield from leaves(v)
        elif isinstance(node, str):
            yield node

    values = {v for p in [*TEAM_FIXTURES, *PLATFORM_FIXTURES] for v in leaves(yaml.safe_load(p.read_text()))}
    samples = sorted(values | {v + "\n" for v in values} | {"A" + v for v in values} | {"", "landing/../x/", "a--b"})
    script = ("const [ps, ss] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(ps.map(p => { const r = new RegExp(p, 'u'); return ss.map(s => r.test(s)); })));")
    node = subprocess.run(["node", "-e", script], input=json.dumps([patterns, samples]), capture_output=True,
                          text=True, check=True, timeout=60)
    in_js = json.loads(node.stdout)
    for pattern, js in zip(patterns, in_js, strict=True):
        python = [re.search(rf"\A{pattern[1:-1]}\Z", s) is not None for s in samples]
        differ = [s for s, a, b in zip(samples, python, js, strict=True) if a != b]
        assert differ == [], (pattern, differ[:3])
    assert any(any(row) for row in in_js) and not all(all(row) for row in in_js)


@pytest.mark.parametrize("kind, path", [*(("team", p) for p in TEAM_FIXTURES),
                                        *(("platform", p) for p in PLATFORM_FIXTURES)])
def test_the_fixture_files_name_their_schema(kind, path):
    # On the last line: the tests assert YAML line numbers of these files, and the language server reads a
    # modeline from any line comment (yaml-language-server, modelineUtil.ts: doc.lineComments.find(isModeline)).
    last = path.read_text().splitlines()[-1]
    assert last == gen.modeline(path, kind)
    target = (path.parent / last.split("$schema=", 1)[1]).resolve()
    assert target == gen.schema_path(kind).resolve() and target.is_file()


def test_new_team_files_name_the_schema_and_validate_against_it(make_teams):
    from scripts.new_team import EnvAnswers, TeamAnswers, create_team_file

    teams = make_teams()
    g = "00000000-0000-0000-0000-0000000000"
    path, _ = create_team_file(teams, TeamAnswers(name="fraud", display_name="Fraud", cost_center="CC-1",
                                                  data_scientists=g + "01", app_developers=g + "02",
                                                  environments={"dev": EnvAnswers(subscription_id=g + "03")}))
    first, *_ = path.read_text().splitlines()
    assert first.startswith("# yaml-language-server: $schema=")
    assert (path.parent / first.split("$schema=", 1)[1]).resolve() == gen.schema_path("team").resolve()
    assert [e.message for e in _validator("team").iter_errors(yaml.safe_load(path.read_text()))] == []


def test_every_key_of_the_example_is_documented():
    doc = gen.render()

    def paths(data, prefix=""):
        for k, v in data.items():
            key = "<env>" if prefix == "environments." else k
            yield f"{prefix}{key}"
            if isinstance(v, dict) and not k.endswith(("tags", "features", "zone_ids")):
                yield from paths(v, f"{prefix}{key}.")

    for name in ("platform.yaml", "example.yaml"):
        for path in paths(yaml.safe_load((TEAMS / name).read_text())):
            if path != "environments.<env>":
                assert f"| `{path}` |" in doc, path


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "configuration.md"
    stale.write_text("old\n")
    monkeypatch.setattr(gen, "OUTPUT", stale)
    monkeypatch.setattr(gen, "REPO", tmp_path)
    assert gen.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "configuration.md is stale. Fix: .venv/bin/python scripts/gen_config_docs.py" in err
    assert "schema/team.schema.json is stale" in err and "schema/platform.schema.json is stale" in err
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0
    assert json.loads((tmp_path / "schema" / "team.schema.json").read_text()) == gen.schema("team")
    (tmp_path / "schema" / "platform.schema.json").write_text("{}\n")
    assert gen.main(["--check"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "schema/platform.schema.json is stale. Fix: .venv/bin/python scripts/gen_config_docs.py"
    ]


# Each documented rule across keys, broken once: the config must refuse it.
G = "44444444-4444-4444-4444-44444444444"
SUBNET = "/subscriptions/00000000-0000-0000-0000-0000000000d3/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"


def team_yaml(envs: str, extra: str = "", name: str = "rules", approvers: bool = True) -> str:
    groups = f"groups: {{data_scientists: {G}1, app_developers: {G}2" + (f", approvers: {G}3}}" if approvers else "}")
    if "registry:" not in extra and "prod:" not in envs:
        extra += "registry: {host_environment: dev}\n"
    return f"name: {name}\ndisplay_name: R\ncost_center: C\n{groups}\nenvironments:\n{envs}{extra}"


DEV = f"  dev: {{subscription_id: {G}5}}\n"
PROD = f"  prod: {{subscription_id: {G}6}}\n"


@pytest.mark.parametrize("rule, text, field", [
    (0, team_yaml(PROD), "environments"),
    (1, team_yaml(DEV + PROD, approvers=False), "groups.approvers"),
    (2, team_yaml(DEV, "triggers: {training: {filesystem: gold}}\n"), "triggers.training.filesystem"),
    (2, team_yaml(DEV, "data_lake: {filesystems: [raw, raw]}\n"), "data_lake.filesystems"),
    (3, team_yaml(DEV, "registry: {host_environment: staging}\n"), "registry.host_environment"),
    (4, team_yaml(f"  dev: {{subscription_id: {G}5, network: {{mode: private}}}}\n"),
     "environments.dev.network.private_endpoint_subnet_id"),
    (4, team_yaml(f"  dev: {{subscription_id: {G}5, network: {{compute_subnet_id: '{SUBNET}'}}}}\n"),
     "environments.dev.network.mode"),
    (5, team_yaml(DEV, name="a" * 32), "name"),
    (5, team_yaml(DEV, name="example"), "name"),  # same team name as teams/example.yaml
])
def test_each_documented_rule_is_enforced(make_teams, rule, text, field):
    assert rule < len(gen.RULES)
    teams = make_teams({"rules.yaml": text})
    with pytest.raises(ConfigError) as e:
        load_org(teams)
    assert {line.split(": ")[1] for line in e.value.lines if "rules.yaml: " in line} == {field}, e.value.lines
