"""The `<team>-devops` stack: the seeded pipelines and the Azure DevOps objects they need agree.

The seeded files are read back from the synthesized Terraform JSON (what would be committed), so
these tests check the real output, not the templates.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ORG, REPO, SHARED, one, resources, team_named

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
    """Seeded pipeline YAML by build definition name; a pipeline that `extends` a kit template
    `@templates` is read as that template from the templates repo (what Azure DevOps runs)."""
    files = seeded(devops)
    repos = {r["name"]: a for a, r in resources(devops, "azuredevops_git_repository").items()}
    out = {}
    for d in resources(devops, "azuredevops_build_definition").values():
        repo = d["repository"][0] if isinstance(d["repository"], list) else d["repository"]
        doc = yaml.safe_load(files[(address_of(repo["repo_id"]), repo["yml_path"])])
        template = (doc.get("extends") or {}).get("template", "")
        if template.endswith("@templates"):
            doc = yaml.safe_load(files[(repos["mlops-templates"], template.removesuffix("@templates"))])
        out[d["name"]] = doc
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
    environments = {
        n for job in walk(doc, "jobs") for j in job if "deployment" in j for n in expand(j["environment"], doc)
    }
    return {"groups": groups, "connections": connections, "environments": environments}


def names(devops: dict, rtype: str, field: str) -> dict[str, str]:
    """{name: address} of a resource type."""
    return {r[field]: a for a, r in resources(devops, rtype).items()}


def test_project_is_private_and_seeded_with_both_repos(devops):
    assert one(devops, "azuredevops_project")["visibility"] == "private"
    repos = {r["name"]: r for r in resources(devops, "azuredevops_git_repository").values()}
    assert set(repos) == {"example-model", "example-app", "mlops-templates"}
    assert all(r["initialization"][0]["init_type"] == "Clean" for r in repos.values())
    files = {path for _, path in seeded(devops)}
    assert {
        "pipelines/model-ci.yml",
        "pipelines/training.yml",
        "pipelines/release.yml",
        "pipelines/app-ci.yml",
        "README.md",
        "model-contract.json",
        "contract/contract_check.py",
    } <= files


def test_every_name_the_yaml_uses_exists_in_the_stack(devops):
    groups = names(devops, "azuredevops_variable_group", "name")
    connections = names(devops, "azuredevops_serviceendpoint_azurerm", "service_endpoint_name")
    environments = names(devops, "azuredevops_environment", "name")
    docs = pipelines(devops)
    assert all(used_names(docs[p])["connections"] for p in ("example-training", "example-release", "example-app-ci"))
    for pipeline, doc in docs.items():
        used = used_names(doc)
        assert used["groups"] <= set(groups), (pipeline, used["groups"] - set(groups))
        assert used["connections"] <= set(connections), (pipeline, used["connections"] - set(connections))
        assert used["environments"] <= set(environments), (pipeline, used["environments"] - set(environments))


def test_each_pipeline_is_authorized_for_exactly_what_its_yaml_uses(devops):
    definitions = names(devops, "azuredevops_build_definition", "name")
    lookup = {
        "endpoint": {
            a: n for n, a in names(devops, "azuredevops_serviceendpoint_azurerm", "service_endpoint_name").items()
        },
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
        assert granted.get(pipeline, {}).get("endpoint", set()) == used["connections"], pipeline
        assert granted.get(pipeline, {}).get("variablegroup", set()) == used["groups"], pipeline
        assert granted.get(pipeline, {}).get("environment", set()) == used["environments"], pipeline


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
        assert not re.search(r"(?<!\$)\$\{\{", f["content"]), (
            f"{f['file']}: unescaped ${{{{ would be a Terraform interpolation"
        )
    for (_, path), content in seeded(devops).items():
        if path.endswith((".yml", ".yaml")):
            assert isinstance(yaml.safe_load(content), dict), path


TOOL = SHARED / "tools" / "pipeline-yaml-check"


@pytest.mark.skipif(not TOOL.exists(), reason=f"{TOOL} not present (only in the kit's own workspace)")
def test_seeded_pipelines_pass_the_azure_pipelines_schema(tmp_path):
    env = {**os.environ, "MLOPS_KIT_TEAMS_DIR": str(ORG)}  # the fixture org, never the live teams/
    render = subprocess.run(
        [sys.executable, "-m", "scripts.render_seeds", "example", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    assert render.returncode == 0, render.stderr
    targets = [str(p) for p in sorted(Path(tmp_path).glob("*/pipelines"))]
    proc = subprocess.run([sys.executable, str(TOOL), *targets], capture_output=True, text=True)
    checked = re.search(r"(\d+) files, 0 invalid", proc.stdout)
    assert proc.returncode == 0 and checked and int(checked.group(1)) >= 4, proc.stdout


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
    (approval,) = [
        c
        for c in resources(devops, "azuredevops_check_approval").values()
        if address_of(c["target_resource_id"]) == prod
    ]
    assert approval["target_resource_type"] == "environment"
    assert approval["requester_can_approve"] is False and approval["minimum_required_approvers"] >= 1
    approvers_group = next(
        a for a, g in resources(devops, "azuredevops_group").items() if g.get("origin_id") == APPROVERS
    )
    assert approval["approvers"] == [f"${{azuredevops_group.{approvers_group}.group_id}}"]
    locks = [
        c
        for c in resources(devops, "azuredevops_check_exclusive_lock").values()
        if address_of(c["target_resource_id"]) == prod
    ]
    assert len(locks) == 1


def _runs_contract_check(node) -> bool:
    return "contract_check.py check" in _steps_text(node).replace("\\\n", " ").replace('" ', " ").replace('"', "")


def test_release_runs_contract_check_before_any_deployment(devops):
    stages = {s["stage"]: s for s in pipelines(devops)["example-release"]["stages"]}

    def upstream(name: str) -> set[str]:
        deps = stages[name].get("dependsOn") or []
        deps = [deps] if isinstance(deps, str) else deps
        return set(deps).union(*(upstream(d) for d in deps))

    checking = {n for n, s in stages.items() if _runs_contract_check(s)}
    assert checking, "the release never runs the contract check"
    assert {"Deploy_staging", "Deploy_prod"} <= set(stages)
    for name in stages:
        if name.startswith("Deploy_"):
            assert upstream(name) & checking, f"{name} can start before the contract check"
    assert "Deploy_staging" in upstream("Deploy_prod")


def test_staging_and_prod_only_accept_main_with_protection_verified(devops):
    envs = {a: n for n, a in names(devops, "azuredevops_environment", "name").items()}
    controlled = {
        envs[address_of(c["target_resource_id"])]: c
        for c in resources(devops, "azuredevops_check_branch_control").values()
        if c["target_resource_type"] == "environment"
    }
    assert set(controlled) == {"staging", "prod"}
    connections = {
        a: n for n, a in names(devops, "azuredevops_serviceendpoint_azurerm", "service_endpoint_name").items()
    }
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
    credentials = [
        r
        for r in resources(devops, "azapi_resource").values()
        if r["type"].startswith("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials")
    ]
    assert len(credentials) == 3
    for fic in credentials:
        props = fic["body"]["properties"]
        assert props["audiences"] == ["api://AzureADTokenExchange"]
        assert props["issuer"].endswith(".workload_identity_federation_issuer}")
        assert props["subject"].endswith(".workload_identity_federation_subject}")
        assert fic["parent_id"].startswith("${data.azapi_resource.")


def test_identities_are_looked_up_by_their_deterministic_ids(devops):
    lookups = {d["resource_id"] for d in devops["data"]["azapi_resource"].values()}
    assert (
        "/subscriptions/00000000-0000-0000-0000-0000000000d3/resourceGroups/rg-mlk-example-prd/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-mlk-example-pipelines-prd"
    ) in lookups
    assert any(x.endswith("/id-mlk-example-trigger-dev") for x in lookups)


def test_both_repos_protect_main(devops):
    repos = {a: r["name"] for a, r in resources(devops, "azuredevops_git_repository").items()}
    ci = {"example-model": "example-model-ci", "example-app": "example-app-ci"}
    definitions = {a: d["name"] for a, d in resources(devops, "azuredevops_build_definition").items()}
    reviewers = {
        repos[address_of(p["settings"][0]["scope"][0]["repository_id"])]: p["settings"][0]
        for p in resources(devops, "azuredevops_branch_policy_min_reviewers").values()
    }
    builds = {
        repos[address_of(p["settings"][0]["scope"][0]["repository_id"])]: p["settings"][0]
        for p in resources(devops, "azuredevops_branch_policy_build_validation").values()
    }
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
    queued = {
        definitions[address_of(p["build_definition_id"])]: p["permissions"]
        for p in resources(devops, "azuredevops_build_definition_permissions").values()
    }
    assert set(queued) == {"example-training", "example-release"}
    assert all(p["QueueBuilds"] == "Allow" and "EditBuildDefinition" not in p for p in queued.values())


def test_team_repos_are_seeded_once_and_the_templates_repo_follows_the_kit(devops):
    """Kit upgrades never push to a team's protected main (TF402455): only the templates repo is kept in sync."""
    repos = {a: r["name"] for a, r in resources(devops, "azuredevops_git_repository").items()}
    files = resources(devops, "azuredevops_git_repository_file").values()
    assert {repos[address_of(f["repository_id"])] for f in files} >= {"example-model", "example-app"}
    for f in files:
        ignored = f.get("lifecycle", {}).get("ignore_changes", [])
        if repos[address_of(f["repository_id"])] == "mlops-templates":
            assert ignored == [], f["file"]
        else:
            assert {"content", "commit_message"} <= set(ignored), f["file"]


