"""Reconciliation: what the service sends a provider on its own AFTER it
answered (a background reconciler, a webhook handler), judged apart from the
retries inside the pay call.

- reconcile.replay: a payment attempt after the answer is a replay under the
  payment's own idempotency key, and only when the contract documents
  reconciling by replay; a charge under another key is a new charge;
- reconcile.max_requests: provider requests per payment after the answer are
  bounded (no reconciler hammering a provider).

Requests the service sends while answering one of the harness's lookups
(``in_lookup``) are not its own initiative and are not counted here.
"""

from __future__ import annotations

from harness.checks.base import (CheckContext, Verdict, failed, incomplete_journal, passed, pick_examples, register,
                                 skipped)
from harness.evidence.model import Evidence

__all__: list[str] = []


def _no_section(ctx: CheckContext, cid: str) -> Verdict | None:
    if ctx.contract.spec.reconcile is None:
        return skipped(ctx, cid, "the contract has no reconcile section")
    return None


@register("reconcile.replay", severity="critical",
          clause="after answering, a payment is only replayed under its own idempotency key, and only as documented")
def replay(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "reconcile.replay"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    how = ctx.contract.spec.reconcile.how
    allowed = "replay" in how
    clause = (f"after answering, the service reconciles by {' or '.join(how)}"
              + ("; a replay carries the payment's own idempotency key" if allowed else "; it never charges again"))
    if (v := incomplete_journal(ev, ctx, cid, clause)) is not None:
        return v
    judged = [h for h in ev.histories() if any(a.is_charge for a in h.after_answer)]
    if not judged:
        after = sum(len(h.after_answer) for h in ev.histories())
        return skipped(ctx, cid, f"no payment attempt was sent after the service answered ({after} other provider "
                       "requests after answers)", clause=clause)
    offenders = []
    for h in judged:
        pay = h.pay_call
        answered = pay.t_end if pay is not None else 0.0
        own_keys = {a.idempotency_key for a in h.in_call_charges if a.idempotency_key}
        late = [a for a in h.after_answer if a.is_charge]
        first = late[0]
        if not allowed:
            why = (f"charged again {first.t_start - answered:.1f} s after answering {pay.outcome if pay else '?'} "
                   f"({len(late)} payment attempts after the answer); the contract documents reconciling by "
                   f"{' or '.join(how)} only")
            offenders.append((h, why, len(late)))
            continue
        stray = [a for a in late if a.idempotency_key is None or (own_keys and a.idempotency_key not in own_keys)]
        if not own_keys:
            keys = {a.idempotency_key for a in late}
            stray = late[1:] if len(keys) > 1 or None in keys else []
        if stray:
            a = stray[0]
            shown = ", ".join(sorted(k[:40] for k in own_keys)) or "none in the call"
            why = (f"replayed {a.t_start - answered:.1f} s after answering under key {str(a.idempotency_key)[:40]}, "
                   f"but the payment's key is {shown}: a new key is a new charge")
            offenders.append((h, why, len(stray)))
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {len(judged)} payments were charged again after the answer "
                      "outside the documented reconciliation", clause=clause, judged=len(judged),
                      offenders=len(offenders), examples=pick_examples(offenders, exponents=ev.exponents))
    return passed(ctx, cid, f"{len(judged)} payments replayed after the answer, each under its own key",
                  clause=clause, judged=len(judged))


@register("reconcile.max_requests", severity="major",
          clause="provider requests per payment after the answer are bounded")
def max_requests(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "reconcile.max_requests"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    limit = ctx.contract.spec.reconcile.max_requests
    clause = f"at most {limit} provider requests per payment after the service answered"
    if (v := incomplete_journal(ev, ctx, cid, clause)) is not None:
        return v
    judged = [h for h in ev.histories() if h.after_answer]
    if not judged:
        return skipped(ctx, cid, "no provider request was sent after the service answered", clause=clause)
    most = max(len(h.after_answer) for h in judged)
    offenders = []
    for h in judged:
        n = len(h.after_answer)
        if n > limit:
            span = h.after_answer[-1].t_start - h.after_answer[0].t_start
            roles = sorted({a.role for a in h.after_answer})
            offenders.append((h, f"{n} provider requests ({', '.join(roles)}) in {span:.1f} s after the answer > "
                              f"{limit} allowed", n))
    figures = {"max_seen": most, "allowed": limit}
    if offenders:
        return failed(ctx, cid, f"most requests after an answer {most} > {limit} allowed ({len(offenders)} of "
                      f"{len(judged)} payments)", clause=clause, judged=len(judged), offenders=len(offenders),
                      examples=pick_examples(offenders, exponents=ev.exponents), figures=figures)
    return passed(ctx, cid, f"most requests after an answer {most} <= {limit} over {len(judged)} payments",
                  clause=clause, judged=len(judged), figures=figures)
