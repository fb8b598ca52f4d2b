"""Benchmark: `mlops-kit scan` of the example vs checkov's bare start-up, in the same run.

    .venv/bin/python scripts/bench_scan.py [--runs 5] [--out cdktf.out] [--markdown FILE]

What is measured (wall time of a fresh process each, N runs, median; the commands are interleaved
so that machine noise hits all of them alike):
- bare start-up: `checkov --version`. checkov's CLI imports its whole runner set before it can
  answer, so this is the floor of any checkov CLI invocation: start Python, import checkov, exit.
  Also shown: `checkov -d <empty folder> --framework terraform_json` (start-up plus a scan of nothing).
- kit scan: `python -m scripts.scan` on the synthesized example (the same code as `mlops-kit scan`):
  Python start, checkov's terraform_json runner and checks, the kit's checks, one checkov run per
  stack, suppressions, SARIF + JUnit, summary.
- for context: the plain checkov CLI on the same folder with the kit's checks
  (`checkov -d cdktf.out --framework terraform_json --external-checks-dir policies`).
All runs are offline (CKV_SKIP_PACKAGE_UPDATE_CHECK=true, BC_SKIP_MAPPING=TRUE, --skip-download):
without that, checkov's banner module asks PyPI for a newer version at import (up to 1 s timeout),
which would make the start-up figure measure the network.

The issue's target: kit scan <= 2 x bare start-up. The script prints a markdown section (and writes
it with --markdown) with the numbers, the ratio and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.exit_codes import EXIT_FINDINGS, EXIT_OK

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OFFLINE = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE",
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
TARGET = 2.0


def timed(cmd: list[str], env: dict[str, str], ok_codes: tuple[int, ...]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in ok_codes:
        raise SystemExit(f"bench_scan: {' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="repetitions per command (median reported)")
    ap.add_argument("--out", type=Path, default=None, help="synthesized example (default: synthesize into a temp dir)")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the markdown section here")
    args = ap.parse_args(argv)

    env = {**os.environ, **OFFLINE, "PYTHONPATH": str(REPO)}
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        out = args.out
        if out is None:
            out = work / "cdktf.out"
            print(f"packaging the function and synthesizing the example into {out} ...", file=sys.stderr)
            timed([str(BIN / "mlops-kit"), "package"], env, (0,))  # synth needs it; a hash check when built
            timed([str(BIN / "mlops-kit"), "synth", "--out", str(out)], env, (0,))
        empty = work / "empty"
        empty.mkdir()
        checkov = str(BIN / "checkov")
        commands = {
            "checkov --version (bare start-up)": ([checkov, "--version"], (0,)),
            "checkov on an empty folder": (
                [checkov, "-d", str(empty), "--framework", "terraform_json", "--skip-download", "--quiet",
                 "--compact"], (0,)),
            "mlops-kit scan of the example": (
                [sys.executable, "-m", "scripts.scan", "--out", str(out), "--reports", str(work / "reports")], (0, 1)),
            "checkov CLI on the example (+ kit checks)": (
                [checkov, "-d", str(out), "--framework", "terraform_json", "--external-checks-dir",
                 str(REPO / "policies"), "--skip-download", "--quiet", "--compact", "-o", "cli"], (0, 1)),
        }
        stacks = sorted(p.name for p in (out / "stacks").iterdir()) if (out / "stacks").is_dir() else []
        times: dict[str, list[float]] = {name: [] for name in commands}
        for cmd, ok in commands.values():  # warm the file cache once, unmeasured
            timed(cmd, env, ok)
        for i in range(args.runs):
            for name, (cmd, ok) in commands.items():
                times[name].append(timed(cmd, env, ok))
            print(f"run {i + 1}/{args.runs} done", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {name: statistics.median(ts) for name, ts in times.items()}
    bare = med["checkov --version (bare start-up)"]
    kit = med["mlops-kit scan of the example"]
    ratio = kit / bare
    lines = [
        "## Policy scan vs checkov start-up",
        "",
        f"`.venv/bin/python scripts/bench_scan.py --runs {args.runs}` on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; wall time of a fresh process, "
        f"median of {args.runs} interleaved runs, offline.",
        "",
        "| command | median (s) | min (s) | max (s) |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {name} | {med[name]:.2f} | {min(ts):.2f} | {max(ts):.2f} |" for name, ts in times.items()]
    verdict = "met" if ratio <= TARGET else "NOT met"
    lines += [
        "",
        f"Kit scan / bare start-up = {kit:.2f} / {bare:.2f} = **{ratio:.2f}x** (target <= {TARGET:.0f}x: {verdict}). "
        f"The example is {len(stacks)} stacks ({', '.join(stacks)}).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return EXIT_OK if ratio <= TARGET else EXIT_FINDINGS


if __name__ == "__main__":
    sys.exit(main())
