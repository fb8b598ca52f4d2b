"""The queue-path fault matrix (issue 14 item 7), shared by the suite and scripts/bench_trigger_faults.py.

Real components: Azurite (queues + blobs, HTTPS, bearer tokens), the loopback Azure DevOps fake
(tests/fakes/devops_server.py), worker processes running the real trigger behind `QueueHost`
(Functions-host queue semantics, see queue_host.py), TCP proxies in front of the blob endpoint
(claims) and the workers' queue endpoint, to take storage down.

Every distinct event is enqueued twice (once base64 as Event Grid writes it, once raw JSON).
Faults: Azure DevOps answers a share of all requests with 429 + Retry-After, 500, 503, a slow
answer after the client timeout (the request still completes), 401, a 203 sign-in page, a 200
HTML interstitial (run requests) or a dropped connection; meanwhile the chaos loop SIGKILLs a
worker mid-run (and starts a new one), makes Azure DevOps refuse connections and takes the claims
store down for short windows. Malformed messages and events for another model are mixed in.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trigger_core.replay import event_of_poison_message

from tests.fakes.devops_server import RUN_PIPELINE, FakeDevOpsServer
from tests.functions.conftest import FOLDER, MODEL, RELEASE, TRAINING, Azurite, base_env, blob_created, model_registered
from tests.functions.queue_host import TcpProxy

REPO = Path(__file__).resolve().parents[2]
SIGN_IN = "<html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in</body></html>"
INTERSTITIAL = "<html><body>We are updating Azure DevOps. Please wait...</body></html>"

# Fast timings so thousands of deliveries fit in minutes; the ratios match production's
# (RUN_SETTLE_SECONDS < visibilityTimeout, CLAIM_TIMEOUT >= budget + 3 x timeout).
SETTINGS = {
    "HTTP_TIMEOUT_SECONDS": "0.5", "MAX_ATTEMPTS": "4", "RETRY_BASE_SECONDS": "0.05",
    "RETRY_MAX_DELAY_SECONDS": "0.2", "RETRY_AFTER_CAP_SECONDS": "0.3", "RETRY_BUDGET_SECONDS": "2",
    "CLAIM_TIMEOUT_SECONDS": "4", "CLAIM_WAIT_SECONDS": "0.5", "RUN_SETTLE_SECONDS": "1",
    "RUN_LOOKUP_SKEW_SECONDS": "5", "RUN_LOOKUP_MAX_RUNS": "50", "MAX_DEQUEUE_COUNT": "5",
}
VISIBILITY_TIMEOUT = 2  # host.json visibilityTimeout (seconds), > RUN_SETTLE_SECONDS
SLOW_SECONDS = 0.8  # answered after the 0.5 s client timeout, well inside the settle time
FAULTS = [  # (route, probability per request, fault)
    (None, 0.02, {"kind": "status", "status": 429, "retry_after": "0.1"}),
    (None, 0.02, {"kind": "status", "status": 500}),
    (None, 0.02, {"kind": "status", "status": 503}),
    (None, 0.02, {"kind": "slow", "seconds": SLOW_SECONDS}),
    (None, 0.01, {"kind": "status", "status": 401}),
    (None, 0.01, {"kind": "status", "status": 203, "html": SIGN_IN}),
    (RUN_PIPELINE, 0.01, {"kind": "status", "status": 200, "html": INTERSTITIAL}),
    (None, 0.01, {"kind": "drop"}),
]


@dataclass
class Report:
    events: int
    deliveries: int
    malformed: int
    other_model: int
    runs: int = 0
    events_with_run: int = 0
    duplicate_runs: int = 0
    lost: int = 0
    poisoned_events: int = 0
    poison_without_reason: int = 0
    malformed_poisoned: int = 0
    max_run_requests_per_event: int = 0
    fault_counts: dict[str, int] = field(default_factory=dict)
    requests_per_route: dict[str, int] = field(default_factory=dict)
    kills: int = 0
    storage_outages: int = 0
    devops_outages: int = 0
    warning_lines: int = 0
    warning_kinds: dict[str, int] = field(default_factory=dict)  # WARNING+ lines by msg (or logger)
    tracebacks: int = 0
    unexpected_failures: int = 0
    max_dequeue_seen: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


CHAOS_ROTATION = ("kill", "storage", "devops", "kill")


def run_matrix(azurite: Azurite, workdir: Path, *, events: int, seed: int = 7, workers: int = 2, threads: int = 6,
               chaos_every: float = 2.0, timeout: float = 900.0) -> Report:
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with FakeDevOpsServer(organization="example-org", project="example project", list_parameters=True) as ado:
        ado.add_pipeline(TRAINING, FOLDER)
        ado.add_pipeline(RELEASE, FOLDER)
        suffix = uuid.uuid4().hex[:8]
        queue, poison = azurite.queue(f"ev-{suffix}"), azurite.queue(f"ev-{suffix}-poison")
        container = azurite.container(f"claims-{suffix}")
        blob_port = urlsplit(azurite.account_url).port
        proxy = TcpProxy(blob_port)
        queue_proxy = TcpProxy(urlsplit(azurite.queue_url).port)
        worker_queue_url = f"https://127.0.0.1:{queue_proxy.port}/devstoreaccount1"
        env = {**os.environ, **base_env(**SETTINGS), "AZDO_ORG_URL": ado.org_url,
               "IDEMPOTENCY_ACCOUNT_URL": f"https://127.0.0.1:{proxy.port}/devstoreaccount1",
               "IDEMPOTENCY_CONTAINER": container.container_name, "EVENT_QUEUE_NAME": queue.queue_name,
               "EventQueue__queueServiceUri": azurite.queue_url, "PYTHONPATH": str(REPO)}

        distinct = [blob_created(f"landing/batch-{i:05d}/_SUCCESS") if i % 10 < 7 else model_registered(MODEL, i)
                    for i in range(events)]
        extra_malformed = max(1, events // 100)
        other = [model_registered("someone-elses-model", i) for i in range(max(1, events // 100))]
        messages = [(e, True) for e in distinct] + [(e, False) for e in distinct] + [(e, rng.random() < 0.5)
                                                                                      for e in other]
        rng.shuffle(messages)
        report = Report(events=events, deliveries=2 * events, malformed=extra_malformed, other_model=len(other))
        ado.random_faults(FAULTS, seed=seed)

        stop_file = workdir / f"stop-{suffix}"
        procs: list[subprocess.Popen] = []

        def spawn(index: int) -> subprocess.Popen:
            config = {"queue_url": worker_queue_url, "cert": azurite.cert, "visibility_timeout": VISIBILITY_TIMEOUT,
                      "batch_size": 8, "threads": threads, "processing_visibility": 5,
                      "log_file": str(workdir / f"worker-{suffix}-{index}.log"), "stop_file": str(stop_file),
                      "timeout": timeout}
            return subprocess.Popen([sys.executable, str(REPO / "tests" / "functions" / "queue_worker.py")],
                                    env={**env, "WORKER_CONFIG": json.dumps(config)}, cwd=REPO,
                                    stdout=subprocess.DEVNULL, stderr=open(workdir / f"worker-{suffix}-{index}.err", "wb"))

        procs = [spawn(i) for i in range(workers)]
        spawned = workers

        def feed() -> None:  # the two deliveries of an event arrive at different times
            for _ in range(extra_malformed):
                queue.send_message("not an event: " + uuid.uuid4().hex)
            for event, encode in messages:
                text = json.dumps(event)
                queue.send_message(base64.b64encode(text.encode()).decode() if encode else text)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        deadline = time.monotonic() + timeout
        idle_rounds = 0
        next_chaos = time.monotonic() + chaos_every
        chaos_rounds = 0
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if time.monotonic() >= next_chaos and (feeder.is_alive() or idle_rounds == 0):
                next_chaos = time.monotonic() + chaos_every
                # A fixed rotation, not a random pick: any run with three chaos rounds has seen every
                # kind (a random pick gave six kills and no outage in one CI run).
                action = CHAOS_ROTATION[chaos_rounds % len(CHAOS_ROTATION)]
                chaos_rounds += 1
                if action == "kill":
                    victim = rng.randrange(len(procs))
                    procs[victim].send_signal(signal.SIGKILL)
                    procs[victim].wait()
                    procs[victim] = spawn(spawned)
                    spawned += 1
                    report.kills += 1
                elif action == "storage":
                    proxy.down(0.6)
                    queue_proxy.down(0.6)
                    report.storage_outages += 1
                else:
                    ado.refuse()
                    threading.Timer(0.6, ado.start).start()
                    report.devops_outages += 1
            if feeder.is_alive():
                continue
            count = queue.get_queue_properties().approximate_message_count
            idle_rounds = idle_rounds + 1 if count == 0 else 0
            if idle_rounds >= 3:
                break
        else:
            report.notes.append(f"timed out with {queue.get_queue_properties().approximate_message_count} messages")
        stop_file.write_text("stop")
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not ado._httpd:
            ado.start()
        proxy.close()
        queue_proxy.close()

        # ------------------------------------------------------------------ results
        per_event = Counter(r.template_parameters.get("eventId") for r in ado.runs)
        report.runs = len(ado.runs)
        ids = {e["id"] for e in distinct}
        report.events_with_run = sum(1 for i in ids if per_event[i] >= 1)
        report.duplicate_runs = sum(n - 1 for i, n in per_event.items() if n > 1)
        stray = {i for i in per_event if i not in ids}
        if stray:
            report.notes.append(f"runs for unexpected event ids: {sorted(stray)[:5]}")
        posts = Counter()
        for request in ado.requests_for(RUN_PIPELINE):
            body = request.body if isinstance(request.body, dict) else {}
            posts[body.get("templateParameters", {}).get("eventId")] += 1
        report.max_run_requests_per_event = max(posts.values(), default=0)

        poisoned: set[str] = set()
        malformed_ids: set[str] = set()
        while True:
            batch = list(poison.receive_messages(messages_per_page=32, max_messages=32, visibility_timeout=300))
            if not batch:
                break
            for message in batch:
                try:
                    record = json.loads(message.content)
                except ValueError:
                    record = None
                if isinstance(record, dict) and "poisonReason" in record:
                    if record.get("eventId") in ids:
                        poisoned.add(record["eventId"])
                    elif str(record.get("poisonReason", "")).startswith(("queue message", "rejected")):
                        malformed_ids.add(str(record.get("messageId")))
                    if not record["poisonReason"]:
                        report.poison_without_reason += 1
                else:  # moved by the host itself (worker killed on the last attempt): the original message
                    report.poison_without_reason += 1
                    with contextlib.suppress(ValueError, KeyError):
                        poisoned.add(event_of_poison_message(message.content)["id"])
        report.poisoned_events = len(poisoned & ids)
        report.malformed_poisoned = len(malformed_ids)
        report.lost = sum(1 for i in ids if per_event[i] == 0 and i not in poisoned)

        # logs: WARNING+ lines, tracebacks, unexpected failures, dequeue counts
        for log_file in workdir.glob(f"worker-{suffix}-*.log"):
            for line in log_file.read_text(errors="replace").splitlines():
                level = line.split("|", 1)[0]
                if "Traceback" in line or line.startswith(("  File ", "Traceback")):
                    report.tracebacks += 1
                if level in ("WARNING", "ERROR", "CRITICAL"):
                    report.warning_lines += 1
                    parts = line.split("|", 2)
                    kind = parts[1] if len(parts) > 1 else "?"
                    if kind == "pipeline_trigger":
                        with contextlib.suppress(ValueError, IndexError):
                            kind = json.loads(parts[2])["msg"]
                    report.warning_kinds[kind] = report.warning_kinds.get(kind, 0) + 1
                if "|pipeline_trigger|" in line:
                    try:
                        record = json.loads(line.split("|", 2)[2])
                    except ValueError:
                        continue
                    report.max_dequeue_seen = max(report.max_dequeue_seen, int(record.get("dequeue_count") or 0))
        for err in workdir.glob(f"worker-{suffix}-*.err"):
            report.tracebacks += err.read_text(errors="replace").count("Traceback")
        for stats in workdir.glob(f"worker-{suffix}-*.stats"):
            report.unexpected_failures += json.loads(stats.read_text()).get("unexpected", 0)
        report.requests_per_route = dict(Counter(r.route for r in ado.requests))
        report.fault_counts = dict(ado.injected)
        report.seconds = round(time.monotonic() - started, 1)
    return report


@dataclass
class SlowReport:
    events: int
    deliveries: int
    slow_seconds: float
    settle_seconds: float
    runs: int = 0
    max_runs_per_event: int = 0
    run_requests: int = 0
    max_run_requests_per_event: int = 0
    lost: int = 0
    seconds: float = 0.0


def run_slow_server(azurite: Azurite, *, events: int, slow_seconds: float, settle_seconds: float = 1.0,
                    threads: int = 8, timeout: float = 300.0) -> SlowReport:
    """Worst case of issue 14 item 4: EVERY request to Azure DevOps is answered after the client
    timeout (and still processed), and every event is delivered twice. One in-process QueueHost."""
    from trigger_core.runtime import build_trigger
    from trigger_core.settings import Settings

    from tests.functions.conftest import FakeCredential
    from tests.functions.queue_host import QueueHost

    started = time.monotonic()
    with FakeDevOpsServer(organization="example-org", project="example project", list_parameters=True) as ado:
        ado.add_pipeline(TRAINING, FOLDER)
        ado.add_pipeline(RELEASE, FOLDER)
        suffix = uuid.uuid4().hex[:8]
        queue, poison = azurite.queue(f"slow-{suffix}"), azurite.queue(f"slow-{suffix}-poison")
        container = azurite.container(f"claims-{suffix}")
        settings = Settings.from_env(base_env(**{**SETTINGS, "RUN_SETTLE_SECONDS": str(settle_seconds)},
                                              AZDO_ORG_URL=ado.org_url, IDEMPOTENCY_ACCOUNT_URL=azurite.account_url,
                                              IDEMPOTENCY_CONTAINER=container.container_name,
                                              EVENT_QUEUE_NAME=queue.queue_name))
        trigger = build_trigger(settings, credential=FakeCredential(),
                                blob_client_options={"connection_verify": azurite.cert}, claim_poll_seconds=0.05)
        trigger.devops.resolve_pipeline_id(TRAINING, FOLDER)  # resolve before the server turns slow
        ado.random_faults([(RUN_PIPELINE, 1.0, {"kind": "slow", "seconds": slow_seconds})])
        distinct = [blob_created(f"landing/slow-{i:05d}/_SUCCESS") for i in range(events)]
        for event in distinct + distinct:
            queue.send_message(json.dumps(event))
        host = QueueHost(queue, poison, trigger.handle_message, visibility_timeout=VISIBILITY_TIMEOUT,
                         max_dequeue_count=settings.max_dequeue_count, batch_size=8, workers=threads,
                         processing_visibility=10)
        deadline = time.monotonic() + timeout
        idle = [0]

        def drained() -> bool:
            if time.monotonic() > deadline:
                return True
            idle[0] = idle[0] + 1 if queue.get_queue_properties().approximate_message_count == 0 else 0
            return idle[0] >= 3

        host.run(until=drained, timeout=timeout)
        host.stop()
        time.sleep(slow_seconds + 0.5)  # let the last slow requests finish on the server
        per_event = Counter(r.template_parameters.get("eventId") for r in ado.runs)
        posts = Counter((r.body or {}).get("templateParameters", {}).get("eventId")
                        for r in ado.requests_for(RUN_PIPELINE) if isinstance(r.body, dict))
        report = SlowReport(events=events, deliveries=2 * events, slow_seconds=slow_seconds,
                            settle_seconds=settle_seconds, runs=len(ado.runs),
                            max_runs_per_event=max(per_event.values(), default=0),
                            run_requests=sum(posts.values()), max_run_requests_per_event=max(posts.values(), default=0))
        poisoned = set()
        for message in poison.receive_messages(messages_per_page=32, visibility_timeout=60):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                poisoned.add(json.loads(message.content)["eventId"])
        report.lost = sum(1 for e in distinct if per_event[e["id"]] == 0 and e["id"] not in poisoned)
        report.seconds = round(time.monotonic() - started, 1)
    return report
