"""Join what the workload saw, what the providers journaled and what their
ledgers hold into per-order histories, and class every provider attempt."""

from __future__ import annotations

from typing import Any, Iterable

from harness.evidence.model import Attempt, Evidence, FaultEvent, LedgerEntry, OrderHistory, TargetCall
from harness.workload.orders import Order

__all__ = ["attempt_from_journal", "build_evidence"]

# Network faults that can lose a reply the provider believes it delivered. Where
# the proxy in front recorded what it passed on (the embedded backend), each
# reply is known to have reached the service or been cut; where it cannot say
# (Toxiproxy), an attempt under one of these is of unknown fate: classed
# unknown, unless the service's own answer proves the reply reached it.
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
        conn_port=(entry.get("conn") or {}).get("port"),
        reply_end=(entry.get("conn") or {}).get("reply_end"),
        committed=bool(entry.get("committed")),
        fault=entry.get("fault"),
        klass=entry.get("class", "unknown"),
        failure=entry.get("failure"),
        # Sent by the harness as the customer's browser (a step to a provider): never the service's attempt.
        phase="customer" if (entry.get("headers") or {}).get("paychaos-actor") == "customer" else "in_call",
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
    correlations: dict[str, list[Any]] | None = None,
    amount: Any = "from_order",
    deliveries: dict[str, list[dict[str, Any]]] | None = None,
) -> Evidence:
    """``journals`` and ``ledgers`` are keyed by provider instance; money and
    attempts of every instance join the same per-order histories.

    Provider traffic is tied to orders, per instance, by (in order): the order
    reference the request carries (our order id, or the service's own code
    captured from its answers), the provider object id found in the service's
    answers (``correlations``), the idempotency-key chain (all attempts under
    one key are one payment) and the object chain (all requests about one
    provider object are one payment). ``amount`` says what the service was
    expected to charge (the target file's ``amount``). ``deliveries``, per
    instance behind a fault proxy that records them, say which replies reached
    the service (``FaultBackend.deliveries``)."""
    ev = Evidence(faults=faults, journal_dropped=journal_dropped, not_submitted=not_submitted, t0=t0,
                  instances=dict(instances or {}), exponents=dict(exponents or {}))
    for order in orders:
        ev.orders[order.id] = OrderHistory(order=order)
    ev.submitted = len(ev.orders)
    for call in sorted(calls, key=lambda c: c.t_start):
        h = ev.orders.get(call.order_id)
        if h is not None:
            h.calls.append(call)
    for h in ev.orders.values():
        h.expected_amount = _expected_amount(h, amount)

    for provider in sorted(set(journals) | set(ledgers)):
        _attribute(ev, provider, journals.get(provider, []), ledgers.get(provider, {}),
                   (correlations or {}).get(provider, []))

    _mark_network_losses(ev, faults, deliveries or {})
    for h in ev.orders.values():
        _mark_phases(h)
        h.attempts.sort(key=lambda a: (a.t_start, a.seq))
        h.ledger.sort(key=lambda e: e.t)
        _settle_final(h)
    return ev


def _expected_amount(h: OrderHistory, amount: Any) -> int | None:
    """What the service was expected to charge for this order; None when its answer does not say."""
    fixed = getattr(amount, "fixed", None)
    if fixed is not None:
        return int(fixed)
    path = getattr(amount, "from_response", None)
    if path is None:
        return h.order.amount
    from harness.spec.paths import read_path

    for call in h.calls:
        value = read_path(call.body, path)
        if isinstance(value, bool):
            continue
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
    return None


