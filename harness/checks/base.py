"""Checks: pure functions ``(evidence, context) -> Verdict``, registered by clause id.

A verdict names the contract clause it enforces (and where the contract says
so), the measured figure, and the first / worst / last offending orders with
their full history. A check that cannot decide says so: ``skipped`` with the
reason, never ``pass``.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Literal, Sequence

from pydantic import BaseModel, Field

from harness.evidence.model import Evidence, OrderHistory
from harness.spec.loader import LoadedContract, LoadedScenario
from harness.spec.target import Target

__all__ = ["Verdict", "Example", "CheckContext", "Check", "register", "REGISTRY", "FAMILIES", "resolve_checks",
           "run_checks", "skipped", "passed", "failed", "errored", "pick_examples", "incomplete_journal"]

Status = Literal["pass", "fail", "error", "skipped"]
Severity = Literal["critical", "major", "minor"]


class Example(BaseModel):
    order_id: str
    why: str
    history: dict[str, Any] = Field(default_factory=dict)


class Verdict(BaseModel):
    check: str  # clause id, e.g. "retry.max_attempts"
    family: str
    status: Status
    severity: Severity
    clause: str  # the documented expectation in words
    where: str = ""  # contract file:line
    measured: str = ""  # the figure that decided it
    reason: str = ""  # why skipped / error
    judged: int = 0  # how many orders (or calls) the check looked at
    offenders: int = 0
    figures: dict[str, Any] = Field(default_factory=dict)
    examples: list[Example] = Field(default_factory=list)
    money_at_risk: dict[str, int] | None = None  # currency -> minor units, where money is involved

    def headline(self) -> str:
        text = self.measured if self.status in ("pass", "fail") else self.reason
        return f"{self.check}: {self.status.upper()} - {text}"


@dataclass(frozen=True)
class CheckContext:
    contract: LoadedContract
    scenario: LoadedScenario
    target: Target


CheckFn = Callable[[Evidence, CheckContext], Verdict]


@dataclass(frozen=True)
class Check:
    id: str
    family: str
    severity: Severity
    clause: str  # human text; may use {contract} fields via describe()
    fn: CheckFn
    always: bool = False  # money: on in every run
    gate: bool = False  # runs first; when it errors, no other verdict is computed (it would be false)


_registry: dict[str, Check] = {}
REGISTRY = MappingProxyType(_registry)
_families: dict[str, list[str]] = {}
FAMILIES = MappingProxyType(_families)


def register(check_id: str, *, severity: Severity, clause: str, always: bool = False,
             gate: bool = False) -> Callable[[CheckFn], CheckFn]:
    family = check_id.split(".", 1)[0]  # mutation: equivalent(number) ([0] is the same for any maxsplit)

    def wrap(fn: CheckFn) -> CheckFn:
        if check_id in _registry:
            raise ValueError(f"check {check_id!r} is registered twice")
        _registry[check_id] = Check(check_id, family, severity, clause, fn, always or gate, gate)
        _families.setdefault(family, []).append(check_id)
        return fn

    return wrap


def resolve_checks(verify: Sequence[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """Scenario ``verify`` entries (families or clause ids) -> clause ids, money first."""
    from harness.spec.messages import did_you_mean

    chosen = [c.id for c in _registry.values() if c.always]
    problems: list[tuple[int, str]] = []
    for i, name in enumerate(verify):
        if name in _families:
            ids = _families[name]
        elif name in _registry:
            ids = [name]
        else:
            known = sorted([*_families, *_registry])
            problems.append((i, f"unknown check {name!r}{did_you_mean(name, known)}; families: {', '.join(sorted(_families))}"))
            continue
        chosen.extend(i_ for i_ in ids if i_ not in chosen)
    return chosen, problems


def run_checks(check_ids: Sequence[str], evidence: Evidence, ctx: CheckContext) -> list[Verdict]:
    """Run each check; one that raises becomes an ``error`` verdict, never a crash.
    Gate checks run first: when one errors, every other check is skipped with its reason."""
    gates = [c for c in check_ids if _registry[c].gate]
    out: list[Verdict] = []
    stopped: list[Verdict] = []
    for cid in check_ids:
        if cid in gates and not stopped:  # in order: the first gate that errors says why
            out.append(_run_one(cid, evidence, ctx))
            if out[-1].status == "error":
                stopped.append(out[-1])
            continue
        if stopped:
            check = _registry[cid]
            out.append(Verdict(check=cid, family=check.family, status="skipped", severity=check.severity,
                               clause=check.clause, where=ctx.contract.where(cid),
                               reason=f"not judged: {stopped[0].check} says the evidence cannot be trusted "
                                      "(see its verdict)"))
            continue
        out.append(_run_one(cid, evidence, ctx))
    return out


def _run_one(cid: str, evidence: Evidence, ctx: CheckContext) -> Verdict:
    check = _registry[cid]
    try:
        verdict = check.fn(evidence, ctx)
        if verdict.status == "skipped" and not check.gate:
            # "Nothing reached the clause" is only true of the traffic that could be tied to orders.
            n, m = evidence.unattributed_attempts, len(evidence.unattributed_ledger)
            if n or m:
                verdict.reason += (f" (among the traffic tied to orders; {n} provider requests and {m} ledger "
                                   "entries could not be tied to any)")
        return verdict
    except Exception as exc:  # a bug in a check must not hide the other verdicts
        return Verdict(check=cid, family=check.family, status="error", severity=check.severity,
                       clause=check.clause, reason=f"the check raised {type(exc).__name__}: {exc}",
                       figures={"traceback": traceback.format_exc(limit=6)})


def _base(ctx: CheckContext, cid: str, clause: str | None = None) -> dict[str, Any]:
    check = _registry[cid]
    return {"check": cid, "family": check.family, "severity": check.severity, "clause": clause or check.clause,
            "where": ctx.contract.where(cid)}


def incomplete_journal(ev: Evidence, ctx: CheckContext, cid: str, clause: str | None = None) -> Verdict | None:
    """Skipped when provider journal entries were dropped: attempt counts would be low."""
    if ev.journal_dropped:
        return skipped(ctx, cid, f"{ev.journal_dropped} provider journal entries were dropped; the attempt history is "
                       "incomplete (raise the journal capacity)", clause=clause)
    return None


def skipped(ctx: CheckContext, cid: str, reason: str, clause: str | None = None, **kw: Any) -> Verdict:
    return Verdict(status="skipped", reason=reason, **_base(ctx, cid, clause), **kw)


def passed(ctx: CheckContext, cid: str, measured: str, clause: str | None = None, **kw: Any) -> Verdict:
    return Verdict(status="pass", measured=measured, **_base(ctx, cid, clause), **kw)


def failed(ctx: CheckContext, cid: str, measured: str, clause: str | None = None, **kw: Any) -> Verdict:
    return Verdict(status="fail", measured=measured, **_base(ctx, cid, clause), **kw)


def errored(ctx: CheckContext, cid: str, reason: str, clause: str | None = None, **kw: Any) -> Verdict:
    """Not a verdict on the service: the run cannot be judged (exit 3)."""
    return Verdict(status="error", reason=reason, **_base(ctx, cid, clause), **kw)


def pick_examples(
    offenders: Sequence[tuple[OrderHistory, str, float]], limit: int = 3, exponents: dict[str, int] | None = None
) -> list[Example]:
    """First, worst and last offending orders (deduplicated), each with its history.

    ``offenders`` holds (history, why, badness); time order is the order's first call.
    """
    if not offenders:
        return []
    by_time = sorted(offenders, key=lambda o: _first_t(o[0]))
    worst = max(offenders, key=lambda o: o[2])
    chosen: list[tuple[OrderHistory, str, float]] = []
    for cand in (by_time[0], worst, by_time[-1]):
        if all(cand[0].order.id != c[0].order.id for c in chosen):
            chosen.append(cand)
    return [Example(order_id=h.order.id, why=why, history=render_history(h, exponents)) for h, why, _ in chosen[:limit]]


def _first_t(h: OrderHistory) -> float:
    ts = [c.t_start for c in h.calls] + [a.t_start for a in h.attempts]
    return min(ts) if ts else 0.0


def render_history(h: OrderHistory, exponents: dict[str, int] | None = None) -> dict[str, Any]:
    """An order's full history as plain data, times relative to its first event."""
    from harness.evidence.money import format_money

    t0 = _first_t(h)
    o = h.order
    return {
        "order": {"id": o.id, "amount": o.amount, "currency": o.currency, "card": o.card.name,
                  "expected": o.card.expected},
        "amount_text": format_money(o.amount, o.currency, exponents),
        "final": h.final,
        "final_source": h.final_source,
        "net_captured": h.net_captured,
        "net_captured_text": format_money(h.net_captured, o.currency, exponents),
        "events": sorted(
            [
                {"t": round(c.t_start - t0, 4), "who": "workload->target", "what": f"{c.kind}",
                 "result": (f"HTTP {c.status} {c.outcome or 'unreadable'}" if c.status is not None else c.error),
                 "elapsed_ms": round(c.elapsed * 1000, 1),
                 **({"body": c.body} if c.body is not None else ({"text": c.text} if c.text else {}))}
                for c in h.calls
            ]
            + [
                {"t": round(a.t_start - t0, 4),
                 "who": f"{'customer' if a.phase == 'customer' else 'target'}->{a.provider}",
                 "what": f"{a.method} {a.path}",
                 "role": a.role, "result": a.label(), "class": a.klass, "failure": a.failure, "key": a.idempotency_key,
                 "elapsed_ms": round((a.t_end - a.t_start) * 1000, 1),
                 **({"fault": a.fault["kind"]} if a.fault else {}),
                 **({"network_fault": a.network_fault} if a.network_fault else {}),
                 **({"retry_after_s": a.retry_after_s} if a.retry_after_s is not None else {}),
                 **({"replayed": True} if a.replayed else {}),
                 **({"inferred": True} if a.inferred else {})}
                for a in h.attempts
            ]
            + [
                {"t": round(e.t - t0, 4), "who": f"{e.provider} ledger", "what": e.kind,
                 "result": format_money(e.amount, e.currency, exponents), "object_id": e.object_id,
                 **({"inferred": True} if e.inferred else {})}
                for e in h.ledger
            ],
            key=lambda ev: ev["t"],
        ),
    }
