"""A fork adds team files; that must change no test result.

The kit is meant to be forked and filled with `teams/<team>.yaml`. Tests therefore read the frozen
fixture org (tests/fixtures/org), never the live teams/. This test proves it on a real fork: it copies
the checkout (the files git knows, as they are in the working tree) to a temporary folder, adds three
valid team files to its teams/ (one sorting before `example`, one with other environments), exports
MLOPS_KIT_STACKS as the README tells users to, and runs a slice of the suite there in a fresh pytest.

The slice (FORK_TESTS) is the tests that used to depend on teams/: the address snapshot, the stack
plan and selection, the config checks, the diagram and wiki (which took the first team), the config
docs and the benchmark's team generator. It costs one full synth of the fixture org plus one stack
(~30 s on a free core), so the whole suite is not repeated. The static test below covers the rest:
no test module names the live teams/ folder.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ORG, REPO, SHARED

FORK_TESTS = [
    "tests/stacks/test_addresses.py",
    "tests/stacks/test_selection.py",
    "tests/test_config.py",
    "tests/cli/test_diagram.py",
    "tests/cli/test_wiki.py",
    "tests/docs/test_config_docs.py",
    "tests/bench/test_bench_units.py",
]
EXTRA_TEAMS = {"aardvark": None, "fraud": None, "zeta": ["dev", "prod"]}  # name: environments kept (None: all)


def fork_of_checkout(root: Path) -> Path:
    """The checkout's tracked and untracked-but-not-ignored files copied to `root/main`."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    fork = root / "main"
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():  # tracked but deleted in the working tree: not part of the fork
            (fork / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, fork / rel)
    for rel in ("node_modules",):  # installed, not committed (Azurite, the cdktf CLI)
        if (REPO / rel).exists():
            (fork / rel).symlink_to(REPO / rel)
    if SHARED.exists():  # the offline checkers some tests run, next to the checkout as here
        (root / "shared").symlink_to(SHARED)
    return fork


def add_teams(teams: Path) -> None:
    base = yaml.safe_load((ORG / "example.yaml").read_text())
    for name, envs in EXTRA_TEAMS.items():
        doc = {**base, "name": name, "display_name": f"Fork team {name}"}
        if envs:
            doc["environments"] = {e: base["environments"][e] for e in envs}
        (teams / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def run(fork: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=fork, env=env, capture_output=True, text=True, timeout=900)


def test_a_fork_with_three_more_teams_passes_the_fixture_driven_tests(tmp_path):
    fork = fork_of_checkout(tmp_path)
    add_teams(fork / "teams")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MLOPS_KIT_"))}
    env |= {"PYTHONPATH": str(fork), "MLOPS_KIT_STACKS": "aardvark-*", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}

    where = run(fork, "-c", "import infra, tests; print(infra.__file__, tests.__file__)", env=env)
    assert where.stdout.split() == [str(fork / "infra" / "__init__.py"), str(fork / "tests" / "__init__.py")]

    # The fork's teams are live: validate (the default ./teams) sees all four and finds them valid.
    validated = run(fork, "-m", "scripts.cli", "validate", env=env)
    assert validated.returncode == 0, validated.stderr
    assert "4 team file(s): aardvark, example, fraud, zeta" in validated.stdout

    tested = run(fork, "-m", "pytest", *FORK_TESTS, "-q", "-p", "no:cacheprovider", env=env)
    summary = tested.stdout.strip().splitlines()[-1] if tested.stdout.strip() else tested.stderr
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    assert re.search(r"\d+ passed", summary) and not re.search(r"failed|error|skipped", summary), summary


def test_no_test_module_reads_the_live_teams_folder():
    """`REPO / "teams"`, `parents[2] / "teams"` and the like: a fork's team files would leak into assertions."""
    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        if path.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant)
                    and node.right.value == "teams" and not isinstance(node.left, ast.BinOp) and not _is_tmp(node.left)):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, "tests must read tests/fixtures/org (tests.conftest.ORG), not teams/: " + ", ".join(offenders)


def _is_tmp(node: ast.expr) -> bool:
    """`tmp_path / "teams"`, `tmp / "teams"`: a folder the test made itself (`REPO / "docs" / "teams"` is
    no root either: the BinOp check above skips subfolders)."""
    return "tmp" in ast.unparse(node)
