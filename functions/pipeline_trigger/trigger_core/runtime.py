"""Wiring: settings + credential -> `PipelineTrigger`, and the per-process instance.

`build_trigger` is what tests and the replay tool use (everything injectable); `get_trigger` is
what the function uses: built once per worker process from `os.environ`, so the pipeline-id and
token caches live as long as the process. Invalid settings are logged at import time (see
function_app.py) and raised on every invocation, so events fail and are retried or dead-lettered
instead of being acknowledged and lost while the app is misconfigured.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .devops import AzureDevOpsClient, InvocationFailed
from .handler import PipelineTrigger
from .ledger import BlobEventLedger
from .retry import RetryPolicy
from .settings import Settings, SettingsError


class ConfigurationError(InvocationFailed):
    """The app settings are invalid; every invocation fails until they are fixed."""


def build_trigger(
    settings: Settings,
    *,
    credential: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
    blob_client_options: Mapping[str, Any] | None = None,
    claim_poll_seconds: float = 0.5,
    claim_sleep: Callable[[float], None] | None = None,
) -> PipelineTrigger:
    """Build the handler. `credential` defaults to ManagedIdentityCredential(client_id=AZURE_CLIENT_ID).

    `sleep`/`monotonic`/`rng` drive the Azure DevOps retries; `claim_sleep` (default: `sleep`) the
    ledger's wait for a live claim; `blob_client_options` go to the ContainerClient (tests pass
    `connection_verify=<cert>` for Azurite).
    """
    if credential is None:
        from azure.identity import ManagedIdentityCredential

        credential = ManagedIdentityCredential(client_id=settings.azure_client_id)
    from azure.storage.blob import ContainerClient

    retry = RetryPolicy(
        max_attempts=settings.max_attempts,
        base_seconds=settings.retry_base_seconds,
        max_delay_seconds=settings.retry_max_delay_seconds,
        retry_after_cap_seconds=settings.retry_after_cap_seconds,
        budget_seconds=settings.retry_budget_seconds,
        sleep=sleep,
        monotonic=monotonic,
        rng=rng or random.Random(),
    )
    devops = AzureDevOpsClient(
        org_url=settings.azdo_org_url,
        project=settings.azdo_project,
        credential=credential,
        timeout_seconds=settings.http_timeout_seconds,
        retry=retry,
        clock=clock,
        lookup_skew_seconds=settings.run_lookup_skew_seconds,
        lookup_max_runs=settings.run_lookup_max_runs,
    )
    options: dict[str, Any] = {
        "connection_timeout": settings.http_timeout_seconds,
        "read_timeout": settings.http_timeout_seconds,
        "retry_total": 3,
        # The storage SDK's default ExponentialRetry waits 15 s, then 18 s, 24 s (+-3 s): a one-second
        # blip would stall the invocation for a minute. 1 s, 3 s, 5 s (+-1 s) keeps it inside the budget.
        "initial_backoff": 1,
        "increment_base": 2,
        "random_jitter_range": 1,
    }
    options.update(blob_client_options or {})
    if "transport" not in options:
        # One client serves every concurrent invocation (host.json batchSize + newBatchThreshold = 12);
        # requests' default pool of 10 would log "Connection pool is full" at WARNING under load.
        import requests
        from azure.core.pipeline.transport import RequestsTransport

        session = requests.Session()
        session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32))
        transport_options = {k: options[k] for k in ("connection_timeout", "read_timeout", "connection_verify")
                             if k in options}
        options["transport"] = RequestsTransport(session=session, session_owner=False, **transport_options)
    container = ContainerClient(settings.idempotency_account_url, settings.idempotency_container,
                                credential=credential, **options)
    ledger = BlobEventLedger(
        container,
        claim_timeout_seconds=settings.claim_timeout_seconds,
        claim_wait_seconds=settings.claim_wait_seconds,
        poll_seconds=claim_poll_seconds,
        clock=clock,
        monotonic=monotonic,
        sleep=claim_sleep or sleep,
    )
    return PipelineTrigger(settings, devops, ledger)


_lock = threading.Lock()
_trigger: PipelineTrigger | None = None


def get_trigger(environ: Mapping[str, str] | None = None) -> PipelineTrigger:
    """The process-wide trigger; raises ConfigurationError (an InvocationFailed) on bad settings."""
    global _trigger
    with _lock:
        if _trigger is None:
            try:
                settings = Settings.from_env(os.environ if environ is None else environ)
            except SettingsError as exc:
                raise ConfigurationError(str(exc)) from exc
            _trigger = build_trigger(settings)
        return _trigger


def reset_trigger() -> None:
    """Forget the process-wide trigger (tests; a settings change restarts the worker anyway)."""
    global _trigger
    with _lock:
        _trigger = None
