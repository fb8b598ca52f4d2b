"""Fixtures for the pipeline_trigger function tests.

- `devops_server`: the fake Azure DevOps server (tests/fakes/devops_server.py) with the example
  team's training and release pipelines.
- `azurite`: Microsoft's storage emulator, started once per session over HTTPS (self-signed cert)
  with `--oauth basic`, so the idempotency ledger talks to a real Blob endpoint with bearer tokens.
  Found at $AZURITE_BIN or <repo>/node_modules/.bin/azurite(-blob); tests that need it are SKIPPED
  with the reason when it is absent (install it with `npm install`, devDependency azurite).
- `FakeCredential`: the one allowed fake - an object with `get_token` that returns a JWT-shaped
  storage token Azurite accepts and scripted Azure DevOps tokens, recording the scopes asked for.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FUNCTION_DIR = REPO / "functions" / "pipeline_trigger"
if str(FUNCTION_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTION_DIR))

from azure.core.credentials import AccessToken  # noqa: E402
from trigger_core.settings import DEVOPS_SCOPE, Settings  # noqa: E402

from tests.fakes.devops_server import FakeDevOpsServer, fake_devops_server  # noqa: E402, F401 (fixture)

TRAINING = "example-training"
RELEASE = "example-release"
FOLDER = "\\example"
CLIENT_ID = "0b6f6c1e-4a4e-4c2a-9d1b-3f2f8a7c9e10"
LAKE = "examplelake"
MODEL = "example-model"  # MODEL_NAME: the only model whose registration starts a release


# --------------------------------------------------------------------------------- credential
def _b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def storage_jwt(*, audience: str = "https://storage.azure.com", lifetime: int = 3600) -> str:
    """An unsigned JWT with the claims Azurite's `--oauth basic` checks (aud, iss, iat/nbf/exp)."""
    now = int(time.time())
    claims = {"aud": audience, "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
              "iat": now - 60, "nbf": now - 60, "exp": now + lifetime, "oid": str(uuid.uuid4())}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.x"


@dataclass
class FakeCredential:
    """`get_token` like azure-identity's: storage scopes get a JWT, the Azure DevOps scope gets the
    next of `devops_tokens` (the last one repeats). `fail_devops` makes the DevOps scope raise."""

    devops_tokens: list[str] = field(default_factory=lambda: ["ado-token-1"])
    devops_expires_in: float = 3600
    storage_audience: str = "https://storage.azure.com"
    fail_devops: Exception | None = None
    scopes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        with self._lock:
            self.scopes.extend(scopes)
            if DEVOPS_SCOPE in scopes:
                if self.fail_devops is not None:
                    raise self.fail_devops
                token = self.devops_tokens.pop(0) if len(self.devops_tokens) > 1 else self.devops_tokens[0]
                return AccessToken(token, int(time.time() + self.devops_expires_in))
        return AccessToken(storage_jwt(audience=self.storage_audience), int(time.time()) + 3600)

    @property
    def devops_calls(self) -> int:
        return self.scopes.count(DEVOPS_SCOPE)


# --------------------------------------------------------------------------------- sleeps & clocks
@dataclass
class SleepRecorder:
    """Injected in place of time.sleep: records requested delays, sleeps not at all."""

    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass
class FakeClock:
    """A monotonic clock that only moves when `sleep` is called (for time-budget tests)."""

    now: float = 1000.0
    delays: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds


# --------------------------------------------------------------------------------- settings & events
def base_env(**overrides: str) -> dict[str, str]:
    env = {
        "AZDO_ORG_URL": "https://dev.azure.com/example-org",
        "AZDO_PROJECT": "example project",
        "TRAINING_PIPELINE_NAME": TRAINING,
        "RELEASE_PIPELINE_NAME": RELEASE,
        "PIPELINE_FOLDER": FOLDER,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "IDEMPOTENCY_ACCOUNT_URL": "https://stfuncexample.blob.core.windows.net",
        "IDEMPOTENCY_CONTAINER": "pipeline-trigger-claims",
        "TRAINING_FILESYSTEM": "raw",
        "ENVIRONMENT_NAME": "dev",
        "TRAINING_PATH_PREFIX": "landing",
        "HTTP_TIMEOUT_SECONDS": "2",
        "MAX_ATTEMPTS": "4",
        "RETRY_BUDGET_SECONDS": "60",
        "CLAIM_TIMEOUT_SECONDS": "300",
        "CLAIM_WAIT_SECONDS": "5",
        "MODEL_NAME": MODEL,
        "EVENT_QUEUE_NAME": "pipeline-events",
        "EventQueue__queueServiceUri": "https://stfuncexample.queue.core.windows.net",
        "EventQueue__credential": "managedidentity",
        "EventQueue__clientId": CLIENT_ID,
    }
    env.update(overrides)
    return env


