"""The evidence: per-order histories joining target calls, provider attempts and
ledger entries, plus the faults as applied. Checks are pure functions of it.

An attempt is classed like a Jepsen operation: ``ok``, ``failed`` (the
provider answered and certainly did not charge), or ``unknown`` (it may have
committed but the caller could not know: a timeout, a dropped connection, a
provider error after execution began). A correct target resolves every unknown.

The class, the neutral failure class and the route's role come from the
provider's journal, where the provider's profile computed them: nothing here
knows a provider's status codes or endpoints.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.workload.orders import Order

__all__ = ["TargetCall", "Attempt", "LedgerEntry", "FaultEvent", "OrderHistory", "Evidence", "open_holds"]


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
    steps: list[dict[str, Any]] = Field(default_factory=list)  # a multi-step call: every step, in order
    refs: dict[str, Any] = Field(default_factory=dict)  # captured values a correlation names (ties traffic to it)

    @property
    def elapsed(self) -> float:
        return self.t_end - self.t_start

    @property
    def span(self) -> tuple[float, float]:
        """From the first step's start to the last answer: the whole call, steps included."""
        if not self.steps:
            return self.t_start, self.t_end
        return (min(self.t_start, *(s["t_start"] for s in self.steps)),
                max(self.t_end, *(s["t_end"] for s in self.steps)))


class Attempt(_Model):
    """One request a provider instance received (a provider journal entry, classed)."""

    provider: str  # the instance
    type: str = ""  # its provider type
    role: str = "other"  # the route's role in the profile: charge, lookup, refund...
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
    network_fault: str | None = None  # a lossy network fault was on while it ran (or the proxy cut its reply)
    # Did the reply reach the service? None: no proxy in front (the provider's own view, ``delivery``, holds);
    # "reached" / "cut": the proxy passed on, or did not pass on, the reply's last byte; "unknown": a lossy
    # network fault was on and the backend cannot say (Toxiproxy), and the service's answer does not prove it.
    reply: Literal["reached", "cut", "unknown"] | None = None
    conn_port: int | None = None  # the caller's port the provider saw (through a proxy: the proxy's)
    reply_end: int | None = None  # reply bytes written on that connection through this reply
    retry_hint: bool | None = None  # the provider said retry (True) or do not (False); None: it said nothing
    integration: bool = False  # refused as not understood (unknown endpoint/parameter, refused credentials), no fault
    inferred: bool = False  # tied to its order only by amount and time (the last resort)
    error_param: str | None = None  # the parameter an error answer names
    # in_call: sent while the order's pay call was open (the service's own retries);
    # in_lookup: sent while a lookup call of the order was open (the service checking because it was asked);
    # after_answer: sent after the service answered, on its own (a reconciler, a webhook handler)
    # customer: sent by the harness itself as the customer's browser (a step addressed to a provider)
    phase: Literal["in_call", "in_lookup", "after_answer", "customer"] = "in_call"
    klass: Literal["ok", "failed", "unknown"] = "ok"
    failure: str | None = None  # a FAILURE_CLASSES name when not ok

    @property
    def is_charge(self) -> bool:
        """A payment attempt: a request to a route whose role is ``charge``."""
        return self.role == "charge"

    def label(self) -> str:
        """``503 unavailable`` / ``timeout`` / ``200 succeeded`` for reports."""
        if self.status is None:
            return self.failure or self.delivery
        detail = self.decline_code or self.error_code or self.object_status or ""
        label = f"{self.status} {detail}".strip()
        if self.reply == "cut":
            return f"{label}, reply cut"
        if self.reply == "unknown":
            return f"{label}, reply maybe cut"
        return label


class LedgerEntry(_Model):
    """One movement in a provider's ledger: ``charge`` (captured), ``refund``,
    ``authorize`` (held on the payer's card for a later capture) or ``release``
    (a hold ended without capture). A capture of a hold is a ``charge`` on the
    same object: it spends the hold."""

    provider: str  # the instance whose ledger holds it
    seq: int
    t: float
    kind: Literal["charge", "refund", "authorize", "release"]
    amount: int  # minor units of currency
    currency: str
    object_id: str | None = None  # the provider object the money moved for
    order_ref: str | None = None
    inferred: bool = False  # tied to its order only by amount and time (the last resort)
    idempotency_key: str | None = None


