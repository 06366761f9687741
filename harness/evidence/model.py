"""The evidence: per-order histories joining target calls, provider attempts and
ledger entries, plus the faults as applied. Checks are pure functions of it.

An attempt is classed like a Jepsen operation: ``ok``, ``failed`` (the
provider answered and certainly did not charge), or ``unknown`` (it may have
committed but the caller could not know: a timeout, a dropped connection, a
500). A correct target resolves every unknown.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.workload.orders import Order

__all__ = ["TargetCall", "Attempt", "LedgerEntry", "FaultEvent", "OrderHistory", "Evidence", "CREATE_ENDPOINTS"]

CREATE_ENDPOINTS = frozenset({"payment_intents.create", "payment_intents.confirm"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TargetCall(_Model):
    """One call the workload made to the target."""

    order_id: str
    kind: Literal["pay", "lookup"]
    t_start: float
    t_end: float
    status: int | None = None  # HTTP status; None when no answer came
    body: Any = None  # parsed JSON, if it was JSON
    text: str = ""  # the raw body, truncated, when it was not JSON
    error: str | None = None  # "timeout after 30s", "connection refused", ...
    outcome: str | None = None  # succeeded | declined | failed | pending | None (unreadable)

    @property
    def elapsed(self) -> float:
        return self.t_end - self.t_start


class Attempt(_Model):
    """One request a provider received (a provider journal entry, classed)."""

    provider: str
    seq: int
    t_start: float
    t_end: float
    method: str
    path: str
    endpoint: str
    order_ref: str | None = None
    idempotency_key: str | None = None
    status: int | None = None
    error_type: str | None = None
    error_code: str | None = None
    decline_code: str | None = None
    object_id: str | None = None
    object_status: str | None = None
    replayed: bool = False
    retry_after_s: float | None = None
    delivery: str = "delivered"
    committed: bool = False
    fault: dict[str, Any] | None = None
    network_fault: str | None = None  # a lossy network fault was on while it ran: its reply may never have arrived
    klass: Literal["ok", "failed", "unknown"] = "ok"
    failure: str | None = None  # a FAILURE_CLASSES name when not ok

    @property
    def is_create(self) -> bool:
        return self.endpoint in CREATE_ENDPOINTS

    def label(self) -> str:
        """``503 unavailable`` / ``timeout`` / ``200 succeeded`` for reports."""
        if self.status is None:
            return self.failure or self.delivery
        detail = self.decline_code or self.error_code or self.object_status or ""
        return f"{self.status} {detail}".strip()


class LedgerEntry(_Model):
    provider: str
    seq: int
    t: float
    kind: Literal["charge", "refund"]
    amount: int
    currency: str
    payment_intent: str | None = None
    order_ref: str | None = None
    idempotency_key: str | None = None


class FaultEvent(_Model):
    """A fault as applied: when it went on and off, at which layer."""

    name: str
    kind: str
    layer: Literal["http", "network"]
    provider: str
    t_on: float | None = None
    t_off: float | None = None
    rule: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None  # set when applying or lifting it failed


class OrderHistory(_Model):
    order: Order
    calls: list[TargetCall] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    ledger: list[LedgerEntry] = Field(default_factory=list)
    final: str | None = None  # outcome the target reported last (lookup after drain)
    final_source: str = "none"  # lookup | pay | none

    @property
    def creates(self) -> list[Attempt]:
        return [a for a in self.attempts if a.is_create]

    @property
    def captured(self) -> int:
        return sum(e.amount for e in self.ledger if e.kind == "charge")

    @property
    def refunded(self) -> int:
        return sum(e.amount for e in self.ledger if e.kind == "refund")

    @property
    def net_captured(self) -> int:
        return self.captured - self.refunded

    @property
    def charges(self) -> list[LedgerEntry]:
        return [e for e in self.ledger if e.kind == "charge"]

    @property
    def pay_call(self) -> TargetCall | None:
        return next((c for c in self.calls if c.kind == "pay"), None)


class Evidence(_Model):
    orders: dict[str, OrderHistory] = Field(default_factory=dict)
    unattributed_ledger: list[LedgerEntry] = Field(default_factory=list)
    unattributed_attempts: int = 0
    faults: list[FaultEvent] = Field(default_factory=list)
    journal_dropped: int = 0  # provider journal entries lost to bounds: attempt evidence incomplete
    submitted: int = 0
    not_submitted: int = 0  # orders the workload did not get to (duration bound)
    t0: float = 0.0  # monotonic time the workload started

    def histories(self) -> list[OrderHistory]:
        return list(self.orders.values())