def _attribute(ev: Evidence, provider: str, entries: list[dict[str, Any]], ledger: dict[str, Any],
               correlations: list[Any]) -> None:
    """Tie one instance's journal and ledger to orders (see build_evidence)."""
    attempts = [attempt_from_journal({"provider": provider, **e}) for e in entries]
    ev.provider_requests += len(attempts)
    ev.integration_errors.extend(a for a in attempts if a.integration)
    by_ref: dict[str, str] = {oid: oid for oid in ev.orders}  # order reference -> order id
    by_object: dict[str, str] = {}  # provider object id -> order id
    for h in ev.orders.values():
        for corr in correlations:
            for call in h.calls:
                value = corr.extract(call.body, call.refs) if call.body is not None or call.refs else None
                if value:
                    (by_object if corr.as_ == "object_id" else by_ref).setdefault(value, h.order.id)
    for obj in ledger.get("objects", []):
        if obj.get("id") and obj.get("order_ref") in by_ref:
            by_object.setdefault(obj["id"], by_ref[obj["order_ref"]])

    owner: dict[int, str] = {}  # attempt index -> order id
    inferred: set[str] = set()  # objects tied by amount and time only
    for i, a in enumerate(attempts):
        oid = (by_ref.get(a.order_ref or "") or by_object.get(a.object_id or "") or by_ref.get(a.object_id or "")
               or _object_in_path(a.path, by_object))
        if oid is not None:
            owner[i] = oid
    # The chains: one key is one payment; one provider object is one payment.
    changed = True
    while changed:
        changed = False
        by_key = {(a.idempotency_key): owner[i] for i, a in enumerate(attempts) if i in owner and a.idempotency_key}
        for i, a in enumerate(attempts):
            if i in owner:
                if a.object_id and a.object_id not in by_object:
                    by_object[a.object_id] = owner[i]
                    changed = True
                continue
            oid = by_key.get(a.idempotency_key or "") or by_object.get(a.object_id or "") \
                or _object_in_path(a.path, by_object)
            if oid is not None:
                owner[i] = oid
                changed = True
    # Last resort, marked inferred: a provider object nothing else ties to an order, whose charge has the
    # amount one order was to charge and was made while that order's pay call was open (and only that one).
    for raw in ledger.get("entries", []):
        obj = raw.get("object_id")
        if raw.get("kind") != "charge" or not obj or obj in by_object or by_ref.get(raw.get("order_ref") or ""):
            continue
        oid = _by_amount_and_time(ev, raw)
        if oid is not None:
            by_object[obj] = oid
            inferred.add(obj)
            for i, a in enumerate(attempts):
                if i not in owner and (a.object_id == obj or _object_in_path(a.path, {obj: oid})):
                    owner[i] = oid
    stats = ev.attribution.setdefault(provider, {"requests": 0, "unattributed": 0, "ledger": 0,
                                                 "ledger_unattributed": 0, "inferred": 0})
    stats["requests"] += len(attempts)
    for i, a in enumerate(attempts):
        oid = owner.get(i)
        if oid is None and a.integration:  # not understood: integration.api reports it, not attribution
            stats["requests"] -= 1
            continue
        if oid is None:
            ev.unattributed_attempts += 1
            stats["unattributed"] += 1
            if len(ev.unattributed_examples) < 3:
                ev.unattributed_examples.append(a)
            continue
        if a.object_id in inferred or _object_in_path(a.path, dict.fromkeys(inferred, oid)):
            a.inferred = True
        ev.orders[oid].attempts.append(a)

    for raw in ledger.get("entries", []):
        entry = LedgerEntry(provider=provider, **{k: v for k, v in raw.items() if k != "provider"})
        stats["ledger"] += 1
        oid = by_ref.get(entry.order_ref or "") or by_object.get(entry.object_id or "")
        if oid is None:
            ev.unattributed_ledger.append(entry)
            stats["ledger_unattributed"] += 1
        else:
            if entry.object_id in inferred:
                entry.inferred = True
                stats["inferred"] += 1
            ev.orders[oid].ledger.append(entry)


def _by_amount_and_time(ev: Evidence, raw: dict[str, Any]) -> str | None:
    """The one order that was to charge this amount in this currency and whose pay
    call was open when the charge was made; None when none or several fit."""
    # The default of `t` never decides: an entry without it fails as a LedgerEntry below either way.
    t, amount, currency = raw.get("t", 0.0), raw.get("amount"), raw.get("currency")  # mutation: equivalent
    fits = []
    for h in ev.orders.values():
        if h.expected_amount != amount or h.order.currency != currency:
            continue
        for c in h.calls:
            start, end = c.span
            if c.kind == "pay" and start <= t <= (end if c.status is not None else float("inf")):
                fits.append(h.order.id)
                break
        if len(fits) > 1:  # mutation: equivalent(number) (an early exit: the return below decides)
            return None
    return fits[0] if len(fits) == 1 else None


def _object_in_path(path: str, by_object: dict[str, str]) -> str | None:
    """``/v1/payment_intents/pi_123/confirm`` names pi_123."""
    if not by_object:
        return None
    for segment in path.split("?", 1)[0].split("/"):  # mutation: equivalent(number) ([0]: any maxsplit)
        oid = by_object.get(segment)
        if oid is not None:
            return oid
    return None


