"""main.py, the entry point `cdktf synth` runs, is the one place the stack selection is read."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ORG, REPO


def test_main_builds_only_the_stacks_mlops_kit_stacks_selects(tmp_path):
    out = tmp_path / "cdktf.out"
    env = {**os.environ, "MLOPS_KIT_TEAMS_DIR": str(ORG), "MLOPS_KIT_STACKS": "platform-*", "CDKTF_OUTDIR": str(out),
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    proc = subprocess.run([sys.executable, "main.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (out / "stacks").iterdir()) == ["platform-bootstrap"]
