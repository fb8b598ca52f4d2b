"""App settings of the pipeline-trigger function, validated once at start.

`Settings.from_env(os.environ)` either returns a frozen, normalised `Settings` or raises
`SettingsError` whose `errors` are one line each: the setting's name, what is wrong, and the fix.

The infrastructure code (infra/triggers.py) sets exactly these app settings; an infra test can
compare its `app_settings` keys with `REQUIRED_SETTINGS` and `OPTIONAL_SETTINGS`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

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
    }
)
OPTIONAL_SETTINGS: tuple[str, ...] = tuple(SETTING_DEFAULTS)

DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"

# Blob APIs whose BlobCreated event means "the file is complete" (kept here, stdlib-only, so the
# infra tests can load it by path and compare with the Event Grid `data.api` filter). ADLS emits
# CreateFile first (an empty, uncommitted file) and FlushWithClose when the writer closes it;
# block uploads commit with PutBlockList; small uploads through the Blob API (az storage blob
# upload, azcopy, SDK upload_blob of a 0-byte _SUCCESS file) are a single PutBlob. CopyBlob is
# left out on purpose: on hierarchical-namespace accounts its BlobCreated fires when the copy
# *starts*, not when the blob is committed (Event Grid blob-storage schema docs).
COMMITTED_WRITE_APIS: tuple[str, ...] = ("FlushWithClose", "PutBlockList", "PutBlob")

_CONTAINER_NAME = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class SettingsError(ValueError):
    """One or more app settings are missing or invalid; `errors` holds one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid app settings for pipeline_trigger:\n" + "\n".join(self.errors))


def normalise_folder(folder: str) -> str:
    r"""Azure DevOps pipeline folder in the API's form: backslashes, leading `\`, no trailing `\`.

    `example`, `/example/`, `\example` all become `\example`; `` and `\` stay the root `\`.
    """
    parts = [p for p in re.split(r"[\\/]+", folder.strip()) if p]
    return "\\" + "\\".join(parts)


