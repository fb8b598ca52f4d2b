"""BlobEventLedger against a real Blob endpoint (Azurite over HTTPS with bearer tokens)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from trigger_core.ledger import AlreadyStarted, BlobEventLedger, Claim, ClaimBusy, LedgerUnavailable, blob_name_for

from .conftest import Azurite, FakeCredential, json_logs

TYPE = "Microsoft.Storage.BlobCreated"


def ledger(container, *, clock=time.time, wait: float = 0.3, timeout: float = 300.0) -> BlobEventLedger:
    return BlobEventLedger(container, claim_timeout_seconds=timeout, claim_wait_seconds=wait, poll_seconds=0.02,
                           clock=clock)


def test_first_claim_wins_and_started_is_recorded(azurite: Azurite) -> None:
    container = azurite.container()
    book = ledger(container)
    claim = book.claim("evt-1", event_type=TYPE, pipeline="train")
    assert isinstance(claim, Claim) and not claim.took_over
    assert book.read("evt-1")["state"] == "requesting"  # the claim is the write-ahead record
    assert book.read("evt-1")["requestedAt"] == claim.requested_at and not claim.search_first
    assert book.mark_started(claim, event_type=TYPE, pipeline="train", pipeline_id=2, run_id=1234)
    stored = book.read("evt-1")
    assert (stored["state"], stored["runId"], stored["pipelineId"], stored["eventId"]) == ("started", 1234, 2, "evt-1")
    again = book.claim("evt-1", event_type=TYPE, pipeline="train")
    assert again == AlreadyStarted("evt-1", 1234, "train")
    assert [b.name for b in container.list_blobs()] == ["evt-1.json"]


def test_live_claim_makes_a_second_claimer_wait_then_fail_for_redelivery(azurite: Azurite) -> None:
    container = azurite.container()
    ledger(container).claim("evt-2", event_type=TYPE, pipeline="train")
    started = time.monotonic()
    with pytest.raises(ClaimBusy, match="the message returns to the queue"):
        ledger(container, wait=0.3).claim("evt-2", event_type=TYPE, pipeline="train")
    assert time.monotonic() - started >= 0.3


def test_waiting_claimer_sees_the_run_started_meanwhile(azurite: Azurite) -> None:
    container = azurite.container()
    owner = ledger(container)
    claim = owner.claim("evt-3", event_type=TYPE, pipeline="train")
    timer = threading.Timer(0.2, owner.mark_started, args=(claim,),
                            kwargs={"event_type": TYPE, "pipeline": "train", "pipeline_id": 1, "run_id": 77})
    timer.start()
    try:
        result = ledger(container, wait=5).claim("evt-3", event_type=TYPE, pipeline="train")
    finally:
        timer.join()
    assert result == AlreadyStarted("evt-3", 77, "train")


def test_stale_claim_is_taken_over_once_and_the_old_owner_cannot_record(azurite: Azurite, caplog) -> None:
    container = azurite.container()
    crashed = ledger(container, clock=lambda: 1_000.0)
    old = crashed.claim("evt-4", event_type=TYPE, pipeline="train")
    later = ledger(container, clock=lambda: 1_000.0 + 301)
    new = later.claim("evt-4", event_type=TYPE, pipeline="train")
    assert isinstance(new, Claim) and new.took_over and new.etag != old.etag
    assert new.search_first and new.requested_at == 1_000.0  # the dead owner may have sent: search first
    assert any(r["msg"] == "claim_taken_over" for r in json_logs(caplog))
    # the new claim is live: a third claimer at the same time must not take it over too
    with pytest.raises(ClaimBusy):
        ledger(container, clock=lambda: 1_000.0 + 302, wait=0).claim("evt-4", event_type=TYPE, pipeline="train")
    assert crashed.mark_started(old, event_type=TYPE, pipeline="train", pipeline_id=1, run_id=1) is False
    assert json_logs(caplog)[-1]["outcome"] == "started_unrecorded"
    assert crashed.release(old) is False
    assert later.read("evt-4")["owner"] == new.owner


def test_release_lets_the_next_delivery_claim_again(azurite: Azurite) -> None:
    container = azurite.container()
    book = ledger(container)
    first = book.claim("evt-5", event_type=TYPE, pipeline="train")
    assert book.release(first) is True
    assert book.read("evt-5") is None
    second = book.claim("evt-5", event_type=TYPE, pipeline="train")
    assert isinstance(second, Claim) and second.owner != first.owner


def test_unusual_event_ids_get_hashed_blob_names(azurite: Azurite) -> None:
    container = azurite.container()
    book = ledger(container)
    odd = "topic/../evt?#%/ü"
    claim = book.claim(odd, event_type=TYPE, pipeline="train")
    assert claim.blob_name == blob_name_for(odd)
    assert claim.blob_name.startswith("sha256-") and claim.blob_name.endswith(".json")
    assert json.loads(container.download_blob(claim.blob_name).readall())["eventId"] == odd
    assert blob_name_for("9f1c2c0e-5b1d-4b9e-8a47-1f0e7d7a1b2c") == "9f1c2c0e-5b1d-4b9e-8a47-1f0e7d7a1b2c.json"


def test_missing_container_is_reported_as_ledger_unavailable(azurite: Azurite) -> None:
    book = ledger(azurite.container(create=False))
    with pytest.raises(LedgerUnavailable, match="ContainerNotFound"):
        book.claim("evt-6", event_type=TYPE, pipeline="train")


def test_the_emulator_really_checks_bearer_tokens(azurite: Azurite) -> None:
    """Guards the test setup: a token for another audience must be refused, so the ledger tests
    above exercise the same OAuth path as production."""
    from azure.storage.blob import ContainerClient

    container = azurite.container()
    wrong = ContainerClient(azurite.account_url, container.container_name, connection_verify=azurite.cert,
                            credential=FakeCredential(storage_audience="https://vault.azure.net"))
    with pytest.raises(LedgerUnavailable, match="Invalid token audience|AuthenticationFailed"):
        ledger(wrong).claim("evt-7", event_type=TYPE, pipeline="train")


def test_a_create_retried_after_a_lost_response_finds_its_own_claim(azurite: Azurite, monkeypatch) -> None:
    """The SDK resends a Put Blob whose response was lost; the resend gets 409. The claim read back
    is this invocation's own (same owner), so it is not mistaken for another invocation's."""
    import uuid

    from trigger_core import ledger as ledger_module

    container = azurite.container()
    fixed = uuid.UUID("12345678123456781234567812345678")
    monkeypatch.setattr(ledger_module.uuid, "uuid4", lambda: fixed)
    container.upload_blob("evt-8.json", BlobEventLedger._record("evt-8", TYPE, "train", owner=fixed.hex,
                                                                  claimed_at=time.time()))
    claim = ledger(container, wait=0).claim("evt-8", event_type=TYPE, pipeline="train")
    assert isinstance(claim, Claim) and claim.owner == fixed.hex and not claim.search_first
