"""Smoke test of `mlops-kit bench --quick`: a real run in a subprocess, opt-in.

Benchmarks are not tests: they take minutes and their numbers depend on the machine, so this runs
only with MLOPS_KIT_RUN_BENCH=1, and it asserts that the run completes and reports, never a timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.bench import END_MARKER, START_MARKER
from tests.conftest import function_package

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("MLOPS_KIT_RUN_BENCH") != "1",
    reason="benchmarks are not tests: set MLOPS_KIT_RUN_BENCH=1 to run `bench --quick` (about two minutes)",
)


def test_quick_bench_runs_every_cell_and_writes_its_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n## Other\nkeep me\n\n{START_MARKER}\nold\n{END_MARKER}\n")
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("MLOPS_KIT_STACKS", None)
    function_package()  # every cell synthesizes an environment stack, which references it
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.bench", "--quick", "--write", str(doc)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[5/5] 10 teams, all stacks, rep 1 ..." in proc.stderr
    assert "failed" not in proc.stdout
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split("|")[1:4] for row in rows] == [
        [" - ", " floor: import azurerm + empty synth ", " 1 "],
        [" 1 ", " one selected stack ", " 1 "],
        [" 1 ", " all stacks ", f" {_stacks(1)} "],
        [" 10 ", " one selected stack ", " 1 "],
        [" 10 ", " all stacks ", f" {_stacks(10)} "],
    ]
    assert "One selected stack, 10 teams / 1 team:" in proc.stdout
    text = doc.read_text()
    assert "keep me" in text and "old" not in text.split(START_MARKER)[1]
    assert proc.stdout.strip() in text


def _stacks(teams: int) -> int:
    """The stacks an org of generated teams has, from the kit's own plan (new stack kinds included)."""
    code = (
        "import sys, tempfile; from pathlib import Path; from scripts.bench import generate_teams; "
        "from infra.config import load_org; from stacks import stack_plan; d = Path(tempfile.mkdtemp()); "
        f"generate_teams(d, {teams}); print(len(stack_plan(load_org(d))))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1])
