"""What the pipeline_trigger function needs from the infrastructure that deploys it: one copy, stdlib only.

The function reads these names (settings.py, events.py, function_app.py); the kit imports them
(infra/triggers.py writes the app settings with `DeployedSettings.app_settings()`, infra/event_grid.py
filters on the event types and `COMMITTED_WRITE_APIS`). No I/O and no imports beyond the standard
library and no import of the rest of trigger_core, so `import trigger_core.contract` costs nothing
and pulls none of the function's dependencies into the kit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
MODEL_REGISTERED = "Microsoft.MachineLearningServices.ModelRegistered"

# Blob APIs whose BlobCreated event means "the file is complete" (Event Grid docs, "Azure Blob
# Storage as an Event Grid source"). ADLS emits CreateFile first (an empty, uncommitted file) and
# FlushWithClose when the writer closes it; block uploads commit with PutBlockList; small uploads
# through the Blob API (az storage blob upload, azcopy, SDK upload_blob of a 0-byte _SUCCESS file)
# are a single PutBlob. CopyBlob is left out on purpose: on hierarchical-namespace accounts its
# BlobCreated fires when the copy *starts*, not when the blob is committed. Event Grid's `data.api`
# filter and the function's own check both use this tuple.
COMMITTED_WRITE_APIS: tuple[str, ...] = ("FlushWithClose", "PutBlockList", "PutBlob")

# The queue trigger's identity-based connection (function_app.py: `connection="EventQueue"`) and
# the setting that names its queue (`queue_name="%EVENT_QUEUE_NAME%"`).
EVENT_QUEUE_CONNECTION = "EventQueue"
EVENT_QUEUE_SETTING = "EVENT_QUEUE_NAME"
# The Functions host moves a message to `<queue>-poison` after maxDequeueCount failed deliveries.
POISON_QUEUE_SUFFIX = "-poison"
# The only credential kind the function accepts for the queue connection (no keys, no connection strings).
MANAGED_IDENTITY = "managedidentity"

REQUIRED_SETTINGS: tuple[str, ...] = (
    "AZDO_ORG_URL",
    "AZDO_PROJECT",
    "TRAINING_PIPELINE_NAME",
    "RELEASE_PIPELINE_NAME",
    "PIPELINE_FOLDER",
    "AZURE_CLIENT_ID",
    "IDEMPOTENCY_ACCOUNT_URL",
    "IDEMPOTENCY_CONTAINER",
    "TRAINING_FILESYSTEM",
    "ENVIRONMENT_NAME",
    "MODEL_NAME",
    # Read by the Functions host for the queue trigger (identity-based connection "EventQueue").
    EVENT_QUEUE_SETTING,
    f"{EVENT_QUEUE_CONNECTION}__queueServiceUri",
    f"{EVENT_QUEUE_CONNECTION}__credential",
    f"{EVENT_QUEUE_CONNECTION}__clientId",
)

# Optional settings and their defaults (strings, exactly as they would appear in app settings).
SETTING_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        "TRAINING_PATH_PREFIX": "",  # empty: markers anywhere in the filesystem count
        "MARKER_SUFFIX": "_SUCCESS",
        "HTTP_TIMEOUT_SECONDS": "10",  # per request to Azure DevOps / the idempotency store
        "MAX_ATTEMPTS": "5",  # requests per Azure DevOps call, first one included
        "RETRY_BASE_SECONDS": "1",  # first backoff; doubles per failure, with jitter
        "RETRY_MAX_DELAY_SECONDS": "30",  # cap of one computed backoff
        "RETRY_AFTER_CAP_SECONDS": "60",  # cap of a server-sent Retry-After
        "RETRY_BUDGET_SECONDS": "120",  # total time one invocation spends on Azure DevOps calls
        "CLAIM_TIMEOUT_SECONDS": "600",  # a claim older than this is stale and can be taken over
        "CLAIM_WAIT_SECONDS": "10",  # how long a duplicate delivery waits for a live claim to finish
        # Must equal host.json extensions.queues.maxDequeueCount: on the last delivery a failure is
        # written to the poison queue with its reason instead of being raised once more.
        "MAX_DEQUEUE_COUNT": "5",
        # A run request that got no answer (timeout, dropped connection, 502/504, 2xx without a run
        # id) is not resent before this long after it was sent; then the runs are searched for the
        # event id first. Keep it below host.json's visibilityTimeout (120 s).
        "RUN_SETTLE_SECONDS": "90",
        "RUN_LOOKUP_SKEW_SECONDS": "120",  # clock-skew margin when comparing a run's createdDate
        "RUN_LOOKUP_MAX_RUNS": "50",  # most recent runs fetched one by one when searching for an event id
    }
)
OPTIONAL_SETTINGS: tuple[str, ...] = tuple(SETTING_DEFAULTS)


@dataclass(frozen=True)
class DeployedSettings:
    """The values a deployment gives the function; `app_settings()` names them as the function reads them.

    Values are strings as written into the app settings: literals or Terraform references (the
    function validates them at start, `Settings.from_env`). The tuning settings keep their defaults.
    """

    azdo_org_url: str
    azdo_project: str
    training_pipeline_name: str
    release_pipeline_name: str
    pipeline_folder: str
    client_id: str  # the user-assigned identity's client id: Azure DevOps tokens and the queue connection
    idempotency_account_url: str  # blob endpoint of the function's storage account
    idempotency_container: str
    training_filesystem: str
    training_path_prefix: str
    marker_suffix: str
    environment_name: str
    model_name: str
    event_queue_name: str
    event_queue_service_uri: str  # queue endpoint of the function's storage account

    def app_settings(self) -> dict[str, str]:
        """Every REQUIRED_SETTINGS name plus the optional TRAINING_PATH_PREFIX and MARKER_SUFFIX."""
        return {
            "AZDO_ORG_URL": self.azdo_org_url,
            "AZDO_PROJECT": self.azdo_project,
            "TRAINING_PIPELINE_NAME": self.training_pipeline_name,
            "RELEASE_PIPELINE_NAME": self.release_pipeline_name,
            "PIPELINE_FOLDER": self.pipeline_folder,
            "AZURE_CLIENT_ID": self.client_id,
            "IDEMPOTENCY_ACCOUNT_URL": self.idempotency_account_url,
            "IDEMPOTENCY_CONTAINER": self.idempotency_container,
            "TRAINING_FILESYSTEM": self.training_filesystem,
            "TRAINING_PATH_PREFIX": self.training_path_prefix,
            "MARKER_SUFFIX": self.marker_suffix,
            "ENVIRONMENT_NAME": self.environment_name,
            "MODEL_NAME": self.model_name,
            EVENT_QUEUE_SETTING: self.event_queue_name,
            f"{EVENT_QUEUE_CONNECTION}__queueServiceUri": self.event_queue_service_uri,
            f"{EVENT_QUEUE_CONNECTION}__credential": MANAGED_IDENTITY,
            f"{EVENT_QUEUE_CONNECTION}__clientId": self.client_id,
        }


# ------------------------------------------------------------------ the Azure DevOps organization URL
# One parser for the kit's config (infra/config.py, which also refuses the test-server form) and the
# function's settings: both accept exactly the same organization URLs.
ORG_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?")  # letters, digits, inner hyphens
ORG_URL_FIX = "use https://dev.azure.com/<organization> or https://<organization>.visualstudio.com"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})  # test servers (http allowed), never in a config


def parse_org_url(value: str) -> tuple[str | None, str | None]:
    """(normalised URL, None) or (None, problem) for an Azure DevOps organization URL.

    Accepted: ``https://dev.azure.com/<org>`` and ``https://<org>.visualstudio.com`` (a trailing
    ``/`` is dropped), plus ``http(s)://127.0.0.1|localhost:<port>/<org>`` for test servers. Parsed
    with urllib.parse; userinfo, a query, a fragment, a port on an Azure host, other hosts, extra
    path segments and whitespace are refused, so ``https://evil.example#.visualstudio.com`` fails.
    """
    if not value or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in value):
        return None, "is empty or contains whitespace, control characters or backslashes"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return None, f"is not a URL ({exc})"
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        return None, "is not an http(s) URL"
    if "@" in parts.netloc:
        return None, "must not contain user information (user@host)"
    if "?" in value or "#" in value:
        return None, "must not contain a query (?) or a fragment (#)"
    segments = [s for s in parts.path.split("/") if s]
    if parts.path and not parts.path.startswith("/"):
        return None, "is not a URL"
    if host in LOCAL_HOSTS:
        if len(segments) != 1 or not ORG_NAME.fullmatch(segments[0]):
            return None, "needs exactly one path segment, the organization"
        return f"{parts.scheme}://{parts.netloc}/{segments[0]}", None
    if parts.scheme != "https":
        return None, "uses http (plain http is accepted only for 127.0.0.1/localhost test servers)"
    if port is not None:
        return None, "must not name a port"
    if host == "dev.azure.com":
        if len(segments) != 1 or not ORG_NAME.fullmatch(segments[0]):
            return None, "has no organization, or more than one path segment, after dev.azure.com/"
        return f"https://dev.azure.com/{segments[0]}", None
    org, _, domain = host.partition(".")
    if domain == "visualstudio.com":
        if segments:
            return None, "must have no path after <organization>.visualstudio.com"
        if not ORG_NAME.fullmatch(org):
            return None, "has an invalid organization name before .visualstudio.com"
        return f"https://{org}.visualstudio.com", None
    return None, f"names host {host!r}, which is not dev.azure.com or <organization>.visualstudio.com"
