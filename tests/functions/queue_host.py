"""A queue consumer with the Functions host's queue-trigger semantics, and a TCP proxy for outages.

`QueueHost` is what the tests and scripts/bench_trigger_faults.py run instead of the Functions
host (which is not available offline). It follows the documented behaviour of the Storage queue
trigger (functions-bindings-storage-queue-trigger.md "Poison messages", host.json ``queues``):

- messages are received in batches of ``batch_size`` and kept invisible while they are processed
  (``processing_visibility``, renewed by the real host; here it only has to outlast one invocation);
- success: the message is deleted (after the poison output, if the function set one, is sent);
- failure (the function raised): the message is made visible again after ``visibility_timeout``
  (host.json ``visibilityTimeout``) with its dequeue count increased by the service, or, when the
  dequeue count has reached ``max_dequeue_count``, copied to ``<queue>-poison`` and deleted;
- a message whose dequeue count already exceeds ``max_dequeue_count`` (its worker died during the
  last allowed attempt) is moved to the poison queue without invoking the function.

Everything goes through a real queue service (Azurite) with the real SDK; kills are real SIGKILLs
of worker processes (tests/functions/queue_worker.py).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from trigger_core.devops import InvocationFailed
from trigger_core.handler import MessageResult, QueueDelivery

logger = logging.getLogger("queue_host")


@dataclass
class HostStats:
    invocations: int = 0
    succeeded: int = 0
    failed: int = 0
    poisoned_by_host: int = 0
    unexpected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class QueueHost:
    def __init__(self, queue: Any, poison: Any, handle: Callable[[QueueDelivery], MessageResult], *,
                 visibility_timeout: float, max_dequeue_count: int, batch_size: int = 8, workers: int = 8,
                 processing_visibility: float = 30.0, poll_seconds: float = 0.05) -> None:
        self.queue, self.poison, self.handle = queue, poison, handle
        self.visibility_timeout = visibility_timeout
        self.max_dequeue_count = max_dequeue_count
        self.batch_size = batch_size
        self.processing_visibility = processing_visibility
        self.poll_seconds = poll_seconds
        self.stats = HostStats()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="queue-host")
        self._slots = threading.Semaphore(workers + batch_size)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)

    def run(self, *, until: Callable[[], bool] | None = None, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._stop.is_set() and time.monotonic() < deadline and not (until and until()):
            try:
                messages = list(self.queue.receive_messages(messages_per_page=self.batch_size,
                                                            max_messages=self.batch_size,
                                                            visibility_timeout=int(self.processing_visibility)))
            except AzureError as exc:  # the queue service itself is down: poll again later
                logger.info("receive failed: %s", type(exc).__name__)
                time.sleep(self.poll_seconds * 4)
                continue
            if not messages:
                time.sleep(self.poll_seconds)
                continue
            for message in messages:
                self._slots.acquire()
                self._pool.submit(self._process, message)

    def _process(self, message: Any) -> None:
        try:
            if message.dequeue_count > self.max_dequeue_count:
                self._move_to_poison(message, "dequeue count exceeded before the invocation (worker died)")
                return
            self.stats.add(invocations=1)
            delivery = QueueDelivery(body=message.content, message_id=message.id,
                                     dequeue_count=message.dequeue_count)
            try:
                result = self.handle(delivery)
            except InvocationFailed as exc:  # an expected failure: the host logs it, no traceback here
                self.stats.add(failed=1)
                logger.info("Executed (Failed) %s: %s", message.id, type(exc).__name__)
                if message.dequeue_count >= self.max_dequeue_count:
                    self._move_to_poison(message, "maxDequeueCount reached")
                else:
                    self._release(message)
                return
            except Exception:
                self.stats.add(unexpected=1)
                logger.exception("Executed (Failed, unexpected) %s", message.id)
                self._release(message)
                return
            if result.poison is not None:
                self.poison.send_message(result.poison)
            with contextlib.suppress(ResourceNotFoundError):
                self.queue.delete_message(message.id, message.pop_receipt)
            self.stats.add(succeeded=1)
        except AzureError as exc:  # the queue service failed while completing: the message reappears later
            logger.info("completing %s failed: %s", message.id, type(exc).__name__)
        finally:
            self._slots.release()

    def _release(self, message: Any) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self.queue.update_message(message.id, message.pop_receipt,
                                      visibility_timeout=max(0, round(self.visibility_timeout)))

    def _move_to_poison(self, message: Any, why: str) -> None:
        self.poison.send_message(message.content)
        with contextlib.suppress(ResourceNotFoundError):
            self.queue.delete_message(message.id, message.pop_receipt)
        self.stats.add(poisoned_by_host=1)
        logger.info("moved %s to the poison queue: %s", message.id, why)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; `down(seconds)` refuses and cuts connections meanwhile
    (TLS passes through untouched, so the SDK still talks HTTPS to Azurite)."""

    def __init__(self, target_port: int, *, idle_seconds: float = 15.0) -> None:
        self.target_port = target_port
        self.idle_seconds = idle_seconds
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._down_until = 0.0
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="tcp-proxy").start()

    def down(self, seconds: float) -> None:
        with self._lock:
            self._down_until = time.monotonic() + seconds
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:  # one bad connection (or a thread limit) must not stop the proxy
                if time.monotonic() < self._down_until:
                    client.close()
                    continue
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
                upstream.settimeout(None)
                with self._lock:
                    self._conns.update((client, upstream))
                threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            except (OSError, RuntimeError):
                with contextlib.suppress(OSError):
                    client.close()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(a, selectors.EVENT_READ, b)  # down() may have closed them already
            selector.register(b, selectors.EVENT_READ, a)
            idle_since = time.monotonic()
            while time.monotonic() - idle_since < self.idle_seconds:  # pooled connections of dead workers
                for key, _ in selector.select(timeout=1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
                    idle_since = time.monotonic()
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._conns.discard(a)
                self._conns.discard(b)
