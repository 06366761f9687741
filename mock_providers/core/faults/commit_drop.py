"""``commit_drop``: execute and commit (ledger, idempotency store), then close
the connection without a response. "Charged, but the reply was lost."

The reply is lost whatever the idempotency layer does: a retry under the same
key that the store answers (a replay, a 409) loses its reply too when the rule
fires for it. With ``first_n``/``window_s`` the rule selects payments, so
"every reply for this payment is lost for its first 3 attempts / for 5 s".
"""

from __future__ import annotations

from ._base import Effect, FaultKind

__all__ = ["CommitDrop"]


class CommitDrop(FaultKind, kind="commit_drop"):
    description = "commit the request, then close the connection without answering"

    def effect(self) -> Effect:
        return Effect(drop_after=True)
