"""``drop``: close the connection without a response, before executing."""

from __future__ import annotations

from ._base import Effect, FaultKind

__all__ = ["Drop"]


class Drop(FaultKind, kind="drop"):
    description = "close the connection without answering; nothing executes"

    def effect(self) -> Effect:
        return Effect(drop_before=True)
