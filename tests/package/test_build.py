"""The function's code package: Azure's no-remote-build layout, deterministic, recorded, .funcignore honoured."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from scripts import package as pk
from tests.conftest import function_package

SITE = pk.SITE_PACKAGES


@pytest.fixture(scope="module")
def real_package() -> zipfile.ZipFile:
    (context,) = function_package().values()  # `mlops-kit package`, once per session
    return zipfile.ZipFile(context["zip"])


def test_real_package_layout(real_package):
    names = set(real_package.namelist())
    assert {"function_app.py", "host.json", "requirements.txt", "trigger_core/settings.py"} <= names
    assert f"{SITE}/azure/functions/__init__.py" in names  # azure-functions, installed for Linux
    assert any(n.startswith(f"{SITE}/azure/identity/") for n in names)
    assert any(n.startswith(f"{SITE}/azure_functions-") and n.endswith(".dist-info/METADATA") for n in names)


def test_real_package_leaves_out_ignored_and_machine_specific_files(real_package):
    names = real_package.namelist()
    assert names == sorted(names)
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__/" in n]
    assert not [n for n in names if n.split("/")[-1] in ("local.settings.json", ".funcignore", "README.md")]
    assert not [n for n in names if n.startswith("tests/") or n.startswith(f"{SITE}/bin/")]
    assert {i.date_time for i in real_package.infolist()} == {pk.ZIP_TIMESTAMP}


def test_binary_wheels_are_for_linux(real_package):
    native = [n for n in real_package.namelist() if n.endswith(".so")]
    assert native, "cryptography/cffi ship native code"
    assert all("darwin" not in n and not n.endswith(".pyd") for n in native)
    assert any("x86_64-linux-gnu" in n or "abi3" in n for n in native)


@pytest.fixture()
def function(tmp_path: Path) -> Path:
    """A small function folder without requirements.txt (no pip), with things to ignore."""
    src = tmp_path / "fn"
    (src / "core" / "__pycache__").mkdir(parents=True)
    (src / "tests").mkdir()
    (src / "function_app.py").write_text("import core\n")
    (src / "host.json").write_text('{"version": "2.0"}\n')
    (src / "core" / "__init__.py").write_text("X = 1\n")
    (src / "core" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (src / "tests" / "test_x.py").write_text("")
    (src / "local.settings.json").write_text('{"Values": {"AZDO_PAT": "never"}}')
    (src / "notes.md").write_text("")
    (src / ".funcignore").write_text("# comment\ntests/\n*.md\n")
    return src


def test_funcignore_and_builtin_ignores(function):
    assert pk.included_files(function) == ["core/__init__.py", "function_app.py", "host.json"]


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("tests", "tests", True, True),
        ("tests", "pkg/tests", True, True),
        ("tests/", "tests.py", False, False),
        ("/docs", "docs", True, True),
        ("/docs", "pkg/docs", True, False),
        (".git*", ".gitignore", False, True),
        ("*.md", "a/b/README.md", False, True),
        ("build/", "build", False, False),
    ],
)
def test_ignore_pattern_semantics(pattern, path, is_dir, ignored):
    assert pk._ignored(path, is_dir, [pattern]) is ignored


def test_negated_patterns_are_refused_in_one_line(function):
    (function / ".funcignore").write_text("!keep.md\n")
    with pytest.raises(pk.PackagingError) as exc:
        pk.included_files(function)
    assert len(exc.value.lines) == 1 and "negated pattern" in exc.value.lines[0]


def test_zip_is_deterministic_recorded_and_rebuilt_only_on_change(function, tmp_path):
    said: list[str] = []
    first = pk.build_package(function, tmp_path / "out1", progress=said.append)
    assert first is not None and first.rebuilt and len(said) == 1 and "packaging" in said[0]
    os.utime(function / "host.json", (1, 1))  # timestamps do not matter
    second = pk.build_package(function, tmp_path / "out2")
    assert second is not None and first.zip.name == second.zip.name
    assert first.zip.read_bytes() == second.zip.read_bytes()
    again = pk.build_package(function, tmp_path / "out1", progress=said.append)
    assert again == pk.Built(first.zip, first.content_hash, rebuilt=False) and len(said) == 1  # no build, no line
    manifest = json.loads((tmp_path / "out1" / pk.MANIFEST).read_text())
    assert manifest["source_hash"] == first.content_hash == first.zip.stem
    (function / "host.json").write_text('{"version": "2.0", "x": 1}\n')
    changed = pk.build_package(function, tmp_path / "out1")
    assert changed is not None and changed.zip.name != first.zip.name  # content changes the name
    assert first.zip.exists()  # a synth that read the old record may still be copying it
    os.utime(first.zip, (1, 1))  # an hour later
    (function / "host.json").write_text('{"version": "2.0", "x": 2}\n')
    last = pk.build_package(function, tmp_path / "out1")
    assert last is not None
    assert sorted(p.name for p in (tmp_path / "out1").iterdir()) == sorted(
        [changed.zip.name, last.zip.name, pk.MANIFEST]
    )
    with zipfile.ZipFile(second.zip) as zf:
        assert zf.namelist() == ["core/__init__.py", "function_app.py", "host.json"]
        assert {i.external_attr >> 16 for i in zf.infolist()} == {0o100644}


def test_pip_runs_with_the_azure_layout_and_fails_in_one_line(function, tmp_path, monkeypatch):
    """pip itself is replaced here: the failure it reports offline is what is under test."""
    (function / "requirements.txt").write_text("azure-functions==1.26.0\n")
    seen: list[list[str]] = []

    def fake_run(cmd, **_):
        seen.append(cmd)
        return subprocess.CompletedProcess(
            cmd,
            1,
            "",
            "WARNING: Retrying...\nERROR: Could not find a version "
            "that satisfies the requirement azure-functions==1.26.0\n",
        )

    monkeypatch.setattr(pk.subprocess, "run", fake_run)
    with pytest.raises(pk.PipFailed) as exc:
        pk.build_package(function, tmp_path / "out")
    (cmd,) = seen
    target = cmd[cmd.index("--target") + 1]
    assert target.endswith("/.python_packages/lib/site-packages")
    joined = " ".join(cmd)
    assert "--platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.11 --implementation cp" in joined
    assert "--no-compile" in cmd
    line = str(exc.value)
    assert "pip could not install" in line and "Could not find a version" in line and "PyPI" in line
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())  # nothing half-built


def test_no_function_folder_means_no_code_and_one_note(tmp_path, capsys):
    from cdktf import App, TerraformStack

    from stacks.function_package import PACKAGE_CONTEXT, function_package

    assert pk.build_package(tmp_path / "nothing", tmp_path / "out") is None
    context = pk.synth_context(tmp_path / "nothing", tmp_path / "out")
    assert context == {"zip": "", "hash": ""}
    assert capsys.readouterr().err.count("no function_app.py") == 1
    stack = TerraformStack(App(outdir=str(tmp_path / "cdktf.out"), context={PACKAGE_CONTEXT: context}), "s")
    assert function_package(stack) is None