@dataclass(frozen=True)
class Settings:
    azdo_org_url: str  # https://dev.azure.com/<org>, no trailing slash
    azdo_project: str
    training_pipeline_name: str
    release_pipeline_name: str
    pipeline_folder: str  # normalised, e.g. "\\example"
    azure_client_id: str
    idempotency_account_url: str  # https://<account>.blob.core.windows.net
    idempotency_container: str
    training_filesystem: str
    environment_name: str  # the kit environment this function serves (dev, staging, prod)
    training_path_prefix: str  # "" or "a/b/" (always ends with "/")
    marker_suffix: str
    http_timeout_seconds: float
    max_attempts: int
    retry_base_seconds: float
    retry_max_delay_seconds: float
    retry_after_cap_seconds: float
    retry_budget_seconds: float
    claim_timeout_seconds: float
    claim_wait_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        errors: list[str] = []

        def raw(name: str) -> str:
            value = environ.get(name)
            if value is None:
                value = SETTING_DEFAULTS.get(name)
            return "" if value is None else value.strip()

        def required(name: str, fix: str) -> str:
            value = raw(name)
            if not value:
                errors.append(f"{name} is missing or empty: {fix}")
            return value

        def number(name: str, *, minimum: float, maximum: float, integer: bool = False) -> float:
            text = raw(name)
            try:
                value = int(text) if integer else float(text)
            except ValueError:
                kind = "an integer" if integer else "a number"
                errors.append(f"{name}={text!r} is not {kind}: set it to {kind} between {minimum:g} and "
                              f"{maximum:g} or remove it to use the default {SETTING_DEFAULTS[name]}")
                return float(SETTING_DEFAULTS[name])
            if not minimum <= value <= maximum:
                errors.append(f"{name}={text} is out of range: use a value between {minimum:g} and {maximum:g}")
            return value

        org_url = required("AZDO_ORG_URL", "set it to https://dev.azure.com/<organization>").rstrip("/")
        if org_url:
            parts = urlsplit(org_url)
            local = parts.hostname in _LOCAL_HOSTS
            if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
                errors.append(f"AZDO_ORG_URL={org_url!r} is not a URL: set it to https://dev.azure.com/<organization>")
            elif parts.scheme == "http" and not local:
                errors.append(f"AZDO_ORG_URL={org_url!r} uses http: use https://dev.azure.com/<organization> "
                              "(plain http is accepted only for 127.0.0.1/localhost test servers)")
            elif not parts.path.strip("/"):
                errors.append(f"AZDO_ORG_URL={org_url!r} has no organization: set it to "
                              "https://dev.azure.com/<organization>")

        project = required("AZDO_PROJECT", "set it to the Azure DevOps project name of the team")
        training = required("TRAINING_PIPELINE_NAME", "set it to the training pipeline's name in Azure DevOps")
        release = required("RELEASE_PIPELINE_NAME", "set it to the release pipeline's name in Azure DevOps")
        folder = required("PIPELINE_FOLDER", "set it to the pipelines' folder, e.g. \\example (use \\ for the root)")

        client_id = required("AZURE_CLIENT_ID", "set it to the client id of the function's user-assigned identity")
        if client_id:
            try:
                uuid.UUID(client_id)
            except ValueError:
                errors.append(f"AZURE_CLIENT_ID={client_id!r} is not a GUID: set it to the client id (not the "
                              "principal id or resource id) of the function's user-assigned identity")

        account_url = required("IDEMPOTENCY_ACCOUNT_URL",
                               "set it to the blob endpoint of the function's storage account").rstrip("/")
        if account_url:
            parts = urlsplit(account_url)
            if parts.scheme != "https" or not parts.hostname:
                errors.append(f"IDEMPOTENCY_ACCOUNT_URL={account_url!r} is not an https URL: set it to "
                              "https://<account>.blob.core.windows.net")

        container = required("IDEMPOTENCY_CONTAINER", "set it to the container that holds event claims")
        if container and not _CONTAINER_NAME.match(container):
            errors.append(f"IDEMPOTENCY_CONTAINER={container!r} is not a valid container name: use 3-63 "
                          "lowercase letters, digits and single hyphens")

        filesystem = required("TRAINING_FILESYSTEM", "set it to the data-lake filesystem that receives training data")
        if filesystem and not _CONTAINER_NAME.match(filesystem):
            errors.append(f"TRAINING_FILESYSTEM={filesystem!r} is not a valid filesystem name: use 3-63 "
                          "lowercase letters, digits and single hyphens")

        environment = required("ENVIRONMENT_NAME", "set it to the environment this function serves, e.g. dev")
        if environment and not re.fullmatch(r"[a-z][a-z0-9-]{0,31}", environment):
            errors.append(f"ENVIRONMENT_NAME={environment!r} is not an environment name: use lowercase letters, "
                          "digits and hyphens, e.g. dev")

        prefix = raw("TRAINING_PATH_PREFIX").strip("/")
        prefix = prefix + "/" if prefix else ""
        marker = raw("MARKER_SUFFIX")
        if not marker:
            errors.append("MARKER_SUFFIX is empty: remove it to use the default _SUCCESS or set the marker file name")

        timeout = number("HTTP_TIMEOUT_SECONDS", minimum=0.05, maximum=120)
        attempts = int(number("MAX_ATTEMPTS", minimum=1, maximum=20, integer=True))
        base = number("RETRY_BASE_SECONDS", minimum=0, maximum=60)
        max_delay = number("RETRY_MAX_DELAY_SECONDS", minimum=0, maximum=300)
        after_cap = number("RETRY_AFTER_CAP_SECONDS", minimum=0, maximum=300)
        budget = number("RETRY_BUDGET_SECONDS", minimum=1, maximum=3600)
        claim_timeout = number("CLAIM_TIMEOUT_SECONDS", minimum=1, maximum=86400)
        claim_wait = number("CLAIM_WAIT_SECONDS", minimum=0, maximum=300)
        # A claim must outlive the longest legitimate invocation, or a slow but healthy invocation
        # could be taken over and the event run twice (one pipeline listing + one run request +
        # slack beyond the retry budget).
        needed = budget + 3 * timeout
        if not errors and claim_timeout < needed:
            errors.append(f"CLAIM_TIMEOUT_SECONDS={claim_timeout:g} is too short: it must be at least "
                          f"RETRY_BUDGET_SECONDS + 3 x HTTP_TIMEOUT_SECONDS = {needed:g}")

        if errors:
            raise SettingsError(errors)
        return cls(
            azdo_org_url=org_url,
            azdo_project=project,
            training_pipeline_name=training,
            release_pipeline_name=release,
            pipeline_folder=normalise_folder(folder),
            azure_client_id=client_id,
            idempotency_account_url=account_url,
            idempotency_container=container,
            training_filesystem=filesystem,
            environment_name=environment,
            training_path_prefix=prefix,
            marker_suffix=marker,
            http_timeout_seconds=timeout,
            max_attempts=attempts,
            retry_base_seconds=base,
            retry_max_delay_seconds=max_delay,
            retry_after_cap_seconds=after_cap,
            retry_budget_seconds=budget,
            claim_timeout_seconds=claim_timeout,
            claim_wait_seconds=claim_wait,
        )
