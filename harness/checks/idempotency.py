"""Idempotency: every attempt of one payment inside the pay call carries the
same idempotency key, so a provider that already committed replays instead of
charging again. (Replays after the answer are the reconcile family's.)"""

from __future__ import annotations

from harness.checks.base import (CheckContext, Verdict, failed, incomplete_journal, passed, pick_examples, register,
                                 skipped)
from harness.evidence.model import Evidence

__all__: list[str] = []


@register("idempotency.same_key_across_retries", severity="critical",
          clause="every attempt of one payment carries the same idempotency key")
def same_key_across_retries(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "idempotency.same_key_across_retries"
    section = ctx.contract.spec.idempotency
    if section is None:
        return skipped(ctx, cid, "the contract has no idempotency section")
    if not section.same_key_across_retries:
        return skipped(ctx, cid, "the contract does not promise one idempotency key per payment")
    if (v := incomplete_journal(ev, ctx, cid)) is not None:
        return v
    judged = [h for h in ev.histories() if len(h.in_call_charges) >= 2]
    keyed = [h for h in ev.histories() if h.in_call_charges]
    offenders = []
    for h in keyed:
        keys = [a.idempotency_key for a in h.in_call_charges]
        distinct = list(dict.fromkeys(keys))
        if None in distinct:
            n = keys.count(None)
            offenders.append((h, f"{n} of {len(keys)} attempts carried no idempotency key", n))
        elif len(distinct) > 1:
            shown = ", ".join(k[:40] for k in distinct[:4])
            offenders.append((h, f"{len(keys)} attempts used {len(distinct)} different keys: {shown}", len(distinct)))
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {len(keyed)} payments did not keep one idempotency key",
                      judged=len(keyed), offenders=len(offenders), examples=pick_examples(offenders, exponents=ev.exponents))
    if not judged:
        return skipped(ctx, cid, "no payment was attempted twice, so key reuse could not be seen")
    return passed(ctx, cid, f"{len(judged)} retried payments, each kept one key", judged=len(judged))
