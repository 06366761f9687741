"""How long to wait before retry k: exponential backoff with EQUAL jitter.

    nominal(k) = min(backoff_max_s, backoff_initial_s * 2**(k-1))     k = 1 is the first retry
    sleep(k)   = nominal/2 + uniform(0, nominal/2)                     always in [nominal/2, nominal]
    with a Retry-After of r seconds:  sleep = max(r, sleep(k))

Equal jitter (AWS "Exponential Backoff And Jitter") keeps a floor of half the
nominal delay, so a checkable lower bound exists, while still spreading a herd
of clients apart.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState
from tenacity.stop import stop_base
from tenacity.wait import wait_base

__all__ = ["EqualJitterBackoff", "StopWhenRetryAfterTooLong", "parse_retry_after", "nominal_delay"]


def nominal_delay(k: int, initial_s: float, max_s: float) -> float:
    """The un-jittered delay before retry k (k >= 1)."""
    if k < 1:
        raise ValueError(f"k={k} is invalid: retries are numbered from 1")
    # Cap the exponent: 2**k overflows a float long before it matters here.
    return min(max_s, initial_s * 2 ** min(k - 1, 64))


class EqualJitterBackoff(wait_base):
    """tenacity wait: equal-jitter backoff, at least the last attempt's Retry-After.

    `backoff=False` drops the exponential part (seeded bug no-backoff);
    `honour_retry_after=False` ignores Retry-After (seeded bug ignore-retry-after).
    """

    def __init__(
        self,
        initial_s: float,
        max_s: float,
        rng: random.Random,
        *,
        backoff: bool = True,
        honour_retry_after: bool = True,
    ) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.rng = rng
        self.backoff = backoff
        self.honour_retry_after = honour_retry_after

    def jittered(self, k: int) -> float:
        if not self.backoff:
            return 0.0
        nominal = nominal_delay(k, self.initial_s, self.max_s)
        return nominal / 2 + self.rng.uniform(0, nominal / 2)

    def __call__(self, retry_state: RetryCallState) -> float:
        # attempt_number counts attempts made so far, so before retry k it is k.
        delay = self.jittered(retry_state.attempt_number)
        if self.honour_retry_after:
            retry_after = _last_retry_after(retry_state)
            if retry_after is not None:
                delay = max(retry_after, delay)
        return delay


class StopWhenRetryAfterTooLong(stop_base):
    """tenacity stop: give up when the provider asks for a longer pause than we can afford.

    Waiting out a long Retry-After would hang the customer's request past its
    budget; the attempt that asked was not accepted, so failing is safe.
    """

    def __init__(self, max_s: float) -> None:
        self.max_s = max_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        retry_after = _last_retry_after(retry_state)
        return retry_after is not None and retry_after > self.max_s


def _last_retry_after(retry_state: RetryCallState) -> float | None:
    outcome = retry_state.outcome
    if outcome is None or outcome.failed:
        return None
    return getattr(outcome.result(), "retry_after_s", None)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date; None if absent/bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
