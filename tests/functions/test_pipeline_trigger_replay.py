"""Replaying dead-lettered events: parsing Event Grid's dead-letter blobs, webhook posts, local runs."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from trigger_core.replay import load_dead_letters, post_to_function, replay_locally

from .conftest import MODEL, blob_created, model_registered


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


def test_posts_each_event_to_the_event_grid_webhook_as_event_grid_does() -> None:
    received: list[tuple[str, dict, dict, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            parts = urlsplit(self.path)
            received.append((parts.path, parse_qs(parts.query), dict(self.headers), body))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        events = load_dead_letters(dead_letter_blob(blob_created("landing/a/_SUCCESS"), model_registered("m", 2)))
        results = post_to_function(events, f"http://127.0.0.1:{server.server_address[1]}/", "sys-key", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert results == [(events[0]["id"], 202), (events[1]["id"], 202)]
    for (path, query, headers, body), event in zip(received, events, strict=True):
        assert path == "/runtime/webhooks/eventgrid"
        assert query == {"functionName": ["pipeline_trigger"], "code": ["sys-key"]}
        assert headers["aeg-event-type"] == "Notification"
        assert body == [event]


def test_local_replay_goes_through_the_ledger(make_harness) -> None:
    h = make_harness()
    marker = blob_created("landing/r/_SUCCESS")
    h.trigger.handle(marker)  # the run was started before the event was dead-lettered by another delivery
    fresh = model_registered(MODEL, 3)
    results = replay_locally(load_dead_letters(dead_letter_blob(marker, fresh, {"id": "x"})), h.trigger)
    assert results == [(marker["id"], "duplicate"), (fresh["id"], "started"), ("x", "rejected")]
    assert len(h.server.runs) == 2
