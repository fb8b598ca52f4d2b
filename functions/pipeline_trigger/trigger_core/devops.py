"""Azure DevOps Pipelines REST client (api-version 7.1) for one organization and project.

- Auth: an Entra token for scope `499b84ac-1321-427f-aa17-267ca6975798/.default` from an
  azure-identity credential (the function's user-assigned managed identity), sent as
  `Authorization: Bearer`. Tokens are cached until 5 minutes before expiry.
- Pipelines are addressed by name + folder; `resolve_pipeline_id` lists the project's pipelines
  (following `x-ms-continuationtoken`) and caches the id for the life of the process.
- Every request has an explicit timeout. Reads (list pipelines/runs, get run) retry 429, 5xx,
  connection errors and timeouts with backoff + jitter (Retry-After honoured, capped) within
  `RetryPolicy` (MAX_ATTEMPTS per request, RETRY_BUDGET_SECONDS per invocation), then raise
  `DevOpsUnavailable`. 400/403/404 raise `DevOpsRejected` at once. A 401 (or a 203/3xx sign-in
  page, Azure DevOps' answer to some bad credentials) drops the cached token and retries once;
  a second rejection raises `DevOpsAuthError`.
- The run request (POST .../runs) is never resent blindly: Azure DevOps has no idempotency key,
  and a request the client gave up on may still queue a run. `run_pipeline` resends only when
  the server cannot have queued one (429, refused connection, rejected token), searches the
  runs for the event id (`find_run`, the run's `eventId` template parameter) after an answered
  5xx, and raises `RunOutcomeUnknown` when there was no answer (timeout, dropped connection,
  502/504) or a 2xx without a run id; the handler then keeps the claim and a later delivery
  searches before it sends again.
"""

from __future__ import annotations

import datetime
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .logs import log
from .retry import RetryPolicy, parse_retry_after
from .settings import DEVOPS_SCOPE, normalise_folder

API_VERSION = "7.1"
_TOKEN_REFRESH_MARGIN_SECONDS = 300
_MAX_PAGES = 100
_TRANSIENT_EXCEPTIONS = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
_LEVEL_INFO, _LEVEL_WARNING, _LEVEL_ERROR = 20, 30, 40