def _mark_network_losses(ev: Evidence, faults: list[FaultEvent], deliveries: dict[str, list[dict[str, Any]]]) -> None:
    """Say, per attempt, whether its reply reached the service (``Attempt.reply``)."""
    windows: dict[str, list[tuple[float, float, str]]] = {}
    lag = _downstream_lag(faults)
    for f in faults:
        if f.layer != "network" or f.t_on is None or f.provider is None:
            continue
        stream = f.rule.get("stream", "downstream")
        if f.kind in LOSSY_BOTH or (f.kind in LOSSY_DOWNSTREAM and stream == "downstream"):
            # A reply written shortly before the window may still be held by a delaying toxic when it opens.
            windows.setdefault(f.provider, []).append((f.t_on - lag.get(f.provider, 0.0),
                                                       f.t_off if f.t_off is not None else float("inf"), f.name))
    conns: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for instance, records in deliveries.items():
        by_port = conns.setdefault(instance, {})
        for r in records:
            by_port.setdefault(int(r["port"]), []).append(r)
    if not windows and not conns:
        return
    for h in ev.orders.values():
        for a in h.attempts:
            if a.phase == "customer":  # the customer's browser reaches the provider directly
                continue
            window = next((name for on, off, name in windows.get(a.provider, ()) if a.t_start <= off and a.t_end >= on),
                          None)
            if window is not None:
                a.network_fault = window
            if a.provider in conns:
                if a.reply_end is None:  # no reply was written (dropped, caller gone): the provider's view holds
                    continue
                conn = _connection(conns[a.provider].get(a.conn_port or -1, ()), a.t_start)
                if conn is None:  # not through the proxy: the provider's view holds
                    continue
                if int(conn["delivered"]) >= a.reply_end:
                    a.reply = "reached"
                else:
                    a.reply = "cut"
                    _lost(a, "dropped" if window is not None else "timeout")
                    a.network_fault = a.network_fault or "reply not passed on by the proxy"
            elif window is not None and a.status is not None:  # a reply was written; it may have been cut
                a.reply = "unknown"
            elif window is not None:  # nothing was written: the provider's view (unknown) holds
                continue
        if any(a.reply == "unknown" for a in h.attempts):
            _proven_by_the_answer(h)
            for a in h.attempts:
                if a.reply == "unknown":
                    _lost(a, "dropped")


# A reply's size, for the time a slicer or bandwidth toxic holds it (cardpay's replies are 1-3 KB).
_REPLY_BYTES_BOUND = 8192


def _downstream_lag(faults: list[FaultEvent]) -> dict[str, float]:
    """Per instance, an upper bound (s) of how long the downstream toxics may hold a
    reply in the proxy: latency + jitter, slices, bandwidth, plus 100 ms."""
    lag: dict[str, float] = {}
    for f in faults:
        attrs = f.rule.get("attributes") or f.rule
        if f.layer != "network" or f.provider is None or f.rule.get("stream", "downstream") != "downstream":
            continue
        if f.kind == "latency":
            held = (float(attrs.get("latency", 0)) + float(attrs.get("jitter", 0))) / 1000
        elif f.kind == "slicer":
            smallest = max(1, int(attrs.get("average_size", 1)) - int(attrs.get("size_variation", 0)))
            held = float(attrs.get("delay", 0)) / 1e6 * (_REPLY_BYTES_BOUND / smallest)
        elif f.kind == "bandwidth":
            held = _REPLY_BYTES_BOUND / (1000 * max(1.0, float(attrs.get("rate", 1))))
        else:
            continue
        lag[f.provider] = lag.get(f.provider, 0.1) + min(held, 5.0)
    return lag


def _connection(records, t: float) -> dict[str, Any] | None:
    """The proxy connection on this upstream port that was open at ``t`` (ports are reused over a run)."""
    for r in records:
        if r["t_open"] <= t + 0.001 and (r["t_close"] is None or t <= r["t_close"]):
            return r
    return None


def _lost(a: Attempt, failure: str) -> None:
    """A reply that never reached the service (or may not have): its outcome is unknown to it."""
    if a.klass != "unknown":
        a.klass, a.failure = "unknown", failure
    a.retry_hint = None  # a hint in a reply that never arrived says nothing


def _proven_by_the_answer(h: OrderHistory) -> None:
    """The service's own answers prove it got a reply: they carry a decline code
    that only a reply carrying it could have told it. Of the replies of unknown
    fate that carry it, only the LAST one sent before that answer is proven (a
    retry under the same key replays the same code: the earlier reply may still
    have been cut)."""
    for c in h.calls:
        answered = c.span[1]
        carrying: dict[str, Attempt] = {}
        for a in sorted(h.attempts, key=lambda a: (a.t_start, a.seq)):
            if a.decline_code and a.status is not None and a.phase != "customer" and a.t_start <= answered:
                carrying[a.decline_code] = a
        for code, a in carrying.items():
            if a.reply == "unknown" and (_contains(c.body, code) or (c.text and code in c.text)):
                a.reply = "reached"


def _contains(value: Any, needle: str) -> bool:
    if isinstance(value, str):
        return value == needle
    if isinstance(value, dict):
        return any(_contains(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(_contains(v, needle) for v in value)
    return False


def _mark_phases(h: OrderHistory) -> None:
    """``in_call`` when an attempt began while one of the order's pay calls was
    open; ``in_lookup`` while one of its lookup calls was; else ``after_answer``
    (a reconciler, a webhook handler). An order whose pay call never answered
    keeps everything in the call."""
    pays = [(c.span[0], c.span[1] if c.status is not None else float("inf")) for c in h.calls if c.kind == "pay"]
    looks = [c.span for c in h.calls if c.kind == "lookup"]
    for a in h.attempts:
        if a.phase == "customer":
            continue
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
