"""Event Grid events -> which pipeline to run with which template parameters.

Pure functions: no I/O, no Azure SDK. `parse_event` checks the envelope; `plan_run` maps it to a
`RunRequest` or an `Ignore` (a valid event that needs no run) and raises `MalformedEvent` for
events that cannot be understood.

Training `dataPath` form (documented in README.md): the folder that contains the marker, as
``abfss://<filesystem>@<account>.dfs.<endpoint suffix>/<folder>`` - e.g. a marker at
``raw/sales/2024-06-01/_SUCCESS`` gives ``abfss://raw@lake.dfs.core.windows.net/sales/2024-06-01``
when the filesystem is ``raw``. A marker at the filesystem root gives ``.../`` (the whole
filesystem). The account comes from the event's `topic` (the storage account's resource id), the
endpoint suffix from `data.url` (so sovereign clouds work), `core.windows.net` otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .contract import BLOB_CREATED, COMMITTED_WRITE_APIS, MODEL_REGISTERED
from .settings import Settings

# Families we subscribe to; other types in them are valid events we do not act on.
_KNOWN_PREFIXES = ("Microsoft.Storage.", "Microsoft.MachineLearningServices.", "Microsoft.EventGrid.")

_BLOB_SUBJECT = re.compile(r"^/blobServices/default/containers/(?P<fs>[^/]+)/blobs/(?P<path>.+)$")
_MODEL_SUBJECT = re.compile(r"^models/(?P<name>[^:]+):(?P<version>[^:]+)$")
_ACCOUNT_IN_TOPIC = re.compile(r"/providers/Microsoft\.Storage/storageAccounts/(?P<acct>[a-z0-9]{3,24})$",
                               re.IGNORECASE)
_ENDPOINT_HOST = re.compile(r"^(?P<acct>[a-z0-9]{3,24})\.(?:blob|dfs)\.(?P<suffix>.+)$", re.IGNORECASE)


class MalformedEvent(ValueError):
    """The event cannot be acted on and never will be: log it and acknowledge it."""


@dataclass(frozen=True)
class EventEnvelope:
    id: str
    event_type: str
    subject: str
    data: Mapping[str, Any]
    topic: str | None = None
    event_time: str | None = None


@dataclass(frozen=True)
class RunRequest:
    kind: str  # "training" | "release"
    pipeline_name: str
    template_parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ignore:
    reason: str


def decode_queue_body(body: bytes | str) -> object:
    """The JSON value of one Storage-queue message, whether Event Grid wrote it base64-encoded or raw.

    Event Grid's storage-queue destination writes one event per message. The quickstart's note
    says plain text; MicrosoftDocs/azure-docs#102923 reports base64 since 2022. host.json sets
    ``messageEncoding: none`` so the host hands over the stored text unchanged, and this accepts
    both: text starting with ``{``/``[`` is JSON, anything else must be base64 of JSON.
    """
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEvent(f"queue message is not UTF-8: {exc}") from None
    text = body.strip()
    if not text:
        raise MalformedEvent("queue message is empty")
    if text[0] not in "{[":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8").strip()
        except (binascii.Error, ValueError):
            raise MalformedEvent(f"queue message is neither JSON nor base64-encoded JSON (starts {text[:20]!r})") \
                from None
        if not text.startswith(("{", "[")):
            raise MalformedEvent("queue message is base64 but does not decode to a JSON object")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise MalformedEvent(f"queue message is not JSON: {exc}") from None
    if isinstance(value, list) and len(value) == 1:  # a one-event batch (replays may write this form)
        value = value[0]
    return value


def parse_event(raw: object) -> EventEnvelope:
    """Validate one Event Grid schema event (a dict, or its JSON text)."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEvent(f"event body is not UTF-8: {exc}") from None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise MalformedEvent(f"event body is not JSON: {exc}") from None
    if isinstance(raw, list):
        raise MalformedEvent("expected one event object, got a JSON array (split batches before handling)")
    if not isinstance(raw, Mapping):
        raise MalformedEvent(f"expected a JSON object, got {type(raw).__name__}")

    def text(key: str, *, allow_empty: bool = False) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise MalformedEvent(f"event field {key!r} is missing or not a non-empty string")
        return value

    event_id = text("id")
    event_type = text("eventType")
    subject = text("subject", allow_empty=True)
    data = raw.get("data")
    if not isinstance(data, Mapping):
        raise MalformedEvent("event field 'data' is missing or not an object")
    topic = raw.get("topic")
    event_time = raw.get("eventTime")
    return EventEnvelope(
        id=event_id.strip(),
        event_type=event_type.strip(),
        subject=subject,
        data=data,
        topic=topic if isinstance(topic, str) else None,
        event_time=event_time if isinstance(event_time, str) else None,
    )


def plan_run(event: EventEnvelope, settings: Settings) -> RunRequest | Ignore:
    """Decide what `event` asks for. Raises MalformedEvent for events that make no sense."""
    if event.event_type == BLOB_CREATED:
        return _plan_training(event, settings)
    if event.event_type == MODEL_REGISTERED:
        return _plan_release(event, settings)
    if event.event_type.startswith(_KNOWN_PREFIXES):
        return Ignore(f"event type {event.event_type} does not start a pipeline")
    raise MalformedEvent(f"unknown event type {event.event_type!r}")


def _plan_training(event: EventEnvelope, settings: Settings) -> RunRequest | Ignore:
    match = _BLOB_SUBJECT.match(event.subject)
    if not match:
        raise MalformedEvent(f"BlobCreated subject {event.subject!r} is not "
                             "/blobServices/default/containers/<filesystem>/blobs/<path>")
    filesystem, path = match.group("fs"), match.group("path")
    api = event.data.get("api")
    if not isinstance(api, str) or not api:
        raise MalformedEvent("BlobCreated event has no data.api")
    if api not in COMMITTED_WRITE_APIS:
        return Ignore(f"data.api {api} is not a committed write ({', '.join(COMMITTED_WRITE_APIS)})")
    if filesystem != settings.training_filesystem:
        return Ignore(f"filesystem {filesystem} is not the training filesystem {settings.training_filesystem}")
    if not path.startswith(settings.training_path_prefix):
        return Ignore(f"path {path} is outside the prefix {settings.training_path_prefix!r}")
    if not path.endswith(settings.marker_suffix):
        return Ignore(f"path {path} is not a marker (*{settings.marker_suffix})")
    folder = path.rpartition("/")[0]
    account, suffix = _account_and_suffix(event)
    data_path = f"abfss://{filesystem}@{account}.dfs.{suffix}/{folder}"
    return RunRequest(
        kind="training",
        pipeline_name=settings.training_pipeline_name,
        template_parameters={"dataPath": data_path, "eventId": event.id, "environment": settings.environment_name},
    )


def _account_and_suffix(event: EventEnvelope) -> tuple[str, str]:
    account = suffix = None
    url = event.data.get("url")
    if isinstance(url, str):
        host = urlsplit(url).hostname or ""
        host_match = _ENDPOINT_HOST.match(host)
        if host_match:
            account, suffix = host_match.group("acct").lower(), host_match.group("suffix").lower()
    topic_match = _ACCOUNT_IN_TOPIC.search(event.topic or "")
    if topic_match:
        account = topic_match.group("acct").lower()
    if not account:
        raise MalformedEvent("BlobCreated event names no storage account (neither topic nor data.url)")
    return account, suffix or "core.windows.net"


def _plan_release(event: EventEnvelope, settings: Settings) -> RunRequest | Ignore:
    data = {str(k).lower(): v for k, v in event.data.items()}
    subject = _MODEL_SUBJECT.match(event.subject)
    name = data.get("modelname")
    version = data.get("modelversion")
    if name is None and subject:
        name = subject.group("name")
    if version is None and subject:
        version = subject.group("version")
    if not isinstance(name, str) or not name.strip():
        raise MalformedEvent("ModelRegistered event has no model name (data.ModelName/modelName or subject)")
    version_text = _version_text(version)
    if name.strip() != settings.model_name:
        # Any model registered in the workspace emits this event; only the team's model is released.
        return Ignore(f"model {name.strip()[:80]!r} is not the team's model {settings.model_name!r}")
    return RunRequest(
        kind="release",
        pipeline_name=settings.release_pipeline_name,
        template_parameters={
            "modelName": name.strip(),
            "modelVersion": version_text,
            "eventId": event.id,
            "environment": settings.environment_name,  # the workspace that registered the model
        },
    )


def _version_text(version: object) -> str:
    # bool is an int subclass: True must not become "True" or "1".
    if isinstance(version, bool):
        raise MalformedEvent(f"model version {version!r} is not a version")
    if isinstance(version, int) and version >= 0:
        return str(version)
    if isinstance(version, float) and version.is_integer() and version >= 0:
        return str(int(version))
    if isinstance(version, str) and version.strip():
        return version.strip()
    raise MalformedEvent(f"model version {version!r} is missing or not a number/string")
