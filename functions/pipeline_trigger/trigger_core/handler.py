"""One Event Grid event -> at most one Azure DevOps pipeline run.

`PipelineTrigger.handle(raw_event)` returns an `Outcome` for every event it acknowledges:

- ``started``   the run was queued (run id logged and recorded in the ledger);
- ``duplicate`` the event id was already started by an earlier delivery;
- ``ignored``   a valid event that starts nothing (not a marker, uncommitted write, other type);
- ``rejected``  a malformed event (bad JSON, missing fields, unknown type, bad subject) - it
  can never succeed, so it is logged and acknowledged rather than retried into the dead letters.

It raises `InvocationFailed` (and only lets unexpected bugs escape otherwise) when a retry can
help: Azure DevOps unavailable or rejecting the request, the ledger unavailable, or another
invocation holding a live claim. The Functions host then reports a failure, Event Grid redelivers
with its own backoff and finally dead-letters the event. Before raising, a claim this invocation
made is released so the redelivery can queue the run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .devops import AzureDevOpsClient
from .events import Ignore, MalformedEvent, parse_event, plan_run
from .ledger import AlreadyStarted, BlobEventLedger
from .logs import log
from .settings import Settings

_INFO, _WARNING, _ERROR = 20, 30, 40


@dataclass(frozen=True)
class Outcome:
    status: str  # started | duplicate | ignored | rejected
    event_id: str | None
    event_type: str | None = None
    reason: str | None = None
    pipeline: str | None = None
    pipeline_id: int | None = None
    run_id: int | None = None


class PipelineTrigger:
    def __init__(self, settings: Settings, devops: AzureDevOpsClient, ledger: BlobEventLedger) -> None:
        self.settings = settings
        self.devops = devops
        self.ledger = ledger

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
        except Exception as exc:
            log(_ERROR, "event_failed", outcome="retry_later", reason=f"{type(exc).__name__}: {exc}", **fields)
            raise
        if isinstance(claim, AlreadyStarted):
            log(_INFO, "event_duplicate", outcome="duplicate", run_id=claim.run_id,
                reason="a run was already started for this event id", **fields)
            return Outcome("duplicate", event.id, event.event_type, pipeline=plan.pipeline_name, run_id=claim.run_id,
                           reason="a run was already started for this event id")

        try:
            pipeline_id, run_id = self.devops.run_named_pipeline(
                plan.pipeline_name, self.settings.pipeline_folder, plan.template_parameters, log_fields=fields)
        except BaseException as exc:
            released = self.ledger.release(claim)
            log(_ERROR, "event_failed", outcome="retry_later" if released else "retry_after_claim_timeout",
                reason=f"{type(exc).__name__}: {exc}", claim_released=released, **fields)
            raise
        recorded = self.ledger.mark_started(claim, event_type=event.event_type, pipeline=plan.pipeline_name,
                                            pipeline_id=pipeline_id, run_id=run_id)
        log(_INFO, "run_started", outcome="started", pipeline_id=pipeline_id, run_id=run_id, recorded=recorded,
            took_over_stale_claim=claim.took_over or None, parameters=dict(plan.template_parameters),
            elapsed_ms=round((time.monotonic() - started) * 1000), **fields)
        return Outcome("started", event.id, event.event_type, pipeline=plan.pipeline_name,
                       pipeline_id=pipeline_id, run_id=run_id)

    def _reject(self, event_id: str | None, event_type: str | None, reason: str) -> Outcome:
        log(_WARNING, "event_rejected", outcome="rejected", event_id=event_id, event_type=event_type, reason=reason)
        return Outcome("rejected", event_id, event_type, reason=reason)


def _raw_id(raw: object) -> str | None:
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None


def _raw_type(raw: object) -> str | None:
    value = raw.get("eventType") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None
