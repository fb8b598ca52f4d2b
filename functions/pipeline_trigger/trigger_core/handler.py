"""One event -> at most one Azure DevOps pipeline run; one queue message -> ack, retry or poison.

`PipelineTrigger.handle(raw_event)` returns an `Outcome` for every event it acknowledges:

- ``started``   the run was queued (run id logged and recorded in the ledger);
- ``recovered`` an earlier, unanswered run request of this event did queue a run: found by its
  ``eventId`` parameter and recorded, nothing sent again;
- ``duplicate`` the event id was already started by an earlier delivery;
- ``ignored``   a valid event that starts nothing (not a marker, uncommitted write, another
  model than MODEL_NAME, other type);
- ``rejected``  a malformed event (bad JSON, missing fields, unknown type, bad subject).

It raises `InvocationFailed` when a retry can help: Azure DevOps unavailable or refusing, the
ledger unavailable, another invocation holding a live claim, or a run request whose outcome is
unknown (the claim is kept, so the retry searches for the run before sending).

`handle_message(delivery)` applies the queue's rules on top (function_app.py and the tests'
queue host call it): a message that is not an event, or a rejected event, goes to the poison
queue at once with its reason; a failure is raised so the host makes the message visible again
after host.json's visibilityTimeout, except on the last allowed delivery (MAX_DEQUEUE_COUNT),
where it is written to the poison queue with the reason and acknowledged.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .devops import AzureDevOpsClient, InvocationFailed, RunOutcomeUnknown
from .events import Ignore, MalformedEvent, decode_queue_body, parse_event, plan_run
from .ledger import AlreadyStarted, BlobEventLedger, Claim
from .logs import log
from .settings import Settings

_INFO, _WARNING, _ERROR = 20, 30, 40
_MAX_POISON_TEXT = 48_000  # queue messages hold 64 KiB


@dataclass(frozen=True)
class Outcome:
    status: str  # started | recovered | duplicate | ignored | rejected
    event_id: str | None
    event_type: str | None = None
    reason: str | None = None
    pipeline: str | None = None
    pipeline_id: int | None = None
    run_id: int | None = None


@dataclass(frozen=True)
class QueueDelivery:
    """What the queue trigger hands over (azure.functions.QueueMessage, without the dependency)."""

    body: bytes | str
    message_id: str | None = None
    dequeue_count: int = 1


@dataclass(frozen=True)
class MessageResult:
    outcome: Outcome | None
    poison: str | None = None  # text for the poison queue, with the reason; None: just acknowledge


class PipelineTrigger:
    def __init__(self, settings: Settings, devops: AzureDevOpsClient, ledger: BlobEventLedger) -> None:
        self.settings = settings
        self.devops = devops
        self.ledger = ledger

    # ----------------------------------------------------------------------------- queue message
    def handle_message(self, delivery: QueueDelivery) -> MessageResult:
        fields: dict[str, Any] = {"message_id": delivery.message_id, "dequeue_count": delivery.dequeue_count}
        try:
            raw = decode_queue_body(delivery.body)
        except MalformedEvent as exc:
            return self._poison(None, str(exc), delivery, fields)
        try:
            outcome = self.handle(raw)
        except InvocationFailed as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if delivery.dequeue_count >= self.settings.max_dequeue_count:
                return self._poison(raw, reason, delivery, fields)
            log(_WARNING, "event_retry", outcome="retry_later", event_id=_raw_id(raw), reason=reason,
                max_dequeue_count=self.settings.max_dequeue_count, **fields)
            raise
        if outcome.status == "rejected":
            return self._poison(raw, f"rejected: {outcome.reason}", delivery, fields, outcome=outcome)
        return MessageResult(outcome)

    def _poison(self, raw: object, reason: str, delivery: QueueDelivery, fields: Mapping[str, Any], *,
                outcome: Outcome | None = None) -> MessageResult:
        record: dict[str, Any] = {
            "poisonReason": reason[:2000],
            "eventId": _raw_id(raw),
            "eventType": _raw_type(raw),
            "messageId": delivery.message_id,
            "dequeueCount": delivery.dequeue_count,
            "poisonedAt": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        if isinstance(raw, Mapping):
            record["event"] = raw
        else:
            body = delivery.body.decode("utf-8", "replace") if isinstance(delivery.body, bytes) else delivery.body
            record["rawMessage"] = body[:_MAX_POISON_TEXT]
        text = json.dumps(record, separators=(",", ":"), default=str, ensure_ascii=False)
        if len(text.encode()) > _MAX_POISON_TEXT:
            record.pop("event", None)
            record["rawMessage"] = "(too large; see the logs for the event id)"
            text = json.dumps(record, separators=(",", ":"), default=str, ensure_ascii=False)
        log(_ERROR, "event_poisoned", outcome="poisoned", event_id=record["eventId"], event_type=record["eventType"],
            reason=reason[:2000], poison_queue=self.settings.poison_queue_name, **fields)
        return MessageResult(outcome, poison=text)

    # ----------------------------------------------------------------------------- one event
    def handle(self, raw: object) -> Outcome:
        started = time.monotonic()
        try:
            event = parse_event(raw)
        except MalformedEvent as exc:
            return self._reject(_raw_id(raw), _raw_type(raw), str(exc))
        fields: dict[str, Any] = {"event_id": event.id, "event_type": event.event_type}
        try:
            plan = plan_run(event, self.settings)
        except MalformedEvent as exc:
            return self._reject(event.id, event.event_type, str(exc))
        if isinstance(plan, Ignore):
            log(_INFO, "event_ignored", outcome="ignored", reason=plan.reason, **fields)
            return Outcome("ignored", event.id, event.event_type, reason=plan.reason)

        fields["pipeline"] = plan.pipeline_name
        try:
            claim = self.ledger.claim(event.id, event_type=event.event_type, pipeline=plan.pipeline_name)
        except InvocationFailed as exc:
            log(_WARNING, "event_failed", outcome="retry_later", reason=f"{type(exc).__name__}: {exc}", **fields)
            raise
        if isinstance(claim, AlreadyStarted):
            log(_INFO, "event_duplicate", outcome="duplicate", run_id=claim.run_id,
                reason="a run was already started for this event id", **fields)
            return Outcome("duplicate", event.id, event.event_type, pipeline=plan.pipeline_name, run_id=claim.run_id,
                           reason="a run was already started for this event id")

        if claim.lookup:
            recovered = self._search_earlier_request(claim, event.event_type, plan.pipeline_name, fields)
            if recovered is not None:
                return recovered

        try:
            pipeline_id, run_id = self.devops.run_named_pipeline(
                plan.pipeline_name, self.settings.pipeline_folder, plan.template_parameters, event_id=event.id,
                log_fields=fields)
        except RunOutcomeUnknown as exc:
            settle = self.settings.run_settle_seconds if exc.settle else 0.0
            kept = self.ledger.mark_unknown(claim, event_type=event.event_type, pipeline=plan.pipeline_name,
                                            settle_seconds=settle, reason=str(exc))
            log(_WARNING, "event_failed", outcome="run_outcome_unknown", reason=f"RunOutcomeUnknown: {exc}",
                search_after_s=settle, claim_kept=kept, **fields)
            raise
        except InvocationFailed as exc:
            # Refused before a run could exist (4xx, auth, 429/5xx budget spent after a search found
            # nothing): release, so the next delivery starts afresh.
            released = self.ledger.release(claim)
            log(_WARNING, "event_failed", outcome="retry_later" if released else "retry_after_claim_timeout",
                reason=f"{type(exc).__name__}: {exc}", claim_released=released, **fields)
            raise
        except BaseException as exc:  # a bug or an interrupt: a request may be in flight, keep the claim
            self.ledger.mark_unknown(claim, event_type=event.event_type, pipeline=plan.pipeline_name,
                                     settle_seconds=self.settings.run_settle_seconds,
                                     reason=f"{type(exc).__name__}: {exc}")
            raise
        recorded = self.ledger.mark_started(claim, event_type=event.event_type, pipeline=plan.pipeline_name,
                                            pipeline_id=pipeline_id, run_id=run_id)
        log(_INFO, "run_started", outcome="started", pipeline_id=pipeline_id, run_id=run_id, recorded=recorded,
            took_over_stale_claim=claim.took_over or None, parameters=dict(plan.template_parameters),
            elapsed_ms=round((time.monotonic() - started) * 1000), **fields)
        return Outcome("started", event.id, event.event_type, pipeline=plan.pipeline_name,
                       pipeline_id=pipeline_id, run_id=run_id)

    def _search_earlier_request(self, claim: Claim, event_type: str, pipeline: str,
                                fields: Mapping[str, Any]) -> Outcome | None:
        """A run request of this event may have queued a run: find it by eventId before sending again."""
        since = (claim.requested_at or time.time()) - self.settings.run_lookup_skew_seconds
        try:
            pipeline_id = claim.pipeline_id or self.devops.resolve_pipeline_id(
                pipeline, self.settings.pipeline_folder, log_fields=fields)
            run_id = self.devops.find_run(pipeline_id, claim.event_id,
                                          created_after=since,
                                          log_fields=fields)
        except InvocationFailed as exc:
            kept = self.ledger.mark_unknown(claim, event_type=event_type, pipeline=pipeline, settle_seconds=0.0,
                                            reason=f"search failed: {exc}")
            log(_WARNING, "event_failed", outcome="retry_later", reason=f"{type(exc).__name__}: {exc}",
                claim_kept=kept, **fields)
            raise
        if run_id is None:
            return None
        recorded = self.ledger.mark_started(claim, event_type=event_type, pipeline=pipeline,
                                            pipeline_id=pipeline_id, run_id=run_id)
        log(_INFO, "run_recovered", outcome="recovered", pipeline_id=pipeline_id, run_id=run_id, recorded=recorded,
            reason="an earlier run request without an answer did queue this run; not sending again", **fields)
        return Outcome("recovered", claim.event_id, event_type, pipeline=pipeline, pipeline_id=pipeline_id,
                       run_id=run_id)

    def _reject(self, event_id: str | None, event_type: str | None, reason: str) -> Outcome:
        log(_WARNING, "event_rejected", outcome="rejected", event_id=event_id, event_type=event_type, reason=reason)
        return Outcome("rejected", event_id, event_type, reason=reason)


def _raw_id(raw: object) -> str | None:
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None


def _raw_type(raw: object) -> str | None:
    value = raw.get("eventType") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None
