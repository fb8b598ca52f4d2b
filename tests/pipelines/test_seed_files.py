"""Team repos get thin entry pipelines; the steps, checker and schema live in the templates repo."""

from __future__ import annotations

import pytest
import yaml

from infra.seeds import render, seed_files

TEAM_PIPELINES = {("model", "model-ci"), ("model", "training"), ("model", "release"), ("app", "app-ci")}


def test_three_repositories_and_the_checker_only_in_templates(team):
    files = seed_files(*team)
    assert set(files) == {"model", "app", "templates"}
    assert {"contract/contract_check.py", "contract/model-contract.schema.json"} <= set(files["templates"])
    assert not [p for repo in ("model", "app") for p in files[repo] if p.endswith("contract_check.py")]


@pytest.mark.parametrize(("repo", "name"), sorted(TEAM_PIPELINES))
def test_team_pipelines_only_extend_the_kit_template(team, repo, name):
    doc = yaml.safe_load(seed_files(*team, templates_repo="kit-tpl")[repo][f"pipelines/{name}.yml"])
    assert doc["extends"]["template"] == f"pipelines/{name}.yml@templates"
    (templates,) = [r for r in doc["resources"]["repositories"] if r["repository"] == "templates"]
    assert templates == {"repository": "templates", "type": "git", "name": "example/kit-tpl", "ref": "refs/heads/main"}
    assert not {"stages", "jobs", "steps", "pool"} & set(doc)
    # Runtime parameters the trigger function sends are declared at the root and passed through.
    for p in doc.get("parameters", []):
        assert doc["extends"]["parameters"][p["name"]] == "${{ parameters." + p["name"] + " }}"


def test_an_unknown_placeholder_fails_loudly():
    with pytest.raises(ValueError, match=r"release.yml: unknown placeholder\(s\) \['nope'\]"):
        render("a @@team@@ b @@nope@@", {"team": "x"}, "release.yml")
