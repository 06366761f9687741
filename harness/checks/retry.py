"""Retry audit, judged from the provider journals (what the target really sent).

- retry.max_attempts: attempts per payment bounded by the contract;
- retry.transient: a transient failure is retried (not given up early);
- retry.never_retry: declines, invalid requests, auth and risk blocks are not retried;
- retry.backoff: waits between attempts at least what the documented backoff allows;
- retry.honour_retry_after: a retry after Retry-After waits at least that long.

A wait is measured from the end of an attempt as the provider saw it (its
response written, or the caller hanging up) to the start of the next one, so
it is never longer than what the target actually slept.
"""

from __future__ import annotations

from harness.checks.base import CheckContext, Verdict, failed, passed, pick_examples, register, skipped
from harness.evidence.model import Evidence, OrderHistory

__all__: list[str] = []


def _no_section(ctx: CheckContext, cid: str) -> Verdict | None:
    if ctx.contract.spec.retry is None:
        return skipped(ctx, cid, "the contract has no retry section")
    return None


def _incomplete(ev: Evidence, ctx: CheckContext, cid: str, clause: str) -> Verdict | None:
    if ev.journal_dropped:
        return skipped(ctx, cid, f"{ev.journal_dropped} provider journal entries were dropped; the attempt history is "
                       "incomplete (raise the journal capacity)", clause=clause)
    return None


def _pairs(h: OrderHistory):
    creates = h.creates
    return [(k, creates[k], creates[k + 1]) for k in range(len(creates) - 1)]


