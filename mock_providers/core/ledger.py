"""The ledger: every movement of money a provider committed. Ground truth for
the harness's money invariants (docs/interfaces.md section 5).

Kinds: ``charge`` (money captured from the payer), ``refund`` (money given
back), ``authorize`` (money held on the payer's card for a later capture) and
``release`` (a hold ended without a capture: cancelled, expired, or the part a
partial capture left). A capture of a hold is a ``charge`` of the captured
amount; the hold is then spent. An authorisation neither captured nor released
is money the payer cannot use: the harness counts it as money at risk.

Entries are stored as tuples and become dicts only when read. Objects (a
provider's payment objects: intents, orders, transactions) register here so
that the control API can list them; each must offer ``ledger_view() -> dict``
with at least ``id`` and ``order_ref``. ``object_id`` in an entry is the id of
the provider object the money moved for, whatever the provider calls it.
"""

from __future__ import annotations

import time
from typing import Callable

from .journal import WALL_OFFSET, iso_wall

__all__ = ["Ledger", "LEDGER_FIELDS"]

LEDGER_FIELDS = ("seq", "t", "wall", "kind", "amount", "currency", "object_id", "refund",
                 "order_ref", "idempotency_key")
_STORED = tuple(f for f in LEDGER_FIELDS if f != "wall")


class Ledger:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: list[tuple] = []
        self.objects: dict[str, object] = {}
        self.more_objects: tuple[dict[str, object], ...] = ()  # other tables (a provider's second object kind)

    def __len__(self) -> int:
        return len(self._entries)

    def _add(self, kind, amount, currency, object_id, refund_id, order_ref, key) -> None:
        self._entries.append((len(self._entries) + 1, self._clock(), kind, amount,
                              currency, object_id, refund_id, order_ref, key))

    def charge(self, amount: int, currency: str, object_id: str, order_ref: str | None,
               idempotency_key: str | None) -> None:
        self._add("charge", amount, currency, object_id, None, order_ref, idempotency_key)

    def authorize(self, amount: int, currency: str, object_id: str, order_ref: str | None,
                  idempotency_key: str | None) -> None:
        self._add("authorize", amount, currency, object_id, None, order_ref, idempotency_key)

    def release(self, amount: int, currency: str, object_id: str, order_ref: str | None,
                idempotency_key: str | None) -> None:
        self._add("release", amount, currency, object_id, None, order_ref, idempotency_key)

    def refund(self, amount: int, currency: str, object_id: str, refund_id: str,
               order_ref: str | None, idempotency_key: str | None) -> None:
        self._add("refund", amount, currency, object_id, refund_id, order_ref, idempotency_key)

    def entries(self) -> list[dict]:
        out = []
        for e in self._entries:
            d = dict(zip(_STORED, e))
            d["wall"] = iso_wall(e[1] + WALL_OFFSET)
            out.append({k: d[k] for k in LEDGER_FIELDS})
        return out

    def totals(self) -> dict[str, tuple[int, int]]:
        """(charged, refunded) per provider object, from the entries alone."""
        out: dict[str, tuple[int, int]] = {}
        for e in self._entries:
            if e[2] not in ("charge", "refund"):
                continue
            charged, refunded = out.get(e[5], (0, 0))
            if e[2] == "charge":
                charged += e[3]
            else:
                refunded += e[3]
            out[e[5]] = (charged, refunded)
        return out

    def snapshot(self) -> dict:
        objects = [o.ledger_view() for table in (self.objects, *self.more_objects) for o in table.values()]
        return {"entries": self.entries(), "objects": objects}

    def reset(self) -> None:
        self._entries = []
        self.objects = {}
        self.more_objects = ()
