"""Hand-built evidence for the unit tests of the checks and the evidence builder.

Everything here is plain data: orders, the workload's calls, provider attempts
classed by cardpay's own profile, ledger entries, and journal entries as a
provider instance writes them. The checks are judged under the reference
target and contract (``CTX``), or under a copy with some sections replaced
(``ctx_with``)::

    h = history([attempt(0.0, 503), attempt(0.2, 200)], "succeeded", charges=1)
    assert verdict("retry.transient", h).status == "pass"
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from harness.checks import CheckContext, Verdict, run_checks
from harness.evidence.model import Attempt, Evidence, LedgerEntry, OrderHistory, TargetCall
from harness.spec import load_contract, load_scenario, load_target
from harness.workload.orders import Card, Customer, Order
from mock_providers.cardpay.profile import PROFILE as CARDPAY

REPO = Path(__file__).resolve().parents[2]
TARGET = load_target(REPO / "scenarios/targets/reference.yaml")
CONTRACT = load_contract(REPO / "scenarios/contracts/reference.yaml")
SCENARIO = load_scenario(REPO / "scenarios/standard/card-timeouts.yaml", TARGET.spec)
CTX = CheckContext(contract=CONTRACT, scenario=SCENARIO, target=TARGET.spec)
VISA = Card(name="visa", provider="cardpay", expected="succeeded", category="ok",
            fields={"number": "4242424242424242", "payment_method": "pm_card_visa"})
WHO = Customer(name="A B", email="a@example.org", phone="1", address="x")


def order(i: int = 1, amount: int = 1000, currency: str = "usd") -> Order:
    return Order(index=i, id=f"ord_{i}", amount=amount, currency=currency, description="d", card=VISA, customer=WHO)


def attempt(t: float, status: int | None, *, dur: float = 0.01, key: str | None = "k1", delivery: str = "delivered",
            decline: str | None = None, error_code: str | None = None, retry_after: float | None = None,
            ref: str | None = "ord_1", role: str = "charge", phase: str = "in_call", seq: int | None = None,
            **extra: Any) -> Attempt:
    """A request cardpay received, classed by cardpay's profile as its journal would be."""
    code = error_code or ("card_declined" if decline else None)
    klass, failure = CARDPAY.classify(status, delivery, code, decline)
    endpoint = {"charge": "payment_intents.create", "lookup": "payment_intents.search"}.get(role, "x")
    return Attempt(provider="cardpay", type="cardpay", role=role, seq=int(t * 1000) if seq is None else seq,
                   t_start=t, t_end=t + dur, method="POST" if role == "charge" else "GET",
                   path="/v1/payment_intents", endpoint=endpoint, order_ref=ref, idempotency_key=key, status=status,
                   error_code=code, decline_code=decline, retry_after_s=retry_after, delivery=delivery, klass=klass,
                   failure=failure, phase=phase, **extra)


def lookup(t: float, *, phase: str = "after_answer", ref: str = "ord_1", status: int | None = 200) -> Attempt:
    return attempt(t, status, key=None, role="lookup", phase=phase, ref=ref)


def late(a: Attempt) -> Attempt:
    """The same attempt, sent after the service answered (a reconciler)."""
    return a.model_copy(update={"phase": "after_answer"})


def charge(amount: int = 1000, *, t: float = 10.0, obj: str = "pi_0", kind: str = "charge", currency: str = "usd",
           ref: str | None = "ord_1", seq: int = 0, provider: str = "cardpay") -> LedgerEntry:
    return LedgerEntry(provider=provider, seq=seq, t=t, kind=kind, amount=amount, currency=currency, object_id=obj,
                       order_ref=ref)


def call(kind: str, t0: float, t1: float, outcome: str | None, *, status: int | None = 200, body: Any = ...,
         order_id: str = "ord_1", error: str | None = None, text: str = "") -> TargetCall:
    """A call of the workload to the target; its body by default ``{"status": outcome}`` when it answered."""
    if body is ...:
        body = {"status": outcome} if status is not None else None
    return TargetCall(order_id=order_id, kind=kind, t_start=t0, t_end=t1, status=status, outcome=outcome,
                      body=body, error=error, text=text)


