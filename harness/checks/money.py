"""Money invariants, checked on every run across ALL provider instances' ledgers.

- no double charge: an order is never captured (or captured and still held)
  for more than its amount;
- no orphan capture: money captured, or authorised and left held (neither
  captured nor released when the run ends), for an order the target calls
  failed, declined, pending or does not know, in another currency than the
  order's, or for no known order at all;
- the target's final state equals the ledgers': a "succeeded" order was paid;
- every order reaches a final state once the faults are gone and the drain ends;
- an unknown outcome is resolved, never guessed: an order whose last payment
  attempt had no answer the service could read is reported final only after
  the service asked the provider (Jepsen's rule for indeterminate operations).

Amounts are in minor units, formatted by each currency's exponent (from the
providers' profiles) and summed per currency.
"""

from __future__ import annotations

from harness.checks.base import (CheckContext, Verdict, failed, incomplete_journal, passed, pick_examples, register,
                                 skipped)
from harness.evidence.model import Attempt, Evidence, OrderHistory, TargetCall, open_holds
from harness.evidence.money import add_amounts, format_amounts

__all__: list[str] = []


def _risk(offenders: list[tuple[OrderHistory, str, float]]) -> dict[str, int]:
    return add_amounts({h.order.currency: int(bad)} for h, _, bad in offenders)


@register("money.no_double_charge", severity="critical", always=True,
          clause="no order is charged more than once (net of refunds), across all providers")