def test_project_and_repositories_are_never_destroyed_by_accident(devops):
    assert one(devops, "azuredevops_project")["lifecycle"]["prevent_destroy"] is True
    assert all(
        r["lifecycle"]["prevent_destroy"] is True for r in resources(devops, "azuredevops_git_repository").values()
    )


def test_wiki_explains_the_environment(devops):
    (page,) = resources(devops, "azuredevops_wiki_page").values()
    assert "::: mermaid" in page["content"] and "example-model" in page["content"]


def _steps_text(doc: dict) -> str:
    return " ".join(str(v) for key in ("script", "inlineScript") for v in walk(doc, key))


def test_all_three_pipelines_run_the_contract_checker_and_publish_results(devops):
    docs = pipelines(devops)
    for name, command in (
        ("example-model-ci", "export"),
        ("example-model-ci", "check"),
        ("example-app-ci", "check"),
        ("example-release", "check"),
    ):
        text = _steps_text(docs[name])
        assert f"contract_check.py {command}" in text.replace("\n", " ").replace('" ', " ").replace('"', ""), (
            name,
            command,
        )
        published = [t for t in walk(docs[name], "task") if t == "PublishTestResults@2"]
        assert published, name
    # model-ci only tests: the model trained on the sample is never registered (that would start a release)
    text = _steps_text(docs["example-model-ci"])
    assert "az ml model create" not in text and "az ml model share" not in text
    stages = {s["stage"]: s for s in docs["example-model-ci"]["stages"]}
    assert stages["ContractCheck"]["dependsOn"] == "Test"


