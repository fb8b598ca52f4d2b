"""A worker process of the fault matrix: the real PipelineTrigger behind a QueueHost.

Started by tests/functions/fault_matrix.py with the function's app settings in the environment
plus ``WORKER_CONFIG`` (JSON: Azurite queue URL and certificate, queue names, host parameters,
log file, stop file). It runs until the stop file exists or it is killed (SIGKILL on purpose:
"the function process killed mid-run"). Logs go to the log file, one record per line.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "functions" / "pipeline_trigger")]

from azure.storage.queue import QueueClient  # noqa: E402
from trigger_core.runtime import build_trigger  # noqa: E402
from trigger_core.settings import Settings  # noqa: E402

from tests.functions.conftest import FakeCredential  # noqa: E402
from tests.functions.queue_host import QueueHost  # noqa: E402


def main() -> int:
    config = json.loads(os.environ["WORKER_CONFIG"])
    logging.basicConfig(filename=config["log_file"], level=logging.INFO,
                        format="%(levelname)s|%(name)s|%(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    settings = Settings.from_env(os.environ)
    credential = FakeCredential()
    trigger = build_trigger(settings, credential=credential,
                            blob_client_options={"connection_verify": config["cert"], "retry_total": 2,
                                                 "initial_backoff": 0, "increment_base": 1,
                                                 "random_jitter_range": 0},
                            claim_poll_seconds=0.05)

    def client(name: str) -> QueueClient:
        # the host's queue client retries too; fast here, like the claims client (scaled timings)
        return QueueClient(config["queue_url"], name, credential=credential, connection_verify=config["cert"],
                           retry_total=2, initial_backoff=0, increment_base=1, random_jitter_range=0)

    host = QueueHost(client(settings.event_queue_name), client(settings.poison_queue_name), trigger.handle_message,
                     visibility_timeout=config["visibility_timeout"], max_dequeue_count=settings.max_dequeue_count,
                     batch_size=config["batch_size"], workers=config["threads"],
                     processing_visibility=config["processing_visibility"])
    stop = Path(config["stop_file"])
    try:
        host.run(until=stop.exists, timeout=config.get("timeout", 900))
    finally:
        host.stop()
    Path(config["log_file"]).with_suffix(".stats").write_text(json.dumps(
        {k: v for k, v in vars(host.stats).items() if isinstance(v, int)}))
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    raise SystemExit(main())
