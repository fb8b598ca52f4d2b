"""A fork adds team files; that must change no test result.

The kit is meant to be forked and filled with `teams/<team>.yaml`. Tests therefore read the frozen
fixture org (tests/fixtures/org), never the live teams/. This test proves it on a real fork: it copies
the checkout (the files git knows, as they are in the working tree) to a temporary folder, runs a slice
of the suite there in a fresh pytest, then adds three valid team files to its teams/ (one sorting
before `example`, one with other environments), exports MLOPS_KIT_STACKS as the README tells users
to, runs the slice again and compares the results test by test.

The slice (FORK_TESTS) is the tests that used to depend on teams/: the address snapshot, the stack
plan and selection, the config checks, the diagram and wiki (which took the first team), the config
docs and the benchmark's team generator. Each run costs one full synth of the fixture org plus one
stack (~20 s on a free core each), so the whole suite is not repeated on every run;
MLOPS_KIT_FORK_SUITE=all compares every test module instead (a release check: many minutes). The
static test below covers the rest: no test module names the live teams/ folder.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
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
ALL_VAR = "MLOPS_KIT_FORK_SUITE"
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
    """Copies of the example, public everywhere (private environments would share the example's VNet)."""
    base = yaml.safe_load((ORG / "example.yaml").read_text())
    for name, envs in EXTRA_TEAMS.items():
        doc = {**base, "name": name, "display_name": f"Fork team {name}"}
        doc["environments"] = {e: {**conf, "network": {"mode": "public"}} for e, conf in base["environments"].items()
                               if envs is None or e in envs}
        (teams / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def run(fork: Path, *args: str, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=fork, env=env, capture_output=True, text=True, timeout=timeout)


def outcomes(fork: Path, tests: list[str], env: dict[str, str], report: Path, timeout: int) -> dict[str, str]:
    """{test id: passed|failed|error|skipped} of a fresh pytest run in `fork`."""
    proc = run(fork, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider", f"--junitxml={report}", env=env,
               timeout=timeout)
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    found = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        found[f"{case.get('classname')}::{case.get('name')}"] = kinds[0].replace("failure", "failed") if kinds else "passed"
    return found


def test_a_fork_with_three_more_teams_changes_no_test_result(tmp_path):
    """The same tests, in the same copy, before and after adding three teams and exporting MLOPS_KIT_STACKS.

    Compared test by test, so a test that fails in the checkout anyway (work in progress elsewhere)
    shows up in its own module, not here; here only a difference counts.
    """
    fork = fork_of_checkout(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MLOPS_KIT_"))}
    env |= {"PYTHONPATH": str(fork), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    where = run(fork, "-c", "import infra, tests; print(infra.__file__, tests.__file__)", env=env)
    assert where.stdout.split() == [str(fork / "infra" / "__init__.py"), str(fork / "tests" / "__init__.py")]

    everything = os.environ.get(ALL_VAR) == "all"
    tests = ["tests", "--deselect", "tests/test_fork_safety.py"] if everything else FORK_TESTS
    timeout = 3600 if everything else 900
    before = outcomes(fork, tests, env, tmp_path / "before.xml", timeout)

    add_teams(fork / "teams")
    forked_env = {**env, "MLOPS_KIT_STACKS": "aardvark-*"}  # exported, as the README tells users to
    # The fork's teams are live: validate (the default ./teams) sees all four and finds them valid.
    validated = run(fork, "-m", "scripts.cli", "validate", env=forked_env)
    assert validated.returncode == 0, validated.stderr
    assert "4 team file(s): aardvark, example, fraud, zeta" in validated.stdout
    after = outcomes(fork, tests, forked_env, tmp_path / "after.xml", timeout)

    changed = {t: f"{before.get(t, 'absent')} -> {after.get(t, 'absent')}" for t in before.keys() | after.keys()
               if before.get(t) != after.get(t)}
    assert not changed, f"adding team files changed test results: {changed}"
    assert sum(o == "passed" for o in before.values()) >= 50, before  # the comparison means something


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