def history(attempts: list[Attempt], final: str | None, *, charges: int = 0, o: Order | None = None,
            ledger: list[LedgerEntry] | None = None, pay_body: Any = None, pay_status: int | None = 200,
            pay_elapsed: float = 0.1, lookup_call: bool = True, expected: int | None | str = "order") -> OrderHistory:
    """One order: a pay call at t=0, a lookup after the drain at t=20 (when ``lookup_call``), the
    attempts given, and ``charges`` captures of the order's amount (or the ``ledger`` given)."""
    o = o or order()
    if ledger is None:
        ledger = [charge(o.amount, t=10.0 + i, obj=f"pi_{i}", currency=o.currency, ref=o.id, seq=i)
                  for i in range(charges)]
    calls = [call("pay", 0.0, pay_elapsed, final, status=pay_status, order_id=o.id,
                  body=pay_body if pay_body is not None else ...)]
    if lookup_call:
        calls.append(call("lookup", 20.0, 20.01, final, order_id=o.id))
    h = OrderHistory(order=o, calls=calls, attempts=attempts, ledger=ledger, final=final,
                     final_source="lookup" if lookup_call else "pay")
    if expected != "order":
        h.expected_amount = expected  # type: ignore[assignment]
    return h


def evidence(*histories: OrderHistory, **kw: Any) -> Evidence:
    return Evidence(orders={h.order.id: h for h in histories}, submitted=len(histories), **kw)


def verdict(cid: str, *histories: OrderHistory, ctx: CheckContext = CTX, **kw: Any) -> Verdict:
    """The verdict of clause ``cid`` on these histories (``kw``: other Evidence fields)."""
    (v,) = run_checks([cid], evidence(*histories, **kw), ctx)
    assert v.check == cid
    return v


def ctx_with(**sections: Any) -> CheckContext:
    """The reference contract with some sections replaced (``retry=...``, ``reconcile=None``)."""
    spec = CONTRACT.spec.model_copy(update=sections)
    return dataclasses.replace(CTX, contract=dataclasses.replace(CONTRACT, spec=spec))


def retry_with(**fields: Any) -> CheckContext:
    """The reference contract with some retry fields replaced (``max_attempts=5``, ``backoff=None``)."""
    return ctx_with(retry=CONTRACT.spec.retry.model_copy(update=fields))


def backoff_with(**fields: Any) -> CheckContext:
    return retry_with(backoff=CONTRACT.spec.retry.backoff.model_copy(update=fields))


def target_with(**error_paths: Any) -> CheckContext:
    """The reference target with some ``response.error`` paths replaced (``contact=None``)."""
    response = TARGET.spec.response
    response = response.model_copy(update={"error": response.error.model_copy(update=error_paths)})
    return dataclasses.replace(CTX, target=TARGET.spec.model_copy(update={"response": response}))


# -- journal entries and ledgers, as provider instances report them (for build_evidence)


def entry(seq: int, t: float, *, ref: str | None = "ord_1", key: str | None = "k1", obj: str | None = None,
          status: int | None = 200, role: str = "charge", klass: str = "ok", failure: str | None = None,
          path: str = "/v1/payment_intents", method: str = "POST", dur: float = 0.01, **extra: Any) -> dict:
    """A journal entry as a provider instance writes it (the fields the join reads)."""
    return {"seq": seq, "type": "cardpay", "role": role, "class": klass, "failure": failure, "t_start": t,
            "t_end": t + dur, "method": method, "path": path, "endpoint": "payment_intents.create",
            "order_ref": ref, "idempotency_key": key, "delivery": "delivered" if status is not None else "dropped",
            "response": {"status": status, "object_id": obj} if status is not None else None, **extra}


def ledger_entry(seq: int, t: float, amount: int = 1000, *, obj: str | None = "pi_1", ref: str | None = None,
                 kind: str = "charge", currency: str = "usd") -> dict:
    return {"seq": seq, "t": t, "kind": kind, "amount": amount, "currency": currency, "object_id": obj,
            "order_ref": ref}


def ledger(*entries: dict, objects: list[dict] | None = None) -> dict:
    return {"entries": list(entries), "objects": list(objects or [])}
