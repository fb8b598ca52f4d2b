"""Replay dead-lettered events (operators' tool; see README.md "Replaying dead-lettered events").

Event Grid writes undeliverable events as JSON blobs (an array of events, each with extra
`deadLetterReason`, `deliveryAttempts`, `lastDeliveryOutcome`, ... fields) to the dead-letter
container. After fixing the cause, download them and either

- post them to the function's Event Grid webhook, exactly as Event Grid delivers them
  (``--function-url https://<app>.azurewebsites.net``, system key ``eventgrid_extension`` in the
  environment variable EVENTGRID_EXTENSION_KEY), or
- run the handler locally (``--local``) with the function's app settings in the environment and
  your Azure CLI login as the identity (it needs the same Azure DevOps and claims-container rights
  as the function's managed identity).

Both paths go through the idempotency ledger: events whose run was already started are reported
as duplicates and start nothing.

    python -m trigger_core.replay deadletter/*.json --function-url https://func-example.azurewebsites.net
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

EVENT_GRID_FIELDS = ("id", "topic", "subject", "eventType", "eventTime", "data", "dataVersion", "metadataVersion")
FUNCTION_NAME = "pipeline_trigger"


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


def post_to_function(events: Iterable[dict[str, Any]], function_url: str, key: str, *,
                     timeout: float = 30.0, post: Callable[..., Any] | None = None) -> list[tuple[str, int]]:
    """POST each event (as a one-element array) to the Event Grid webhook of the function app."""
    import requests

    post = post or requests.post
    url = f"{function_url.rstrip('/')}/runtime/webhooks/eventgrid"
    results = []
    for event in events:
        response = post(url, params={"functionName": FUNCTION_NAME, "code": key}, json=[event], timeout=timeout,
                        headers={"aeg-event-type": "Notification", "Content-Type": "application/json"})
        results.append((str(event.get("id")), response.status_code))
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path,
                        help="dead-letter blobs downloaded with az storage blob download")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--function-url", help="https://<function app>.azurewebsites.net")
    mode.add_argument("--local", action="store_true", help="run the handler here with your Azure CLI login")
    args = parser.parse_args(argv)

    events = [e for path in args.files for e in load_dead_letters(path.read_text(encoding="utf-8"))]
    if args.function_url:
        key = os.environ.get("EVENTGRID_EXTENSION_KEY")
        if not key:
            parser.error("set EVENTGRID_EXTENSION_KEY to the function app's eventgrid_extension system key")
        results: list[tuple[str, Any]] = list(post_to_function(events, args.function_url, key))
        failed = [r for r in results if not 200 <= r[1] < 300]
    else:
        from azure.identity import AzureCliCredential

        from .runtime import build_trigger
        from .settings import Settings

        trigger = build_trigger(Settings.from_env(os.environ), credential=AzureCliCredential())
        results = list(replay_locally(events, trigger))
        failed = [r for r in results if str(r[1]).startswith("failed")]
    for event_id, result in results:
        print(f"{event_id}\t{result}")
    print(f"{len(results)} replayed, {len(failed)} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
