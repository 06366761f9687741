"""Degradation: even when nothing can pay, the target answers in bounded time.

A target that hangs on a silent provider (no client timeout) keeps its users
waiting forever; the workload's own call timeout turns that into evidence.
"""

from __future__ import annotations

from harness.checks.base import CheckContext, Verdict, failed, passed, pick_examples, register, skipped
from harness.evidence.model import Evidence

__all__: list[str] = []


@register("degradation.max_response_ms", severity="major", clause="every payment call is answered in bounded time")
def max_response(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "degradation.max_response_ms"
    section = ctx.contract.spec.degradation
    if section is None:
        return skipped(ctx, cid, "the contract has no degradation section")
    limit = section.max_response_ms
    clause = f"every payment call is answered within {limit} ms, even when no provider can pay"
    calls = [(h, c) for h in ev.histories() for c in h.calls if c.kind == "pay"]
    if not calls:
        return skipped(ctx, cid, "no payment call was made", clause=clause)
    offenders, slowest = [], 0.0
    for h, c in calls:
        ms = c.elapsed * 1000
        slowest = max(slowest, ms)
        if c.status is None:
            offenders.append((h, f"no answer after {ms:.0f} ms ({c.error})", ms))
        elif ms > limit:
            offenders.append((h, f"answered HTTP {c.status} after {ms:.0f} ms > {limit} ms", ms))
    figures = {"slowest_ms": round(slowest, 1), "limit_ms": limit}
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {len(calls)} payment calls were not answered within {limit} ms "
                      f"(slowest {slowest:.0f} ms)", clause=clause, judged=len(calls), offenders=len(offenders),
                      examples=pick_examples(offenders, exponents=ev.exponents), figures=figures)
    return passed(ctx, cid, f"{len(calls)} payment calls, slowest answered in {slowest:.0f} ms", clause=clause,
                  judged=len(calls), figures=figures)