def test_model_ci_and_release_may_check_out_the_app_repository_and_every_pipeline_the_templates(devops):
    definitions = {a: d["name"] for a, d in resources(devops, "azuredevops_build_definition").items()}
    repos = {a: r["name"] for a, r in resources(devops, "azuredevops_git_repository").items()}
    readers: dict[str, set[str]] = {}
    for a in resources(devops, "azuredevops_pipeline_authorization").values():
        if a["type"] == "repository":
            # The repository id alone: the provider prefixes "<project id>." itself (PR #883).
            assert re.fullmatch(r"\$\{azuredevops_git_repository\.\w+\.id\}", a["resource_id"]), a["resource_id"]
            readers.setdefault(repos[address_of(a["resource_id"])], set()).add(
                definitions[address_of(a["pipeline_id"])]
            )
    assert readers["example-app"] == {"example-model-ci", "example-release"}
    assert readers["mlops-templates"] == set(definitions.values())


# --- Items that make the first apply work (provider v1.16.0 behaviour, cited in infra/repos.py) ---


def test_repositories_are_created_on_main_and_seeded_there(devops):
    """A Clean init without default_branch pushes refs/heads/master: every file targeting main would fail."""
    repos = resources(devops, "azuredevops_git_repository")
    for r in repos.values():
        assert r["default_branch"] == "refs/heads/main", r["name"]
        assert "initialization" in r["lifecycle"]["ignore_changes"], r["name"]  # a changed init forces a new repo
    for f in resources(devops, "azuredevops_git_repository_file").values():
        assert f["branch"] == repos[address_of(f["repository_id"])]["default_branch"], f["file"]


