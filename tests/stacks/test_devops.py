"""The `<team>-devops` stack: the seeded pipelines and the Azure DevOps objects they need agree.

The seeded files are read back from the synthesized Terraform JSON (what would be committed), so
these tests check the real output, not the templates.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, SHARED, one, resources

STACK = "example-devops"
APPROVERS = "33333333-3333-3333-3333-333333333333"


@pytest.fixture(scope="module")
def devops(example) -> dict:
    return example[STACK]


def address_of(ref: str) -> str:
    """`${azuredevops_x.addr.id}` -> `addr`."""
    m = re.fullmatch(r"\$\{(?:data\.)?[a-z_]+\.([A-Za-z0-9_-]+)\.[a-z_.\[\]0-9]+\}", ref)
    assert m, ref
    return m.group(1)


def seeded(devops: dict) -> dict[tuple[str, str], str]:
    """{(repo address, path): file content as committed} (Terraform's `$${` escape undone)."""
    return {
        (address_of(f["repository_id"]), f["file"]): f["content"].replace("$${", "${").replace("%%{", "%{")
        for f in resources(devops, "azuredevops_git_repository_file").values()
    }


def pipelines(devops: dict) -> dict[str, dict]:
    """Seeded pipeline YAML by build definition name."""
    files = seeded(devops)
    out = {}
    for d in resources(devops, "azuredevops_build_definition").values():
        repo = d["repository"][0] if isinstance(d["repository"], list) else d["repository"]
        out[d["name"]] = yaml.safe_load(files[(address_of(repo["repo_id"]), repo["yml_path"])])
    return out


def expand(value: str, doc: dict) -> set[str]:
    """A name that may contain `${{ parameters.p }}`: every value the parameter allows."""
    m = re.search(r"\$\{\{\s*parameters\.(\w+)\s*\}\}", value)
    if not m:
        return {value}
    (param,) = [p for p in doc.get("parameters", []) if p["name"] == m.group(1)]
    return {value.replace(m.group(0), v) for v in param["values"]}


def walk(node, key: str):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from walk(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, key)


def used_names(doc: dict) -> dict[str, set[str]]:
    groups = {n for v in walk(doc, "group") for n in expand(v, doc)}
    connections = {n for v in walk(doc, "azureSubscription") for n in expand(v, doc)}
    environments = {n for job in walk(doc, "jobs") for j in job if "deployment" in j for n in expand(j["environment"], doc)}
    return {"groups": groups, "connections": connections, "environments": environments}


def names(devops: dict, rtype: str, field: str) -> dict[str, str]:
    """{name: address} of a resource type."""
    return {r[field]: a for a, r in resources(devops, rtype).items()}


def test_project_is_private_and_seeded_with_both_repos(devops):
    assert one(devops, "azuredevops_project")["visibility"] == "private"
    repos = {r["name"]: r for r in resources(devops, "azuredevops_git_repository").values()}
    assert set(repos) == {"example-model", "example-app"}
    assert all(r["initialization"][0]["init_type"] == "Clean" for r in repos.values())
    files = {path for _, path in seeded(devops)}
    assert {"pipelines/model-ci.yml", "pipelines/training.yml", "pipelines/release.yml", "pipelines/app-ci.yml",
            "README.md", "model-contract.json", "contract/contract_check.py"} <= files


def test_every_name_the_yaml_uses_exists_in_the_stack(devops):
    groups = names(devops, "azuredevops_variable_group", "name")
    connections = names(devops, "azuredevops_serviceendpoint_azurerm", "service_endpoint_name")
    environments = names(devops, "azuredevops_environment", "name")
    for pipeline, doc in pipelines(devops).items():
        used = used_names(doc)
        assert used["groups"] <= set(groups), (pipeline, used["groups"] - set(groups))
        assert used["connections"] <= set(connections), (pipeline, used["connections"] - set(connections))
        assert used["environments"] <= set(environments), (pipeline, used["environments"] - set(environments))
        assert used["connections"], f"{pipeline} uses no service connection"


def test_each_pipeline_is_authorized_for_exactly_what_its_yaml_uses(devops):
    definitions = names(devops, "azuredevops_build_definition", "name")
    lookup = {
        "endpoint": {a: n for n, a in names(devops, "azuredevops_serviceendpoint_azurerm", "service_endpoint_name").items()},
        "variablegroup": {a: n for n, a in names(devops, "azuredevops_variable_group", "name").items()},
        "environment": {a: n for n, a in names(devops, "azuredevops_environment", "name").items()},
    }
    granted: dict[str, dict[str, set[str]]] = {}
    for auth in resources(devops, "azuredevops_pipeline_authorization").values():
        assert "pipeline_id" in auth, "authorizations are per pipeline, never project-wide"
        pipeline = {a: n for n, a in definitions.items()}[address_of(auth["pipeline_id"])]
        if auth["type"] == "repository":
            continue
        target = lookup[auth["type"]][address_of(auth["resource_id"])]
        granted.setdefault(pipeline, {}).setdefault(auth["type"], set()).add(target)
    for pipeline, doc in pipelines(devops).items():
        used = used_names(doc)
        assert granted[pipeline].get("endpoint", set()) == used["connections"], pipeline
        assert granted[pipeline].get("variablegroup", set()) == used["groups"], pipeline
        assert granted[pipeline].get("environment", set()) == used["environments"], pipeline


def test_every_build_definition_points_at_a_seeded_file(devops):
    files = seeded(devops)
    for d in resources(devops, "azuredevops_build_definition").values():
        repo = d["repository"][0]
        assert (address_of(repo["repo_id"]), repo["yml_path"]) in files, d["name"]
        assert repo["repo_type"] == "TfsGit" and d["ci_trigger"][0]["use_yaml"] is True
        assert d["path"] == "\\example"


def test_all_seeded_yaml_parses_and_escapes_terraform_interpolation(devops):
    raw = resources(devops, "azuredevops_git_repository_file").values()
    for f in raw:
        assert not re.search(r"(?<!\$)\$\{\{", f["content"]), f"{f['file']}: unescaped ${{{{ would be a Terraform interpolation"
    for (_, path), content in seeded(devops).items():
        if path.endswith((".yml", ".yaml")):
            assert isinstance(yaml.safe_load(content), dict), path


TOOL = SHARED / "tools" / "pipeline-yaml-check"


@pytest.mark.skipif(not TOOL.exists(), reason=f"{TOOL} not present (only in the kit's own workspace)")
def test_seeded_pipelines_pass_the_azure_pipelines_schema(tmp_path):
    render = subprocess.run([sys.executable, "-m", "scripts.render_seeds", "example", str(tmp_path)], cwd=REPO,
                            capture_output=True, text=True)
    assert render.returncode == 0, render.stderr
    targets = [str(p) for p in sorted(Path(tmp_path).glob("*/pipelines"))]
    proc = subprocess.run([sys.executable, str(TOOL), *targets], capture_output=True, text=True)
    assert proc.returncode == 0 and "4 files, 0 invalid" in proc.stdout, proc.stdout


def test_prod_deployments_are_deployment_jobs_into_the_approval_gated_environment(devops):
    deploying = []
    for name, doc in pipelines(devops).items():
        for stage in doc.get("stages", []):
            for job in stage["jobs"]:
                scripts = " ".join(str(v) for v in walk(job, "inlineScript"))
                if "online-deployment create" in scripts:
                    deploying.append((name, job))
    assert deploying, "no pipeline deploys the model"
    for name, job in deploying:
        assert "deployment" in job, f"{name}: a job that deploys must be a deployment job"
        connections = {n for v in walk(job, "azureSubscription") for n in v.split()}
        assert connections == {f"arm-{job['environment']}"}, (name, job["environment"], connections)
    assert "prod" in {job["environment"] for _, job in deploying}
    prod = names(devops, "azuredevops_environment", "name")["prod"]
    (approval,) = [c for c in resources(devops, "azuredevops_check_approval").values()
                   if address_of(c["target_resource_id"]) == prod]
    assert approval["target_resource_type"] == "environment"
    assert approval["requester_can_approve"] is False and approval["minimum_required_approvers"] >= 1
    approvers_group = next(a for a, g in resources(devops, "azuredevops_group").items() if g.get("origin_id") == APPROVERS)
    assert approval["approvers"] == [f"${{azuredevops_group.{approvers_group}.origin_id}}"]
    locks = [c for c in resources(devops, "azuredevops_check_exclusive_lock").values()
             if address_of(c["target_resource_id"]) == prod]
    assert len(locks) == 1


def test_release_runs_contract_check_before_any_deployment(devops):
    stages = pipelines(devops)["example-release"]["stages"]
    order = [s["stage"] for s in stages]
    assert order.index("ContractCheck") < order.index("Deploy_staging") < order.index("Deploy_prod")
    assert stages[order.index("Deploy_staging")]["dependsOn"] == "ContractCheck"
    assert stages[order.index("Deploy_prod")]["dependsOn"] == "Deploy_staging"


def test_staging_and_prod_only_accept_main_with_protection_verified(devops):
    envs = {a: n for n, a in names(devops, "azuredevops_environment", "name").items()}
    controlled = {envs[address_of(c["target_resource_id"])]: c for c in
                  resources(devops, "azuredevops_check_branch_control").values()
                  if c["target_resource_type"] == "environment"}
    assert set(controlled) == {"staging", "prod"}
    connections = {a: n for n, a in names(devops, "azuredevops_serviceendpoint_azurerm", "service_endpoint_name").items()}
    for c in resources(devops, "azuredevops_check_branch_control").values():
        if c["target_resource_type"] == "endpoint":
            controlled[connections[address_of(c["target_resource_id"])]] = c
    assert {"arm-staging", "arm-prod"} <= set(controlled) and "arm-dev" not in controlled
    for c in controlled.values():
        assert c["allowed_branches"] == "refs/heads/main" and c["verify_branch_protection"] is True


def test_service_connections_use_workload_identity_federation_without_secrets(devops):
    connections = resources(devops, "azuredevops_serviceendpoint_azurerm")
    assert len(connections) == 3
    for c in connections.values():
        assert c["service_endpoint_authentication_scheme"] == "WorkloadIdentityFederation"
        assert set(c["credentials"][0]) == {"serviceprincipalid"}
        assert c["credentials"][0]["serviceprincipalid"].startswith("${data.azapi_resource.")
    credentials = [r for r in resources(devops, "azapi_resource").values()
                   if r["type"].startswith("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials")]
    assert len(credentials) == 3
    for fic in credentials:
        props = fic["body"]["properties"]
        assert props["audiences"] == ["api://AzureADTokenExchange"]
        assert props["issuer"].endswith(".workload_identity_federation_issuer}")
        assert props["subject"].endswith(".workload_identity_federation_subject}")
        assert fic["parent_id"].startswith("${data.azapi_resource.")


def test_identities_are_looked_up_by_their_deterministic_ids(devops):
    lookups = {d["resource_id"] for d in devops["data"]["azapi_resource"].values()}
    assert ("/subscriptions/00000000-0000-0000-0000-0000000000d3/resourceGroups/rg-mlk-example-prd/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-mlk-example-pipelines-prd") in lookups
    assert any(x.endswith("/id-mlk-example-trigger-dev") for x in lookups)


def test_both_repos_protect_main(devops):
    repos = {a: r["name"] for a, r in resources(devops, "azuredevops_git_repository").items()}
    ci = {"example-model": "example-model-ci", "example-app": "example-app-ci"}
    definitions = {a: d["name"] for a, d in resources(devops, "azuredevops_build_definition").items()}
    reviewers = {repos[address_of(p["settings"][0]["scope"][0]["repository_id"])]: p["settings"][0]
                 for p in resources(devops, "azuredevops_branch_policy_min_reviewers").values()}
    builds = {repos[address_of(p["settings"][0]["scope"][0]["repository_id"])]: p["settings"][0]
              for p in resources(devops, "azuredevops_branch_policy_build_validation").values()}
    for repo in ci:
        r = reviewers[repo]
        assert r["reviewer_count"] >= 2 and r["last_pusher_cannot_approve"] is True
        assert r["on_push_reset_approved_votes"] is True and r["submitter_can_vote"] is False
        assert r["scope"][0]["repository_ref"] == "refs/heads/main"
        assert definitions[address_of(builds[repo]["build_definition_id"])] == ci[repo]
        assert builds[repo]["scope"][0]["repository_ref"] == "refs/heads/main"


def test_variable_groups_hold_settings_not_secrets(devops):
    for g in resources(devops, "azuredevops_variable_group").values():
        assert g["allow_access"] is False
        assert all("is_secret" not in v and "secret_value" not in v for v in g["variable"])
        if "key_vault" not in g:
            keys = {v["name"] for v in g["variable"]}
            assert {"AZURE_RESOURCE_GROUP", "AML_WORKSPACE", "AML_REGISTRY", "AZURE_SUBSCRIPTION_ID"} <= keys


def test_entra_groups_join_the_project_by_origin_id(devops):
    origins = {g.get("origin_id") for g in resources(devops, "azuredevops_group").values()}
    assert {"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", APPROVERS} <= origins
    memberships = resources(devops, "azuredevops_group_membership").values()
    assert all(m["mode"] == "add" for m in memberships) and len(memberships) == 2


def test_trigger_functions_may_queue_training_and_release_only(devops):
    entitlements = resources(devops, "azuredevops_service_principal_entitlement")
    assert len(entitlements) == 3
    definitions = {a: d["name"] for a, d in resources(devops, "azuredevops_build_definition").items()}
    queued = {definitions[address_of(p["build_definition_id"])]: p["permissions"]
              for p in resources(devops, "azuredevops_build_definition_permissions").values()}
    assert set(queued) == {"example-training", "example-release"}
    assert all(p["QueueBuilds"] == "Allow" and "EditBuildDefinition" not in p for p in queued.values())


def test_the_kit_owns_pipelines_and_checker_the_team_owns_the_rest(devops):
    files = resources(devops, "azuredevops_git_repository_file").values()
    for f in files:
        ignored = f.get("lifecycle", {}).get("ignore_changes", [])
        kit = f["file"].startswith("pipelines/") or f["file"] in (
            "contract/contract_check.py", "contract/model-contract.schema.json")
        assert (ignored == []) is kit, f["file"]
        if not kit:
            assert "content" in ignored
    assert {f["file"] for f in files if not f.get("lifecycle")} >= {"pipelines/release.yml", "contract/contract_check.py"}


def test_project_and_repositories_are_never_destroyed_by_accident(devops):
    assert one(devops, "azuredevops_project")["lifecycle"]["prevent_destroy"] is True
    assert all(r["lifecycle"]["prevent_destroy"] is True for r in resources(devops, "azuredevops_git_repository").values())


def test_wiki_explains_the_environment(devops):
    (page,) = resources(devops, "azuredevops_wiki_page").values()
    assert "::: mermaid" in page["content"] and "example-model" in page["content"]


def _steps_text(doc: dict) -> str:
    return " ".join(str(v) for key in ("script", "inlineScript") for v in walk(doc, key))


def test_all_three_pipelines_run_the_contract_checker_and_publish_results(devops):
    docs = pipelines(devops)
    for name, command in (("example-model-ci", "export"), ("example-model-ci", "check"),
                          ("example-app-ci", "check"), ("example-release", "check")):
        text = _steps_text(docs[name])
        assert f"contract_check.py {command}" in text.replace("\n", " ").replace('" ', " ").replace('"', ""), (
            name, command)
        published = [t for t in walk(docs[name], "task") if t == "PublishTestResults@2"]
        assert published, name
    # model-ci refuses to register a model the app's contract rejects
    stages = {s["stage"]: s for s in docs["example-model-ci"]["stages"]}
    assert stages["Register"]["dependsOn"] == "ContractCheck"


def test_model_ci_and_release_may_check_out_the_app_repository(devops):
    definitions = {a: d["name"] for a, d in resources(devops, "azuredevops_build_definition").items()}
    readers = {definitions[address_of(a["pipeline_id"])] for a in resources(devops, "azuredevops_pipeline_authorization").values()
               if a["type"] == "repository"}
    assert readers == {"example-model-ci", "example-release"}
