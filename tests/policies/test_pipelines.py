"""The kit's own pipelines (azure-pipelines.yml, .github/workflows/mlops-kit.yml): valid, secret-free,
the stages in order, every command they call exists, and their embedded scripts work on the example."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, SHARED

AZURE = REPO / "azure-pipelines.yml"
TEMPLATES = REPO / ".azure-pipelines"
GITHUB = REPO / ".github" / "workflows" / "mlops-kit.yml"
INSTALLER = REPO / "scripts" / "install_terraform.sh"
CHECKER = SHARED / "tools" / "pipeline-yaml-check"
ENV_STACKS = ["example-dev", "example-prod", "example-staging"]
_EACH = re.compile(r"^\$\{\{\s*each (\w+) in parameters\.(\w+)\s*\}\}$")
_EXPR = re.compile(r"\$\{\{\s*([\w.]+)\s*\}\}")


def _lookup(path: str, ctx: dict):
    value = ctx
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def expand(node, ctx: dict, here: Path):
    """Compile-time expansion the way Azure Pipelines does it, for what the kit's YAML uses: stage
    templates with parameters (paths relative to the including file), `${{ each }}` over a parameter,
    and `${{ a.b }}` values. Expressions it cannot resolve (`variables.*`) stay as written."""
    if isinstance(node, str):
        whole = _EXPR.fullmatch(node.strip())
        if whole:
            try:
                return _lookup(whole.group(1), ctx)
            except KeyError:
                return node

        def one(m: re.Match) -> str:
            try:
                return str(_lookup(m.group(1), ctx))
            except KeyError:
                return m.group(0)

        return _EXPR.sub(one, node)
    if isinstance(node, dict):
        return {expand(k, ctx, here): expand(v, ctx, here) for k, v in node.items()}
    if isinstance(node, list):
        out: list = []
        for item in node:
            key = next(iter(item)) if isinstance(item, dict) and len(item) == 1 else None
            each = _EACH.match(key) if isinstance(key, str) else None
            if each:
                for value in ctx["parameters"][each.group(2)]:
                    out += expand(item[key], {**ctx, each.group(1): value}, here)
            elif isinstance(item, dict) and "template" in item and "stages" not in item:
                path = here / item["template"]
                doc = yaml.safe_load(path.read_text())
                given = expand(item.get("parameters", {}), ctx, here)
                params = {p["name"]: given.get(p["name"], p.get("default")) for p in doc.get("parameters", [])}
                out += expand(doc["stages"], {"parameters": params}, path.parent)
            else:
                out.append(expand(item, ctx, here))
        return out
    return node


def azure() -> dict:
    """azure-pipelines.yml with its templates expanded: the pipeline Azure DevOps runs."""
    doc = yaml.safe_load(AZURE.read_text())
    doc["stages"] = expand(doc["stages"], {"parameters": {}}, REPO)
    return doc


def github() -> dict:
    return yaml.load(GITHUB.read_text(), Loader=yaml.BaseLoader)  # BaseLoader: `on:` stays a string key


def stage(name: str) -> dict:
    return next(s for s in azure()["stages"] if s["stage"] == name)


def azure_steps(node) -> list[dict]:
    """Every step of a stage, job or deployment job (runOnce hooks included)."""
    if isinstance(node, dict):
        found = list(node.get("steps", []))
        for key in ("jobs", "strategy", "runOnce", "deploy"):
            if key in node:
                found += azure_steps(node[key])
        return found
    if isinstance(node, list):
        return [s for n in node for s in azure_steps(n)]
    return []


def shell_texts() -> list[str]:
    texts = [s.get("script", "") + s.get("inputs", {}).get("inlineScript", "") for s in azure_steps(azure()["stages"])]
    texts += [step.get("run", "") for job in github()["jobs"].values() for step in job.get("steps", [])]
    return [t for t in texts if t]


def heredoc(script: str) -> str:
    """The Python program inside `python - <<'EOF' ... EOF` (indentation removed)."""
    body = script.split("<<'EOF'", 1)[1].split("\nEOF", 1)[0]
    return textwrap.dedent(body.split("\n", 1)[1])


def test_azure_pipeline_passes_the_schema_check():
    if not CHECKER.exists():
        pytest.skip(f"{CHECKER} not present (it ships with the kit's workspace reference, not the repository)")
    proc = subprocess.run([sys.executable, str(CHECKER), str(AZURE)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_azure_pipeline_stages_run_in_order():
    stages = azure()["stages"]
    assert [s["stage"] for s in stages] == ["test", "synth", "scan", "diff", "deploy"]
    assert [s.get("dependsOn") for s in stages] == [None, "test", "synth", "scan", "diff"]
    assert "refs/heads/main" in stage("deploy")["condition"]
    assert "ne(variables['Build.Reason'], 'PullRequest')" in stage("deploy")["condition"]


def test_the_expanded_pipeline_passes_the_schema_check(tmp_path):
    """The published schema cannot read `${{ each }}` in a job list: check what Azure DevOps expands."""
    if not CHECKER.exists():
        pytest.skip(f"{CHECKER} not present")
    expanded = tmp_path / "expanded.yml"
    expanded.write_text(yaml.safe_dump(azure(), sort_keys=False))
    proc = subprocess.run(
        [sys.executable, str(CHECKER), str(expanded), str(TEMPLATES / "stacks.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pull_requests_are_validated_by_a_branch_policy_not_pr_triggers():
    """`pr:` is ignored for Azure Repos; the kit's docs and header name the build-validation policy."""
    raw = yaml.safe_load(AZURE.read_text())
    assert "pr" not in raw and raw["trigger"]["branches"]["include"] == ["main"]
    assert "build-validation branch policy" in AZURE.read_text()
    assert "build validation" in (REPO / "docs" / "deploy.md").read_text().lower()


