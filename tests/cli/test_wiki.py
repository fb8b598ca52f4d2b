"""`ProjectWiki`: the project wiki and its generated page, synthesized with the typed bindings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cdktf import App, TerraformStack

from infra.bindings.azuredevops import AzuredevopsProvider, Project
from infra.config import load_org
from infra.diagram import team_diagram, wiki_page
from infra.wiki import ProjectWiki, ProjectWikiProps
from tests.conftest import ORG, SHARED, team_named


@pytest.fixture(scope="module")
def wiki_out(tmp_path_factory) -> Path:
    org = load_org(ORG)
    team = team_named(org)
    out = tmp_path_factory.mktemp("cdktf.out")
    app = App(outdir=str(out))
    stack = TerraformStack(app, "wiki")
    AzuredevopsProvider(stack, "azuredevops", org_service_url=org.platform.devops.organization_url)
    project = Project(stack, "project", name=team.project_name, visibility="private")
    ProjectWiki(stack, "wiki", ProjectWikiProps(project_id=project.id, content=wiki_page(org, team),
                                                wiki_name=f"{team.project_name}.wiki"))
    odd = team.model_copy(update={"display_name": "Costs ${var.x} %{ if y }"})
    ProjectWiki(stack, "odd", ProjectWikiProps(project_id=project.id, content=wiki_page(org, odd),
                                               wiki_name="odd.wiki"))
    app.synth()
    return out


def test_page_holds_the_diagram_and_links(wiki_out):
    doc = json.loads((wiki_out / "stacks" / "wiki" / "cdk.tf.json").read_text())
    org = load_org(ORG)
    team = team_named(org)
    (wiki_addr, wiki), = [(a, w) for a, w in doc["resource"]["azuredevops_wiki"].items() if a.startswith("wiki_")]
    (_, page), = [(a, p) for a, p in doc["resource"]["azuredevops_wiki_page"].items() if a.startswith("wiki_")]
    (project_addr, _), = doc["resource"]["azuredevops_project"].items()
    assert {k: v for k, v in wiki.items() if k != "//"} == {
        "name": "example.wiki", "type": "projectWiki", "project_id": f"${{azuredevops_project.{project_addr}.id}}"}
    assert page["project_id"] == f"${{azuredevops_project.{project_addr}.id}}"
    assert page["wiki_id"] == f"${{azuredevops_wiki.{wiki_addr}.id}}"
    assert page["path"] == "/How your environment works"
    content = page["content"]
    assert "::: mermaid\n" + team_diagram(org, team) + ":::\n" in content
    assert "(https://dev.azure.com/contoso-ml/example/_git/example-model)" in content
    assert "(https://dev.azure.com/contoso-ml/example/_environments)" in content
    assert "${" not in content  # nothing Terraform would try to interpolate


def test_free_text_never_becomes_a_terraform_template(wiki_out):
    doc = json.loads((wiki_out / "stacks" / "wiki" / "cdk.tf.json").read_text())
    (_, page), = [(a, p) for a, p in doc["resource"]["azuredevops_wiki_page"].items() if a.startswith("odd_")]
    assert "Team **Costs $${var.x} %%{ if y }**" in page["content"]  # Terraform renders it as typed


@pytest.mark.skipif(not (SHARED / "tools" / "tf-schema-check").exists(), reason="needs ../shared/tools")
def test_wiki_resources_match_the_provider_schema(wiki_out):
    proc = subprocess.run([str(SHARED / "tools" / "tf-schema-check"), str(wiki_out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
