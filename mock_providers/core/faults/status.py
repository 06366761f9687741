"""``status``: answer with an HTTP error and the provider's real body for it.

Answered at the front door, before the idempotency layer, so nothing is
saved; except 500, which follows Stripe: execution began, so the 500 is
saved under the idempotency key and replayed to retries.
"""

from __future__ import annotations

from pydantic import field_validator

from ._base import Effect, FaultKind

__all__ = ["Status"]


def check_status(v: int) -> int:
    if not 400 <= v <= 599:
        raise ValueError(f"status={v} is invalid: a fault answers with an error, so it must be"
                         " 400..599; use e.g. 503 for an outage or 429 for a rate limit")
    return v


def check_retry_after(v: float | None) -> float | None:
    if v is not None and v < 0:
        raise ValueError(f"retry_after_s={v} is invalid: it is a wait in seconds, so it must be"
                         " >= 0; leave it out to send no Retry-After")
    return v


class Status(FaultKind, kind="status"):
    description = "an HTTP error status with the provider's error body"
    status: int
    code: str | None = None
    retry_after_s: float | None = None

    _status = field_validator("status")(classmethod(lambda cls, v: check_status(v)))
    _retry = field_validator("retry_after_s")(classmethod(lambda cls, v: check_retry_after(v)))

    def effect(self) -> Effect:
        if self.status == 500:
            return Effect(saved_status=500, code=self.code)
        return Effect(status=self.status, code=self.code, retry_after_s=self.retry_after_s)
