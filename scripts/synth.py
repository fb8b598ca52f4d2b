"""In-process synth with a per-stack summary, written atomically.

Equivalent to `npx cdktf synth` (same `build_app`, same output), minus the node CLI's start-up.
The stacks are synthesized into a temporary folder next to the target and swapped in only when
synth succeeded, so a failure never leaves a half-written cdktf.out behind.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from infra.config import Org


@dataclass(frozen=True)
class StackSummary:
    name: str
    resources: int
    by_type: dict[str, int]
    backend: str


def summarize(outdir: Path) -> list[StackSummary]:
    out = []
    for f in sorted((outdir / "stacks").glob("*/cdk.tf.json")):
        doc = json.loads(f.read_text())
        counts = Counter({t: len(v) for t, v in doc.get("resource", {}).items()})
        backend = next(iter(doc.get("terraform", {}).get("backend", {"local": {}})))
        out.append(StackSummary(f.parent.name, sum(counts.values()), dict(counts), backend))
    return out


def synth(org: Org, outdir: Path, patterns: list[str] | None = None, progress=None) -> tuple[list[StackSummary], float]:
    """Build and synthesize the selected stacks into `outdir`; returns the summary and seconds taken.

    `patterns` None: what MLOPS_KIT_STACKS (or the `stacks` context) selects, else every stack.
    """
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    say("starting the jsii runtime and loading the azurerm bindings (takes several seconds)")
    from cdktf import App

    from scripts.entry import stack_patterns
    from stacks import build_app

    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        app = App(outdir=str(staging))
        build_app(org, app=app, patterns=patterns if patterns is not None else stack_patterns(app))
        say(f"synthesizing {len(app.node.children)} stacks")
        app.synth()
        old = outdir.with_name(f".{outdir.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if outdir.exists():
            outdir.rename(old)
        staging.rename(outdir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return summarize(outdir), time.perf_counter() - started
