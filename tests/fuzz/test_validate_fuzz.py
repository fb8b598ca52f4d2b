"""Fuzz `mlops-kit validate` with >= 1,000 generated malformed files (seeded, in-process, no jsii).

Each case runs the console entry point (`scripts.cli.main`, the catch-all included) on a fresh copy of
the fixture org with one file replaced, and must: exit 2, print one `error: <file>: ... Fix: ...` line
per problem (warnings aside), never a traceback, each line bounded, within a time budget per case.
The per-category counts are what docs/reliability.md reports ("Config and CLI").
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from scripts.cli import main
from tests.conftest import ORG
from tests.fuzz.malformed import Case, cases

MAX_LINE = 700  # characters per line, the temp path included
MAX_LINES = 2 * 21  # per case: at most 20 problems + a summary line per file, two files
MAX_SECONDS = 2.0  # per case (validate answers in well under one on a quiet machine)


def run_validate(teams: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["validate", "--teams", str(teams)])
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def materialize(teams: Path, case: Case) -> None:
    if teams.exists():
        shutil.rmtree(teams)
    shutil.copytree(ORG, teams)
    for name, spec in case.files.items():
        path = teams / name
        if spec is None:
            path.unlink()
        elif isinstance(spec, bytes):
            path.write_bytes(spec)
        else:
            spec(path)


ALL = cases()


def test_there_are_at_least_1000_cases_and_they_are_deterministic():
    assert len(ALL) >= 1000
    assert [c.name for c in cases()] == [c.name for c in ALL]  # same seed, same cases
    assert len({c.category for c in ALL}) >= 8


def test_every_malformed_file_is_exit_2_with_one_bounded_line_per_problem(tmp_path):
    teams = tmp_path / "teams"
    failures: list[str] = []
    counts: Counter[str] = Counter()
    slowest = 0.0
    started = time.perf_counter()
    for case in ALL:
        materialize(teams, case)
        t0 = time.perf_counter()
        code, _out, err = run_validate(teams)
        took = time.perf_counter() - t0
        slowest = max(slowest, took)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("error: ")]
        problems = []
        if code != 2:
            problems.append(f"exit {code}")
        if "Traceback" in err or 'File "' in err:
            problems.append("traceback")
        if not errors:
            problems.append("no error line")
        if any(not (ln.startswith(("error: ", "warning: "))) for ln in lines):
            problems.append("a line that is neither error nor warning")
        if any(f"{teams}/" not in ln or "Fix: " not in ln for ln in errors):
            problems.append("an error line without its file or its fix")
        if any(len(ln) > MAX_LINE for ln in lines) or len(lines) > MAX_LINES:
            problems.append(f"unbounded output ({len(lines)} lines, longest {max(map(len, lines), default=0)})")
        if took > MAX_SECONDS:
            problems.append(f"slow ({took:.2f} s)")
        if problems:
            failures.append(f"{case.category} / {case.name}: {', '.join(problems)}: {err[:300]!r}")
        counts[case.category] += 1
    total = time.perf_counter() - started
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"\nfuzz: {len(ALL)} cases in {total:.1f} s (slowest {slowest * 1000:.0f} ms): {summary}", file=sys.stderr)
    assert not failures, f"{len(failures)} of {len(ALL)} cases failed:\n" + "\n".join(failures[:30])


@pytest.mark.parametrize("argv", [["validate", "--teams", "/nonexistent/teams"], ["validate", "--teams", "/dev/null"]])
def test_teams_folder_problems_are_one_line(argv):
    code, _out, err = run_validate(Path(argv[-1]))
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")