def no_double_charge(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "money.no_double_charge"
    charged = [h for h in ev.histories() if h.charges or h.held]
    if not charged:
        return skipped(ctx, cid, "no order was charged, so no double charge could be seen")
    offenders = []
    for h in charged:
        cur = h.order.currency
        holds = [(auth, amount) for auth, amount in open_holds(h.ledger) if auth.currency == cur]
        if len(h.charges) + len(holds) < 2:
            continue  # one capture of the wrong amount is not a double charge (state_matches_ledger says it)
        # Against the amount the service was to charge; when its answer did not say, against one charge.
        takes = [e.amount for e in h.charges] + [amount for _, amount in holds]
        expected = h.expected_amount if h.expected_amount is not None else max(takes)
        excess = h.net_captured + h.held - expected
        if excess > 0:
            objects = ", ".join([f"{e.provider}:{e.object_id or '?'}" for e in h.charges]
                                + [f"{a.provider}:{a.object_id or '?'} (held)" for a, _ in holds])
            basis = (f"for an order of {ev.money(expected, cur)}" if h.expected_amount is not None
                     else f"where one charge was {ev.money(expected, cur)}")
            refunded = f", refunded {ev.money(h.refunded, cur)}" if h.refunded else ""
            took = f"captured {ev.money(h.captured, cur)}"
            if h.held:
                took += f" and held {ev.money(h.held, cur)} never captured nor released"
            what = "captures" if not holds else "captures and holds"
            why = f"{took} {basis} ({len(takes)} {what}: {objects}){refunded}"
            offenders.append((h, why, excess))
    if offenders:
        at_risk = _risk(offenders)
        return failed(ctx, cid, f"{len(offenders)} of {len(charged)} charged orders were charged more than once; "
                      f"{format_amounts(at_risk, ev.exponents)} over-captured", judged=len(charged),
                      offenders=len(offenders), examples=pick_examples(offenders, exponents=ev.exponents),
                      money_at_risk=at_risk)
    return passed(ctx, cid, f"{len(charged)} charged orders, each captured at most once", judged=len(charged))


@register("money.no_orphan_capture", severity="critical", always=True,
          clause="no money is captured, or left held on a card, for an order the target reports as not paid, "
                 "or for no order at all")
def no_orphan_capture(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "money.no_orphan_capture"
    captured = [h for h in ev.histories() if h.net_captured > 0 or h.foreign or h.held]
    stray = [e for e in ev.unattributed_ledger if e.kind == "charge"]
    stray += [auth.model_copy(update={"amount": amount}) for auth, amount in open_holds(ev.unattributed_ledger)]
    if not captured and not stray:
        return skipped(ctx, cid, "no money was captured, so no orphan capture could be seen")
    offenders, risk = [], []
    for h in captured:
        cur = h.order.currency
        foreign = add_amounts({e.currency: e.amount if e.kind == "charge" else -e.amount} for e in h.foreign)
        if foreign:
            why = (f"captured {format_amounts(foreign, ev.exponents)} for an order in {cur.upper()} "
                   f"({ev.money(h.expected_amount or h.order.amount, cur)})")
            offenders.append((h, why, sum(foreign.values())))
            risk.append(foreign)
        elif (h.net_captured > 0 or h.held) and h.final != "succeeded":
            state = h.final or "unknown (the target could not say)"
            took = []
            if h.net_captured > 0:
                took.append(f"captured {ev.money(h.net_captured, cur)}")
            if h.held:
                took.append(f"held {ev.money(h.held, cur)} on the card, never captured nor released")
            why = f"{' and '.join(took)} but the target's final state is {state}"
            offenders.append((h, why, max(h.net_captured, 0) + h.held))
            risk.append({cur: max(h.net_captured, 0) + h.held})
    risk.extend({e.currency: e.amount} for e in stray)
    if offenders or stray:
        at_risk = add_amounts(risk)
        parts = []
        if offenders:
            held = any(h.held for h, _, _ in offenders)
            parts.append(f"{len(offenders)} orders captured{' or held' if held else ''} but not reported paid")
        if stray:
            objects = ", ".join(sorted({f"{e.provider}:{e.object_id or '?'}" for e in stray})[:5])
            what = "charges" if all(e.kind == "charge" for e in stray) else "charges or open holds"
            parts.append(f"{len(stray)} {what} carry no known order ({objects})")
        return failed(ctx, cid, "; ".join(parts) + f"; {format_amounts(at_risk, ev.exponents)} at risk",
                      judged=len(captured) + len(stray), offenders=len(offenders) + len(stray),
                      examples=pick_examples(offenders, exponents=ev.exponents), money_at_risk=at_risk,
                      figures={"unattributed_charges": [e.model_dump() for e in stray[:20]]})
    return passed(ctx, cid, f"all {len(captured)} captures belong to orders the target reports paid", judged=len(captured))


@register("money.state_matches_ledger", severity="critical", always=True,
          clause="an order the target reports succeeded is captured, for the amount it was to charge, in a provider ledger")
def state_matches_ledger(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "money.state_matches_ledger"
    succeeded = [h for h in ev.histories() if h.final == "succeeded"]
    if not succeeded:
        return skipped(ctx, cid, "no order ended succeeded, so there was nothing to match against the ledgers")
    offenders = []
    for h in succeeded:
        cur = h.order.currency
        expected = h.expected_amount
        if expected is None:  # the answer did not say what it charged: only "nothing at all" is judged
            if h.net_captured <= 0:
                offenders.append((h, "the target reports succeeded but the ledgers hold nothing for it", 0))
            continue
        if h.net_captured < expected:
            why = (f"the target reports succeeded but the ledgers hold {ev.money(h.net_captured, cur)} "
                   f"of {ev.money(expected, cur)}")
            offenders.append((h, why, expected - h.net_captured))
        elif h.net_captured > expected and len(h.charges) == 1:
            why = f"captured {ev.money(h.net_captured, cur)}, expected {ev.money(expected, cur)} (1 capture)"
            offenders.append((h, why, h.net_captured - expected))
    if offenders:
        at_risk = _risk(offenders)
        return failed(ctx, cid, f"{len(offenders)} of {len(succeeded)} succeeded orders are not captured for the "
                      f"amount they were to charge; {format_amounts(at_risk, ev.exponents)} at stake", judged=len(succeeded),
                      offenders=len(offenders), examples=pick_examples(offenders, exponents=ev.exponents),
                      money_at_risk=at_risk)
    return passed(ctx, cid, f"{len(succeeded)} succeeded orders, each captured for its amount", judged=len(succeeded))


@register("money.all_final", severity="critical", always=True,
          clause="every submitted order reaches a final state by the end of the drain")
def all_final(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "money.all_final"
    finals = ctx.contract.spec.money.final_states
    clause = f"every submitted order reaches a final state ({', '.join(finals)}) by the end of the drain"
    orders = ev.histories()
    if not orders:
        return skipped(ctx, cid, "no order was submitted", clause=clause)
    offenders = []
    for h in orders:
        if h.final not in finals:
            last = h.calls[-1] if h.calls else None
            if h.final is not None:
                why = f"still {h.final} after the drain"
            elif last is not None and last.status == 404:
                why = "the target does not know this order (404): lost"
            elif last is not None and last.error:
                why = f"no state: {last.error}"
            else:
                why = "no readable state in the target's answer"
            offenders.append((h, why, h.expected_amount if h.expected_amount is not None else h.order.amount))
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {len(orders)} orders did not reach a final state",
                      clause=clause, judged=len(orders), offenders=len(offenders),
                      examples=pick_examples(offenders, exponents=ev.exponents), money_at_risk=_risk(offenders))
    return passed(ctx, cid, f"all {len(orders)} orders final", clause=clause, judged=len(orders))


def _reported_final(h: OrderHistory, finals: list[str]) -> TargetCall | None:
    """The first of the order's answers that gave a final state."""
    return next((c for c in sorted(h.calls, key=lambda c: c.span[1]) if c.outcome in finals), None)


def _resolves(a: Attempt, unknown: Attempt) -> bool:
    """``a`` told the service what became of ``unknown``: a lookup the provider
    answered, or a replay under the same key that got the payment's answer."""
    if a is unknown or a.phase == "customer" or a.t_start < unknown.t_start:
        return False
    if a.role == "lookup":
        return a.klass == "ok" or a.failure == "not_found"
    return (a.is_charge and a.idempotency_key is not None and a.idempotency_key == unknown.idempotency_key
            and (a.klass == "ok" or a.failure == "decline"))


@register("money.unknown_resolved", severity="critical", always=True,
          clause="an order whose payment outcome was unknown is looked up (or replayed) before it is reported final")
def unknown_resolved(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "money.unknown_resolved"
    finals = ctx.contract.spec.money.final_states
    clause = ("an order whose last payment attempt got no answer the service could read is reported final "
              f"({', '.join(finals)}) only after a lookup or a same-key replay that got an answer")
    if (v := incomplete_journal(ev, ctx, cid, clause)) is not None:
        return v
    judged, offenders, uncertain = 0, [], 0
    for h in ev.histories():
        charges = h.in_call_charges
        if not charges or charges[-1].klass != "unknown":
            continue
        last = charges[-1]
        if last.reply == "unknown":  # a network fault may or may not have cut it, and the backend cannot say
            uncertain += 1
            continue
        final = _reported_final(h, finals)
        if final is None:
            continue  # still open: money.all_final judges it
        judged += 1
        t_final = final.span[1]
        if any(_resolves(a, last) and a.t_start <= t_final for a in h.attempts):
            continue
        asked = [a for a in h.attempts if a.role == "lookup" and a.phase != "customer" and a.t_start >= last.t_start
                 and a.t_start <= t_final]
        how = ("and never looked up" if not asked else
               f"and its {len(asked)} lookup(s) got no answer ({', '.join(a.label() for a in asked[:3])})")
        via = "its answer" if final.kind == "pay" else "a lookup of the order"
        why = (f"reported {final.outcome} at {t_final - ev.t0:.1f} s ({via}); the charge's outcome was unknown since "
               f"{last.t_start - ev.t0:.1f} s (attempt {len(charges)}: {last.label()}) {how}")
        offenders.append((h, why, h.expected_amount if h.expected_amount is not None else h.order.amount))
    note = f"; {uncertain} whose last reply a network fault may have cut were not judged" if uncertain else ""
    if not judged:
        return skipped(ctx, cid, "no order reported final had a payment attempt of unknown outcome last" + note,
                       clause=clause)
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {judged} orders with an unknown outcome were reported final "
                      f"without resolving it{note}", clause=clause, judged=judged, offenders=len(offenders),
                      examples=pick_examples(offenders, exponents=ev.exponents), money_at_risk=_risk(offenders))
    return passed(ctx, cid, f"{judged} orders with an unknown outcome, each resolved before it was reported final{note}",
                  clause=clause, judged=judged)
