"""Replaying failed events: dead-letter blobs and poison-queue messages, re-enqueued or handled locally."""

from __future__ import annotations

import base64
import json

import pytest
from trigger_core.replay import (
    drain_poison_queue,
    enqueue,
    event_of_poison_message,
    load_dead_letters,
    queue_text,
    replay_locally,
)

from .conftest import MODEL, Azurite, blob_created, model_registered


def dead_letter_blob(*events: dict) -> str:
    return json.dumps([{**e, "deadLetterReason": "MaxDeliveryAttemptsExceeded", "deliveryAttempts": 30,
                        "lastDeliveryOutcome": "Probation", "publishTime": "2024-06-01T10:00:01Z",
                        "lastDeliveryAttemptTime": "2024-06-02T09:00:00Z"} for e in events])


def test_dead_letter_metadata_is_stripped() -> None:
    event = blob_created("landing/a/_SUCCESS")
    [loaded] = load_dead_letters(dead_letter_blob(event))
    assert loaded == event
    lines = "\n".join(json.dumps(e) for e in (event, model_registered("m", 1)))
    assert [e["eventType"] for e in load_dead_letters(lines)] == [event["eventType"],
                                                                  "Microsoft.MachineLearningServices.ModelRegistered"]
    assert load_dead_letters("  ") == []


def test_poison_messages_of_every_form_yield_the_event() -> None:
    event = blob_created("landing/p/_SUCCESS")
    record = {"poisonReason": "DevOpsAuthError: ...", "eventId": event["id"], "event": event}
    assert event_of_poison_message(json.dumps(record)) == event  # written by the function
    assert event_of_poison_message(queue_text(event)) == event  # moved by the host: Event Grid's base64
    assert event_of_poison_message(json.dumps(event).encode()) == event  # ... or raw JSON
    raw_record = {"poisonReason": "not JSON", "rawMessage": queue_text(event)}
    assert event_of_poison_message(json.dumps(raw_record)) == event
    with pytest.raises(ValueError, match="holds no event"):
        event_of_poison_message("garbage")
    with pytest.raises(ValueError, match="without an event"):
        event_of_poison_message(json.dumps({"poisonReason": "x", "rawMessage": None}))


def test_poison_queue_replay_re_enqueues_and_deletes_only_what_was_sent(azurite: Azurite) -> None:
    events_queue, poison = azurite.queue(), azurite.queue()
    good = blob_created("landing/q/_SUCCESS")
    poison.send_message(json.dumps({"poisonReason": "HTTP 403", "event": good}))
    poison.send_message("not an event at all")
    results = drain_poison_queue(poison, lambda evs: enqueue(evs, events_queue))
    assert results[0] == (good["id"], "enqueued") and results[1][1].startswith("failed")
    [sent] = list(events_queue.receive_messages())
    assert base64.b64decode(sent.content) and event_of_poison_message(sent.content) == good
    assert poison.get_queue_properties().approximate_message_count == 1  # the unreadable one stays


def test_local_replay_goes_through_the_ledger(make_harness) -> None:
    h = make_harness()
    marker = blob_created("landing/r/_SUCCESS")
    h.trigger.handle(marker)  # the run was started before the event was dead-lettered by another delivery
    fresh = model_registered(MODEL, 3)
    results = replay_locally(load_dead_letters(dead_letter_blob(marker, fresh, {"id": "x"})), h.trigger)
    assert results == [(marker["id"], "duplicate"), (fresh["id"], "started"), ("x", "rejected")]
    assert len(h.server.runs) == 2
