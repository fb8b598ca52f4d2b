"""A real HTTP server that plays the part of Azure DevOps' Pipelines REST API (api-version 7.1).

It listens on 127.0.0.1 (a free port), serves

- ``GET  /{org}/{project}/_apis/pipelines``                 (paged with ``x-ms-continuationtoken``)
- ``POST /{org}/{project}/_apis/pipelines/{id}/runs``        (creates a run, returns ``{"id": ...}``)
- ``GET  /{org}/{project}/_apis/pipelines/{id}/runs[/{run}]`` (lists or gets recorded runs; the
  listing carries ``createdDate`` but, like the real service as far as we can tell, no
  ``templateParameters`` unless ``list_parameters=True``; Get Run carries them)

records every request, and injects faults on demand. Typical use::

    with FakeDevOpsServer() as ado:
        training = ado.add_pipeline("example-training", folder="\\\\example")
        ado.fail(429, route=RUN_PIPELINE, retry_after="7")   # next run request gets a 429
        ...client under test uses ado.org_url and ado.project...
        assert [r.template_parameters for r in ado.runs] == [...]

or the ``fake_devops_server`` fixture below (``from tests.fakes.devops_server import
fake_devops_server`` in a conftest.py).

Faults are queued and consumed in the order they were added; each applies to the next
``times`` requests that match its route (None = any route): ``fail`` answers with a status (and
an optional Retry-After), ``slow`` waits before serving normally (the request is still processed,
as a real server would after the client gave up), ``drop`` closes the connection without an
answer and without processing. ``fail(..., process=True)`` processes the request first (a run is
created) and then answers with the status; ``fail(200/203, html=...)`` answers with an HTML page
(an interstitial or a sign-in page). ``random_faults`` injects faults by probability instead of
in order (seeded, for the fault matrix). ``refuse()``/``start()`` close and reopen the listening
socket on the same port (connection refused in between). ``accept_tokens`` makes the server
answer 401 to any other bearer token.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

LIST_PIPELINES = "list_pipelines"
RUN_PIPELINE = "run_pipeline"
LIST_RUNS = "list_runs"
GET_RUN = "get_run"
UNKNOWN = "unknown"

API_VERSION = "7.1"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it (``monotonic`` is ``time.monotonic()`` at arrival)."""

    method: str
    path: str
    route: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    monotonic: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class RecordedRun:
    run_id: int
    pipeline_id: int
    template_parameters: dict[str, Any]
    body: Any
    created: float = 0.0  # time.time() when the run was created


@dataclass
class _Fault:
    kind: str  # "status" | "slow" | "drop"
    route: str | None
    remaining: int
    status: int = 500
    retry_after: str | None = None
    message: str | None = None
    seconds: float = 0.0
    process: bool = False  # status faults: create the run first, then answer with the status
    html: str | None = None  # status faults: answer with this HTML body instead of JSON


@dataclass
class _Pipeline:
    id: int
    name: str
    folder: str
    runs: list[RecordedRun] = field(default_factory=list)


