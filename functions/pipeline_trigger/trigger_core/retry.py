"""Bounded retries: exponential backoff with jitter, server Retry-After honoured up to a cap.

`RetryPolicy.start()` gives a `RetryBudget` for one logical call. After each transient failure
call `budget.next_delay(retry_after)`: it returns how long to sleep, or None when the attempts or
the time budget are used up (the caller then raises so the invocation fails and Event Grid
redelivers). Sleep, clock and random source are injectable so tests record the delays instead of
waiting for them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 1.0
    max_delay_seconds: float = 30.0
    retry_after_cap_seconds: float = 60.0
    budget_seconds: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def start(self, started: float | None = None) -> RetryBudget:
        """A budget for one call; pass `started` (a `monotonic()` value) to share one time budget
        across the calls of an invocation while counting attempts per call."""
        return RetryBudget(self, started=self.monotonic() if started is None else started)

    def backoff(self, failures: int) -> float:
        """Delay after the `failures`-th consecutive failure: "equal jitter" in [d/2, d], d = base * 2^(n-1)."""
        ceiling = min(self.max_delay_seconds, self.base_seconds * (2 ** (failures - 1)))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


@dataclass
class RetryBudget:
    policy: RetryPolicy
    started: float
    failures: int = 0
    give_up_reason: str | None = None

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Record a transient failure; return the delay before the next attempt or None to give up."""
        self.failures += 1
        policy = self.policy
        if self.failures >= policy.max_attempts:
            self.give_up_reason = f"gave up after {self.failures} attempts"
            return None
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), policy.retry_after_cap_seconds)
        else:
            delay = policy.backoff(self.failures)
        elapsed = policy.monotonic() - self.started
        if elapsed + delay > policy.budget_seconds:
            self.give_up_reason = (f"retry budget of {policy.budget_seconds:g}s exhausted after {self.failures} "
                                   f"attempts ({elapsed:.1f}s spent, next delay {delay:.1f}s)")
            return None
        return delay

    def sleep(self, delay: float) -> None:
        self.policy.sleep(delay)


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date. None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)
