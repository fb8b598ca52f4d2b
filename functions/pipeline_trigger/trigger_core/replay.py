"""Replay failed events (operators' tool; see README.md "Replaying failed events").

Two places hold events that did not start a run:

- the **poison queue** ``<EVENT_QUEUE_NAME>-poison``: messages the function gave up on, either
  written by the function with ``poisonReason`` and the ``event`` (or ``rawMessage``), or moved
  there unchanged by the Functions host after maxDequeueCount failed deliveries (the original
  Event Grid message, base64 or raw JSON);
- Event Grid's **dead-letter blobs** (JSON arrays of events plus ``deadLetterReason``, ...), for
  events Event Grid could not even write to the queue.

After fixing the cause, either re-enqueue the events to the event queue (``--enqueue``; the
function processes them as new deliveries) or run the handler here (``--local``, with the
function's app settings in the environment and your Azure CLI login, which then needs the
function identity's Azure DevOps and claims-container rights). Both go through the idempotency
ledger: an event whose run was started (or is found by its eventId) is a duplicate and starts
nothing, so replaying is safe to repeat. Poison messages are deleted only after they were
re-enqueued or handled.

    python -m trigger_core.replay --from-poison-queue --enqueue
    python -m trigger_core.replay deadletter/*.json --enqueue
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .events import MalformedEvent, decode_queue_body

EVENT_GRID_FIELDS = ("id", "topic", "subject", "eventType", "eventTime", "data", "dataVersion", "metadataVersion")


def load_dead_letters(text: str) -> list[dict[str, Any]]:
    """Events of one dead-letter blob (a JSON array, a single object, or JSON lines), stripped to
    the Event Grid schema fields."""
    text = text.strip()
    if not text:
        return []
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
    items = parsed if isinstance(parsed, list) else [parsed]
    events = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"dead-letter entry is not a JSON object: {item!r:.80}")
        events.append({k: item[k] for k in EVENT_GRID_FIELDS if k in item})
    return events


def event_of_poison_message(body: bytes | str) -> dict[str, Any]:
    """The event in a poison-queue message: the function's record (``event``/``rawMessage``) or
    the original message the host moved (base64 or raw JSON). Raises ValueError if there is none."""
    try:
        value = decode_queue_body(body)
    except MalformedEvent as exc:
        raise ValueError(f"poison message holds no event: {exc}") from None
    if isinstance(value, dict) and "poisonReason" in value:
        if isinstance(value.get("event"), dict):
            value = value["event"]
        elif isinstance(value.get("rawMessage"), str):
            return event_of_poison_message(value["rawMessage"])
        else:
            raise ValueError(f"poison record without an event: {value.get('poisonReason')!r:.200}")
    if not isinstance(value, dict):
        raise ValueError("poison message holds no event object")
    return {k: value[k] for k in EVENT_GRID_FIELDS if k in value}


def queue_text(event: dict[str, Any]) -> str:
    """An event as Event Grid writes it to a Storage queue (base64 of the JSON; the function also
    accepts raw JSON)."""
    return base64.b64encode(json.dumps(event, separators=(",", ":")).encode()).decode()


def enqueue(events: Iterable[dict[str, Any]], queue_client: Any) -> list[tuple[str, str]]:
    """Send each event to the event queue (an azure.storage.queue.QueueClient)."""
    results = []
    for event in events:
        queue_client.send_message(queue_text(event))
        results.append((str(event.get("id")), "enqueued"))
    return results


def replay_locally(events: Iterable[dict[str, Any]], trigger: Any) -> list[tuple[str, str]]:
    """Run the handler on each event; failures are reported, not raised, so one bad event does not stop the rest."""
    results = []
    for event in events:
        try:
            outcome = trigger.handle(event)
            results.append((str(event.get("id")), outcome.status))
        except Exception as exc:  # reported to the operator; the event can be replayed again
            results.append((str(event.get("id")), f"failed: {type(exc).__name__}: {exc}"))
    return results


def drain_poison_queue(poison_client: Any, act: Any, *, limit: int = 1000) -> list[tuple[str, str]]:
    """Receive poison messages, `act([event])` on each and delete it when that did not fail."""
    results: list[tuple[str, str]] = []
    for message in poison_client.receive_messages(messages_per_page=32, visibility_timeout=300,
                                                  max_messages=limit):
        try:
            event = event_of_poison_message(message.content)
        except ValueError as exc:
            results.append((str(message.id), f"failed: {exc}"))
            continue
        [(event_id, result)] = act([event])
        results.append((event_id, result))
        if not result.startswith("failed"):
            poison_client.delete_message(message)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="Event Grid dead-letter blobs (az storage blob download)")
    parser.add_argument("--from-poison-queue", action="store_true", help="replay <EVENT_QUEUE_NAME>-poison")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--enqueue", action="store_true", help="send the events to EVENT_QUEUE_NAME")
    mode.add_argument("--local", action="store_true", help="run the handler here with your Azure CLI login")
    args = parser.parse_args(argv)
    if not args.files and not args.from_poison_queue:
        parser.error("name dead-letter files or --from-poison-queue")

    from azure.identity import AzureCliCredential
    from azure.storage.queue import QueueClient

    from .settings import Settings, SettingsError

    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        parser.error(f"export the function's app settings first: {exc}")
    credential = AzureCliCredential()

    def client(name: str) -> Any:
        return QueueClient(settings.event_queue_service_uri, name, credential=credential)

    if args.enqueue:
        events_queue = client(settings.event_queue_name)

        def act(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
            return enqueue(events, events_queue)
    else:
        from .runtime import build_trigger

        trigger = build_trigger(settings, credential=credential)

        def act(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
            return replay_locally(events, trigger)

    results = act([e for path in args.files for e in load_dead_letters(path.read_text(encoding="utf-8"))])
    if args.from_poison_queue:
        results += drain_poison_queue(client(settings.poison_queue_name), act)
    failed = [r for r in results if r[1].startswith("failed")]
    for event_id, result in results:
        print(f"{event_id}\t{result}")
    print(f"{len(results)} replayed, {len(failed)} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
