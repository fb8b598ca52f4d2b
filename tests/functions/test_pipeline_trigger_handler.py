"""The whole flow: event -> claim (Azurite) -> Azure DevOps run (fake server) -> outcome and logs."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from trigger_core.devops import DevOpsRejected, DevOpsUnavailable, RunOutcomeUnknown
from trigger_core.ledger import BlobEventLedger, LedgerUnavailable, RunPending

from tests.fakes.devops_server import LIST_PIPELINES, LIST_RUNS, RUN_PIPELINE

from .conftest import (
    MODEL,
    RELEASE,
    TRAINING,
    Azurite,
    blob_created,
    json_logs,
    model_registered,
    pipeline_id,
)


def test_marker_starts_one_training_run_and_logs_it(make_harness, caplog) -> None:
    h = make_harness()
    event = blob_created("landing/sales/2024-06-01/_SUCCESS", event_id="evt-train-1")
    outcome = h.trigger.handle(event)
    [run] = h.server.runs
    assert (outcome.status, outcome.run_id, outcome.pipeline) == ("started", run.run_id, TRAINING)
    assert run.pipeline_id == pipeline_id(h.server, TRAINING)
    assert run.template_parameters == {
        "dataPath": "abfss://raw@examplelake.dfs.core.windows.net/landing/sales/2024-06-01",
        "eventId": "evt-train-1",
        "environment": "dev",
    }
    stored = h.trigger.ledger.read("evt-train-1")
    assert (stored["state"], stored["runId"]) == ("started", run.run_id)
    [line] = [r for r in json_logs(caplog) if r["msg"] == "run_started"]
    assert line["event_id"] == "evt-train-1"
    assert line["event_type"] == "Microsoft.Storage.BlobCreated"
    assert (line["pipeline"], line["run_id"], line["outcome"]) == (TRAINING, run.run_id, "started")
    assert [r["attempt"] for r in json_logs(caplog) if r["msg"] == "devops_response"] == [1, 1]


@pytest.mark.parametrize(("casing", "version", "expected"), [("pascal", 20, "20"), ("camel", "3", "3")])
def test_model_registered_starts_the_release(make_harness, casing: str, version: object, expected: str) -> None:
    h = make_harness()
    outcome = h.trigger.handle(model_registered(MODEL, version, casing=casing, event_id="evt-m"))
    [run] = h.server.runs
    assert outcome.status == "started"
    assert run.pipeline_id == pipeline_id(h.server, RELEASE)
    assert run.template_parameters == {"modelName": MODEL, "modelVersion": expected, "eventId": "evt-m",
                                       "environment": "dev"}


def test_redelivered_event_never_starts_a_second_run(make_harness, caplog) -> None:
    h = make_harness()
    event = blob_created("landing/a/_SUCCESS")
    first, second = h.trigger.handle(event), h.trigger.handle(dict(event))
    assert (first.status, second.status) == ("started", "duplicate")
    assert second.run_id == first.run_id
    assert len(h.server.runs) == 1
    assert json_logs(caplog)[-1]["outcome"] == "duplicate"


def test_same_event_delivered_concurrently_starts_one_run(make_harness) -> None:
    h = make_harness()
    h.server.slow(0.3, route=RUN_PIPELINE)  # keep the winner's claim live while the others arrive
    event = model_registered(MODEL, 5)
    barrier = threading.Barrier(8)

    def deliver() -> str:
        barrier.wait()
        return h.trigger.handle(dict(event)).status

    with ThreadPoolExecutor(8) as pool:
        statuses = Counter(pool.map(lambda _: deliver(), range(8)))
    assert statuses == {"started": 1, "duplicate": 7}
    assert len(h.server.runs) == 1


def test_give_up_fails_the_invocation_releases_the_claim_and_redelivery_runs(make_harness, caplog) -> None:
    h = make_harness(MAX_ATTEMPTS="3")
    h.server.fail(500, route=RUN_PIPELINE, times=3)
    event = blob_created("landing/b/_SUCCESS", event_id="evt-retry")
    with pytest.raises(DevOpsUnavailable):
        h.trigger.handle(event)
    assert h.server.runs == []
    assert len(h.sleeps.delays) == 2
    assert h.trigger.ledger.read("evt-retry") is None  # released
    failed = [r for r in json_logs(caplog) if r["msg"] == "event_failed"][-1]
    assert (failed["outcome"], failed["claim_released"]) == ("retry_later", True)
    outcome = h.trigger.handle(event)  # Event Grid's redelivery
    assert outcome.status == "started"
    assert len(h.server.runs) == 1


def test_forbidden_fails_without_retry_and_redelivery_succeeds_after_the_fix(make_harness) -> None:
    h = make_harness()
    h.server.fail(403, route=RUN_PIPELINE, message="TF215106: Access denied")
    event = model_registered(MODEL, 1, event_id="evt-403")
    with pytest.raises(DevOpsRejected, match="Access denied"):
        h.trigger.handle(event)
    assert len(h.server.requests_for(RUN_PIPELINE)) == 1
    assert h.trigger.ledger.read("evt-403") is None
    assert h.trigger.handle(event).status == "started"


def test_stale_claim_of_a_crashed_invocation_is_taken_over(make_harness, azurite: Azurite, caplog) -> None:
    container = azurite.container()
    crashed = BlobEventLedger(container, claim_timeout_seconds=300, claim_wait_seconds=0, clock=lambda: 1_000.0)
    crashed.claim("evt-crash", event_type="Microsoft.Storage.BlobCreated", pipeline=TRAINING)
    h = make_harness(container=container)
    outcome = h.trigger.handle(blob_created("landing/c/_SUCCESS", event_id="evt-crash"))
    assert outcome.status == "started"
    assert len(h.server.runs) == 1
    assert [r.get("took_over_stale_claim") for r in json_logs(caplog) if r["msg"] == "run_started"] == [True]


def test_ledger_unavailable_fails_before_anything_is_queued(make_harness, azurite: Azurite) -> None:
    h = make_harness(container=azurite.container(create=False))
    with pytest.raises(LedgerUnavailable):
        h.trigger.handle(blob_created("landing/d/_SUCCESS"))
    assert h.server.requests == []


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        [blob_created("landing/a/_SUCCESS")],
        {"eventType": "Microsoft.Storage.BlobCreated", "subject": "x", "data": {}},
        {**blob_created("landing/a/_SUCCESS"), "eventType": "Contoso.Unknown"},
        {**blob_created("landing/a/_SUCCESS"), "subject": "/blobServices/default/containers/raw"},
        {**model_registered("m", 1), "data": {"ModelName": "m", "ModelVersion": None}, "subject": "x"},
    ],
)
def test_malformed_events_are_rejected_and_acknowledged(make_harness, caplog, raw: object) -> None:
    h = make_harness()
    outcome = h.trigger.handle(raw)
    assert outcome.status == "rejected" and outcome.reason
    assert h.server.requests == []
    assert h.claim_blobs() == []
    assert json_logs(caplog)[-1]["outcome"] == "rejected"


def test_non_marker_events_are_ignored_without_claims(make_harness, caplog) -> None:
    h = make_harness()
    outcome = h.trigger.handle(blob_created("landing/a/_SUCCESS", api="CreateFile"))
    assert (outcome.status, outcome.reason) == ("ignored", "data.api CreateFile is not a committed write "
                                                           "(FlushWithClose, PutBlockList, PutBlob)")
    assert h.server.requests == []
    assert h.claim_blobs() == []
    assert json_logs(caplog)[-1]["reason"] == outcome.reason


def test_burst_of_1000_events_with_duplicates_starts_exactly_one_run_per_marker(make_harness, caplog) -> None:
    h = make_harness()
    rng = random.Random(2024)
    markers = [blob_created(f"landing/batch-{i:02d}/_SUCCESS", event_id=f"marker-{i:02d}-{uuid.uuid4()}")
               for i in range(10)]
    noise = []
    for i in range(990):
        kind = i % 3
        if kind == 0:
            noise.append(blob_created(f"landing/batch-{i % 10:02d}/part-{i:04d}.parquet"))
        elif kind == 1:
            noise.append(blob_created(f"landing/batch-{i % 10:02d}/_SUCCESS", api="CreateFile"))
        else:
            noise.append(blob_created(f"archive/batch-{i:04d}/_SUCCESS"))
    deliveries = noise + markers + [dict(m) for m in markers]  # every marker delivered twice
    rng.shuffle(deliveries)
    assert len(deliveries) == 1010 and len({e["id"] for e in deliveries}) == 1000

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(h.trigger.handle, deliveries))

    statuses = Counter(o.status for o in outcomes)
    assert statuses == {"ignored": 990, "started": 10, "duplicate": 10}
    runs = h.server.runs
    assert len(runs) == 10
    assert sorted(r.template_parameters["eventId"] for r in runs) == sorted(m["id"] for m in markers)
    assert sorted(r.template_parameters["dataPath"] for r in runs) == [
        f"abfss://raw@examplelake.dfs.core.windows.net/landing/batch-{i:02d}" for i in range(10)]
    assert len(h.server.requests_for(LIST_PIPELINES)) <= 16  # resolved once per racing thread at most
    assert sorted(h.claim_blobs()) == sorted(f"{m['id']}.json" for m in markers)
    # the shared claims client has a connection pool for every concurrent invocation
    assert not [r for r in caplog.records if "Connection pool is full" in r.getMessage()]


# ------------------------------------------------------------------------------------ one event, one run
def _wait_for_runs(server, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(server.runs) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_timed_out_run_request_is_found_by_the_redelivery_not_sent_again(make_harness, caplog) -> None:
    h = make_harness(HTTP_TIMEOUT_SECONDS="0.2", RUN_SETTLE_SECONDS="0.5")
    h.server.slow(0.6, route=RUN_PIPELINE, times=10)  # every run request answers after the client gave up
    event = blob_created("landing/slow/_SUCCESS", event_id="evt-slow")
    with pytest.raises(RunOutcomeUnknown):
        h.trigger.handle(event)
    stored = h.trigger.ledger.read("evt-slow")
    assert stored["state"] == "unknown" and stored["requestedAt"] <= stored["settleUntil"]
    with pytest.raises(RunPending, match="RUN_SETTLE_SECONDS"):  # too early: the server may still be working
        make_harness(container=h.container, CLAIM_WAIT_SECONDS="0").trigger.handle(dict(event))
    _wait_for_runs(h.server, 1)
    time.sleep(0.5)
    outcome = h.trigger.handle(dict(event))
    assert (outcome.status, outcome.run_id) == ("recovered", h.server.runs[0].run_id)
    assert len(h.server.requests_for(RUN_PIPELINE)) == 1 and len(h.server.runs) == 1
    assert h.trigger.handle(dict(event)).status == "duplicate"
    assert any(r["msg"] == "run_recovered" for r in json_logs(caplog))


def test_an_unanswered_request_that_queued_nothing_is_sent_again_after_the_search(make_harness) -> None:
    h = make_harness(RUN_SETTLE_SECONDS="0")
    h.server.drop(route=RUN_PIPELINE)  # closed without processing: no run
    event = blob_created("landing/drop/_SUCCESS", event_id="evt-drop")
    with pytest.raises(RunOutcomeUnknown):
        h.trigger.handle(event)
    assert h.trigger.handle(dict(event)).status == "started"
    assert len(h.server.runs) == 1 and len(h.server.requests_for(LIST_RUNS)) == 1


def test_a_worker_killed_after_sending_leaves_a_claim_whose_taker_searches_first(make_harness, azurite) -> None:
    """The process dies between the request and recording the run: the stale 'requesting' claim
    carries requestedAt, so the redelivery finds the run instead of queuing a second one."""
    container = azurite.container()
    h = make_harness(container=container)
    dead = BlobEventLedger(container, claim_timeout_seconds=300, claim_wait_seconds=0, clock=lambda: time.time() - 400)
    dead.claim("evt-killed", event_type="Microsoft.Storage.BlobCreated", pipeline=TRAINING)
    pid = pipeline_id(h.server, TRAINING)
    h.trigger.devops.run_pipeline(pid, {"eventId": "evt-killed", "dataPath": "x", "environment": "dev"})
    outcome = h.trigger.handle(blob_created("landing/k/_SUCCESS", event_id="evt-killed"))
    assert outcome.status == "recovered" and len(h.server.runs) == 1


def test_a_worker_killed_before_sending_costs_one_search_and_one_run(make_harness, azurite) -> None:
    container = azurite.container()
    dead = BlobEventLedger(container, claim_timeout_seconds=300, claim_wait_seconds=0, clock=lambda: time.time() - 400)
    dead.claim("evt-early", event_type="Microsoft.Storage.BlobCreated", pipeline=TRAINING)
    h = make_harness(container=container)
    assert h.trigger.handle(blob_created("landing/e/_SUCCESS", event_id="evt-early")).status == "started"
    assert len(h.server.requests_for(LIST_RUNS)) == 1 and len(h.server.runs) == 1


def test_a_fresh_claim_sends_without_searching(make_harness) -> None:
    h = make_harness()
    assert h.trigger.handle(blob_created("landing/f/_SUCCESS")).status == "started"
    assert h.server.requests_for(LIST_RUNS) == []


def test_a_model_other_than_the_teams_starts_nothing(make_harness, caplog) -> None:
    h = make_harness()
    outcome = h.trigger.handle(model_registered("someone-elses-model", 1))
    assert outcome.status == "ignored" and h.server.requests == []
    [line] = [r for r in caplog.records if r.name == "pipeline_trigger" and "event_ignored" in r.getMessage()]
    assert line.levelname == "INFO"
