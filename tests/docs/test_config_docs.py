"""docs/configuration.md is generated from infra/config.py and must not drift from it."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, Platform, Team, load_org
from scripts import gen_config_docs as gen
from tests.conftest import TEAMS


def test_committed_doc_matches_the_generator():
    assert gen.OUTPUT.read_text(encoding="utf-8") == gen.render(), (
        "docs/configuration.md is stale. Fix: .venv/bin/python scripts/gen_config_docs.py"
    )


def test_every_key_has_a_description():
    assert gen.missing_descriptions() == [], "add them to DESCRIPTIONS in scripts/gen_config_docs.py"


def test_no_description_for_a_key_that_no_longer_exists():
    described = {key for key in gen.DESCRIPTIONS}
    existing = set()
    for model in (Platform, Team):
        stack = [model]
        while stack:
            m = stack.pop()
            for name, f in m.model_fields.items():
                existing.add(f"{m.__name__}.{name}")
                sub, _ = gen._nested(f.annotation)
                if sub is not None:
                    stack.append(sub)
    assert described - existing == set()


def test_every_key_of_the_example_is_documented():
    doc = gen.render()

    def paths(data, prefix=""):
        for k, v in data.items():
            key = "<env>" if prefix == "environments." else k
            yield f"{prefix}{key}"
            if isinstance(v, dict) and not k.endswith(("tags", "features", "zone_ids")):
                yield from paths(v, f"{prefix}{key}.")

    import yaml

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
    assert "configuration.md is stale. Fix: .venv/bin/python scripts/gen_config_docs.py" in capsys.readouterr().err
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


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
