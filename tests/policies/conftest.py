"""Fixtures: the policy cases synthesized once and scanned once per test session (a scan costs seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.scan import ScanResult, iter_records, scan
from tests.policies.cases import synth_cases

Verdicts = dict[tuple[str, str, str], str]


@pytest.fixture(scope="session")
def cases_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_cases(tmp_path_factory.mktemp("policy-cases") / "cdktf.out")


@pytest.fixture(scope="session")
def cases_scan(cases_out: Path) -> ScanResult:
    return scan(cases_out)


def verdicts(result: ScanResult) -> Verdicts:
    """(stack, address, check id) -> PASSED|FAILED|SKIPPED for every record of a scan."""
    found: Verdicts = {}
    for r in iter_records(result):
        found[(Path(r.file_abs_path).parent.name, r.resource, r.check_id)] = r.check_result["result"].name
    return found


def record(result: ScanResult, stack: str, address: str, check_id: str):
    matches = [r for r in iter_records(result) if Path(r.file_abs_path).parent.name == stack
               and r.resource == address and r.check_id == check_id]
    assert len(matches) == 1, f"expected one {check_id} record for {stack}/{address}, found {len(matches)}"
    return matches[0]
