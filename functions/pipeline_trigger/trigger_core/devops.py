"""Azure DevOps Pipelines REST client (api-version 7.1) for one organization and project.

- Auth: an Entra token for scope `499b84ac-1321-427f-aa17-267ca6975798/.default` from an
  azure-identity credential (the function's user-assigned managed identity), sent as
  `Authorization: Bearer`. Tokens are cached until 5 minutes before expiry.
- Pipelines are addressed by name + folder; `resolve_pipeline_id` lists the project's pipelines
  (following `x-ms-continuationtoken`) and caches the id for the life of the process.
- Every request has an explicit timeout. 429, 5xx, connection errors and timeouts are retried
  with backoff + jitter (Retry-After honoured, capped) within the attempt and time budget of
  `RetryPolicy` (MAX_ATTEMPTS per request, RETRY_BUDGET_SECONDS for all the requests of one
  invocation); then `DevOpsUnavailable` is raised so the invocation fails and Event Grid
  redelivers. 400/403/404 raise `DevOpsRejected` at once. A 401 (or a 203/3xx sign-in page, which
  is how Azure DevOps answers some bad credentials) drops the cached token and retries once with
  a fresh one; a second rejection raises `DevOpsAuthError`. (azure-identity may hand out the same
  token again from its own cache; the second failure then surfaces the real problem, usually an
  identity that was never added to the organization.)

Known window: a run request whose response is lost (read timeout, connection dropped after the
request was sent) may have queued a run; retrying it can queue a second run for the same event.
Azure DevOps offers no idempotency key on this API. The run carries `eventId` as a template
parameter so such duplicates can be recognised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import requests

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
    """Base of errors that must fail the invocation so Event Grid redelivers (and later dead-letters)."""


class DevOpsUnavailable(InvocationFailed):
    """Transient failures (429, 5xx, timeouts, connection errors) outlasted the retry budget."""


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
    ) -> None:
        self._base = f"{org_url.rstrip('/')}/{quote(project, safe='')}/_apis/pipelines"
        self._project = project
        self._credential = credential
        self._timeout = timeout_seconds
        self._retry = retry
        self._clock = clock
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
                           log_fields: Mapping[str, Any] | None = None) -> tuple[int, int | None]:
        """Resolve `name` in `folder` (cached) and queue a run; returns (pipeline id, run id).

        A 404 on the run with a cached id means the pipeline was re-created under a new id: the
        cache entry is dropped and the name resolved once more.
        """
        fields = dict(log_fields or {})
        started = self._retry.monotonic()  # one time budget for the whole invocation
        key = (name.casefold(), normalise_folder(folder).casefold())
        with self._ids_lock:
            was_cached = key in self._ids
        pipeline_id = self.resolve_pipeline_id(name, folder, log_fields=fields, started=started)
        try:
            return pipeline_id, self.run_pipeline(pipeline_id, template_parameters,
                                                  log_fields={**fields, "pipeline_id": pipeline_id}, started=started)
        except DevOpsRejected as exc:
            if exc.status != 404 or not was_cached:
                raise
        log(_LEVEL_WARNING, "pipeline_id_stale", pipeline_id=pipeline_id, reason="run returned 404; resolving again",
            **fields)
        self.forget_pipeline_id(name, folder)
        pipeline_id = self.resolve_pipeline_id(name, folder, log_fields=fields, started=started)
        return pipeline_id, self.run_pipeline(pipeline_id, template_parameters,
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

    def run_pipeline(self, pipeline_id: int, template_parameters: Mapping[str, str], *,
                     log_fields: Mapping[str, Any] | None = None, started: float | None = None) -> int | None:
        """Queue a run; returns the run id (None if a 2xx answer carried no id)."""
        url = f"{self._base}/{int(pipeline_id)}/runs"
        body = {"templateParameters": dict(template_parameters)}
        response = self._send("POST", url, params={"api-version": API_VERSION}, json_body=body,
                              operation="run_pipeline", log_fields=log_fields, started=started)
        try:
            run_id = response.json().get("id")
        except (ValueError, AttributeError):
            run_id = None
        return run_id if isinstance(run_id, int) else None

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
                reason = f"{type(exc).__name__}: {exc}"
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
                    message = (f"{operation}: Azure DevOps rejected the managed identity's token (HTTP {status}) "
                               "after a refresh: add the identity to the organization with an access level "
                               "and grant it 'Queue builds' on the pipelines")
                    log(_LEVEL_ERROR, "devops_failed", operation=operation, status=status, attempt=attempt,
                        outcome="auth_error", reason=message, **fields)
                    raise DevOpsAuthError(message, status=status)
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
