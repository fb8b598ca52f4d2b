"""Fault matrix of the pipeline-trigger queue path at scale (issue 14 item 7; figures in docs/reliability.md).

    .venv/bin/python scripts/bench_trigger_faults.py --events 5000 [--seed 7] [--json out.json]

Starts Azurite (node_modules/.bin/azurite: queues + blobs) and the loopback Azure DevOps fake,
then runs tests/functions/fault_matrix.py: every event delivered twice, Azure DevOps faults,
worker processes SIGKILLed mid-run, outages of the claims store and of Azure DevOps. Exits 1 if
an event was lost, ran twice, or an expected fault logged a traceback. The suite runs the same
matrix with 300 events (tests/functions/test_queue_fault_matrix.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions" / "pipeline_trigger")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=3, help="worker processes (one is killed now and then)")
    parser.add_argument("--threads", type=int, default=8, help="concurrent invocations per worker")
    parser.add_argument("--chaos-every", type=float, default=2.0, help="seconds between kills/outages")
    parser.add_argument("--slow-events", type=int, default=100,
                        help="events of the worst-case runs (every run request answered after the timeout)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args(argv)

    from tests.functions.conftest import Azurite, run_azurite
    from tests.functions.fault_matrix import SLOW_SECONDS, run_matrix, run_slow_server

    with tempfile.TemporaryDirectory(prefix="bench-trigger-") as tmp:
        blobs_dir, queues_dir = Path(tmp) / "blobs", Path(tmp) / "queues"
        blobs_dir.mkdir()
        queues_dir.mkdir()
        # Azurite is single-threaded node: one instance for the claims, one for the queues.
        with run_azurite(blobs_dir) as blobs, \
                run_azurite(queues_dir, certs=(blobs_dir / "cert.pem", blobs_dir / "key.pem")) as queues:
            azurite = Azurite(blobs.account_url, blobs.cert, queues.queue_url)
            report = run_matrix(azurite, Path(tmp) / "matrix", events=args.events, seed=args.seed,
                                workers=args.workers, threads=args.threads, chaos_every=args.chaos_every,
                                timeout=3600)
            # worst case: every run request answered after the client timeout; inside the settle
            # window (the documented guarantee) and beyond it (the documented bound)
            inside = run_slow_server(azurite, events=args.slow_events, slow_seconds=SLOW_SECONDS, settle_seconds=1.0)
            beyond = run_slow_server(azurite, events=args.slow_events, slow_seconds=4.0, settle_seconds=1.0)
    result = {**report.as_dict(), "slow_inside_window": vars(inside), "slow_beyond_window": vars(beyond)}
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    ok = (report.lost == 0 and report.duplicate_runs == 0 and report.tracebacks == 0 and not report.notes
          and inside.max_runs_per_event == 1 and inside.lost == 0 and beyond.lost == 0)
    from scripts.exit_codes import EXIT_FINDINGS, EXIT_OK  # after the sys.path line above (run as a script)

    return EXIT_OK if ok else EXIT_FINDINGS


if __name__ == "__main__":
    raise SystemExit(main())
