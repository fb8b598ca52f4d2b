"""The queue path under faults (issue 14 item 7): a smaller run of the fault matrix in the suite.

scripts/bench_trigger_faults.py runs the same matrix with 5,000 events; docs/reliability.md has
its figures. Here: 300 distinct events, each delivered twice, plus malformed messages and events
for another model, with Azure DevOps faults, killed workers and outages of the claims store.
"""

from __future__ import annotations

import pytest

from .conftest import Azurite
from .fault_matrix import run_matrix, run_slow_server


@pytest.fixture(scope="module")
def report(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory):
    if azurite.queue_url is None:
        pytest.skip("Azurite's queue service is not installed (node_modules/.bin/azurite)")
    return run_matrix(azurite, tmp_path_factory.mktemp("matrix"), events=300, seed=11, chaos_every=1.5,
                      timeout=240)


def test_no_event_is_lost_and_none_runs_twice(report) -> None:
    assert report.notes == []
    assert report.lost == 0, report.as_dict()
    assert report.duplicate_runs == 0, report.as_dict()
    assert report.events_with_run + report.poisoned_events >= report.events


def test_faults_were_really_injected(report) -> None:
    faults = report.fault_counts
    for kind in ("429", "500", "503", "slow", "401", "203 html", "drop"):
        assert faults.get(kind, 0) > 0, (kind, faults)
    assert report.kills >= 1 and report.storage_outages + report.devops_outages >= 1, report.as_dict()


def test_retries_are_bounded_and_bad_messages_end_in_poison_with_a_reason(report) -> None:
    assert report.max_dequeue_seen <= 5
    assert report.max_run_requests_per_event <= 5
    assert report.malformed_poisoned == report.malformed


def test_expected_faults_log_no_traceback(report) -> None:
    assert report.tracebacks == 0
    assert report.unexpected_failures == 0


def test_worst_case_every_run_request_answered_after_the_timeout_starts_one_run_per_event(azurite) -> None:
    """Issue 14 item 4: before, each delivery resent the timed-out request up to MAX_ATTEMPTS times
    and every request queued a run (15 runs for 3 deliveries)."""
    if azurite.queue_url is None:
        pytest.skip("Azurite's queue service is not installed")
    report = run_slow_server(azurite, events=10, slow_seconds=0.8, settle_seconds=1.0)
    assert report.lost == 0
    assert report.runs == 10 and report.max_runs_per_event == 1, report
    assert report.max_run_requests_per_event == 1, report
