"""The function's code package: Azure's no-remote-build layout, deterministic, cached, .funcignore honoured."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from stacks import function_package as fp

SITE = fp.SITE_PACKAGES


@pytest.fixture(scope="module")
def real_package() -> zipfile.ZipFile:
    return zipfile.ZipFile(fp.build_package())  # cached after the first synth; pip runs only on a miss


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
    assert {i.date_time for i in real_package.infolist()} == {fp.ZIP_TIMESTAMP}


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
    assert fp.included_files(function) == ["core/__init__.py", "function_app.py", "host.json"]


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
    assert fp._ignored(path, is_dir, [pattern]) is ignored


def test_negated_patterns_are_refused_in_one_line(function):
    (function / ".funcignore").write_text("!keep.md\n")
    with pytest.raises(fp.PackagingError) as exc:
        fp.included_files(function)
    assert len(exc.value.lines) == 1 and "negated pattern" in exc.value.lines[0]


def test_zip_is_deterministic_and_cached(function, tmp_path, capsys):
    first = fp.build_package(function, tmp_path / "cache1")
    assert "packaging" in capsys.readouterr().err
    os.utime(function / "host.json", (1, 1))  # timestamps do not matter
    second = fp.build_package(function, tmp_path / "cache2")
    assert first.name == second.name and first.read_bytes() == second.read_bytes()
    capsys.readouterr()
    assert fp.build_package(function, tmp_path / "cache1") == first
    assert capsys.readouterr().err == ""  # cache hit: no build, no progress line
    (function / "host.json").write_text('{"version": "2.0", "x": 1}\n')
    assert fp.build_package(function, tmp_path / "cache1").name != first.name  # content changes the key
    with zipfile.ZipFile(first) as zf:
        assert zf.namelist() == ["core/__init__.py", "function_app.py", "host.json"]
        assert {i.external_attr >> 16 for i in zf.infolist()} == {0o100644}


def test_pip_runs_with_the_azure_layout_and_fails_in_one_line(function, tmp_path, monkeypatch):
    (function / "requirements.txt").write_text("azure-functions==1.26.0\n")
    seen: list[list[str]] = []

    def fake_run(cmd, **_):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "WARNING: Retrying...\nERROR: Could not find a version "
                                           "that satisfies the requirement azure-functions==1.26.0\n")

    monkeypatch.setattr(fp.subprocess, "run", fake_run)
    with pytest.raises(fp.PackagingError) as exc:
        fp.build_package(function, tmp_path / "cache")
    (cmd,) = seen
    target = cmd[cmd.index("--target") + 1]
    assert target.endswith("/.python_packages/lib/site-packages")
    joined = " ".join(cmd)
    assert "--platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.11 --implementation cp" in joined
    assert "--no-compile" in cmd
    (line,) = exc.value.lines
    assert "pip could not install" in line and "Could not find a version" in line and "PyPI" in line
    assert not list((tmp_path / "cache").glob("*.zip"))  # nothing half-built is cached


def test_missing_function_folder_means_no_code_and_one_note(tmp_path, capsys):
    from cdktf import App, TerraformStack

    stack = TerraformStack(App(outdir=str(tmp_path / "out")), "s")
    assert fp.function_package_asset(stack, tmp_path / "nothing") is None
    assert fp.function_package_asset(stack, tmp_path / "nothing") is None
    assert capsys.readouterr().err.count("no function_app.py") == 1
