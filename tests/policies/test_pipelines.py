"""The kit's own pipelines (azure-pipelines.yml, .github/workflows/mlops-kit.yml): valid, secret-free,
the stages in order, every command they call exists, and their embedded scripts work on the example."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml

from tests.conftest import REPO, SHARED

AZURE = REPO / "azure-pipelines.yml"
GITHUB = REPO / ".github" / "workflows" / "mlops-kit.yml"
CHECKER = SHARED / "tools" / "pipeline-yaml-check"
ENV_STACKS = ["example-dev", "example-prod", "example-staging"]


def azure() -> dict:
    return yaml.safe_load(AZURE.read_text())


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
    for node in (stage("diff"), stage("deploy")):
        cli = [s for s in azure_steps(node) if s.get("task") == "AzureCLI@2"]
        assert cli
        for s in cli:
            assert s["inputs"]["addSpnToEnvironment"] is True
            script = s["inputs"]["inlineScript"]
            for var in ('ARM_USE_OIDC=true', 'ARM_OIDC_TOKEN="$idToken"', 'ARM_CLIENT_ID="$servicePrincipalId"',
                        'ARM_TENANT_ID="$tenantId"'):
                assert var in script


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
    scripts_called = {m for t in texts for m in re.findall(r"scripts/[\w-]+\.sh", t)}
    kit_commands = {m for t in texts for m in re.findall(r"mlops-kit (\w[\w-]*)", t)}
    cdktf_commands = {m for t in texts for m in re.findall(r"npx cdktf (\w+)", t)}
    assert scripts_called and kit_commands and cdktf_commands
    assert all((REPO / s).is_file() for s in scripts_called), scripts_called
    assert kit_commands <= commands, kit_commands - commands
    assert "cdktf-cli" in package["devDependencies"]
    assert cdktf_commands <= {"diff", "deploy"}, cdktf_commands


def test_the_synth_stage_check_matches_the_example(example_out, tmp_path):
    script = next(s["script"] for s in azure_steps(stage("synth")) if "manifest.json" in s.get("script", ""))
    program = heredoc(script)

    def run(pipeline_text: str) -> subprocess.CompletedProcess:
        work = tmp_path / f"w{len(list(tmp_path.iterdir()))}"
        work.mkdir()
        (work / "azure-pipelines.yml").write_text(pipeline_text)
        (work / "cdktf.out").symlink_to(example_out)
        return subprocess.run([sys.executable, "-c", program], cwd=work, capture_output=True, text=True, timeout=60)

    ok = run(AZURE.read_text())
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "deploy jobs match the 5 synthesized stacks" in ok.stdout
    # A job missing for a synthesized stack, and a wrong order, are caught.
    doc = azure()
    deploy = next(s for s in doc["stages"] if s["stage"] == "deploy")
    deploy["jobs"] = [j for j in deploy["jobs"] if j["variables"]["stack"] != "example-staging"]
    for j in deploy["jobs"]:
        if j["variables"]["stack"] == "example-devops":
            j["dependsOn"] = ["stack_example_dev"]
    bad = run(yaml.safe_dump(doc))
    assert bad.returncode == 1
    assert "stack example-staging is synthesized but has no deployment job" in bad.stdout
    assert "the job for example-devops must also depend on the jobs of ['example-prod', 'example-staging']" in bad.stdout


def test_the_diff_matrix_covers_every_deployable_stack(example_out, tmp_path):
    script = next(s["script"] for s in azure_steps(stage("diff")) if "setvariable" in s.get("script", ""))
    program = heredoc(script).replace("$(Pipeline.Workspace)", str(tmp_path))
    shutil.copytree(example_out, tmp_path / "cdktf.out")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True).stdout
    matrix = json.loads(out.split("isOutput=true]", 1)[1])
    assert sorted(leg["stack"] for leg in matrix.values()) == sorted(["example-shared", *ENV_STACKS, "example-devops"])


def test_github_workflow_mirrors_the_stages():
    jobs = github()["jobs"]
    assert list(jobs) == ["test", "synth", "scan", "diff", "deploy-wave-0", "deploy-wave-1", "deploy-wave-2"]
    assert "upload-sarif" in " ".join(s.get("uses", "") for s in jobs["scan"]["steps"])
    for name in ("diff", "deploy-wave-0", "deploy-wave-1", "deploy-wave-2"):
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
    out = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         check=True).stdout
    outputs = dict(line.split("=", 1) for line in out.splitlines())
    assert json.loads(outputs["wave0"]) == ["example-shared"]
    assert json.loads(outputs["wave1"]) == ENV_STACKS
    assert json.loads(outputs["wave2"]) == ["example-devops"]
    assert json.loads(outputs["stacks"]) == sorted(["example-shared", *ENV_STACKS, "example-devops"])
