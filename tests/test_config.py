"""Config rules and their messages: one line each, naming the file, the field and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.config import ConfigError, load_org
from infra.naming import Namer
from tests.conftest import REPO, TEAMS

EXAMPLE = (TEAMS / "example.yaml").read_text()


def example_with(**changes) -> str:
    """The example team with top-level keys replaced (None deletes a key)."""
    data = yaml.safe_load(EXAMPLE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False)


def errors_for(make_teams, files: dict[str, str | None]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_org(make_teams(files))
    for line in exc.value.lines:
        assert "\n" not in line
        assert "Fix:" in line, line
    return exc.value.lines


def test_example_config_is_valid():
    org = load_org(TEAMS)
    (team,) = [tf.team for tf in org.teams]
    assert team.name == "example"
    assert team.env_names == ["dev", "staging", "prod"]
    assert team.environments["prod"].private and not team.environments["dev"].private


def test_unknown_key_is_rejected_with_its_path(make_teams):
    text = EXAMPLE.replace("  dev:\n", "  dev:\n    subscripton_id: 00000000-0000-0000-0000-0000000000d1\n", 1)
    (line,) = errors_for(make_teams, {"example.yaml": text})
    assert "example.yaml: environments.dev.subscripton_id: unknown key. Fix: remove it or check its spelling" in line


def test_prod_requires_approvers(make_teams):
    text = EXAMPLE.replace("  approvers: 33333333-3333-3333-3333-333333333333\n", "")
    (line,) = errors_for(make_teams, {"example.yaml": text})
    assert "example.yaml: groups.approvers: prod requires an approvers group. Fix: add `approvers:" in line


def test_team_without_prod_needs_no_approvers(make_teams):
    data = yaml.safe_load(EXAMPLE)
    del data["environments"]["prod"]
    del data["groups"]["approvers"]
    data["registry"] = {"host_environment": "staging"}
    org = load_org(make_teams({"example.yaml": yaml.safe_dump(data)}))
    assert org.teams[0].team.env_names == ["dev", "staging"]


def test_private_mode_requires_subnets(make_teams):
    text = EXAMPLE.replace("    network: {mode: public}\n    compute: {vm_size: Standard_DS3_v2, vm_priority", "    network: {mode: private}\n    compute: {vm_size: Standard_DS3_v2, vm_priority")
    lines = errors_for(make_teams, {"example.yaml": text})
    assert any("environments.dev.network.private_endpoint_subnet_id: private mode needs a subnet" in x for x in lines)


def test_subnets_in_public_mode_are_rejected(make_teams):
    text = EXAMPLE.replace("      mode: private\n", "      mode: public\n")
    (line,) = errors_for(make_teams, {"example.yaml": text})
    assert "environments.prod.network.mode: subnet ids are only used in private mode. Fix: set `mode: private`" in line


def test_bad_guid_names_the_field_and_shows_the_format(make_teams):
    text = EXAMPLE.replace("data_scientists: 11111111-1111-1111-1111-111111111111", "data_scientists: ml-team")
    (line,) = errors_for(make_teams, {"example.yaml": text})
    assert "groups.data_scientists: invalid value 'ml-team'. Fix: use the object/subscription/tenant id GUID" in line


def test_unknown_environment_name(make_teams):
    text = EXAMPLE.replace("  staging:\n", "  qa:\n")
    (line,) = errors_for(make_teams, {"example.yaml": text})
    assert "environments.qa" in line and "Fix: use 'dev', 'staging' or 'prod'" in line


def test_literal_values_list_the_choices(make_teams):
    text = EXAMPLE.replace("vm_priority: LowPriority", "vm_priority: Spot")
    (line,) = errors_for(make_teams, {"example.yaml": text})
    assert "environments.dev.compute.vm_priority: invalid value 'Spot'. Fix: use 'Dedicated' or 'LowPriority'" in line


def test_name_over_an_azure_limit_shows_the_computed_name(make_teams):
    lines = errors_for(make_teams, {"example.yaml": example_with(name="recommendations")})
    kv = Namer("mlk", "recommendations", "prod").name("key_vault")
    assert len(kv) > 24
    assert any(f"Key Vault name '{kv}' is {len(kv)} characters, Azure allows 3-24" in x for x in lines)
    assert all(x.split(": ")[0].endswith("example.yaml") for x in lines)


def test_filesystem_must_exist_for_the_training_trigger(make_teams):
    text = EXAMPLE.replace("training: {filesystem: raw,", "training: {filesystem: bronze,")
    (line,) = errors_for(make_teams, {"example.yaml": text})
    assert "triggers.training.filesystem: 'bronze' is not a data-lake filesystem. Fix: use one of ['raw', 'curated']" in line


def test_two_files_with_the_same_team_name_collide(make_teams):
    lines = errors_for(make_teams, {"copy.yaml": EXAMPLE})
    assert any("example.yaml: name: team name 'example' is also computed for" in x and "copy.yaml" in x for x in lines)


def test_teams_whose_global_names_collide_are_rejected(make_teams):
    """Hyphens vanish in compact names; find two real team names whose suffixes also collide."""
    first, second = _colliding_team_names()
    files = {"a.yaml": example_with(name=first), "b.yaml": example_with(name=second)}
    lines = errors_for(make_teams, {"example.yaml": None, **files})
    assert any("storage account" in x and "is also computed for" in x for x in lines), lines


def _colliding_team_names() -> tuple[str, str]:
    """Hyphenations of one base share compact names; search them for equal suffixes too."""
    from itertools import combinations

    for n in range(100):
        base = f"team{n:06d}"
        seen: dict[str, str] = {}
        for hyphens in range(4):
            for cuts in combinations(range(1, len(base)), hyphens):
                name = "".join(("-" if i in cuts else "") + c for i, c in enumerate(base))
                for env in ("dev", "staging", "prod"):
                    storage = Namer("mlk", name, env).name("ml_storage")
                    if storage in seen:
                        return seen[storage], name
                    seen[storage] = name
    raise AssertionError("no collision found")


def test_yaml_syntax_error_names_the_line(make_teams):
    (line,) = errors_for(make_teams, {"example.yaml": EXAMPLE.replace("name: example", "name: [example")})
    assert "example.yaml: line" in line and "not valid YAML" in line


def test_platform_errors_name_platform_yaml(make_teams):
    text = (TEAMS / "platform.yaml").read_text().replace("naming_prefix: mlk", "naming_prefix: MLK-1")
    (line,) = errors_for(make_teams, {"platform.yaml": text})
    assert "platform.yaml: naming_prefix: invalid value 'MLK-1'" in line


def test_missing_required_field(make_teams):
    (line,) = errors_for(make_teams, {"example.yaml": example_with(cost_center=None)})
    assert "example.yaml: cost_center: required field is missing. Fix: add `cost_center:`" in line


def test_main_prints_one_line_per_error_and_no_traceback(make_teams):
    teams = make_teams({"example.yaml": EXAMPLE.replace("vm_priority: LowPriority", "vm_priority: Spot")})
    proc = subprocess.run(
        [sys.executable, "main.py"], cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**_env(), "MLOPS_KIT_TEAMS_DIR": str(teams)},
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [x for x in proc.stderr.splitlines() if x.startswith("error: ")]
    assert len(errors) == 1 and "vm_priority" in errors[0]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "MLOPS_KIT_STACKS"}


def test_missing_teams_folder(tmp_path: Path):
    with pytest.raises(ConfigError) as exc:
        load_org(tmp_path / "nowhere")
    assert "folder not found. Fix:" in exc.value.lines[0]
