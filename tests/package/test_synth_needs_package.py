"""Synth uses the package `mlops-kit package` built and fails in one line when it is missing or stale."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scripts import package as pk
from scripts.cli import app
from stacks.function_package import NOT_GIVEN, PACKAGE_CONTEXT, PackagingError
from tests.conftest import ORG, REPO, function_package

FIX = "Fix: run mlops-kit package, then synth again"


def cli(*args: str | Path, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "400", **(env or {})})


@pytest.fixture()
def built(tmp_path: Path) -> Path:
    """A copy of the session's package folder (build/function-package), free to damage."""
    (context,) = function_package().values()
    copy = tmp_path / "package"
    shutil.copytree(Path(context["zip"]).parent, copy)
    return copy


def test_the_command_builds_a_zip_holding_the_function_source():
    (context,) = function_package().values()
    package = Path(context["zip"])
    files = pk.included_files(pk.FUNCTION_DIR)
    assert package.parent == pk.DEFAULT_DIR and package.name == f"{pk.content_hash(pk.FUNCTION_DIR)}.zip"
    with zipfile.ZipFile(package) as zf:
        own = [n for n in zf.namelist() if not n.startswith(".python_packages/")]
        assert own == files
        assert all(zf.read(rel) == (pk.FUNCTION_DIR / rel).read_bytes() for rel in files)
    manifest = json.loads((package.parent / pk.MANIFEST).read_text())
    assert manifest["source_hash"] == context["hash"] == package.stem and manifest["package"] == package.name
    result = cli("package")  # up to date: no pip, no progress line
    assert result.exit_code == 0 and result.stderr == ""
    assert (
        result.stdout == f"ok up to date: {package.relative_to(REPO)} ({package.stat().st_size / 1e6:.1f} MB, "
        f"content hash {package.stem})\n"
    )


def test_synth_without_a_package_fails_in_one_line(tmp_path):
    result = cli("synth", "--teams", ORG, "--out", tmp_path / "out", env={pk.PACKAGE_DIR_VAR: str(tmp_path / "none")})
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {tmp_path / 'none'}: no function package (functions/pipeline_trigger was never packaged here). {FIX}\n"
    )
    assert not (tmp_path / "out").exists()


def test_a_stale_package_fails_in_one_line(built, tmp_path):
    manifest = json.loads((built / pk.MANIFEST).read_text())
    (built / pk.MANIFEST).write_text(json.dumps({**manifest, "source_hash": "0" * 20}))  # built from other source
    result = cli(
        "synth", "example-dev", "--teams", ORG, "--out", tmp_path / "out", env={pk.PACKAGE_DIR_VAR: str(built)}
    )
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {built}: the function package is stale: functions/pipeline_trigger changed")
    assert f"(packaged {'0' * 20}, source now {manifest['source_hash']}). {FIX}" in line


def test_a_damaged_package_fails_in_one_line(built, tmp_path):
    zip_file = next(built.glob("*.zip"))
    zip_file.write_bytes(zip_file.read_bytes()[:-10])
    result = cli("synth", "--teams", ORG, "--out", tmp_path / "out", env={pk.PACKAGE_DIR_VAR: str(built)})
    assert result.exit_code == 2
    assert result.stderr == f"error: {zip_file}: missing, or not the zip manifest.json records (sha256). {FIX}\n"


def test_the_real_source_changing_makes_the_package_stale(tmp_path):
    source = tmp_path / "fn"
    shutil.copytree(pk.FUNCTION_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "requirements.txt").unlink()  # no pip: this is about the record, not the dependencies
    built = pk.build_package(source, tmp_path / "pkg")
    assert built is not None and pk.require_package(source, tmp_path / "pkg")["hash"] == built.content_hash
    (source / "trigger_core" / "handler.py").write_text("# edited\n", encoding="utf-8")
    with pytest.raises(PackagingError) as exc:
        pk.require_package(source, tmp_path / "pkg")
    (line,) = exc.value.lines
    assert "the function package is stale" in line and line.endswith(FIX)


def test_the_stacks_never_build_a_package_themselves(tmp_path):
    """A build_app caller that passes no package (or a problem) gets the one line, not a build."""
    from cdktf import App

    from infra.config import load_org
    from stacks import build_app

    org = load_org(ORG)
    with pytest.raises(PackagingError) as exc:
        build_app(org, app=App(outdir=str(tmp_path / "a")), patterns=["example-dev"])
    assert exc.value.lines == [NOT_GIVEN]
    problem = {PACKAGE_CONTEXT: {"problem": f"x: stale. {FIX}"}}
    with pytest.raises(PackagingError) as exc:
        build_app(org, app=App(outdir=str(tmp_path / "b"), context=problem), patterns=["example-dev"])
    assert exc.value.lines == [f"x: stale. {FIX}"]


def test_npx_cdktf_synth_fails_in_one_line_without_a_package(tmp_path):
    """main.py (what `npx cdktf synth` runs): no traceback, exit 2; stacks that need no package still synth."""
    env = {
        **os.environ,
        "MLOPS_KIT_TEAMS_DIR": str(ORG),
        "MLOPS_KIT_STACKS": "example-dev",
        "CDKTF_OUTDIR": str(tmp_path / "out"),
        pk.PACKAGE_DIR_VAR: str(tmp_path / "none"),
    }
    proc = subprocess.run([sys.executable, "main.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert (
        errors
        == [
            f"error: {tmp_path / 'none'}: no function package (functions/pipeline_trigger was never "
            f"packaged here). {FIX}"
        ]
        and "Traceback" not in proc.stderr
    )


def test_the_environment_stacks_reference_the_built_zip_by_its_content_hash(example, example_out):
    """What synth writes is what it wrote when it built the package itself: the same asset path and hash."""
    (context,) = function_package().values()
    digest = context["hash"]
    for name in ("example-dev", "example-staging", "example-prod"):
        (asset,) = (example_out / "stacks" / name / "assets" / "function_package").iterdir()
        assert asset.name == digest.upper() and [p.name for p in asset.iterdir()] == [f"{digest}.zip"]
        assert (asset / f"{digest}.zip").read_bytes() == Path(context["zip"]).read_bytes()
        blobs = example[name]["resource"]["azurerm_storage_blob"]
        assert any(b["source"] == f"assets/function_package/{digest.upper()}/{digest}.zip" for b in blobs.values())


@pytest.mark.parametrize(
    "rel",
    [".ci/run", "scripts/demo.sh", "azure-pipelines.yml", ".github/workflows/mlops-kit.yml", "scripts/bench_scan.py"],
)
def test_everything_that_synthesizes_packages_first(rel):
    text = (REPO / rel).read_text()
    runs = re.findall(r'mlops-kit"?\)?,?\s+"?(synth|package)\b', text)  # shell lines and bench_scan's argv
    assert runs[:1] == ["package"] and "synth" in runs, (rel, runs)
