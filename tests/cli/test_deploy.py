"""`mlops-kit deploy` reruns cdktf deploy only while it fails on RBAC propagation (scripts/deploy.py).

cdktf cannot deploy offline, so a small script stands in for it: a real process that prints what a
failed apply prints (the azurerm error of the package upload) for its first N runs, then succeeds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts.deploy import MAX_WAIT_SECONDS, PROPAGATION_ERRORS, deploy, waits
from tests.conftest import REPO

# What azurerm 4.55 prints when the upload's data role is not effective yet (the storage error code inside).
UPLOAD_403 = (
    "Error: creating Blob \"source/abc/released-package.zip\" (Account \"stpkexampledev\" / Container "
    "\"app-package\"): executing request: unexpected status 403 (403 This request is not authorized to perform "
    "this operation using this permission.) with AuthorizationPermissionMismatch"
)


def fake_cdktf(tmp_path: Path, failures: list[str]) -> list[str]:
    """A command that prints failures[i] and exits 1 on its i-th run, then prints `deployed` and exits 0."""
    state = tmp_path / "runs.json"
    script = tmp_path / "cdktf.py"
    script.write_text(textwrap.dedent(f"""
        import json, pathlib, sys
        state = pathlib.Path({str(state)!r})
        runs = json.loads(state.read_text()) if state.exists() else []
        runs.append(sys.argv[1:])
        state.write_text(json.dumps(runs))
        failures = {failures!r}
        if len(runs) <= len(failures):
            print("example-dev  azurerm_storage_blob.package: Creating...")
            print(failures[len(runs) - 1], file=sys.stderr)
            sys.exit(1)
        print("example-dev  Apply complete! deployed")
    """))
    return [sys.executable, str(script)]


def runs(tmp_path: Path) -> list[list[str]]:
    return json.loads((tmp_path / "runs.json").read_text())


def run(tmp_path, failures, **kw):
    out, notes, slept = [], [], []
    rc = deploy(["example-*", "--auto-approve"], command=fake_cdktf(tmp_path, failures), echo=out.append,
                note=notes.append, sleep=slept.append, **kw)
    return rc, "".join(out), notes, slept


def test_a_propagation_403_is_waited_out_and_the_same_deploy_runs_again(tmp_path):
    rc, out, notes, slept = run(tmp_path, [UPLOAD_403, UPLOAD_403], first_wait=60)
    assert rc == 0
    assert runs(tmp_path) == [["example-*", "--auto-approve"]] * 3  # the same arguments every time
    assert out.count("AuthorizationPermissionMismatch") == 2 and "deployed" in out  # output passed through
    assert slept == [60, 120]
    assert len(notes) == 2 and all("still propagating" in n and "attempt" in n for n in notes)
    assert "attempt 2 of 5" in notes[0] and "attempt 3 of 5" in notes[1]


def test_any_other_failure_ends_at_once_with_cdktfs_exit_code(tmp_path):
    rc, out, notes, slept = run(tmp_path, ["Error: creating Resource Group: AuthorizationFailed ..."])
    assert rc == 1 and len(runs(tmp_path)) == 1
    assert slept == [] and notes == []


def test_a_firewall_refusal_is_not_mistaken_for_propagation(tmp_path):
    """AuthorizationFailure (network rules) does not heal by waiting."""
    rc, _, _, slept = run(tmp_path, ["unexpected status 403 (403 This request is not authorized ...) AuthorizationFailure"])
    assert rc == 1 and len(runs(tmp_path)) == 1 and slept == []


def test_attempts_are_bounded_and_the_last_failure_is_one_line(tmp_path):
    rc, _, notes, slept = run(tmp_path, [UPLOAD_403] * 9, attempts=3, first_wait=1)
    assert rc == 1 and len(runs(tmp_path)) == 3 and slept == [1, 2]
    assert notes[-1].startswith("error: still AuthorizationPermissionMismatch after 3 attempts")
    assert "\n" not in notes[-1] and "Fix:" in notes[-1]


def test_waits_double_up_to_the_cap():
    assert waits(6, 60) == [60, 120, 240, 480, 480]
    assert max(waits(20, 60)) == MAX_WAIT_SECONDS
    assert waits(1, 60) == []


def test_the_codes_matched_are_storages_propagation_code_only():
    assert PROPAGATION_ERRORS == ("AuthorizationPermissionMismatch",)


@pytest.mark.parametrize("argv, line", [
    (["deploy", "--attempts", "0", "x"], "error: --attempts: must be at least 1"),
])
def test_cli_bad_attempts_is_one_line(argv, line):
    proc = subprocess.run([sys.executable, "-m", "scripts.cli", *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith(line) and proc.stderr.count("\n") == 1, proc.stderr


def test_cli_without_npx_is_one_line(tmp_path):
    """The command as a user runs it, with a PATH that has Python but no npx."""
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "scripts.cli", "deploy", "example-dev"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip() == ("error: npx: not found. Fix: install Node.js 20 and run `npm ci` in the kit's "
                                   "checkout")


@pytest.mark.parametrize("pipeline", [".azure-pipelines/deploy.yml", ".github/workflows/mlops-kit.yml"])
def test_the_kits_pipelines_deploy_through_mlops_kit_deploy(pipeline):
    """A bare `cdktf deploy` would fail a first deploy whenever the upload's role is not effective yet."""
    lines = [ln.strip() for ln in (REPO / pipeline).read_text().splitlines() if not ln.strip().startswith("#")]
    deploys = [ln for ln in lines if "cdktf deploy" in ln or "mlops-kit deploy" in ln]
    commands = [ln for ln in deploys if not ln.startswith(("- name:", "displayName:"))]
    assert commands and all(".venv/bin/mlops-kit deploy " in ln for ln in commands), commands
    assert not [ln for ln in commands if "npx cdktf deploy" in ln]
