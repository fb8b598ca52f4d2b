"""CAF names: abbreviations, Azure limits and charsets, the deterministic uniqueness suffix."""

from __future__ import annotations

import re

import pytest

from infra.naming import RULES, Namer, suffix


def test_names_follow_caf_abbreviations_and_env_codes():
    n = Namer("mlk", "example", "prod").all_names()
    assert n["resource_group"] == "rg-mlk-example-prd"
    assert n["ml_workspace"] == "mlw-mlk-example-prd"
    assert n["log_analytics"].startswith("log-") and n["app_insights"].startswith("appi-")
    assert re.fullmatch(r"kvmlkexampleprd[0-9a-f]{4}", n["key_vault"])
    assert re.fullmatch(r"crmlkexampleprd[0-9a-f]{4}", n["container_registry"])
    assert re.fullmatch(r"stmlkexampleprd[0-9a-f]{4}", n["ml_storage"])


def test_every_example_name_satisfies_its_azure_rule():
    for env in ("dev", "staging", "prod"):
        namer = Namer("mlk", "example", env)
        for kind, rule in RULES.items():
            name = namer.name(kind)
            assert namer.problem(kind) is None, name
            assert rule.min_len <= len(name) <= rule.max_len and re.fullmatch(rule.pattern, name)


def test_suffix_is_deterministic_and_depends_on_prefix_team_and_env():
    assert suffix("mlk", "example", "dev") == suffix("mlk", "example", "dev")
    assert len({suffix("mlk", "example", "dev"), suffix("mlk", "example", "prod"),
                suffix("abc", "example", "dev"), suffix("mlk", "other", "dev")}) == 4


def test_only_globally_unique_names_carry_the_suffix():
    namer = Namer("mlk", "example", "dev")
    tail = suffix("mlk", "example", "dev")
    for kind, rule in RULES.items():
        assert namer.name(kind).endswith(tail) == rule.globally_unique, kind


def test_compact_names_drop_hyphens_and_uppercase():
    assert Namer("mlk", "fraud-ml", "dev").name("ml_storage").startswith("stmlkfraudmldev")


@pytest.mark.parametrize(
    ("team", "kind", "fragment"),
    [
        ("averyveryverylongteam", "key_vault", "Azure allows 3-24"),
        ("averyveryverylongteam", "ml_storage", "Azure allows 3-24"),
        ("a" * 30, "ml_workspace", "Azure allows 3-33"),
    ],
)
def test_problem_reports_the_computed_name_and_the_limit(team, kind, fragment):
    namer = Namer("mlk", team, "prod")
    problem = namer.problem(kind)
    assert problem is not None and f"'{namer.name(kind)}'" in problem and fragment in problem


def test_charset_violation_is_reported():
    assert "characters Azure does not allow" in (Namer("mlk", "team_x", "dev").problem("ml_storage") or "")
