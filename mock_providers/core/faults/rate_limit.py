"""``rate_limit``: 429 ``rate_limit`` with Retry-After; nothing saved.

Retry-After carries whole seconds (rounded up, as HTTP requires) and
``Paychaos-Retry-After-Ms`` the exact wait, so a check can tell whether a
client honoured it.
"""

from __future__ import annotations

from pydantic import field_validator

from ._base import Effect, FaultKind
from .status import check_retry_after

__all__ = ["RateLimit"]


class RateLimit(FaultKind, kind="rate_limit"):
    description = "429 rate_limit with Retry-After"
    retry_after_s: float = 1.0

    _retry = field_validator("retry_after_s")(classmethod(lambda cls, v: check_retry_after(v)))

    def effect(self) -> Effect:
        return Effect(status=429, code="rate_limit", retry_after_s=self.retry_after_s)