def open_holds(entries: list[LedgerEntry]) -> list[tuple[LedgerEntry, int]]:
    """Authorisations still holding money: (the authorisation, amount still held).

    A hold is spent by a capture (a ``charge`` on the same provider object) and
    by a ``release``; what is left when the run ends is money the payer cannot
    use, though nobody was paid."""
    held: dict[tuple[str, str | None], list] = {}
    for e in sorted(entries, key=lambda e: (e.provider, e.seq)):
        key = (e.provider, e.object_id)
        if e.kind == "authorize":
            slot = held.setdefault(key, [e, 0])
            slot[1] += e.amount
        elif key in held and e.kind in ("charge", "release"):
            held[key][1] -= e.amount
    return [(auth, amount) for auth, amount in held.values() if amount > 0]


class FaultEvent(_Model):
    """A fault as applied: when it went on and off, at which layer."""

    name: str
    kind: str
    layer: str
    provider: str | None = None  # instance; None for faults on the target process
    instant: bool = False
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
    expected_amount: int | None = None  # what the service was expected to charge; None: its answer did not say

    @model_validator(mode="before")
    @classmethod
    def _expected_defaults_to_the_orders(cls, data: Any) -> Any:
        if isinstance(data, dict) and "expected_amount" not in data and "order" in data:
            order = data["order"]
            data = {**data, "expected_amount": order.amount if hasattr(order, "amount") else order.get("amount")}
        return data
    final_source: str = "none"  # lookup | pay | none

    @property
    def charge_attempts(self) -> list[Attempt]:
        """The payment attempts (role ``charge``), across every provider instance, in time order."""
        return [a for a in self.attempts if a.is_charge]

    @property
    def in_call_charges(self) -> list[Attempt]:
        """Payment attempts sent while the pay call was open: what retry clauses judge."""
        return [a for a in self.attempts if a.is_charge and a.phase == "in_call"]

    @property
    def after_answer(self) -> list[Attempt]:
        """Provider requests the service sent on its own after it answered: what reconcile clauses judge."""
        return [a for a in self.attempts if a.phase == "after_answer"]

    @property
    def captured(self) -> int:
        """Charged for this order, in the order's currency, across every provider instance."""
        return sum(e.amount for e in self.ledger if e.kind == "charge" and e.currency == self.order.currency)

    @property
    def refunded(self) -> int:
        return sum(e.amount for e in self.ledger if e.kind == "refund" and e.currency == self.order.currency)

    @property
    def held(self) -> int:
        """Authorised for this order and still held (never captured nor released), in the order's currency."""
        return sum(amount for auth, amount in open_holds(self.ledger) if auth.currency == self.order.currency)

    @property
    def foreign(self) -> list[LedgerEntry]:
        """Captures and refunds in another currency than the order's: never expected."""
        return [e for e in self.ledger if e.currency != self.order.currency and e.kind in ("charge", "refund")]

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
    instances: dict[str, str] = Field(default_factory=dict)  # provider instance -> type
    integration_errors: list[Attempt] = Field(default_factory=list)  # attributed or not
    unattributed_examples: list[Attempt] = Field(default_factory=list)  # the first few
    # instance -> {"requests", "unattributed", "ledger", "ledger_unattributed"}
    attribution: dict[str, dict[str, int]] = Field(default_factory=dict)
    provider_requests: int = 0  # every journal entry, attributed or not
    routes: dict[str, list[str]] = Field(default_factory=dict)  # instance -> "METHOD /path" it serves
    exponents: dict[str, int] = Field(default_factory=dict)  # currency -> minor-unit exponent (profiles)

    def histories(self) -> list[OrderHistory]:
        return list(self.orders.values())

    def money(self, minor: int, currency: str) -> str:
        """``318.81 USD``: by the currency's exponent, with the currency."""
        from harness.evidence.money import format_money

        return format_money(minor, currency, self.exponents)
