"""App settings of the pipeline-trigger function, validated once at start.

`Settings.from_env(os.environ)` either returns a frozen, normalised `Settings` or raises
`SettingsError` whose `errors` are one line each: the setting's name, what is wrong, and the fix.

Which settings exist (`REQUIRED_SETTINGS`, `SETTING_DEFAULTS`) is the function's contract with its
deployment, kept in contract.py; the infrastructure code (infra/triggers.py) writes them through
`contract.DeployedSettings`. The queue binding's own settings (`EVENT_QUEUE_NAME`, `EventQueue__*`,
read by the Functions host for ``@app.queue_trigger(queue_name="%EVENT_QUEUE_NAME%",
connection="EventQueue")``) are required here too, so a missing one is reported in the same
one-line form.

`parse_org_url` accepts the two Azure DevOps organization URL forms, ``https://dev.azure.com/<org>``
and ``https://<org>.visualstudio.com`` (stdlib only).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

# The names the deployment must set live in contract.py (the kit imports them from there); they
# are re-exported here for the function's own code and tests.
from .contract import (  # noqa: F401
    COMMITTED_WRITE_APIS,
    EVENT_QUEUE_CONNECTION,
    EVENT_QUEUE_SETTING,
    LOCAL_HOSTS,
    MANAGED_IDENTITY,
    OPTIONAL_SETTINGS,
    ORG_URL_FIX,
    POISON_QUEUE_SUFFIX,
    REQUIRED_SETTINGS,
    SETTING_DEFAULTS,
    parse_org_url,
)

DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"

_CONTAINER_NAME = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_QUEUE_NAME = _CONTAINER_NAME  # Azure queue names follow the container rules (3-63, lowercase, single hyphens)
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


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
    model_name: str  # ModelRegistered events for other models are ignored
    event_queue_name: str
    event_queue_service_uri: str  # https://<account>.queue.core.windows.net
    max_dequeue_count: int
    run_settle_seconds: float
    run_lookup_skew_seconds: float
    run_lookup_max_runs: int

    @property
    def poison_queue_name(self) -> str:
        """Where the Functions host moves a message after maxDequeueCount failures."""
        return f"{self.event_queue_name}{POISON_QUEUE_SUFFIX}"

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

        org_url = required("AZDO_ORG_URL", ORG_URL_FIX.replace("use", "set it to", 1))
        if org_url:
            normalised, problem = parse_org_url(org_url)
            if problem:
                errors.append(f"AZDO_ORG_URL={org_url[:80]!r} {problem}: {ORG_URL_FIX}")
            org_url = normalised or org_url

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

        model = required("MODEL_NAME", "set it to the team's model name in the Azure ML registry, e.g. <team>-model")
        if model and not _MODEL_NAME.fullmatch(model):
            errors.append(f"MODEL_NAME={model[:80]!r} is not a model name: use letters, digits, '.', '_' and '-'")

        queue = required("EVENT_QUEUE_NAME", "set it to the Storage queue Event Grid delivers to, e.g. pipeline-events")
        if queue and (not _QUEUE_NAME.match(queue) or len(queue) > 63 - len(POISON_QUEUE_SUFFIX)):
            errors.append(f"EVENT_QUEUE_NAME={queue[:80]!r} is not a valid queue name: use 3-56 lowercase letters, "
                          "digits and single hyphens (the host adds -poison)")
        queue_uri = required("EventQueue__queueServiceUri",
                             "set it to the queue endpoint of the function's storage account").rstrip("/")
        if queue_uri:
            parts = urlsplit(queue_uri)
            local = parts.hostname in LOCAL_HOSTS
            if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local) \
                    or parts.query or parts.fragment or "@" in parts.netloc:
                errors.append(f"EventQueue__queueServiceUri={queue_uri[:80]!r} is not an https URL: set it to "
                              "https://<account>.queue.core.windows.net")
        credential_kind = required("EventQueue__credential", "set it to managedidentity")
        if credential_kind and credential_kind.lower() != MANAGED_IDENTITY:
            errors.append(f"EventQueue__credential={credential_kind[:80]!r} is not supported: set it to managedidentity "
                          "(no connection strings or keys)")
        queue_client_id = required("EventQueue__clientId",
                                   "set it to the client id of the function's user-assigned identity")
        if queue_client_id:
            try:
                uuid.UUID(queue_client_id)
            except ValueError:
                errors.append(f"EventQueue__clientId={queue_client_id[:80]!r} is not a GUID: set it to the client id "
                              "of the function's user-assigned identity")

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
        dequeues = int(number("MAX_DEQUEUE_COUNT", minimum=1, maximum=100, integer=True))
        settle = number("RUN_SETTLE_SECONDS", minimum=0, maximum=3600)
        skew = number("RUN_LOOKUP_SKEW_SECONDS", minimum=0, maximum=3600)
        lookup_runs = int(number("RUN_LOOKUP_MAX_RUNS", minimum=1, maximum=1000, integer=True))
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
            model_name=model,
            event_queue_name=queue,
            event_queue_service_uri=queue_uri,
            max_dequeue_count=dequeues,
            run_settle_seconds=settle,
            run_lookup_skew_seconds=skew,
            run_lookup_max_runs=lookup_runs,
        )