def test_scan_publishes_junit_and_sarif():
    steps = azure_steps(stage("scan"))
    junit = [s for s in steps if s.get("task") == "PublishTestResults@2"]
    assert junit and junit[0]["inputs"]["testResultsFiles"] == "reports/checkov.junit.xml"
    assert junit[0]["condition"] == "succeededOrFailed()"
    published = [s for s in steps if s.get("artifact") == "CodeAnalysisLogs"]
    assert published and published[0]["condition"] == "succeededOrFailed()"
    assert any("cp reports/checkov.sarif" in s.get("script", "") and "CodeAnalysisLogs" in s["script"] for s in steps)
    assert any(s.get("script", "").startswith(".venv/bin/mlops-kit scan ") for s in steps)


def test_deploys_are_approval_gated_deployment_jobs_with_workload_identity():
    jobs = stage("deploy")["jobs"]
    assert jobs and all("deployment" in j and j["environment"] == "mlops-kit-prod" for j in jobs)
    for node, connection in (
        (stage("diff"), "${{ variables.planConnection }}"),
        (stage("deploy"), "mlops-kit-platform"),
    ):
        cli = [s for s in azure_steps(node) if s.get("task") == "AzureCLI@2"]
        assert cli
        for s in cli:
            assert s["inputs"]["addSpnToEnvironment"] is True
            assert s["inputs"]["azureSubscription"] == connection
            # Providers fetch fresh OIDC tokens for the connection: no 10-minute ARM_OIDC_TOKEN.
            assert s["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
            assert s["env"]["SYSTEM_OIDCREQUESTURI"] == "$(System.OidcRequestUri)"
            script = s["inputs"]["inlineScript"]
            assert "ARM_OIDC_TOKEN" not in script and "idToken" not in script
            for var in (
                "ARM_USE_OIDC=true",
                'ARM_CLIENT_ID="$servicePrincipalId"',
                'ARM_TENANT_ID="$tenantId"',
                'ARM_OIDC_AZURE_SERVICE_CONNECTION_ID="$AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"',
            ):
                assert var in script


def test_pull_request_plans_use_the_read_only_connection():
    variables = {v["name"]: v["value"] for v in yaml.safe_load(AZURE.read_text())["variables"]}
    assert variables["planConnection"] == "mlops-kit-plan"
    assert "mlops-kit-platform" not in json.dumps(stage("diff"))
    (cli,) = [s for s in azure_steps(stage("diff")) if s.get("task") == "AzureCLI@2"]
    assert cli["env"]["TF_CLI_ARGS_plan"] == "-lock=false"  # reading state needs no lease


def _pinned_terraform() -> str:
    return re.search(r"^TERRAFORM_VERSION=(\S+)$", INSTALLER.read_text(), re.M).group(1)


def test_every_job_that_runs_terraform_installs_the_pinned_version_first():
    """Hosted ubuntu-24.04 images ship no Terraform; cdktf diff/deploy need it."""
    jobs = [j for s in azure()["stages"] for j in s["jobs"]]
    runs = 0
    for job in jobs:
        steps = azure_steps(job)
        texts = [s.get("script", "") + s.get("inputs", {}).get("inlineScript", "") for s in steps]
        cdktf = [i for i, t in enumerate(texts) if "npx cdktf" in t]
        if cdktf:
            runs += 1
            installs = [i for i, t in enumerate(texts) if t.strip() == "scripts/install_terraform.sh"]
            assert installs and installs[0] < cdktf[0], job.get("job") or job.get("deployment")
    assert runs >= 2
    for name, job in github()["jobs"].items():
        steps = job.get("steps", [])
        if any("npx cdktf" in s.get("run", "") for s in steps):
            (setup,) = [s for s in steps if s.get("uses", "").startswith("hashicorp/setup-terraform@")]
            assert setup["with"]["terraform_version"] == _pinned_terraform(), name


def test_terraform_installer_refuses_a_download_with_another_checksum(tmp_path):
    """A mirror (here: real HTTP on 127.0.0.1) may serve the zip; it cannot change what is installed."""
    version = _pinned_terraform()
    (tmp_path / "site" / version).mkdir(parents=True)
    (tmp_path / "site" / version / f"terraform_{version}_linux_amd64.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path / "site"))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "TERRAFORM_RELEASES_URL": f"http://127.0.0.1:{server.server_address[1]}",
        }
        proc = subprocess.run(
            ["bash", str(INSTALLER), str(tmp_path / "bin")], env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        server.shutdown()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "does not have the pinned SHA-256" in proc.stderr
    assert not (tmp_path / "bin" / "terraform").exists()


def test_terraform_installer_keeps_the_pinned_version_and_puts_it_on_the_agents_path(tmp_path):
    version = _pinned_terraform()
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho \'{{"terraform_version": "{version}"}}\'\n')
    fake.chmod(0o755)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TF_BUILD": "True",
        "TERRAFORM_RELEASES_URL": "http://127.0.0.1:9",
    }  # nothing listens: no download may happen
    proc = subprocess.run(
        ["bash", str(INSTALLER), str(fake.parent)], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert f"##vso[task.prependpath]{fake.parent}" in proc.stdout


@pytest.mark.parametrize("path", [AZURE, GITHUB])
def test_no_secrets_in_pipelines(path):
    text = path.read_text().lower()
    for word in ("client_secret", "client-secret", "arm_client_secret", "personal_access_token", "secrets."):
        assert word not in text, f"{path.name} mentions {word}"


def test_every_command_the_pipelines_call_exists():
    from scripts.cli import app

    commands = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    package = json.loads((REPO / "package.json").read_text())
    texts = shell_texts()
    modules = {m for t in texts for m in re.findall(r"python -m (scripts\.\w+)", t)}
    assert modules and all((REPO / (m.replace(".", "/") + ".py")).is_file() for m in modules), modules
    scripts_called = {m for t in texts for m in re.findall(r"scripts/[\w-]+\.sh", t)}
    kit_commands = {m for t in texts for m in re.findall(r"mlops-kit (\w[\w-]*)", t)}
    cdktf_commands = {m for t in texts for m in re.findall(r"npx cdktf (\w+)", t)}
    assert scripts_called and kit_commands and cdktf_commands
    assert all((REPO / s).is_file() for s in scripts_called), scripts_called
    assert kit_commands <= commands, kit_commands - commands
    assert "cdktf-cli" in package["devDependencies"]
    assert cdktf_commands <= {"diff", "deploy"}, cdktf_commands


def _ci_stacks(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.ci_stacks", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )


def test_the_synth_stage_checks_the_deploy_list_against_the_plan():
    steps = [s.get("script", "") for s in azure_steps(stage("synth"))]
    assert ".venv/bin/python -m scripts.ci_stacks check cdktf.out" in steps
    assert steps.index(".venv/bin/python -m scripts.ci_stacks check cdktf.out") > next(
        i for i, t in enumerate(steps) if "mlops-kit synth" in t
    )


def test_the_deploy_list_is_generated_from_the_plan_and_drift_is_caught(example_out, tmp_path):
    listed = tmp_path / "stacks.yml"
    assert _ci_stacks("write", str(example_out), str(listed)).returncode == 0
    ok = _ci_stacks("check", str(example_out), str(listed))
    assert ok.returncode == 0 and "deploy jobs match the 5 synthesized stacks" in ok.stdout, ok.stdout + ok.stderr
    doc = yaml.safe_load(listed.read_text())
    stacks = doc["parameters"][0]["default"]
    manifest = json.loads((example_out / "manifest.json").read_text())["stacks"]
    assert [s["name"] for s in stacks][0] == "example-shared" and stacks[-1]["name"] == "example-devops"
    for s in stacks:  # dependsOn = the jobs of cdktf's stack dependencies, platform-bootstrap excepted
        deps = set(manifest[s["name"]]["dependencies"]) - {"platform-bootstrap"}
        assert set(s["dependsOn"]) == {"stack_" + d.replace("-", "_") for d in deps}, s
    # A team added without regenerating, and a wrong order, fail the check with one line each.
    doc["parameters"][0]["default"] = [
        {**s, "dependsOn": ["stack_example_dev"]} if s["name"] == "example-devops" else s
        for s in stacks
        if s["name"] != "example-staging"
    ]
    listed.write_text(yaml.safe_dump(doc))
    bad = _ci_stacks("check", str(example_out), str(listed))
    assert bad.returncode == 1
    assert "stack example-staging is synthesized but has no deployment job" in bad.stdout
    assert "stack example-devops: dependsOn ['stack_example_dev'], the plan says" in bad.stdout
    assert "Fix: python -m scripts.ci_stacks write" in bad.stdout


def test_the_committed_deploy_list_expands_to_one_deployment_job_per_stack():
    """The list in .azure-pipelines/stacks.yml becomes the deploy stage's jobs, dependsOn included."""
    listed = yaml.safe_load((TEMPLATES / "stacks.yml").read_text())["parameters"][0]["default"]
    jobs = stage("deploy")["jobs"]
    assert [j["deployment"] for j in jobs] == [s["job"] for s in listed]
    for job, s in zip(jobs, listed, strict=True):
        assert job["dependsOn"] == s["dependsOn"] and job["variables"] == {"stack": s["name"]}
        assert job["displayName"] == f"deploy {s['name']}"
    earlier: set[str] = set()
    for s in listed:  # each job only waits for jobs listed before it
        assert set(s["dependsOn"]) <= earlier, s
        earlier.add(s["job"])


def test_the_diff_matrix_covers_every_deployable_stack(example_out, tmp_path):
    script = next(s["script"] for s in azure_steps(stage("diff")) if "setvariable" in s.get("script", ""))
    program = heredoc(script).replace("$(Pipeline.Workspace)", str(tmp_path))
    shutil.copytree(example_out, tmp_path / "cdktf.out")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True).stdout
    matrix = json.loads(out.split("isOutput=true]", 1)[1])
    assert sorted(leg["stack"] for leg in matrix.values()) == sorted(["example-shared", *ENV_STACKS, "example-devops"])


def test_github_workflow_mirrors_the_stages():
    jobs = github()["jobs"]
    waves = [f"deploy-wave-{w}" for w in range(4)]
    assert list(jobs) == ["test", "synth", "scan", "diff", *waves]
    assert "upload-sarif" in " ".join(s.get("uses", "") for s in jobs["scan"]["steps"])
    # upload-sarif in a private repository reads the run: actions: read besides security-events: write
    assert jobs["scan"]["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    # Pull requests plan with the read-only identity; only the deploy waves hold the deploying one.
    assert jobs["diff"]["env"]["ARM_CLIENT_ID"] == "${{ vars.AZURE_PLAN_CLIENT_ID }}"
    assert jobs["diff"]["env"]["TF_CLI_ARGS_plan"] == "-lock=false"
    logins = [s for s in jobs["diff"]["steps"] if s.get("uses", "").startswith("azure/login@")]
    assert logins[0]["with"]["client-id"] == "${{ vars.AZURE_PLAN_CLIENT_ID }}"
    for name in waves:
        assert jobs[name]["env"]["ARM_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
    for name in ("diff", *waves):
        job = jobs[name]
        assert job["permissions"]["id-token"] == "write"
        assert any(s.get("uses", "").startswith("azure/login@") for s in job["steps"])
        assert job["env"]["ARM_USE_OIDC"] == "true"
        if name.startswith("deploy"):
            assert job["environment"] == "mlops-kit-prod"
            assert "refs/heads/main" in job["if"]


def test_github_deploy_waves_follow_stack_dependencies(example_out, tmp_path):
    script = next(s["run"] for s in github()["jobs"]["synth"]["steps"] if s.get("id") == "plan")
    program = heredoc(script)
    (tmp_path / "cdktf.out").symlink_to(example_out)
    out = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    outputs = dict(line.split("=", 1) for line in out.splitlines())
    assert json.loads(outputs["stacks"]) == sorted(["example-shared", *ENV_STACKS, "example-devops"])
    wave_of = {n: w for w in range(4) for n in json.loads(outputs[f"wave{w}"])}
    assert sorted(wave_of) == json.loads(outputs["stacks"])
    manifest = json.loads((example_out / "manifest.json").read_text())["stacks"]
    for name, w in wave_of.items():  # every dependency deploys in an earlier wave
        deps = set(manifest[name]["dependencies"]) - {"platform-bootstrap"}
        assert all(wave_of[d] < w for d in deps), (name, deps)
    assert wave_of["example-shared"] == 0 and wave_of["example-devops"] == max(wave_of.values())
