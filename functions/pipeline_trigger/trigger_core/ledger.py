"""Idempotency ledger: one small JSON blob per event id, written with conditional requests only.

Events arrive at least once (Event Grid redelivers, the queue redelivers a message whose
invocation failed or whose worker died, a replay re-enqueues). Before queuing a run the handler
*claims* the event id; only the claimant queues the run. States of ``<event id>.json``:

- ``requesting``: the claim, ``Put Blob`` with ``If-None-Match: *``; exactly one writer wins,
  losers read it. It carries ``requestedAt`` (the claim time, before any run request), so it
  doubles as the write-ahead record: from here on a run may exist, and no later owner sends
  without searching Azure DevOps for a run carrying the event id first (``Claim.search_first``).
- ``unknown``: the run request got no usable answer (timeout, dropped connection, 502/504, 2xx
  without a run id). The owner stops; a later delivery takes the claim over once
  ``settleUntil`` has passed, searches, and only then sends again.
- ``started``: the run id is recorded; every later delivery is a duplicate.
- released (deleted): the request was refused before any run could exist; the next delivery
  starts afresh.

A live ``requesting`` claim (updated less than CLAIM_TIMEOUT_SECONDS ago) makes a
second delivery wait up to CLAIM_WAIT_SECONDS, then raise `ClaimBusy` (the message returns to
the queue). An older one belongs to a worker that died and is taken over with ``If-Match``; only
one taker wins, and the earliest ``requestedAt`` is carried over so the taker searches before
sending (a worker that died before sending costs one needless search, never a second run).

Remaining window (documented in docs/reliability.md): a run that Azure DevOps creates more than
RUN_SETTLE_SECONDS after the request was sent (or whose ``createdDate`` is off by more than
RUN_LOOKUP_SKEW_SECONDS) is not found by the search, and a second run can be queued.

Blobs are never deleted after ``started``; a lifecycle rule deletes them after a few days.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)

from .devops import InvocationFailed
from .logs import log

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_INFO, _WARNING, _ERROR = 20, 30, 40


class ClaimBusy(InvocationFailed):
    """Another invocation holds a live claim on the event: fail so the message returns to the queue."""


class LedgerUnavailable(InvocationFailed):
    """The idempotency store could not be read or written; nothing was queued."""


class RunPending(ClaimBusy):
    """An earlier run request for the event got no answer; it is searched for after settleUntil."""




@dataclass(frozen=True)
class Claim:
    event_id: str
    blob_name: str
    owner: str
    etag: str
    claimed_at: float
    took_over: bool = False
    requested_at: float | None = None  # earliest time a run request for the event may have been sent
    pipeline_id: int | None = None
    search_first: bool = False  # an earlier owner may have sent a request: search before sending

    @property
    def lookup(self) -> bool:
        return self.search_first


@dataclass(frozen=True)
class AlreadyStarted:
    event_id: str
    run_id: int | None
    pipeline: str | None


def blob_name_for(event_id: str) -> str:
    """`<event id>.json` for ordinary ids (GUIDs), `sha256-<hex>.json` for anything else."""
    if _SAFE_ID.match(event_id) and not event_id.endswith("."):
        return f"{event_id}.json"
    return "sha256-" + hashlib.sha256(event_id.encode("utf-8")).hexdigest() + ".json"


class BlobEventLedger:
    """Claims event ids in one container (`azure.storage.blob.ContainerClient`)."""

    def __init__(
        self,
        container_client: Any,
        *,
        claim_timeout_seconds: float,
        claim_wait_seconds: float,
        poll_seconds: float = 0.5,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._container = container_client
        self._claim_timeout = claim_timeout_seconds
        self._claim_wait = claim_wait_seconds
        self._poll = poll_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep

    # ----------------------------------------------------------------------------- claim
    def claim(self, event_id: str, *, event_type: str, pipeline: str) -> Claim | AlreadyStarted:
        name = blob_name_for(event_id)
        blob = self._container.get_blob_client(name)
        deadline = self._monotonic() + self._claim_wait
        rounds = 0
        while True:
            rounds += 1
            if rounds > 3 and self._monotonic() > deadline:  # bounds the create/read/take-over races
                raise ClaimBusy(f"event {event_id}: the claim kept changing under this invocation; "
                                "failing so that the message returns to the queue")
            owner = uuid.uuid4().hex
            now = self._clock()
            body = self._record(event_id, event_type, pipeline, owner=owner, claimed_at=now, requested_at=now)
            try:
                created = blob.upload_blob(body, overwrite=False)  # sends If-None-Match: *
                return Claim(event_id, name, owner, created["etag"], now, requested_at=now)
            except (ResourceExistsError, ResourceModifiedError):
                pass
            except AzureError as exc:
                raise LedgerUnavailable(f"cannot create claim blob {name}: {_describe(exc)}") from exc

            try:
                existing = blob.download_blob()
                content, etag = existing.readall(), existing.properties.etag
            except ResourceNotFoundError:
                continue  # released between our create and our read: try to create again
            except AzureError as exc:
                raise LedgerUnavailable(f"cannot read claim blob {name}: {_describe(exc)}") from exc

            record = _parse(content)
            state = record.get("state")
            if record.get("owner") == owner and state == "requesting":
                # Our own write: the SDK retried a create whose first response was lost (409 on the retry).
                return Claim(event_id, name, owner, etag, now, requested_at=now)
            if state == "started":
                run_id = record.get("runId")
                return AlreadyStarted(event_id, run_id if isinstance(run_id, int) else None, record.get("pipeline"))
            requested_at = _number(record.get("requestedAt")) or _number(record.get("claimedAt")) or now
            pipeline_id = record.get("pipelineId") if isinstance(record.get("pipelineId"), int) else None
            if state == "unknown":
                settle_until = _number(record.get("settleUntil")) or 0.0
                takeable, why = now >= settle_until, "its run request got no answer"
                wait_reason = (f"event {event_id}: a run request sent at {_utc(requested_at)} got no answer; its run "
                               f"is searched for from {_utc(settle_until)} on (RUN_SETTLE_SECONDS), then resent if "
                               "absent; failing so that the message returns to the queue")
            else:
                updated = _number(record.get("updatedAt")) or _number(record.get("claimedAt"))
                age = now - updated if updated is not None else float("inf")
                takeable = age >= self._claim_timeout
                why = f"previous claim by {record.get('owner')} was {age:.0f}s old (timeout {self._claim_timeout:g}s)"
                wait_reason = (f"event {event_id} is claimed by another invocation ({age:.0f}s ago); failing so "
                               "that the message returns to the queue")
            if takeable:
                body = self._record(event_id, event_type, pipeline, owner=owner, claimed_at=now,
                                    requested_at=requested_at, pipeline_id=pipeline_id)
                try:
                    replaced = blob.upload_blob(body, overwrite=True, etag=etag,
                                                match_condition=MatchConditions.IfNotModified)
                except (ResourceModifiedError, ResourceNotFoundError):
                    continue  # someone else took it over or released it; look again
                except AzureError as exc:
                    raise LedgerUnavailable(f"cannot take over claim blob {name}: {_describe(exc)}") from exc
                log(_WARNING, "claim_taken_over", event_id=event_id, pipeline=pipeline, state=state,
                    reason=why + "; searching Azure DevOps for its run before sending")
                return Claim(event_id, name, owner, replaced["etag"], now, took_over=True, requested_at=requested_at,
                             pipeline_id=pipeline_id, search_first=True)

            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise (RunPending if state == "unknown" else ClaimBusy)(wait_reason)
            self._sleep(min(self._poll, remaining))

    # ----------------------------------------------------------------------------- transitions
    def mark_unknown(self, claim: Claim, *, event_type: str, pipeline: str, settle_seconds: float,
                     reason: str) -> bool:
        """After a run request without a usable answer: let a later delivery search, then resend.

        Never raises. If this write fails the claim stays ``requesting`` and is taken over after
        CLAIM_TIMEOUT_SECONDS instead, with the same search first.
        """
        now = self._clock()
        record = json.loads(self._record(claim.event_id, event_type, pipeline, owner=claim.owner,
                                         claimed_at=claim.claimed_at, requested_at=claim.requested_at,
                                         pipeline_id=claim.pipeline_id))
        record.update(state="unknown", updatedAt=now, settleUntil=now + settle_seconds,
                      reason=reason[:500])
        lost, error = self._replace_if_ours(claim, record)
        if not lost and error is None:
            return True
        why = ("the claim is no longer ours" if lost else
               f"cannot write the unknown state: {error}; it is taken over after the claim timeout")
        log(_WARNING, "claim_not_marked_unknown", event_id=claim.event_id, reason=why)
        return False

    def mark_started(self, claim: Claim, *, event_type: str, pipeline: str, pipeline_id: int | None,
                     run_id: int | None) -> bool:
        """Record the queued run. Never raises: the run exists, failing now would only risk a duplicate."""
        record = json.loads(self._record(claim.event_id, event_type, pipeline, owner=claim.owner,
                                         claimed_at=claim.claimed_at))
        record.update(state="started", pipelineId=pipeline_id, runId=run_id, startedAt=self._clock(),
                      requestedAt=claim.requested_at)
        lost, error = self._replace_if_ours(claim, record)
        if not lost and error is None:
            return True
        reason = ("the claim was taken over by another invocation while this one queued the run" if lost else
                  f"cannot write the started state: {error}")
        log(_ERROR, "claim_not_recorded", event_id=claim.event_id, event_type=event_type, pipeline=pipeline,
            run_id=run_id, outcome="started_unrecorded",
            reason=reason + "; a redelivery after the claim timeout may queue a duplicate run")
        return False

    def _replace_if_ours(self, claim: Claim, record: dict) -> tuple[bool, str | None]:
        """Overwrite the claim only if it is unchanged since we took it: (lost to another invocation, error)."""
        blob = self._container.get_blob_client(claim.blob_name)
        try:
            blob.upload_blob(json.dumps(record).encode(), overwrite=True, etag=claim.etag,
                             match_condition=MatchConditions.IfNotModified)
            return False, None
        except (ResourceModifiedError, ResourceNotFoundError):
            return True, None
        except AzureError as exc:
            return False, _describe(exc)

    def release(self, claim: Claim) -> bool:
        """Delete our claim so a redelivery can retry at once. Never raises."""
        blob = self._container.get_blob_client(claim.blob_name)
        try:
            blob.delete_blob(etag=claim.etag, match_condition=MatchConditions.IfNotModified)
            return True
        except (ResourceModifiedError, ResourceNotFoundError):
            reason = "the claim is no longer ours"
        except AzureError as exc:
            reason = f"cannot delete the claim: {_describe(exc)}; it expires after the claim timeout"
        log(_WARNING, "claim_not_released", event_id=claim.event_id, reason=reason)
        return False

    def read(self, event_id: str) -> dict[str, Any] | None:
        """The stored record for `event_id`, or None (operations and tests)."""
        try:
            return _parse(self._container.get_blob_client(blob_name_for(event_id)).download_blob().readall())
        except ResourceNotFoundError:
            return None

    @staticmethod
    def _record(event_id: str, event_type: str, pipeline: str, *, owner: str, claimed_at: float,
                requested_at: float | None = None, pipeline_id: int | None = None) -> bytes:
        extra = {} if pipeline_id is None else {"pipelineId": pipeline_id}
        return json.dumps({
            "schema": 1,
            "eventId": event_id,
            "eventType": event_type,
            "pipeline": pipeline,
            "state": "requesting",
            "requestedAt": requested_at if requested_at is not None else claimed_at,
            "owner": owner,
            "claimedAt": claimed_at,
            "claimedAtUtc": _utc(claimed_at),
            "updatedAt": claimed_at,
            **extra,
        }).encode()


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _utc(epoch: float | None) -> str:
    return "?" if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _parse(content: bytes) -> dict[str, Any]:
    try:
        record = json.loads(content)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _describe(exc: AzureError) -> str:
    code = getattr(exc, "error_code", None) or getattr(exc, "status_code", None)
    code = getattr(code, "value", code)  # StorageErrorCode enum -> "AuthenticationFailed"
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__} {code or ''} {first_line}".replace("  ", " ").strip()
