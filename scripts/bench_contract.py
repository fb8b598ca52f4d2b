"""Benchmark the contract gate on the example pair: the seeded app contract and the seeded model.

Trains the starter model with infra/assets/model/src/train.py (the interpreter given by --python, e.g. a
venv with the model repo's requirements.txt; falls back to the test suite's identical "seeded" model
when train.py cannot save with that MLflow), then times, as the pipeline step runs them (a fresh process
each time): `check` (static), `verify` (the model through MLflow's serving code), and the bare imports
`verify` pays for. Prints one line per measurement: median and max of --runs.

    .venv/bin/python scripts/bench_contract.py [--python /path/to/venv/bin/python] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTRACT = REPO / "infra" / "assets" / "contract"
APP = CONTRACT / "examples" / "app-model-contract.json"
MODEL_CONTRACT = CONTRACT / "examples" / "model-contract.model.json"
TRAIN = REPO / "infra" / "assets" / "model" / "src" / "train.py"
SAMPLE = REPO / "infra" / "assets" / "model" / "data" / "sample.csv"


def timed(cmd: list[str], runs: int, expect: int = 0) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            sys.exit(f"bench: {' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return times


def model_dir(python: str, work: Path) -> tuple[Path, str]:
    out = work / "model"
    done = subprocess.run([python, str(TRAIN), "--data", str(SAMPLE), "--output", str(out)], capture_output=True)
    if done.returncode == 0:
        return out, "infra/assets/model/src/train.py"
    sys.path.insert(0, str(REPO / "tests" / "contract"))
    from scenario_models import build  # type: ignore[import-not-found]  # same pipeline and signature as train.py

    build("seeded", out)
    return out, "tests/contract/scenario_models.py 'seeded' (train.py could not save with this MLflow)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter with mlflow and scikit-learn")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model, trained_by = model_dir(args.python, Path(tmp))
        script = str(CONTRACT / "contract_check.py")
        version = subprocess.run(
            [args.python, "-c", "import mlflow, sklearn; print(mlflow.__version__, sklearn.__version__)"],
            capture_output=True,
            text=True,
        ).stdout.split()
        print(f"python {args.python}: mlflow {version[0]}, scikit-learn {version[1]}; model from {trained_by}")
        rows = {
            "check (static)": timed(
                [args.python, script, "check", "--app", str(APP), "--model", str(MODEL_CONTRACT)], args.runs
            ),
            "imports verify needs": timed(
                [args.python, "-c", "import mlflow.pyfunc.scoring_server, sklearn, pandas"], args.runs
            ),
            "verify (2 interactions)": timed(
                [args.python, script, "verify", "--app", str(APP), "--model-dir", str(model)], args.runs
            ),
        }
    for name, times in rows.items():
        print(f"{name:26} median {statistics.median(times):6.2f} s   max {max(times):6.2f} s   ({len(times)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