def test_only_the_readme_the_init_wrote_is_overwritten_on_create(devops):
    files = resources(devops, "azuredevops_git_repository_file").values()
    readmes = [f for f in files if f["file"] == "README.md"]
    assert readmes and all(f["overwrite_on_create"] is True for f in readmes)
    assert all(f["overwrite_on_create"] is False for f in files if f["file"] != "README.md")


def test_kit_commits_start_no_ci_run(devops):
    for f in resources(devops, "azuredevops_git_repository_file").values():
        assert "***NO_CI***" in f["commit_message"], f["file"]


def test_branch_policies_and_pipelines_come_after_the_seeded_files(devops):
    """Once min-reviewers exists, a direct push to main fails (TF402455): every seed commit goes first."""
    by_repo: dict[str, set[str]] = {}
    for a, f in resources(devops, "azuredevops_git_repository_file").items():
        by_repo.setdefault(address_of(f["repository_id"]), set()).add(f"azuredevops_git_repository_file.{a}")
    for rtype in ("azuredevops_branch_policy_min_reviewers", "azuredevops_branch_policy_build_validation"):
        for p in resources(devops, rtype).values():
            repo = address_of(p["settings"][0]["scope"][0]["repository_id"])
            assert by_repo[repo] <= set(p.get("depends_on", [])), rtype
    templates = next(
        a for a, r in resources(devops, "azuredevops_git_repository").items() if r["name"] == "mlops-templates"
    )
    for d in resources(devops, "azuredevops_build_definition").values():
        assert by_repo[address_of(d["repository"][0]["repo_id"])] <= set(d["depends_on"]), d["name"]
        assert by_repo[templates] <= set(d["depends_on"]), d["name"]  # the templates it extends exist too


def test_approvers_are_azure_devops_identities_not_entra_object_ids(devops):
    """The Checks API rejects Entra object ids ("The following identities are invalid", provider #815/#864)."""
    checks = resources(devops, "azuredevops_check_approval").values()
    assert checks
    for c in checks:
        assert all(re.fullmatch(r"\$\{azuredevops_group\.\w+\.group_id\}", a) for a in c["approvers"]), c["approvers"]
    # Audit: an Entra object id is an input of azuredevops_group / the entitlement, never a reference elsewhere.
    text = json.dumps(devops["resource"])
    assert ".origin_id}" not in text


def test_the_prod_connection_needs_an_approval(devops):
    connections = {
        a: r["service_endpoint_name"] for a, r in resources(devops, "azuredevops_serviceendpoint_azurerm").items()
    }
    gated = {
        connections[address_of(c["target_resource_id"])]: c
        for c in resources(devops, "azuredevops_check_approval").values()
        if c["target_resource_type"] == "endpoint"
    }
    assert set(gated) == {"arm-prod"}
    assert gated["arm-prod"]["requester_can_approve"] is False and gated["arm-prod"]["minimum_required_approvers"] >= 1


def test_training_data_root_is_the_environments_own_lake(devops):
    for g in resources(devops, "azuredevops_variable_group").values():
        if "key_vault" in g:
            continue
        values = {v["name"]: v["value"] for v in g["variable"]}
        root = values["TRAINING_DATA_ROOT"]
        assert root == f"abfss://raw@{values['DATA_LAKE_ACCOUNT']}.dfs.core.windows.net/landing/", root


