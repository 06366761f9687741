"""``delay``: hold the request (and its idempotency key) for ``delay_ms``, then
execute normally and answer if the client is still connected.

A client whose timeout fired meanwhile may find the charge committed: the
ambiguous outcome a correct client must resolve. A concurrent request with
the same key gets 409 while the first is held.
"""

from __future__ import annotations

from pydantic import field_validator

from ._base import MAX_DELAY_MS, Effect, FaultKind

__all__ = ["Delay"]


class Delay(FaultKind, kind="delay"):
    description = "a slow answer; the request executes after the delay"
    delay_ms: int

    @field_validator("delay_ms")
    @classmethod
    def _delay(cls, v: int) -> int:
        if not 0 <= v <= MAX_DELAY_MS:
            raise ValueError(f"delay_ms={v} is invalid: it must be 0..{MAX_DELAY_MS} (10 minutes);"
                             " use a network 'timeout' toxic for a connection that never answers")
        return v

    def effect(self) -> Effect:
        return Effect(delay_s=self.delay_ms / 1000.0)
