"""``outage``: the provider is down (503 by default); meant for time windows."""

from __future__ import annotations

from pydantic import field_validator

from ._base import Effect, FaultKind
from .status import check_status

__all__ = ["Outage"]


class Outage(FaultKind, kind="outage"):
    description = "the provider answers every request with an unavailable error"
    status: int = 503

    _status = field_validator("status")(classmethod(lambda cls, v: check_status(v)))

    def effect(self) -> Effect:
        if self.status == 500:
            return Effect(saved_status=500)
        return Effect(status=self.status)
