"""Join what the workload saw, what the providers journaled and what their
ledgers hold into per-order histories, and class every provider attempt."""

from __future__ import annotations

from typing import Any, Iterable

from harness.evidence.model import Attempt, Evidence, FaultEvent, LedgerEntry, OrderHistory, TargetCall
from harness.workload.orders import Order

__all__ = ["attempt_from_journal", "build_evidence"]

# Network faults that can lose a reply the provider believes it delivered. While
# one is on, the provider's view of an attempt says nothing about what the
# target received, so the attempt is classed unknown (never ok or failed).
LOSSY_DOWNSTREAM = frozenset({"timeout", "reset_peer", "limit_data"})
LOSSY_BOTH = frozenset({"down"})


def attempt_from_journal(entry: dict[str, Any]) -> Attempt:
    """One journal entry as evidence. Its ``role``, ``class`` and ``failure``
    were computed by the provider from its profile."""
    resp = entry.get("response") or {}
    return Attempt(
        provider=entry.get("provider", "?"),
        type=entry.get("type", ""),
        role=entry.get("role", "other"),
        seq=int(entry.get("seq", 0)),
        t_start=float(entry.get("t_start", 0.0)),
        t_end=float(entry.get("t_end") or entry.get("t_start", 0.0)),
        method=entry.get("method", "?"),
        path=entry.get("path", "?"),
        endpoint=entry.get("endpoint", "unknown"),
        order_ref=entry.get("order_ref"),
        idempotency_key=entry.get("idempotency_key"),
        status=resp.get("status"),
        error_type=resp.get("error_type"),
        error_code=resp.get("error_code"),
        decline_code=resp.get("decline_code"),
        object_id=resp.get("object_id"),
        object_status=resp.get("object_status"),
        replayed=bool(resp.get("replayed")),
        retry_after_s=resp.get("retry_after_s"),
        retry_hint=entry.get("retry_hint"),
        integration=bool(entry.get("integration")),
        error_param=resp.get("error_param"),
        delivery=entry.get("delivery", "delivered"),
        committed=bool(entry.get("committed")),
        fault=entry.get("fault"),
        klass=entry.get("class", "unknown"),
        failure=entry.get("failure"),
    )


def build_evidence(
    orders: Iterable[Order],
    calls: Iterable[TargetCall],
    journals: dict[str, list[dict[str, Any]]],
    ledgers: dict[str, dict[str, Any]],
    faults: list[FaultEvent],
    *,
    journal_dropped: int = 0,
    not_submitted: int = 0,
    t0: float = 0.0,
    instances: dict[str, str] | None = None,
    exponents: dict[str, int] | None = None,
) -> Evidence:
    """``journals`` and ``ledgers`` are keyed by provider instance; money and
    attempts of every instance join the same per-order histories."""
    ev = Evidence(faults=faults, journal_dropped=journal_dropped, not_submitted=not_submitted, t0=t0,
                  instances=dict(instances or {}), exponents=dict(exponents or {}))
    for order in orders:
        ev.orders[order.id] = OrderHistory(order=order)
    ev.submitted = len(ev.orders)
    for call in sorted(calls, key=lambda c: c.t_start):
        h = ev.orders.get(call.order_id)
        if h is not None:
            h.calls.append(call)

    for provider, entries in journals.items():
        attempts = [attempt_from_journal({"provider": provider, **e}) for e in entries]
        ev.provider_requests += len(attempts)
        ev.integration_errors.extend(a for a in attempts if a.integration)
        # An attempt that lost its order reference (a target that drops metadata
        # on retries) is still joined through an idempotency key seen with one.
        key_to_order = {a.idempotency_key: a.order_ref for a in attempts if a.idempotency_key and a.order_ref}
        for a in attempts:
            ref = a.order_ref or key_to_order.get(a.idempotency_key or "")
            h = ev.orders.get(ref or "")
            if h is None:
                ev.unattributed_attempts += 1
                continue
            h.attempts.append(a)

    for provider, ledger in ledgers.items():
        object_order = {o.get("id"): o.get("order_ref") for o in ledger.get("objects", [])}
        for raw in ledger.get("entries", []):
            entry = LedgerEntry(provider=provider, **{k: v for k, v in raw.items() if k != "provider"})
            ref = entry.order_ref or object_order.get(entry.object_id)
            h = ev.orders.get(ref or "")
            if h is None:
                ev.unattributed_ledger.append(entry)
            else:
                h.ledger.append(entry)

    _mark_network_losses(ev, faults)
    for h in ev.orders.values():
        _mark_phases(h)
        h.attempts.sort(key=lambda a: (a.t_start, a.seq))
        h.ledger.sort(key=lambda e: e.t)
        _settle_final(h)
    return ev


def _mark_network_losses(ev: Evidence, faults: list[FaultEvent]) -> None:
    windows: dict[str, list[tuple[float, float, str]]] = {}
    for f in faults:
        if f.layer != "network" or f.t_on is None or f.provider is None:
            continue
        stream = f.rule.get("stream", "downstream")
        if f.kind in LOSSY_BOTH or (f.kind in LOSSY_DOWNSTREAM and stream == "downstream"):
            windows.setdefault(f.provider, []).append((f.t_on, f.t_off if f.t_off is not None else float("inf"), f.name))
    if not windows:
        return
    for h in ev.orders.values():
        for a in h.attempts:
            for on, off, name in windows.get(a.provider, ()):
                if a.t_start <= off and a.t_end >= on:
                    a.network_fault = name
                    if a.klass != "unknown":
                        a.klass, a.failure = "unknown", "dropped"
                    break


def _mark_phases(h: OrderHistory) -> None:
    """``in_call`` when an attempt began while one of the order's pay calls was
    open; ``in_lookup`` while one of its lookup calls was; else ``after_answer``
    (a reconciler, a webhook handler). An order whose pay call never answered
    keeps everything in the call."""
    pays = [(c.t_start, c.t_end if c.status is not None else float("inf")) for c in h.calls if c.kind == "pay"]
    looks = [(c.t_start, c.t_end) for c in h.calls if c.kind == "lookup"]
    for a in h.attempts:
        if not pays or any(start <= a.t_start <= end for start, end in pays):
            a.phase = "in_call"
        elif any(start <= a.t_start <= end for start, end in looks):
            a.phase = "in_lookup"
        else:
            a.phase = "after_answer"


def _settle_final(h: OrderHistory) -> None:
    """The order's final state: the last lookup that answered, else the pay answer."""
    lookups = [c for c in h.calls if c.kind == "lookup"]
    if lookups:
        last = lookups[-1]
        h.final = last.outcome
        h.final_source = "lookup"
        return
    pay = h.pay_call
    if pay is not None:
        h.final = pay.outcome
        h.final_source = "pay"