def blob_created(path: str, *, filesystem: str = "raw", api: str = "FlushWithClose", event_id: str | None = None,
                 account: str = LAKE) -> dict[str, Any]:
    return {
        "topic": f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-example-dev"
                 f"/providers/Microsoft.Storage/storageAccounts/{account}",
        "subject": f"/blobServices/default/containers/{filesystem}/blobs/{path}",
        "eventType": "Microsoft.Storage.BlobCreated",
        "eventTime": "2024-06-01T10:00:00.0000000Z",
        "id": event_id or str(uuid.uuid4()),
        "data": {"api": api, "clientRequestId": str(uuid.uuid4()), "requestId": str(uuid.uuid4()),
                 "eTag": "\"0x8DC0000000000\"", "contentType": "application/octet-stream", "contentLength": 0,
                 "blobType": "BlockBlob", "url": f"https://{account}.dfs.core.windows.net/{filesystem}/{path}",
                 "sequencer": "0000000000000000000000000000000000000000000000000000000000000001",
                 "storageDiagnostics": {"batchId": str(uuid.uuid4())}},
        "dataVersion": "",
        "metadataVersion": "1",
    }


def model_registered(name: str, version: Any, *, casing: str = "pascal", event_id: str | None = None) -> dict[str, Any]:
    keys = ("ModelName", "ModelVersion") if casing == "pascal" else ("modelName", "modelVersion")
    return {
        "topic": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-example-dev"
                 "/providers/Microsoft.MachineLearningServices/workspaces/mlw-example-dev",
        "subject": f"models/{name}:{version}",
        "eventType": "Microsoft.MachineLearningServices.ModelRegistered",
        "eventTime": "2024-06-01T10:00:00.0000000Z",
        "id": event_id or str(uuid.uuid4()),
        "data": {keys[0]: name, keys[1]: version, "ModelTags": {"area": "diabetes"}, "ModelProperties": {}},
        "dataVersion": "",
        "metadataVersion": "1",
    }


