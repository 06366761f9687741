"""The persistent order store: one SQLite `orders` table in WAL mode.

An order row is created BEFORE the first provider call, so a crash mid-payment
leaves a `processing` row that the next start reconciles instead of forgetting
a charge that may have gone through. Final states are written with a guard
(`WHERE status IN unresolved`), so a late reconciler can never overwrite one.

Calls are synchronous: each is a single-row statement on a local file (well
under a millisecond), cheaper than hopping to a thread for every one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["Order", "OrderStore", "PROCESSING", "PENDING", "SUCCEEDED", "DECLINED", "FAILED"]

PROCESSING = "processing"  # attempts under way in this process (or a crashed one)
PENDING = "pending"  # attempts over, outcome unknown: the reconciler owns it
SUCCEEDED = "succeeded"
DECLINED = "declined"
FAILED = "failed"
UNRESOLVED = (PROCESSING, PENDING)
FINAL = (SUCCEEDED, DECLINED, FAILED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id        TEXT PRIMARY KEY,
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL,
    payment_intent  TEXT,
    idempotency_key TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    last_attempt_at REAL,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
)
"""


@dataclass(frozen=True)
class Order:
    """One row of `orders`; times are Unix epoch seconds (they survive restarts)."""

    order_id: str
    amount: int
    currency: str
    status: str
    payment_intent: str | None
    idempotency_key: str
    attempts: int
    error: dict[str, Any] | None
    last_attempt_at: float | None
    created_at: float
    updated_at: float

    @property
    def resolved(self) -> bool:
        return self.status in FINAL


class OrderStore:
    """Create-or-get, attempt bookkeeping and guarded final writes."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create_or_get(
        self, order_id: str, amount: int, currency: str, idempotency_key: str, now: float
    ) -> tuple[Order, bool]:
        """Insert a `processing` order unless one exists; return it and whether it is new."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO orders (order_id, amount, currency, status, idempotency_key,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(order_id) DO NOTHING",
                (order_id, amount, currency, PROCESSING, idempotency_key, now, now),
            )
            created = cursor.rowcount == 1
        order = self.get(order_id)
        assert order is not None
        return order, created

    def get(self, order_id: str) -> Order | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return None if row is None else _order(row)

    def record_attempt(self, order_id: str, attempts: int, now: float) -> None:
        """Count an attempt; `last_attempt_at` starts the reconcile window."""
        with self._lock:
            self._db.execute(
                "UPDATE orders SET attempts = ?, last_attempt_at = ?, updated_at = ?"
                " WHERE order_id = ?",
                (attempts, now, now, order_id),
            )

    def mark_pending(self, order_id: str, now: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE orders SET status = ?, updated_at = ? WHERE order_id = ? AND status IN (?, ?)",
                (PENDING, now, order_id, *UNRESOLVED),
            )

    def finish(
        self,
        order_id: str,
        status: str,
        now: float,
        *,
        payment_intent: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> bool:
        """Write a final state if the order is still unresolved; False if it was not."""
        if status not in FINAL:
            raise ValueError(f"status={status!r} is not final; use one of {FINAL}")
        with self._lock:
            cursor = self._db.execute(
                "UPDATE orders SET status = ?, payment_intent = ?, error = ?, updated_at = ?"
                " WHERE order_id = ? AND status IN (?, ?)",
                (
                    status,
                    payment_intent,
                    None if error is None else json.dumps(error, sort_keys=True),
                    now,
                    order_id,
                    *UNRESOLVED,
                ),
            )
            return cursor.rowcount == 1

    def unresolved(self) -> list[Order]:
        """Orders whose outcome is not known yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM orders WHERE status IN (?, ?) ORDER BY created_at", UNRESOLVED
            ).fetchall()
        return [_order(row) for row in rows]


def _order(row: sqlite3.Row) -> Order:
    values = dict(row)
    values["error"] = None if values["error"] is None else json.loads(values["error"])
    return Order(**values)
