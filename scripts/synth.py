"""In-process synth with a per-stack summary, written atomically, never over anything but an old output.

Equivalent to `npx cdktf synth` (same `build_app`, same output), minus the node CLI's start-up.
The stacks are synthesized into a staging folder next to the target and swapped in only when
synth succeeded, so a failure never leaves a half-written cdktf.out behind; staging folders a killed
synth left (`.<out>.staging-*`, `.<out>.old`, older `.<out>.<random>`) are removed by the next run.

`check_outdir` runs before anything is built: the target must be missing, empty, or a previous cdktf
output (a manifest.json with `stacks`, and only what cdktf writes). It is never the checkout, `teams/`, a
folder above them, a file or a symlink: `synth --out .` used to replace the whole checkout.
The function package is not built here: `mlops-kit package` builds it, and `synth_context`
(scripts/package.py) hands the stacks its path and hash, or the one line saying it is missing or stale.
Local state does not follow `--out`: the stacks get the project root (the current folder) through the
app context (stacks/backend.py), so their state path still points at `./terraform.<stack>.tfstate`.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from infra.config import ConfigError, Org

# What cdktf writes at the top of its output folder (plus `.terraform` from terraform runs there).
CDKTF_ENTRIES = {"manifest.json", "stacks", "assets", "constructs.json", ".terraform", "cdk.tf.json"}
STALE_AFTER_S = 15 * 60  # a staging folder untouched this long belongs to no running synth


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


def _refuse(outdir: Path, problem: str, fix: str = "pass --out a new or empty folder, or an old cdktf.out") -> None:
    raise ConfigError([f"{outdir}: --out: {problem}. Fix: {fix}"])


def check_outdir(outdir: Path, protected: list[Path]) -> None:
    """Raise ConfigError (one line) unless `outdir` may be replaced by a new synth output."""
    target = Path(outdir).absolute()
    if target.is_symlink():
        _refuse(outdir, "is a symlink (synth replaces the folder, not what it points at)", "pass the real folder")
    resolved = target.resolve()
    for p in protected:
        p = p.resolve()
        if resolved == p or p.is_relative_to(resolved):
            _refuse(outdir, f"is {'' if resolved == p else 'a folder above '}{p}, which synth would replace")
        if resolved.is_relative_to(p) and p != Path.cwd().resolve():
            _refuse(outdir, f"is inside {p}")
    if not target.exists():
        parent = target.parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            _refuse(outdir, f"is below {parent}, which is a file")
        return
    if not target.is_dir():
        _refuse(outdir, "is a file, not a folder")
    try:
        entries = {e.name for e in target.iterdir()}
    except OSError as e:
        _refuse(outdir, f"cannot be read ({e.strerror})")
    if not entries:
        return
    if "manifest.json" not in entries or not _is_manifest(target / "manifest.json"):
        _refuse(outdir, "is a folder that holds no previous cdktf output (manifest.json), so synth will not replace it")
    unexpected = sorted(entries - CDKTF_ENTRIES)
    if unexpected:
        _refuse(
            outdir,
            f"holds {unexpected[0]!r} besides the cdktf output, which synth would delete",
            "move it out of the folder, or pass another --out",
        )


def _is_manifest(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("stacks"), dict) and "version" in doc


def clean_staging(outdir: Path, now: float | None = None) -> list[Path]:
    """Remove staging folders that killed synths left next to `outdir`; returns what was removed."""
    pattern = re.compile(rf"\.{re.escape(outdir.name)}\.(old|staging-[a-z0-9_]{{8}}|[a-z0-9_]{{8}})")
    now = time.time() if now is None else now
    removed = []
    for p in outdir.parent.iterdir() if outdir.parent.is_dir() else []:
        if not pattern.fullmatch(p.name) or p.is_symlink() or not p.is_dir():
            continue
        if now - p.stat().st_mtime >= STALE_AFTER_S or p.name.endswith(".old"):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def synth(org: Org, outdir: Path, patterns: list[str] | None = None, progress=None) -> tuple[list[StackSummary], float]:
    """Build and synthesize the selected stacks into `outdir`; returns the summary and seconds taken.

    `patterns` None: what MLOPS_KIT_STACKS (or the `stacks` context) selects, else every stack.
    Raises ConfigError when `outdir` is not something synth may replace (see `check_outdir`).
    """
    started = time.perf_counter()
    check_outdir(outdir, [Path.cwd(), org.root])
    say = progress or (lambda _msg: None)
    say("starting the jsii runtime and loading the azurerm bindings (takes several seconds)")
    from cdktf import App

    from scripts.entry import stack_patterns
    from scripts.package import synth_context
    from stacks import build_app
    from stacks.backend import STATE_DIR_CONTEXT
    from stacks.function_package import PACKAGE_CONTEXT

    outdir = outdir.absolute()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    clean_staging(outdir)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.staging-", dir=outdir.parent))
    try:
        context = {STATE_DIR_CONTEXT: str(Path.cwd().resolve()), PACKAGE_CONTEXT: synth_context()}
        app = App(outdir=str(staging), context=context)
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