@register("retry.max_attempts", severity="major", clause="attempts per payment are bounded")
def max_attempts(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "retry.max_attempts"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    limit = ctx.contract.spec.retry.max_attempts
    clause = f"at most {limit} attempts per payment, counting the first"
    if (v := _incomplete(ev, ctx, cid, clause)) is not None:
        return v
    judged = [h for h in ev.histories() if h.creates]
    if not judged:
        return skipped(ctx, cid, "no payment reached a provider", clause=clause)
    most = max(len(h.creates) for h in judged)
    offenders = [(h, f"{len(h.creates)} attempts > {limit} allowed", len(h.creates)) for h in judged
                 if len(h.creates) > limit]
    figures = {"max_seen": most, "allowed": limit}
    if offenders:
        return failed(ctx, cid, f"max attempts seen {most} > {limit} allowed ({len(offenders)} of {len(judged)} payments "
                      "over the limit)", clause=clause, judged=len(judged), offenders=len(offenders),
                      examples=pick_examples(offenders), figures=figures)
    return passed(ctx, cid, f"max attempts seen {most} <= {limit} over {len(judged)} payments", clause=clause,
                  judged=len(judged), figures=figures)


@register("retry.transient", severity="major", clause="transient failures are retried")
def transient(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "retry.transient"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    r = ctx.contract.spec.retry
    clause = f"a transient failure ({', '.join(r.transient)}) is retried, up to {r.max_attempts} attempts"
    if (v := _incomplete(ev, ctx, cid, clause)) is not None:
        return v
    judged = [h for h in ev.histories() if any(a.failure in r.transient for a in h.creates)]
    if not judged:
        return skipped(ctx, cid, "no payment met a transient failure (the faults hit nothing)", clause=clause)
    offenders = []
    for h in judged:
        last = h.creates[-1]
        n = len(h.creates)
        if last.failure in r.transient and n < r.max_attempts and h.final != "succeeded":
            why = (f"attempt {n} got {last.label()} ({last.failure}, transient) and the target gave up after {n} of "
                   f"{r.max_attempts} allowed attempts; final state {h.final}")
            offenders.append((h, why, r.max_attempts - n))
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {len(judged)} payments with a transient failure were not retried",
                      clause=clause, judged=len(judged), offenders=len(offenders), examples=pick_examples(offenders))
    return passed(ctx, cid, f"{len(judged)} payments met transient failures; each was retried or resolved",
                  clause=clause, judged=len(judged))


@register("retry.never_retry", severity="major", clause="declines and invalid requests are not retried")
def never_retry(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "retry.never_retry"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    r = ctx.contract.spec.retry
    clause = f"no retry after {', '.join(r.never_retry)}"
    if (v := _incomplete(ev, ctx, cid, clause)) is not None:
        return v
    judged = [h for h in ev.histories() if any(a.failure in r.never_retry for a in h.creates)]
    if not judged:
        return skipped(ctx, cid, f"no payment met a {' / '.join(r.never_retry)} failure", clause=clause)
    offenders = []
    for h in judged:
        creates = h.creates
        first = next(i for i, a in enumerate(creates) if a.failure in r.never_retry)
        extra = len(creates) - first - 1
        if extra > 0:
            a = creates[first]
            why = f"attempt {first + 1} got {a.label()} ({a.failure}: never retried) and the target tried {extra} more time(s)"
            offenders.append((h, why, extra))
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {len(judged)} payments were retried after a non-retryable failure",
                      clause=clause, judged=len(judged), offenders=len(offenders), examples=pick_examples(offenders))
    return passed(ctx, cid, f"{len(judged)} non-retryable failures, none retried", clause=clause, judged=len(judged))


@register("retry.backoff", severity="major", clause="retries back off as documented")
def backoff(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "retry.backoff"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    b = ctx.contract.spec.retry.backoff
    if b is None:
        return skipped(ctx, cid, "the contract's retry section documents no backoff")
    clause = (f"wait before retry k >= the documented minimum: {b.jitter} jitter on min({b.max_ms}, "
              f"{b.initial_ms} x {b.multiplier:g}^(k-1)) ms, with {b.tolerance_ms} ms tolerance")
    if (v := _incomplete(ev, ctx, cid, clause)) is not None:
        return v
    if b.jitter == "full":
        return skipped(ctx, cid, "full jitter allows any wait from 0, so no single wait can break it", clause=clause)
    offenders, judged, gaps = [], 0, []
    for h in ev.histories():
        worst = None
        for k, a, nxt in _pairs(h):
            if a.klass == "ok":
                continue  # not a retry: the attempt before it succeeded
            judged += 1
            gap_ms = (nxt.t_start - a.t_end) * 1000
            need = b.min_wait_ms(k + 1)
            gaps.append(gap_ms)
            if gap_ms < need - b.tolerance_ms:
                short = need - gap_ms
                if worst is None or short > worst[1]:
                    worst = (f"retry {k + 1} came {gap_ms:.0f} ms after attempt {k + 1} ended ({a.label()}); "
                             f"the documented backoff allows no less than {need:.0f} ms", short)
        if worst is not None:
            offenders.append((h, worst[0], worst[1]))
    if not judged:
        return skipped(ctx, cid, "no payment was retried, so no backoff could be measured", clause=clause)
    figures = {"retries": judged, "min_gap_ms": round(min(gaps), 1)}
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} payments retried sooner than the backoff allows (shortest wait "
                      f"{min(gaps):.0f} ms)", clause=clause, judged=judged, offenders=len(offenders),
                      examples=pick_examples(offenders), figures=figures)
    return passed(ctx, cid, f"{judged} retries, shortest wait {min(gaps):.0f} ms, all within the documented backoff",
                  clause=clause, judged=judged, figures=figures)


@register("retry.honour_retry_after", severity="major", clause="Retry-After is honoured")
def honour_retry_after(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "retry.honour_retry_after"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    r = ctx.contract.spec.retry
    if not r.honour_retry_after:
        return skipped(ctx, cid, "the contract does not promise to honour Retry-After")
    tol = r.backoff.tolerance_ms if r.backoff else 10
    clause = f"a retry after a response with Retry-After waits at least that long ({tol} ms tolerance)"
    if (v := _incomplete(ev, ctx, cid, clause)) is not None:
        return v
    offenders, judged = [], 0
    for h in ev.histories():
        worst = None
        for k, a, nxt in _pairs(h):
            if a.retry_after_s is None:
                continue
            judged += 1
            gap_ms = (nxt.t_start - a.t_end) * 1000
            need = a.retry_after_s * 1000
            if gap_ms < need - tol:
                if worst is None or need - gap_ms > worst[1]:
                    worst = (f"attempt {k + 1} got {a.label()} with Retry-After {a.retry_after_s:g}s; the retry came "
                             f"{gap_ms:.0f} ms later", need - gap_ms)
        if worst is not None:
            offenders.append((h, worst[0], worst[1]))
    if not judged:
        return skipped(ctx, cid, "no retry followed a response with Retry-After", clause=clause)
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} payments retried before Retry-After elapsed ({judged} retries judged)",
                      clause=clause, judged=judged, offenders=len(offenders), examples=pick_examples(offenders))
    return passed(ctx, cid, f"{judged} retries after Retry-After, all waited long enough", clause=clause, judged=judged)