class FakeDevOpsServer:
    """Fake Azure DevOps organization ``organization`` with one project ``project``."""

    def __init__(self, *, organization: str = "example-org", project: str = "example project",
                 page_size: int = 100, accept_tokens: Iterable[str] | None = None,
                 list_parameters: bool = False) -> None:
        self.organization = organization
        self.list_parameters = list_parameters
        self._random: list[tuple[str | None, float, _Fault]] = []
        self.injected: Counter[str] = Counter()  # faults served, by kind ("status 503", "slow", "drop")
        self._rng = random.Random(0)
        self.project = project
        self.page_size = page_size
        self.accept_tokens = set(accept_tokens) if accept_tokens is not None else None
        self._lock = threading.Lock()
        self._pipelines: dict[int, _Pipeline] = {}
        self._faults: deque[_Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._runs: list[RecordedRun] = []
        self._next_pipeline_id = 1
        self._next_run_id = 1000
        self._httpd: ThreadingHTTPServer | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> FakeDevOpsServer:
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _QuietServer(("127.0.0.1", self._port or 0), handler)
        self._httpd.daemon_threads = True
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-devops", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def refuse(self) -> None:
        """Stop listening (clients get "connection refused") until `start()` reopens the same port."""
        self.stop()

    def __enter__(self) -> FakeDevOpsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def org_url(self) -> str:
        """What AZDO_ORG_URL should be set to, e.g. ``http://127.0.0.1:PORT/example-org``."""
        return f"http://127.0.0.1:{self.port}/{self.organization}"

    # ----------------------------------------------------------------------------- setup
    def add_pipeline(self, name: str, folder: str = "\\", *, pipeline_id: int | None = None) -> int:
        """Create a pipeline; returns its id."""
        with self._lock:
            pid = pipeline_id if pipeline_id is not None else self._next_pipeline_id
            self._next_pipeline_id = max(self._next_pipeline_id, pid) + 1
            self._pipelines[pid] = _Pipeline(pid, name, folder)
            return pid

    def find_pipeline(self, name: str, folder: str = "\\") -> int | None:
        """Id of the pipeline called `name` in `folder` (exact match), or None."""
        with self._lock:
            return next((p.id for p in self._pipelines.values() if p.name == name and p.folder == folder), None)

    def remove_pipeline(self, pipeline_id: int) -> None:
        with self._lock:
            self._pipelines.pop(pipeline_id, None)

    def fail(self, status: int, *, route: str | None = None, times: int = 1, retry_after: str | None = None,
             message: str | None = None, process: bool = False, html: str | None = None) -> None:
        """Answer the next `times` matching requests with `status` (and a Retry-After header if given);
        `process`: create the run first; `html`: send this HTML page instead of a JSON error."""
        self._add_fault(_Fault("status", route, times, status=status, retry_after=retry_after, message=message,
                               process=process, html=html))

    def random_faults(self, faults: Iterable[tuple[str | None, float, dict[str, Any]]], *, seed: int = 0) -> None:
        """Inject faults by probability: (route, probability, spec) with spec like
        {"kind": "status", "status": 503} / {"kind": "slow", "seconds": 2} / {"kind": "drop"}. Each
        request draws once; probabilities of one route add up (at most 1)."""
        with self._lock:
            self._rng = random.Random(seed)
            self._random = [(route, p, _Fault(remaining=1 << 60, route=route, **spec)) for route, p, spec in faults]

    def slow(self, seconds: float, *, route: str | None = None, times: int = 1) -> None:
        """Wait `seconds` before serving the next `times` matching requests (then serve them normally)."""
        self._add_fault(_Fault("slow", route, times, seconds=seconds))

    def drop(self, *, route: str | None = None, times: int = 1) -> None:
        """Close the connection of the next `times` matching requests without answering or processing."""
        self._add_fault(_Fault("drop", route, times))

    def _add_fault(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(fault)

    # ----------------------------------------------------------------------------- inspection
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    @property
    def runs(self) -> list[RecordedRun]:
        with self._lock:
            return list(self._runs)

    def runs_for(self, pipeline_id: int) -> list[RecordedRun]:
        return [r for r in self.runs if r.pipeline_id == pipeline_id]

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    # ----------------------------------------------------------------------------- internals
    def _take_fault(self, route: str) -> _Fault | None:
        with self._lock:
            if self._random:
                draw = self._rng.random()
                for fault_route, probability, fault in self._random:
                    if fault_route is not None and fault_route != route:
                        continue
                    if draw < probability:
                        self.injected[_fault_name(fault)] += 1
                        return fault
                    draw -= probability
            for fault in self._faults:
                if fault.route is None or fault.route == route:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    self.injected[_fault_name(fault)] += 1
                    return fault
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _list_page(self, start: int) -> tuple[list[dict[str, Any]], str | None]:
        with self._lock:
            ordered = sorted(self._pipelines.values(), key=lambda p: p.name.lower())
            page = ordered[start:start + self.page_size]
            more = start + self.page_size < len(ordered)
        items = [{"id": p.id, "name": p.name, "folder": p.folder, "revision": 1,
                  "url": f"{self.org_url}/{self.project}/_apis/pipelines/{p.id}?revision=1"} for p in page]
        return items, (str(start + self.page_size) if more else None)

    def _create_run(self, pipeline_id: int, body: Any) -> dict[str, Any] | None:
        with self._lock:
            pipeline = self._pipelines.get(pipeline_id)
            if pipeline is None:
                return None
            run_id = self._next_run_id
            self._next_run_id += 1
            params = body.get("templateParameters", {}) if isinstance(body, dict) else {}
            run = RecordedRun(run_id, pipeline_id, dict(params), body, time.time())
            pipeline.runs.append(run)
            self._runs.append(run)
            return self._run_json(pipeline, run)

    def _run_json(self, pipeline: _Pipeline, run: RecordedRun, *, parameters: bool = True) -> dict[str, Any]:
        created = datetime.datetime.fromtimestamp(run.created, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        extra = {"templateParameters": run.template_parameters} if parameters else {}
        return {"id": run.run_id, "name": f"run-{run.run_id}", "state": "inProgress", "createdDate": created,
                **extra,
                "pipeline": {"id": pipeline.id, "name": pipeline.name, "folder": pipeline.folder, "revision": 1},
                "url": f"{self.org_url}/{self.project}/_apis/pipelines/{pipeline.id}/runs/{run.run_id}"}


def _fault_name(fault: _Fault) -> str:
    if fault.kind != "status":
        return fault.kind
    return f"{fault.status}{' html' if fault.html else ''}{' processed' if fault.process else ''}"


@pytest.fixture()
def fake_devops_server() -> Iterator[FakeDevOpsServer]:
    """A started FakeDevOpsServer with no pipelines; import it into a conftest.py to use it."""
    with FakeDevOpsServer() as server:
        yield server


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (reset, timeout) is part of the scenarios, not a server error


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDevOpsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr access log
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = raw_body.decode("utf-8", "replace")
        route, pipeline_id, run_id = self._route(path)
        fake._record(RecordedRequest(self.command, path, route, query, dict(self.headers.items()), body,
                                     time.monotonic()))

        fault = fake._take_fault(route)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            if fault.process and route == RUN_PIPELINE and isinstance(body, dict):
                fake._create_run(pipeline_id, body)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            if fault.html is not None:
                return self._reply(fault.status, fault.html, headers, content_type="text/html; charset=utf-8")
            message = fault.message or f"injected HTTP {fault.status}"
            return self._reply(fault.status, {"message": message, "typeKey": "InjectedFault"}, headers)

        if fake.accept_tokens is not None:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[len("Bearer "):] not in fake.accept_tokens:
                return self._reply(401, {"message": "TF400813: The user is not authorized to access this resource."})
        if query.get("api-version") != [API_VERSION]:
            return self._reply(400, {"message": f"api-version must be {API_VERSION}"})

        if route == LIST_PIPELINES and self.command == "GET":
            token = (query.get("continuationToken") or ["0"])[0]
            start = int(token) if token.isdigit() else 0
            items, next_token = fake._list_page(start)
            headers = {"x-ms-continuationtoken": next_token} if next_token else {}
            return self._reply(200, {"count": len(items), "value": items}, headers)
        if route == RUN_PIPELINE and self.command == "POST":
            if not isinstance(body, dict):
                return self._reply(400, {"message": "request body must be a JSON object"})
            run = fake._create_run(pipeline_id, body)
            if run is None:
                return self._reply(404, {"message": f"pipeline {pipeline_id} not found"})
            return self._reply(200, run)
        if route in (LIST_RUNS, GET_RUN) and self.command == "GET":
            with fake._lock:
                pipeline = fake._pipelines.get(pipeline_id)
                runs = list(pipeline.runs) if pipeline else []
            if pipeline is None:
                return self._reply(404, {"message": f"pipeline {pipeline_id} not found"})
            if route == LIST_RUNS:
                items = [fake._run_json(pipeline, r, parameters=fake.list_parameters) for r in reversed(runs)]
                return self._reply(200, {"count": len(items), "value": items})
            match = next((r for r in runs if r.run_id == run_id), None)
            if match is None:
                return self._reply(404, {"message": f"run {run_id} not found"})
            return self._reply(200, fake._run_json(pipeline, match))
        return self._reply(404, {"message": f"no route for {self.command} {path}"})

    def _route(self, path: str) -> tuple[str, int, int]:
        segments = path.strip("/").split("/")
        fake = self.fake
        if len(segments) < 4 or segments[0] != fake.organization or segments[1] != fake.project \
                or segments[2:4] != ["_apis", "pipelines"]:
            return UNKNOWN, 0, 0
        rest = segments[4:]
        if not rest:
            return LIST_PIPELINES, 0, 0
        if not rest[0].isdigit():
            return UNKNOWN, 0, 0
        if rest[1:] == ["runs"]:
            return (RUN_PIPELINE if self.command == "POST" else LIST_RUNS), int(rest[0]), 0
        if len(rest) == 3 and rest[1] == "runs" and rest[2].isdigit():
            return GET_RUN, int(rest[0]), int(rest[2])
        return UNKNOWN, 0, 0

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None, *,
               content_type: str = "application/json; charset=utf-8") -> None:
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. after a timeout while we were slow)
