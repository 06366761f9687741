"""``commit_drop``: execute and commit (ledger, idempotency store), then close
the connection without a response. "Charged, but the reply was lost."
"""

from __future__ import annotations

from ._base import Effect, FaultKind

__all__ = ["CommitDrop"]


class CommitDrop(FaultKind, kind="commit_drop"):
    description = "commit the request, then close the connection without answering"

    def effect(self) -> Effect:
        return Effect(drop_after=True)
