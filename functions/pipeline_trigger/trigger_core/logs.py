"""Structured logs: every record's message is one JSON object (a "JSON line").

The Azure Functions worker forwards `logging` records to Application Insights as traces, so the
message itself carries the structure; query it with `traces | extend j = parse_json(message)`.
Keys used across the package: `msg` (what happened), `outcome`, `event_id`, `event_type`,
`pipeline`, `pipeline_id`, `run_id`, `attempt`, `status`, `reason`, `delay_s`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

LOGGER_NAME = "pipeline_trigger"
logger = logging.getLogger(LOGGER_NAME)
if logger.level == logging.NOTSET:  # outcomes are INFO; the host's logLevel filters what is kept
    logger.setLevel(logging.INFO)


def log(level: int, msg: str, /, **fields: Any) -> None:
    """Log `msg` and the non-None `fields` as one JSON object."""
    if not logger.isEnabledFor(level):
        return
    record = {"msg": msg}
    record.update({k: v for k, v in fields.items() if v is not None})
    logger.log(level, json.dumps(record, separators=(",", ":"), default=str, ensure_ascii=False))