class TokenCredential(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...  # returns azure.core AccessToken


class InvocationFailed(Exception):
    """Base of errors that must fail the invocation so the message returns to the queue (later: poison)."""


class DevOpsUnavailable(InvocationFailed):
    """Transient failures (429, 5xx, timeouts, connection errors) outlasted the retry budget."""


class RunOutcomeUnknown(InvocationFailed):
    """A run request may have queued a run (no answer, 502/504, 2xx without id, answered 5xx that
    could not be checked). Not resent now; the next delivery searches the runs for the event id
    first (`settle`: only after RUN_SETTLE_SECONDS, because the server may still be working)."""

    def __init__(self, message: str, *, settle: bool) -> None:
        super().__init__(message)
        self.settle = settle


class RunLookupInconclusive(InvocationFailed):
    """Too many recent runs to tell whether one carries the event id; nothing is resent."""


class DevOpsRejected(InvocationFailed):
    """Azure DevOps refused the request (400, 403, 404, ...); retrying the same request will not help."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DevOpsAuthError(DevOpsRejected):
    """No usable token, or the token was rejected twice."""


class PipelineNotFound(DevOpsRejected):
    """No pipeline with the configured name in the configured folder."""


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    folder: str


class AzureDevOpsClient:
    def __init__(
        self,
        *,
        org_url: str,
        project: str,
        credential: TokenCredential,
        timeout_seconds: float,
        retry: RetryPolicy,
        clock=time.time,
        lookup_skew_seconds: float = 120.0,
        lookup_max_runs: int = 50,
    ) -> None:
        self._base = f"{org_url.rstrip('/')}/{quote(project, safe='')}/_apis/pipelines"
        self._project = project
        self._credential = credential
        self._timeout = timeout_seconds
        self._retry = retry
        self._clock = clock
        self._lookup_skew = lookup_skew_seconds
        self._lookup_max_runs = lookup_max_runs
        self._token_lock = threading.Lock()
        self._token: Any = None
        self._ids: dict[tuple[str, str], int] = {}
        self._ids_lock = threading.Lock()
        self._local = threading.local()

    # ----------------------------------------------------------------------------- public API
    def resolve_pipeline_id(self, name: str, folder: str, *, log_fields: Mapping[str, Any] | None = None,
                            started: float | None = None) -> int:
        key = (name.casefold(), normalise_folder(folder).casefold())
        with self._ids_lock:
            cached = self._ids.get(key)
        if cached is not None:
            return cached
        fields = dict(log_fields or {})
        matches = [p for p in self.list_pipelines(log_fields=fields, started=started)
                   if (p.name.casefold(), normalise_folder(p.folder).casefold()) == key]
        if not matches:
            raise PipelineNotFound(
                f"pipeline {name!r} not found in folder {normalise_folder(folder)!r} of project "
                f"{self._project!r}: deploy the team's devops stack or fix TRAINING_/RELEASE_PIPELINE_NAME "
                "and PIPELINE_FOLDER", status=404)
        if len(matches) > 1:
            raise DevOpsRejected(f"{len(matches)} pipelines named {name!r} in folder {normalise_folder(folder)!r}")
        with self._ids_lock:
            self._ids[key] = matches[0].id
        log(_LEVEL_INFO, "pipeline_resolved", pipeline_id=matches[0].id, **fields)
        return matches[0].id

    def run_named_pipeline(self, name: str, folder: str, template_parameters: Mapping[str, str], *,
                           event_id: str | None = None, log_fields: Mapping[str, Any] | None = None) -> tuple[int, int]:
        """Resolve `name` in `folder` (cached) and queue one run; returns (pipeline id, run id).

        A 404 on the run with a cached id means the pipeline was
        re-created under a new id (a 404 queues nothing): the id is resolved once more.
        """
        fields = dict(log_fields or {})
        started = self._retry.monotonic()  # one time budget for the whole invocation
        key = (name.casefold(), normalise_folder(folder).casefold())
        with self._ids_lock:
            was_cached = key in self._ids
        pipeline_id = self.resolve_pipeline_id(name, folder, log_fields=fields, started=started)
        try:
            return pipeline_id, self.run_pipeline(pipeline_id, template_parameters, event_id=event_id,
                                                  log_fields={**fields, "pipeline_id": pipeline_id}, started=started)
        except DevOpsRejected as exc:
            if exc.status != 404 or not was_cached:
                raise
        log(_LEVEL_WARNING, "pipeline_id_stale", pipeline_id=pipeline_id, reason="run returned 404; resolving again",
            **fields)
        self.forget_pipeline_id(name, folder)
        pipeline_id = self.resolve_pipeline_id(name, folder, log_fields=fields, started=started)
        return pipeline_id, self.run_pipeline(pipeline_id, template_parameters, event_id=event_id,
                                              log_fields={**fields, "pipeline_id": pipeline_id}, started=started)

    def forget_pipeline_id(self, name: str, folder: str) -> None:
        with self._ids_lock:
            self._ids.pop((name.casefold(), normalise_folder(folder).casefold()), None)

    def list_pipelines(self, *, log_fields: Mapping[str, Any] | None = None,
                       started: float | None = None) -> list[Pipeline]:
        pipelines: list[Pipeline] = []
        token: str | None = None
        for _ in range(_MAX_PAGES):
            params = {"api-version": API_VERSION}
            if token:
                params["continuationToken"] = token
            response = self._send("GET", self._base, params=params, operation="list_pipelines",
                                  log_fields=log_fields, started=started)
            body = _json(response, "list pipelines")
            values = body.get("value") if isinstance(body, Mapping) else None
            if not isinstance(values, list):
                raise DevOpsRejected("list pipelines: response has no 'value' array", status=response.status_code)
            for item in values:
                if isinstance(item, Mapping) and isinstance(item.get("id"), int) and isinstance(item.get("name"), str):
                    pipelines.append(Pipeline(item["id"], item["name"], str(item.get("folder") or "\\")))
            token = response.headers.get("x-ms-continuationtoken")
            if not token:
                return pipelines
        raise DevOpsRejected(f"list pipelines: more than {_MAX_PAGES} pages, giving up")

    def run_pipeline(self, pipeline_id: int, template_parameters: Mapping[str, str], *, event_id: str | None = None,
                     log_fields: Mapping[str, Any] | None = None, started: float | None = None) -> int:
        """Queue one run and return its id. A request is resent only when no run can exist from it.

        - 429, refused/unsent connections, a 401/203/3xx (once, with a fresh token): resent after
          the backoff; the server did not queue anything.
        - 500, 503 and other answered 5xx: the server has finished with the request, so the runs
          are searched for `event_id` before resending; a run found is returned.
        - no answer (read timeout, connection dropped after sending), 502/504 (a gateway gave up
          while the service may still work) or a 2xx without a run id (an HTML interstitial): raise
          `RunOutcomeUnknown` at once; the next delivery searches after RUN_SETTLE_SECONDS.
        - 400/403/404: `DevOpsRejected` (nothing queued).
        """
        fields = dict(log_fields or {})
        url = f"{self._base}/{int(pipeline_id)}/runs"
        body = {"templateParameters": dict(template_parameters)}
        budget = self._retry.start(started)
        requested_at = self._clock()
        refreshed = False
        attempt = 0
        answered_5xx = False
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {self._bearer()}", "Accept": "application/json"}
            retry_after: float | None = None
            try:
                response = self._session().request("POST", url, params={"api-version": API_VERSION}, json=body,
                                                   headers=headers, timeout=self._timeout, allow_redirects=False)
            except _TRANSIENT_EXCEPTIONS as exc:
                if not _was_not_sent(exc):
                    raise self._unknown(f"no answer to the run request ({type(exc).__name__}: {_first_line(exc)})",
                                        settle=True, attempt=attempt, fields=fields) from None
                reason, status = f"{type(exc).__name__}: {_first_line(exc)}", None
            else:
                status = response.status_code
                if 200 <= status < 300 and status != 203:
                    run_id = _run_id(response)
                    if run_id is None:
                        raise self._unknown(f"HTTP {status} without a run id ({_content_kind(response)})",
                                            settle=True, attempt=attempt, fields=fields, status=status)
                    log(_LEVEL_INFO, "devops_response", operation="run_pipeline", status=status, attempt=attempt,
                        run_id=run_id, **fields)
                    return run_id
                if status in (401, 203) or 300 <= status < 400:
                    if not refreshed:
                        refreshed = True
                        log(_LEVEL_WARNING, "devops_token_rejected", operation="run_pipeline", status=status,
                            attempt=attempt, reason="refreshing the token once", **fields)
                        self._drop_token()
                        continue
                    raise self._auth_failed("run_pipeline", status, attempt, fields)
                if status in (502, 504):
                    raise self._unknown(f"HTTP {status} from a gateway: {_error_text(response)}", settle=True,
                                        attempt=attempt, fields=fields, status=status)
                if status == 429 or status >= 500:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    reason = f"HTTP {status}: {_error_text(response)}"
                    if status >= 500:
                        answered_5xx = True
                        found = self._search_after_error(pipeline_id, event_id, requested_at, fields, started)
                        if found is not None:
                            return found
                else:
                    message = f"run_pipeline: HTTP {status} {_hint(status)}: {_error_text(response)}"
                    log(_LEVEL_ERROR, "devops_failed", operation="run_pipeline", status=status, attempt=attempt,
                        outcome="rejected", reason=message, **fields)
                    raise DevOpsRejected(message, status=status)
            delay = budget.next_delay(retry_after)
            if delay is None:
                message = f"run_pipeline: {budget.give_up_reason}; last error {reason}"
                log(_LEVEL_ERROR, "devops_failed", operation="run_pipeline", status=status, attempt=attempt,
                    outcome="unavailable", reason=message, **fields)
                if answered_5xx and event_id is None:
                    raise RunOutcomeUnknown(message, settle=False)
                raise DevOpsUnavailable(message)
            log(_LEVEL_WARNING, "devops_retry", operation="run_pipeline", status=status, attempt=attempt,
                delay_s=round(delay, 3), reason=reason, **fields)
            budget.sleep(delay)

    def find_run(self, pipeline_id: int, event_id: str, *, created_after: float,
                 log_fields: Mapping[str, Any] | None = None, started: float | None = None) -> int | None:
        """Id of a run of `pipeline_id` whose `eventId` template parameter is `event_id`, or None.

        Lists the pipeline's runs (the API returns its latest 10,000, no filter) and keeps those
        created after `created_after` (epoch seconds; the caller subtracts RUN_LOOKUP_SKEW_SECONDS)
        or without a date. A listed run without `templateParameters` is fetched with Get Run, newest
        first, at most RUN_LOOKUP_MAX_RUNS of them; more candidates than that raise
        `RunLookupInconclusive` (nothing is resent then).
        """
        fields = {k: v for k, v in (log_fields or {}).items() if k != "pipeline_id"}
        base = f"{self._base}/{int(pipeline_id)}/runs"
        response = self._send("GET", base, params={"api-version": API_VERSION}, operation="list_runs",
                              log_fields=fields, started=started)
        listing = _json(response, "list runs")
        values = listing.get("value") if isinstance(listing, Mapping) else listing
        if not isinstance(values, list):
            raise DevOpsRejected("list runs: response has no 'value' array", status=response.status_code)
        candidates = []
        for item in values:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), int):
                continue
            created = _parse_time(item.get("createdDate"))
            if created is None or created >= created_after:
                candidates.append(item)
        candidates.sort(key=lambda item: item["id"], reverse=True)
        fetched = 0
        for item in candidates:
            params = item.get("templateParameters")
            if not isinstance(params, Mapping):
                if fetched >= self._lookup_max_runs:
                    raise RunLookupInconclusive(
                        f"list runs: {len(candidates)} runs of pipeline {pipeline_id} since the request, more than "
                        f"RUN_LOOKUP_MAX_RUNS={self._lookup_max_runs} to read one by one; not resending")
                fetched += 1
                run = _json(self._send("GET", f"{base}/{item['id']}", params={"api-version": API_VERSION},
                                       operation="get_run", log_fields=fields, started=started), "get run")
                params = run.get("templateParameters") if isinstance(run, Mapping) else None
            if isinstance(params, Mapping) and params.get("eventId") == event_id:
                log(_LEVEL_INFO, "run_found", pipeline_id=pipeline_id, run_id=item["id"], candidates=len(candidates),
                    fetched=fetched, **fields)
                return int(item["id"])
        log(_LEVEL_INFO, "run_not_found", pipeline_id=pipeline_id, candidates=len(candidates), fetched=fetched,
            **fields)
        return None

    def _search_after_error(self, pipeline_id: int, event_id: str | None, requested_at: float,
                            fields: Mapping[str, Any], started: float | None) -> int | None:
        """After an answered 5xx: the run, if the failed request created one (None: resend)."""
        if event_id is None:
            return None
        try:
            return self.find_run(pipeline_id, event_id, created_after=requested_at - self._lookup_skew,
                                 log_fields=fields, started=started)
        except InvocationFailed as exc:
            raise RunOutcomeUnknown(f"run request failed and the runs could not be searched: {exc}",
                                    settle=False) from None

    def _unknown(self, reason: str, *, settle: bool, attempt: int, fields: Mapping[str, Any],
                 status: int | None = None) -> RunOutcomeUnknown:
        message = f"run_pipeline: {reason}; a run may exist, so the request is not resent now"
        log(_LEVEL_WARNING, "devops_outcome_unknown", operation="run_pipeline", status=status, attempt=attempt,
            outcome="unknown", reason=message, **fields)
        return RunOutcomeUnknown(message, settle=settle)

    def _auth_failed(self, operation: str, status: int, attempt: int, fields: Mapping[str, Any]) -> DevOpsAuthError:
        message = (f"{operation}: Azure DevOps rejected the managed identity's token (HTTP {status}) "
                   "after a refresh: add the identity to the organization with an access level "
                   "and grant it 'Queue builds' on the pipelines")
        log(_LEVEL_ERROR, "devops_failed", operation=operation, status=status, attempt=attempt,
            outcome="auth_error", reason=message, **fields)
        return DevOpsAuthError(message, status=status)

    # ----------------------------------------------------------------------------- internals
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _bearer(self) -> str:
        with self._token_lock:
            token = self._token
            if token is None or token.expires_on - _TOKEN_REFRESH_MARGIN_SECONDS <= self._clock():
                try:
                    token = self._credential.get_token(DEVOPS_SCOPE)
                except Exception as exc:  # azure-identity raises several types; all mean "no token"
                    raise DevOpsAuthError(f"could not get a token for {DEVOPS_SCOPE} from the managed identity "
                                          f"(check AZURE_CLIENT_ID and the identity assignment): {exc}") from exc
                self._token = token
            return token.token

    def _send(self, method: str, url: str, *, params: Mapping[str, str], operation: str,
              json_body: Any = None, log_fields: Mapping[str, Any] | None = None,
              started: float | None = None) -> requests.Response:
        fields = dict(log_fields or {})
        budget = self._retry.start(started)  # attempts counted per call, time from `started`
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {self._bearer()}", "Accept": "application/json"}
            retry_after: float | None = None
            try:
                response = self._session().request(method, url, params=params, json=json_body, headers=headers,
                                                   timeout=self._timeout, allow_redirects=False)
            except _TRANSIENT_EXCEPTIONS as exc:
                reason = f"{type(exc).__name__}: {_first_line(exc)}"
                status = None
            else:
                status = response.status_code
                if 200 <= status < 300 and status != 203:
                    log(_LEVEL_INFO, "devops_response", operation=operation, status=status, attempt=attempt, **fields)
                    return response
                if status in (401, 203) or 300 <= status < 400:
                    if not refreshed:
                        refreshed = True
                        log(_LEVEL_WARNING, "devops_token_rejected", operation=operation, status=status,
                            attempt=attempt, reason="refreshing the token once", **fields)
                        self._drop_token()
                        continue
                    raise self._auth_failed(operation, status, attempt, fields)
                if status == 429 or status >= 500:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    reason = f"HTTP {status}: {_error_text(response)}"
                else:
                    message = f"{operation}: HTTP {status} {_hint(status)}: {_error_text(response)}"
                    log(_LEVEL_ERROR, "devops_failed", operation=operation, status=status, attempt=attempt,
                        outcome="rejected", reason=message, **fields)
                    raise DevOpsRejected(message, status=status)
            delay = budget.next_delay(retry_after)
            if delay is None:
                message = f"{operation}: {budget.give_up_reason}; last error {reason}"
                log(_LEVEL_ERROR, "devops_failed", operation=operation, status=status, attempt=attempt,
                    outcome="unavailable", reason=message, **fields)
                raise DevOpsUnavailable(message)
            log(_LEVEL_WARNING, "devops_retry", operation=operation, status=status, attempt=attempt,
                delay_s=round(delay, 3), reason=reason, **fields)
            budget.sleep(delay)

    def _drop_token(self) -> None:
        with self._token_lock:
            self._token = None


def _was_not_sent(exc: Exception) -> bool:
    """True when the request cannot have reached the server (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.exceptions.ChunkedEncodingError):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)  # urllib3 MaxRetryError(reason=NewConnectionError(...))
        return isinstance(inner, (NewConnectionError, ConnectTimeoutError))
    return False


