"""How long `mlops-kit validate` takes on the example config (the budget is 1 s, with no jsii).

Two numbers, each over several runs (min / median / max):
- end to end: `mlops-kit validate` as a fresh process, which is what an operator waits for
  (interpreter start, imports, loading and validating teams/, printing);
- in process: `load_org(teams/)` alone, timeit-style, after one warm-up call.
It also checks, in a fresh process, that `validate` imported neither cdktf nor jsii.

    .venv/bin/python scripts/bench_validate.py [--runs 20] [--teams teams] [--budget 1.0]

Exit status: 0 within budget, 1 over budget or jsii/cdktf imported, 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from scripts.exit_codes import EXIT_FINDINGS, EXIT_OK, EXIT_USER_ERROR

REPO = Path(__file__).resolve().parent.parent

_PROBE = (
    "import sys\n"
    "from scripts.cli import main\n"
    "sys.argv = ['mlops-kit', 'validate', '--teams', sys.argv[1]]\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as e:\n"
    "    assert e.code in (0, None), e.code\n"
    "print('heavy:', *(m for m in ('cdktf', 'jsii', 'constructs') if m in sys.modules), file=sys.stderr)\n"
)


def _stats(samples: list[float]) -> str:
    return (f"min {min(samples) * 1000:.0f} ms, median {statistics.median(samples) * 1000:.0f} ms, "
            f"max {max(samples) * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_validate.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20, help="runs per measurement (default 20)")
    p.add_argument("--teams", type=Path, default=REPO / "teams", help="teams folder (default: the repository's)")
    p.add_argument("--budget", type=float, default=1.0, help="seconds allowed end to end (default 1.0)")
    args = p.parse_args(argv)
    if args.runs < 1 or not args.teams.is_dir():
        print("error: --runs must be >= 1 and --teams an existing folder", file=sys.stderr)
        return EXIT_USER_ERROR

    exe = Path(sys.executable).parent / "mlops-kit"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "scripts.cli"]
    command += ["validate", "--teams", str(args.teams)]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)  # warm the page cache and .pyc files
    wall = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)
        wall.append(time.perf_counter() - started)

    sys.path.insert(0, str(REPO))
    from infra.config import load_org

    load_org(args.teams)
    inproc = []
    for _ in range(args.runs):
        started = time.perf_counter()
        load_org(args.teams)
        inproc.append(time.perf_counter() - started)

    probe = subprocess.run([sys.executable, "-c", _PROBE, str(args.teams)], cwd=REPO, capture_output=True,
                           text=True, check=False)
    # the probe's own line (validate may print warnings to stderr before it)
    marks = [ln for ln in probe.stderr.splitlines() if ln.startswith("heavy:")]
    heavy = marks[-1].removeprefix("heavy:").strip() if marks else probe.stderr.strip()[-200:] or "no probe output"

    teams = len([f for f in args.teams.glob("*.yaml") if f.name != "platform.yaml" and not f.name.startswith("_")])
    print(f"command: {Path(command[0]).name} {' '.join(command[1:])}")
    print(f"config: {args.teams} (platform.yaml + {teams} team file(s)); python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs")
    print(f"end to end, {args.runs} fresh processes: {_stats(wall)}")
    print(f"load_org in process, {args.runs} runs: {_stats(inproc)}")
    print(f"cdktf/jsii imported by validate: {heavy or 'no'}")
    ok = statistics.median(wall) <= args.budget and not heavy and probe.returncode == 0
    print(("within" if ok else "OVER") + f" the {args.budget:g} s budget (median, no jsii)")
    return EXIT_OK if ok else EXIT_FINDINGS


if __name__ == "__main__":
    sys.exit(main())
