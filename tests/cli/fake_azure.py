"""A real HTTP server on 127.0.0.1 that answers like Azure Resource Manager and Azure DevOps.

Only the calls `mlops-kit preflight` makes are implemented, with the response shapes of the real
APIs. Each test configures what is true (subscriptions and their state, registered providers, per
subscription if need be, the state storage, the organization, the create-projects permission) and what breaks (a status code
for every path under a prefix, a slow answer). Every request is recorded for assertions.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from scripts.preflight import COLLECTION_NAMESPACE, PROVIDERS

TENANT = "00000000-0000-0000-0000-000000000000"  # teams/platform.yaml's tenant_id
ORG = "contoso-ml"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str


@dataclass
class AzureState:
    """What the fake Azure knows. Defaults: everything the fixture org (tests/fixtures/org) needs is in order."""

    subscriptions: dict[str, str] = field(default_factory=dict)  # id -> state ("Enabled", "Disabled", ...)
    tenant: str = TENANT
    providers: dict[str, str] = field(default_factory=lambda: dict.fromkeys(PROVIDERS, "Registered"))
    # Per subscription: namespace -> state, over `providers` (a namespace set to None is not listed at all).
    subscription_providers: dict[str, dict[str, str | None]] = field(default_factory=dict)
    storage_accounts: set[str] = field(default_factory=set)  # "<rg>/<account>"
    containers: set[str] = field(default_factory=set)  # "<account>/<container>"
    can_create_projects: bool = True
    # Failure injection: the first prefix that matches a path decides.
    status: dict[str, int] = field(default_factory=dict)  # path prefix -> HTTP status
    delay: dict[str, float] = field(default_factory=dict)  # path prefix -> seconds before answering
    raw: dict[str, tuple[int, str]] = field(default_factory=dict)  # path prefix -> (status, non-JSON body)
    requests: list[Request] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    def _send_text(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        state = self.server.state
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        state.requests.append(Request("GET", url.path, query, self.headers.get("Authorization", "")))
        for prefix, seconds in state.delay.items():
            if url.path.startswith(prefix):
                time.sleep(seconds)
                break
        for prefix, (status, text) in state.raw.items():
            if url.path.startswith(prefix):
                return self._send_text(status, text)
        for prefix, status in state.status.items():
            if url.path.startswith(prefix):
                return self._send(status, {"error": {"code": _CODES.get(status, "Error"), "message": "injected"}})
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            return self._send(401, {"error": {"code": "AuthenticationFailed", "message": "no token"}})
        parts = [p for p in url.path.split("/") if p]
        if parts[:1] == ["subscriptions"]:
            return self._arm(parts, query)
        if parts[:1] == [ORG]:
            return self._devops(parts[1:], query)
        return self._send(404, {"message": "no such path"})

    # ------------------------------------------------------------ Azure Resource Manager
    def _arm(self, parts: list[str], query: dict[str, list[str]]) -> None:
        state = self.server.state
        sub = parts[1] if len(parts) > 1 else ""
        if sub not in state.subscriptions:
            return self._send(404, {"error": {"code": "SubscriptionNotFound",
                                              "message": f"The subscription '{sub}' could not be found."}})
        rest = parts[2:]
        if not rest:
            if bad := _version(query, "2022-12-01"):
                return self._send(400, bad)
            return self._send(200, {"id": f"/subscriptions/{sub}", "subscriptionId": sub, "tenantId": state.tenant,
                                    "displayName": f"sub {sub[-4:]}", "state": state.subscriptions[sub]})
        if rest == ["providers"]:
            if bad := _version(query, "2021-04-01"):
                return self._send(400, bad)
            listed = {**state.providers, **state.subscription_providers.get(sub, {})}
            return self._send(200, {"value": [
                {"id": f"/subscriptions/{sub}/providers/{ns}", "namespace": ns, "registrationState": st}
                for ns, st in listed.items() if st is not None
            ]})
        # resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<a>[/blobServices/default/containers/<c>]
        if len(rest) >= 6 and rest[0] == "resourceGroups" and rest[2:5] == ["providers", "Microsoft.Storage",
                                                                              "storageAccounts"]:
            if bad := _version(query, "2023-05-01"):
                return self._send(400, bad)
            rg, account = rest[1], rest[5]
            if f"{rg}/{account}" not in state.storage_accounts:
                return self._send(404, {"error": {"code": "ResourceNotFound", "message": "not found"}})
            if len(rest) == 6:
                return self._send(200, {"name": account, "kind": "StorageV2"})
            if rest[6:9] == ["blobServices", "default", "containers"] and len(rest) == 10:
                if f"{account}/{rest[9]}" in state.containers:
                    return self._send(200, {"name": rest[9]})
                return self._send(404, {"error": {"code": "ContainerNotFound", "message": "not found"}})
        return self._send(404, {"error": {"code": "NotFound", "message": "unknown path"}})

    # ------------------------------------------------------------ Azure DevOps
    def _devops(self, parts: list[str], query: dict[str, list[str]]) -> None:
        state = self.server.state
        if parts == ["_apis", "projects"]:
            if bad := _version(query, "7.1"):
                return self._send(400, bad)
            return self._send(200, {"count": 1, "value": [{"id": "p1", "name": "platform"}]})
        if parts == ["_apis", "permissions", COLLECTION_NAMESPACE, "4"]:
            if bad := _version(query, "7.1-preview.2") or (query.get("tokens") != ["NAMESPACE"] and {"message": "bad token"}):
                return self._send(400, bad)
            return self._send(200, {"count": 1, "value": [state.can_create_projects]})
        return self._send(404, {"message": "unknown path"})


def _version(query: dict[str, list[str]], want: str) -> dict | None:
    """An error body when the request's api-version is not the one the kit must send."""
    got = query.get("api-version")
    return None if got == [want] else {"error": {"code": "InvalidApiVersion", "message": f"want {want}, got {got}"}}


_CODES = {401: "AuthenticationFailed", 403: "AuthorizationFailed", 404: "NotFound", 500: "InternalServerError"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    state: AzureState

    def handle_error(self, request, client_address) -> None:  # a client that gave up is not an error here
        pass


class FakeAzure:
    """`with FakeAzure(state) as fake:` serves on 127.0.0.1:<free port> until the block ends."""

    def __init__(self, state: AzureState):
        self.state = state
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = state
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def arm_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def devops_url(self) -> str:
        return f"{self.arm_url}/{ORG}"

    def __enter__(self) -> FakeAzure:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{ORG}"