def json_logs(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The structured records logged by trigger_core (every message is one JSON object)."""
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "pipeline_trigger"]


# --------------------------------------------------------------------------------- fake Azure DevOps
@pytest.fixture()
def devops_server() -> Iterator[FakeDevOpsServer]:
    with FakeDevOpsServer(organization="example-org", project="example project") as server:
        server.add_pipeline(TRAINING, "\\other")  # same name, other folder: must not be picked
        server.add_pipeline(TRAINING, FOLDER)
        server.add_pipeline(RELEASE, FOLDER)
        server.add_pipeline("example-model-ci", FOLDER)
        yield server


def pipeline_id(server: FakeDevOpsServer, name: str, folder: str = FOLDER) -> int:
    found = server.find_pipeline(name, folder)
    assert found is not None, f"no pipeline {name!r} in {folder!r}"
    return found


# --------------------------------------------------------------------------------- Azurite
@dataclass(frozen=True)
class Azurite:
    account_url: str
    cert: str  # path of the self-signed certificate, for connection_verify
    queue_url: str | None = None  # the queue service, when the all-services binary is installed

    def queue(self, name: str | None = None, *, create: bool = True) -> Any:
        """A QueueClient on Azurite's queue service (raw text messages, like messageEncoding=none)."""
        from azure.storage.queue import QueueClient

        if self.queue_url is None:
            pytest.skip("Azurite's queue service is not installed (node_modules/.bin/azurite)")
        client = QueueClient(self.queue_url, name or f"events-{uuid.uuid4().hex[:12]}", credential=FakeCredential(),
                             connection_verify=self.cert)
        if create:
            client.create_queue()
        return client

    def container(self, name: str | None = None, *, create: bool = True) -> Any:
        from azure.storage.blob import ContainerClient

        client = ContainerClient(self.account_url, name or f"claims-{uuid.uuid4().hex[:12]}",
                                 credential=FakeCredential(), connection_verify=self.cert)
        if create:
            client.create_container()
        return client


def _azurite_binary() -> Path | None:
    candidates = []
    if os.environ.get("AZURITE_BIN"):
        candidates.append(Path(os.environ["AZURITE_BIN"]))
    candidates += [REPO / "node_modules" / ".bin" / "azurite-blob", REPO / "node_modules" / ".bin" / "azurite"]
    for path in candidates:  # prefer the all-services binary: the queue tests need the queue service
        everything = path.with_name("azurite")
        if everything.exists():
            return everything
        if path.exists():
            return path
    return None


def _self_signed_cert(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class AzuriteMissing(RuntimeError):
    pass


@contextlib.contextmanager
def run_azurite(workdir: Path, *, certs: tuple[Path, Path] | None = None) -> Iterator[Azurite]:
    """Start Azurite (blob, and queue when the all-services binary is there) over HTTPS with a
    self-signed certificate (or `certs`, to share one between instances) and `--oauth basic`;
    stop it on exit. Raises AzuriteMissing."""
    binary = _azurite_binary()
    if binary is None:
        raise AzuriteMissing("Azurite not found: run `npm install` (devDependency azurite) or set AZURITE_BIN to "
                             "node_modules/.bin/azurite; the idempotency and queue tests need real endpoints")
    if shutil.which("node") is None:
        raise AzuriteMissing("Azurite needs node on PATH")
    cert, key = certs or _self_signed_cert(workdir)
    args = [str(binary), "--blobHost", "127.0.0.1", "--blobPort", "0", "--oauth", "basic",
            "--cert", str(cert), "--key", str(key), "--inMemoryPersistence", "--extentMemoryLimit", "256",
            "--silent", "--disableTelemetry", "--skipApiVersionCheck"]
    if binary.name == "azurite":  # the all-services binary: queue on a free port too, table off fixed ports
        args += ["--queueHost", "127.0.0.1", "--queuePort", "0", "--tablePort", "0"]
    log_path = workdir / "azurite.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        deadline = time.monotonic() + 90  # a loaded CI machine can take a while to start node
        port = queue_port = None
        want_queue = binary.name == "azurite"
        while time.monotonic() < deadline and (port is None or (want_queue and queue_port is None)):
            text = log_path.read_text(errors="replace")
            match = re.search(r"Blob service (?:is )?successfully listen\w* (?:on|at) https://127\.0\.0\.1:(\d+)", text)
            queue_match = re.search(r"Queue service (?:is )?successfully listen\w* (?:on|at) https://127\.0\.0\.1:(\d+)",
                                    text)
            port = int(match.group(1)) if match else None
            queue_port = int(queue_match.group(1)) if queue_match else None
            if process.poll() is not None:
                break
            time.sleep(0.05)
        if port is None:
            raise RuntimeError(f"Azurite did not start ({binary}):\n{log_path.read_text(errors='replace')[-2000:]}")
        queue_url = f"https://127.0.0.1:{queue_port}/devstoreaccount1" if queue_port else None
        yield Azurite(f"https://127.0.0.1:{port}/devstoreaccount1", str(cert), queue_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    try:
        with run_azurite(tmp_path_factory.mktemp("azurite")) as service:
            yield service
    except AzuriteMissing as exc:
        pytest.skip(str(exc))


# --------------------------------------------------------------------------------- the trigger
@dataclass
class Harness:
    trigger: Any
    settings: Settings
    server: FakeDevOpsServer
    credential: FakeCredential
    sleeps: SleepRecorder
    container: Any

    def claim_blobs(self) -> list[str]:
        return [b.name for b in self.container.list_blobs()]


@pytest.fixture()
def make_harness(devops_server: FakeDevOpsServer, azurite: Azurite) -> Callable[..., Harness]:
    """Build a real PipelineTrigger against the fake server and a fresh Azurite container."""
    from trigger_core.runtime import build_trigger

    def make(*, credential: FakeCredential | None = None, clock: Callable[[], float] = time.time,
             container: Any = None, **env: str) -> Harness:
        container = container if container is not None else azurite.container()
        settings = Settings.from_env(base_env(AZDO_ORG_URL=devops_server.org_url,
                                              IDEMPOTENCY_ACCOUNT_URL=azurite.account_url,
                                              IDEMPOTENCY_CONTAINER=container.container_name, **env))
        credential = credential or FakeCredential()
        sleeps = SleepRecorder()
        trigger = build_trigger(settings, credential=credential, sleep=sleeps, clock=clock,
                                blob_client_options={"connection_verify": azurite.cert},
                                claim_poll_seconds=0.02, claim_sleep=time.sleep)
        return Harness(trigger, settings, devops_server, credential, sleeps, container)

    return make
