"""Run a rendered pipeline's steps locally, the way an Azure Pipelines agent runs them.

What is simulated, and how close it is to the agent:
- template expressions `${{ parameters.x }}` are expanded from the run's parameters (the kit's
  templates use no other compile-time construct inside steps; pools are not executed);
- macros `$(Pipeline.Workspace)`, `$(Build.BuildId)`, ... and job variables are substituted in the
  script text before it runs, as the agent does; variables also reach the script as environment
  variables (upper case, `.` -> `_`), variable groups included;
- `script:` and `AzureCLI@2` (scriptType bash) steps run with `bash <file>` in their working
  directory; `##vso[task.setvariable ...;isOutput=true]` lines become output variables, read by later
  stages through `$[ stageDependencies.<stage>.<job>.outputs['<step>.<var>'] ]`;
- `checkout` copies a repository folder to its `path`, `publish`/`download` copy artifacts;
- `UsePythonVersion@0` puts a clean venv (no packages) first on PATH: a `pip install` step installs
  into it for real, so only what the step installs is there;
- `az` is tests/pipelines/azstub.py (a recording stub that enforces the az ml reference).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

STUB = Path(__file__).resolve().parent / "azstub.py"
OUTPUT = re.compile(r"##vso\[task\.setvariable variable=([^;\]]+);isOutput=true\](.*)")
DEPENDENCY = re.compile(r"\$\[\s*stageDependencies\.(\w+)\.(\w+)\.outputs\['(\w+)\.(\w+)'\]\s*\]")
PARAM = re.compile(r"\$\{\{\s*parameters\.(\w+)\s*\}\}")
MACRO = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.]*)\)")


def expand(node, params: dict[str, str]):
    if isinstance(node, dict):
        return {expand(k, params): expand(v, params) for k, v in node.items()}
    if isinstance(node, list):
        return [expand(v, params) for v in node]
    if isinstance(node, str):
        return PARAM.sub(lambda m: str(params[m.group(1)]), node)
    return node


class StepFailed(AssertionError):
    pass


@dataclass
class Agent:
    root: Path  # scratch folder of this run
    repos: dict[str, Path]  # checkout alias ("self", "templates", "app") -> repository folder
    groups: dict[str, dict[str, str]]  # variable group name -> variables
    python_bin: Path  # bin/ of the clean venv UsePythonVersion selects
    build_id: str = "4242"
    step_timeout: int = 300  # seconds per step
    extra_env: dict[str, str] = field(default_factory=dict)
    outputs: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    log: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bin = self.root / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        az = self.bin / "az"
        az.write_text(
            f"#!{sys.executable}\nimport runpy, sys\nsys.argv[0] = 'az'\nrunpy.run_path({str(STUB)!r}, run_name='__main__')\n"
        )
        az.chmod(0o755)
        self.az_log = self.root / "az.log"
        self.az_state = self.root / "az-state.json"
        self.artifacts = self.root / "artifacts"

    def calls(self) -> list[dict]:
        if not self.az_log.exists():
            return []
        return [json.loads(line) for line in self.az_log.read_text().splitlines()]

    def state(self) -> dict:
        return json.loads(self.az_state.read_text()) if self.az_state.exists() else {}

    def seed_state(self, data: dict) -> None:
        self.az_state.write_text(json.dumps(data))

    def run(self, pipeline: Path, params: dict[str, str] | None = None, stages: list[str] | None = None) -> None:
        doc = expand(yaml.safe_load(pipeline.read_text()), params or {})
        if stages is None or stages[0] == doc["stages"][0]["stage"]:  # a new run: its own artifacts and outputs
            shutil.rmtree(self.artifacts, ignore_errors=True)
            self.outputs = {}
        for stage in doc["stages"]:
            if stages is None or stage["stage"] in stages:
                for job in stage["jobs"]:
                    self._job(stage["stage"], job)

    def _job(self, stage: str, job: dict) -> None:
        name = job.get("job") or job.get("deployment")
        workspace = self.root / "work" / f"{stage}-{name}"
        shutil.rmtree(workspace, ignore_errors=True)
        for sub in ("a", "s", "TestResults", "tmp"):
            (workspace / sub).mkdir(parents=True)
        variables = {
            "Pipeline.Workspace": str(workspace),
            "Agent.TempDirectory": str(workspace / "tmp"),
            "Build.ArtifactStagingDirectory": str(workspace / "a"),
            "Build.SourcesDirectory": str(workspace / "s"),
            "System.DefaultWorkingDirectory": str(workspace / "s"),
            "Common.TestResultsDirectory": str(workspace / "TestResults"),
            "Build.BuildId": self.build_id,
            "Build.BuildNumber": f"20260101.{self.build_id}",
        }
        for v in job.get("variables", []):
            if "group" in v:
                variables |= self.groups[v["group"]]
            else:
                m = DEPENDENCY.fullmatch(v["value"].strip())
                variables[v["name"]] = self.outputs.get(m.groups(), "") if m else v["value"]
        steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
        path = [str(self.bin), *os.environ["PATH"].split(os.pathsep)]
        for step in steps:
            if "checkout" in step:
                if step["checkout"] != "none":
                    shutil.copytree(self.repos[step["checkout"]], workspace / step.get("path", "s"), dirs_exist_ok=True)
            elif "publish" in step:
                shutil.copytree(self._macros(step["publish"], variables), self.artifacts / step["artifact"])
            elif "download" in step:
                shutil.copytree(self.artifacts / step["artifact"], workspace / step["artifact"])
            elif step.get("task") == "UsePythonVersion@0":
                path.insert(1, str(self.python_bin))
            elif step.get("task") == "PublishTestResults@2":
                continue
            elif step.get("task") == "AzureCLI@2":
                inputs = step["inputs"]
                assert inputs["scriptType"] == "bash" and inputs["scriptLocation"] == "inlineScript", step
                self._bash(stage, name, step, inputs["inlineScript"], inputs.get("workingDirectory"), variables, path)
            elif "script" in step:
                self._bash(stage, name, step, step["script"], step.get("workingDirectory"), variables, path)
            else:
                raise AssertionError(f"step the harness does not know: {step}")

    def _macros(self, text: str, variables: dict[str, str]) -> str:
        return MACRO.sub(lambda m: variables.get(m.group(1), m.group(0)), text)

    def _bash(self, stage, job, step, script, cwd, variables, path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        env |= {k.upper().replace(".", "_"): v for k, v in variables.items()}
        env |= {k: self._macros(str(v), variables) for k, v in (step.get("env") or {}).items()}
        env |= {
            "PATH": os.pathsep.join(path),
            "AZ_LOG": str(self.az_log),
            "AZ_STATE": str(self.az_state),
            **self.extra_env,
        }
        file = self.root / "step.sh"
        file.write_text(self._macros(script, variables))
        where = self._macros(cwd, variables) if cwd else variables["System.DefaultWorkingDirectory"]
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", str(file)],
            cwd=where,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        record = {
            "stage": stage,
            "job": job,
            "step": step.get("displayName") or step.get("name"),
            "rc": proc.returncode,
            "stdout": proc.stdout,
            "stderr": proc.stderr,
        }
        self.log.append(record)
        for line in proc.stdout.splitlines():
            m = OUTPUT.search(line)
            if m and step.get("name"):
                self.outputs[(stage, job, step["name"], m.group(1))] = m.group(2)
        if proc.returncode != 0:
            raise StepFailed(
                f"{stage}/{job}: step '{record['step']}' exited {proc.returncode}\n"
                f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
            )