def test_project_contributors_cannot_push_to_the_templates_repo(devops):
    repos = {a: r["name"] for a, r in resources(devops, "azuredevops_git_repository").items()}
    (perm,) = resources(devops, "azuredevops_git_permissions").values()
    assert repos[address_of(perm["repository_id"])] == "mlops-templates"
    contributors = next(a for a, g in devops["data"]["azuredevops_group"].items() if g["name"] == "Contributors")
    assert perm["principal"] == f"${{data.azuredevops_group.{contributors}.id}}"
    for p in ("GenericContribute", "ForcePush", "CreateBranch", "PolicyExempt", "EditPolicies", "ManagePermissions"):
        assert perm["permissions"][p] == "Deny", p
    assert perm["replace"] is False


def test_federated_credential_names_follow_azure_rules(devops):
    pattern = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$")
    for r in resources(devops, "azapi_resource").values():
        if "federatedIdentityCredentials" in r["type"]:
            assert pattern.fullmatch(r["name"]), r["name"]


def test_every_valid_project_name_gives_a_valid_federated_credential_name():
    import random

    from infra.service_connections import federated_credential_name

    pattern = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$")
    project = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}$")  # infra/config.py Devops.project_name
    rng = random.Random(11)
    alphabet = "abcXYZ019 _.-"
    names = ["a", "My Project", "team.ml", "x" + "." * 62, "Z" + " " * 62, "9" + "-_. " * 15 + "ab"]
    names += [rng.choice("aZ9") + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 62))) for _ in range(500)]
    for name in names:
        assert project.fullmatch(name), name
        for env in ("dev", "staging", "prod"):
            assert pattern.fullmatch(federated_credential_name(name, env)), (name, env)


# --- Business-hours time zones: Azure DevOps accepts the provider's list only ---

PROVIDER_MIRROR = REPO.parent / ".mirror" / "microsoft+terraform-provider-azuredevops" / "repo"