def _run_id(response: requests.Response) -> int | None:
    if "json" not in (response.headers.get("Content-Type") or "").lower():
        return None
    try:
        value = response.json().get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _content_kind(response: requests.Response) -> str:
    kind = (response.headers.get("Content-Type") or "no content type").split(";")[0]
    return f"{kind}, {len(response.content)} bytes"


def _parse_time(value: object) -> float | None:
    """Epoch seconds of an Azure DevOps date (``2024-06-01T10:00:00.1234567Z``), None if absent/odd."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?([+-]\d{2}:\d{2})?", text)
    if not match:
        return None
    stamp = match.group(1) + "." + (match.group(2) or "0")[:6].ljust(6, "0") + (match.group(3) or "+00:00")
    try:
        return datetime.datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def _json(response: requests.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise DevOpsRejected(f"{what}: response is not JSON (HTTP {response.status_code})",
                             status=response.status_code) from None


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or "")[:300].strip() or "(empty body)"
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return body["message"][:500]
    return str(body)[:300]


def _hint(status: int) -> str:
    return {
        400: "(bad request: do the pipeline's YAML parameters declare every template parameter?)",
        403: "(forbidden: grant the identity 'Queue builds' on the pipeline and a Basic access level)",
        404: "(not found: check AZDO_ORG_URL, AZDO_PROJECT and that the pipeline exists)",
    }.get(status, "(not retryable)")
