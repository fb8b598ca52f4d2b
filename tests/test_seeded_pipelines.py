"""scripts/seeded_pipelines.py: the pipeline YAML Terraform commits is exactly what the kit renders."""

from __future__ import annotations

from infra.config import load_org
from infra.seeds import seed_files
from scripts.seeded_pipelines import main, seeded_pipelines
from tests.conftest import ORG, team_named


def test_the_committed_pipelines_unescaped_equal_the_rendered_seeds(example_out):
    found = seeded_pipelines(example_out)
    org = load_org(ORG)
    rendered = seed_files(org, team_named(org))
    by_repo = {"repos_model": "model", "repos_app": "app", "repos_templates": "templates"}
    assert len(found) == sum(1 for files in rendered.values() for f in files if f.startswith("pipelines/"))
    for rel, content in found.items():
        stack, repo_address, file = rel.split("/", 2)
        assert stack == "example-devops"
        repo = next(v for k, v in by_repo.items() if repo_address.startswith(k + "_"))
        assert content == rendered[repo][file], rel
        assert "$${" not in content


def test_an_output_without_seeded_pipelines_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "stacks").mkdir()
    assert main([str(tmp_path), str(tmp_path / "dest")]) == 2
    assert "synth first" in capsys.readouterr().err