@pytest.mark.skipif(not PROVIDER_MIRROR.exists(), reason="provider source mirror not present")
def test_time_zone_list_is_the_providers():
    from infra.time_zones import BUSINESS_HOURS_TIME_ZONES

    source = subprocess.run(
        [
            "git",
            "-C",
            str(PROVIDER_MIRROR),
            "show",
            "v1.16.0:azuredevops/internal/service/approvalsandchecks/resource_check_business_hours.go",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in source.splitlines() if x.startswith("var validTimezoneIds"))
    assert set(re.findall(r'"([^"]+)"', line)) == BUSINESS_HOURS_TIME_ZONES


@pytest.mark.parametrize(
    "zone, expected",
    [
        ("Europe/Berlin", "'Europe/Berlin' is not a Windows time zone id Azure DevOps accepts"),
        ("W. Europe Standard", "did you mean 'W. Europe Standard Time'"),  # the closest id is suggested
        ("W. Europe Standard Time", None),
    ],
)
def test_business_hours_time_zone_must_be_an_azure_devops_id(make_teams, zone, expected):
    from infra.config import ConfigError, load_org

    example = (REPO / "tests" / "fixtures" / "org" / "example.yaml").read_text()
    teams = make_teams(
        {"example.yaml": example.replace("devops:\n", f"devops:\n  business_hours: {{time_zone: {zone!r}}}\n", 1)}
    )
    if expected is None:
        assert team_named(load_org(teams)).devops.business_hours.time_zone == zone
        return
    with pytest.raises(ConfigError) as exc:
        load_org(teams)
    (line,) = exc.value.lines
    assert "example.yaml: devops.business_hours.time_zone:" in line and expected in line and "Fix:" in line, line


# --- Required-template gate: exercised with seed files whose pipelines extend the kit's templates ---

EXTENDS = """trigger: none
resources:
  repositories:
  - repository: templates
    type: git
    name: example/mlops-templates
    ref: refs/heads/main
extends:
  template: {template}@templates
"""


@pytest.fixture(scope="module")
def gated(tmp_path_factory) -> dict:
    """The devops stack built with team pipelines that extend templates (what the kit seeds once H5's YAML lands)."""
    from cdktf import App

    from infra.config import load_org
    from stacks.devops import DevopsStack

    files = {
        "model": {
            "README.md": "model",
            "pipelines/model-ci.yml": EXTENDS.format(template="pipelines/model-ci.yml"),
            "pipelines/training.yml": EXTENDS.format(template="pipelines/training.yml"),
            "pipelines/release.yml": EXTENDS.format(template="pipelines/release.yml"),
        },
        "app": {"pipelines/app-ci.yml": EXTENDS.format(template="pipelines/app-ci.yml")},
        "templates": {"README.md": "kit", "pipelines/training.yml": "parameters: []\nsteps: []\n"},
    }
    org = load_org(ORG)
    out = tmp_path_factory.mktemp("gated")
    app = App(outdir=str(out))
    DevopsStack(app, "example-devops", org, team_named(org), files=files)
    app.synth()
    return json.loads((out / "stacks" / "example-devops" / "cdk.tf.json").read_text())


def required(stack: dict) -> dict[str, set[str]]:
    """{connection or environment name: template paths it requires}."""
    names = {a: r["service_endpoint_name"] for a, r in resources(stack, "azuredevops_serviceendpoint_azurerm").items()}
    names |= {a: f"environment {r['name']}" for a, r in resources(stack, "azuredevops_environment").items()}
    out: dict[str, set[str]] = {}
    for c in resources(stack, "azuredevops_check_required_template").values():
        for t in c["required_template"]:
            assert (t["repository_type"], t["repository_name"], t["repository_ref"]) == (
                "azuregit",
                "example/mlops-templates",
                "refs/heads/main",
            )
            out.setdefault(names[address_of(c["target_resource_id"])], set()).add(t["template_path"])
    return out


def test_protected_connections_and_environments_require_the_kits_templates(gated, devops):
    assert required(gated) == {
        "arm-staging": {"pipelines/training.yml", "pipelines/release.yml"},
        "arm-prod": {"pipelines/training.yml", "pipelines/release.yml"},
        "environment staging": {"pipelines/training.yml", "pipelines/release.yml"},
        "environment prod": {"pipelines/training.yml", "pipelines/release.yml"},
    }
    # A pipeline that extends nothing adds no gate (and the check is never created empty).
    assert all(paths for paths in required(devops).values())


def test_kit_templates_are_kept_in_sync_and_team_files_are_not(gated):
    repos = {a: r["name"] for a, r in resources(gated, "azuredevops_git_repository").items()}
    kept = {
        (repos[address_of(f["repository_id"])], f["file"])
        for f in resources(gated, "azuredevops_git_repository_file").values()
        if not f.get("lifecycle", {}).get("ignore_changes")
    }
    assert kept == {("mlops-templates", "README.md"), ("mlops-templates", "pipelines/training.yml")}


def test_team_pipelines_extend_the_kit_templates_the_checks_require(devops):
    """The seeded entry points name the templates repo the stack creates, and the required-template
    checks on staging and prod list exactly the templates the pipelines using them extend."""
    files = seeded(devops)
    repos = {a: r["name"] for a, r in resources(devops, "azuredevops_git_repository").items()}
    extended = {}
    for d in resources(devops, "azuredevops_build_definition").values():
        repo = d["repository"][0]
        doc = yaml.safe_load(files[(address_of(repo["repo_id"]), repo["yml_path"])])
        (alias,) = [r for r in doc["resources"]["repositories"] if r["repository"] == "templates"]
        assert (alias["type"], alias["name"], alias["ref"]) == ("git", "example/mlops-templates", "refs/heads/main")
        extended[d["name"]] = doc["extends"]["template"].removesuffix("@templates")
        assert ("mlops-templates", extended[d["name"]]) in {(repos[a], p) for a, p in files}, d["name"]
    deploying = {extended["example-training"], extended["example-release"]}
    assert required(devops) == {
        name: deploying for name in ("arm-staging", "arm-prod", "environment staging", "environment prod")
    }


def test_only_the_templates_repo_goes_without_reviewers_and_says_why(devops):
    """Terraform pushes every kit upgrade to mlops-templates: a reviewer policy there would refuse it."""
    for r in resources(devops, "azuredevops_git_repository").values():
        found = r["//"].get("mlops_kit", {}).get("suppressions", {})
        if r["name"] == "mlops-templates":
            assert set(found) == {"CKV2_ADO_1", "CKV2_MLK_3", "CKV2_MLK_4"}
            assert all("azuredevops_git_permissions" in reason for reason in found.values())
        else:
            assert not found, r["name"]
