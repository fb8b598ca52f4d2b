"""Idempotency ledger: one small JSON blob per Event Grid event id.

Event Grid delivers at least once, and a marker or model event may arrive twice (redelivery
after a timeout, two function instances, a replay from the dead-letter container). Before
queuing a run the handler *claims* the event id; only the claimant queues the run, then records
the run id. Everything rests on conditional writes of Azure Blob Storage:

- claim: ``Put Blob`` with ``If-None-Match: *`` creates ``<event id>.json`` with
  ``{"state": "claimed", "owner": <random>, "claimedAt": <epoch>}``. Exactly one writer wins.
- a loser reads the blob: ``state == "started"`` -> duplicate, acknowledge (the run id is logged).
  A live claim (younger than CLAIM_TIMEOUT_SECONDS) -> wait up to CLAIM_WAIT_SECONDS for it to
  finish, then raise `ClaimBusy` so the invocation fails and Event Grid redelivers later.
  A stale claim (its owner crashed or was killed) -> take it over with ``If-Match: <etag>``; only
  one taker can win.
- started: after Azure DevOps accepted the run the claimant overwrites the blob with
  ``If-Match: <its etag>``: ``{"state": "started", "runId": ...}``.
- release: if the run could not be queued, the claimant deletes the blob (``If-Match``) before
  failing the invocation, so the redelivery can try again at once.

Remaining window: if the process dies after Azure DevOps queued the run but before the
``started`` write (or that write keeps failing), the blob stays ``claimed``; a redelivery after
CLAIM_TIMEOUT_SECONDS takes the claim over and queues a second run. The same holds if a
claimant stalls for longer than CLAIM_TIMEOUT_SECONDS (settings validation keeps the timeout
above the retry budget). Both runs carry the same ``eventId`` parameter.

Blobs are never deleted after ``started``; a lifecycle rule on the container (delete after a few
days, longer than Event Grid's 24 h retry window) keeps it small.
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
    """Another invocation holds a live claim on the event: fail so Event Grid redelivers later."""


class LedgerUnavailable(InvocationFailed):
    """The idempotency store could not be read or written; nothing was queued."""


@dataclass(frozen=True)
class Claim:
    event_id: str
    blob_name: str
    owner: str
    etag: str
    claimed_at: float
    took_over: bool = False


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
                                "failing so that Event Grid redelivers it later")
            owner = uuid.uuid4().hex
            now = self._clock()
            body = self._record(event_id, event_type, pipeline, owner=owner, claimed_at=now)
            try:
                created = blob.upload_blob(body, overwrite=False)  # sends If-None-Match: *
                return Claim(event_id, name, owner, created["etag"], now)
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
            if record.get("state") == "started":
                run_id = record.get("runId")
                return AlreadyStarted(event_id, run_id if isinstance(run_id, int) else None, record.get("pipeline"))
            claimed_at = record.get("claimedAt")
            age = now - claimed_at if isinstance(claimed_at, (int, float)) else float("inf")
            if age >= self._claim_timeout:
                try:
                    replaced = blob.upload_blob(body, overwrite=True, etag=etag,
                                                match_condition=MatchConditions.IfNotModified)
                except (ResourceModifiedError, ResourceNotFoundError):
                    continue  # someone else took it over or released it; look again
                except AzureError as exc:
                    raise LedgerUnavailable(f"cannot take over claim blob {name}: {_describe(exc)}") from exc
                log(_WARNING, "claim_taken_over", event_id=event_id, pipeline=pipeline,
                    reason=f"previous claim by {record.get('owner')} was {age:.0f}s old "
                           f"(timeout {self._claim_timeout:g}s); a run may already exist for this event")
                return Claim(event_id, name, owner, replaced["etag"], now, took_over=True)

            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise ClaimBusy(f"event {event_id} is claimed by another invocation ({age:.0f}s ago); "
                                "failing so that Event Grid redelivers it later")
            self._sleep(min(self._poll, remaining))

    # ----------------------------------------------------------------------------- transitions
    def mark_started(self, claim: Claim, *, event_type: str, pipeline: str, pipeline_id: int | None,
                     run_id: int | None) -> bool:
        """Record the queued run. Never raises: the run exists, failing now would only risk a duplicate."""
        record = json.loads(self._record(claim.event_id, event_type, pipeline, owner=claim.owner,
                                         claimed_at=claim.claimed_at))
        record.update(state="started", pipelineId=pipeline_id, runId=run_id, startedAt=self._clock())
        blob = self._container.get_blob_client(claim.blob_name)
        try:
            blob.upload_blob(json.dumps(record).encode(), overwrite=True, etag=claim.etag,
                             match_condition=MatchConditions.IfNotModified)
            return True
        except (ResourceModifiedError, ResourceNotFoundError):
            reason = "the claim was taken over by another invocation while this one queued the run"
        except AzureError as exc:
            reason = f"cannot write the started state: {_describe(exc)}"
        log(_ERROR, "claim_not_recorded", event_id=claim.event_id, event_type=event_type, pipeline=pipeline,
            run_id=run_id, outcome="started_unrecorded",
            reason=reason + "; a redelivery after the claim timeout may queue a duplicate run")
        return False

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
    def _record(event_id: str, event_type: str, pipeline: str, *, owner: str, claimed_at: float) -> bytes:
        return json.dumps({
            "schema": 1,
            "eventId": event_id,
            "eventType": event_type,
            "pipeline": pipeline,
            "state": "claimed",
            "owner": owner,
            "claimedAt": claimed_at,
            "claimedAtUtc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claimed_at)),
        }).encode()


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
