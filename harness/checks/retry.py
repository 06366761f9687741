"""Retry audit, judged from the provider journals (what the target really sent),
over the payment attempts sent while the pay call was open (``in_call``):
what a reconciler does after the answer is the reconcile family's.

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

from typing import Callable

from harness.checks.base import (CheckContext, Verdict, failed, incomplete_journal, passed, pick_examples, register,
                                 skipped)
from harness.evidence.model import Attempt, Evidence

__all__: list[str] = []


def _no_section(ctx: CheckContext, cid: str) -> Verdict | None:
    if ctx.contract.spec.retry is None:
        return skipped(ctx, cid, "the contract has no retry section")
    return None


def _judge_waits(ev: Evidence, need_ms: Callable[[int, Attempt], float | None], tolerance_ms: float,
                 why: Callable[[int, Attempt, float, float], str]):
    """Every retry after a failed attempt: its wait against ``need_ms(retry, attempt)``
    (None: not judged). Returns (offenders with their shortest-wait example, judged, waits)."""
    offenders, judged, waits = [], 0, []
    for h in ev.histories():
        attempts = h.in_call_charges
        worst: tuple[str, float] | None = None
        for k in range(len(attempts) - 1):
            a, nxt = attempts[k], attempts[k + 1]
            need = None if a.klass == "ok" else need_ms(k + 1, a)  # after a success it is not a retry
            if need is None:
                continue
            judged += 1
            wait = (nxt.t_start - a.t_end) * 1000
            waits.append(wait)
            if wait < need - tolerance_ms and (worst is None or need - wait > worst[1]):
                worst = (why(k + 1, a, wait, need), need - wait)
        if worst is not None:
            offenders.append((h, worst[0], worst[1]))
    return offenders, judged, waits


@register("retry.max_attempts", severity="major", clause="attempts per payment are bounded")
def max_attempts(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "retry.max_attempts"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    limit = ctx.contract.spec.retry.max_attempts
    clause = f"at most {limit} attempts per payment, counting the first"
    if (v := incomplete_journal(ev, ctx, cid, clause)) is not None:
        return v
    judged = [h for h in ev.histories() if h.in_call_charges]
    if not judged:
        return skipped(ctx, cid, "no payment attempt (a request to a charge route) reached a provider", clause=clause)
    most = max(len(h.in_call_charges) for h in judged)
    offenders = [(h, f"{len(h.in_call_charges)} attempts > {limit} allowed", len(h.in_call_charges)) for h in judged
                 if len(h.in_call_charges) > limit]
    figures = {"max_seen": most, "allowed": limit}
    if offenders:
        return failed(ctx, cid, f"max attempts seen {most} > {limit} allowed ({len(offenders)} of {len(judged)} payments "
                      "over the limit)", clause=clause, judged=len(judged), offenders=len(offenders),
                      examples=pick_examples(offenders, exponents=ev.exponents), figures=figures)
    return passed(ctx, cid, f"max attempts seen {most} <= {limit} over {len(judged)} payments", clause=clause,
                  judged=len(judged), figures=figures)


def _resolved(h, attempt: Attempt) -> bool:
    """An unknown outcome the service then learnt by asking the provider (a lookup
    that answered): not given up, resolved."""
    return attempt.klass == "unknown" and any(
        a.role == "lookup" and a.klass == "ok" and a.t_start >= attempt.t_end and a.phase != "customer"
        for a in h.attempts)


@register("retry.transient", severity="major", clause="transient failures are retried")
def transient(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "retry.transient"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    r = ctx.contract.spec.retry
    clause = f"a transient failure ({r.transient_text()}) is retried, up to {r.max_attempts} attempts"
    if (v := incomplete_journal(ev, ctx, cid, clause)) is not None:
        return v
    judged = [h for h in ev.histories() if any(r.is_transient(a.failure, a.retry_hint) for a in h.in_call_charges)]
    if not judged:
        return skipped(ctx, cid, "no payment attempt met a transient failure (no fault hit a payment attempt)", clause=clause)
    offenders = []
    uncertain = 0
    for h in judged:
        last = h.in_call_charges[-1]
        n = len(h.in_call_charges)
        if last.reply == "unknown":
            # A lossy network fault was on and the backend cannot say what reached the service (it may have
            # got the real answer, a decline): "it gave up" cannot be concluded from this attempt.
            uncertain += 1
            continue
        if last.klass != "ok" and r.is_transient(last.failure, last.retry_hint) and n < r.max_attempts \
                and h.final != "succeeded" and not _resolved(h, last):
            hinted = " (the provider said retry)" if last.retry_hint else ""
            why = (f"attempt {n} got {last.label()} ({last.failure}, transient{hinted}) and the target gave up after {n} of "
                   f"{r.max_attempts} allowed attempts; final state {h.final}")
            offenders.append((h, why, r.max_attempts - n))
    note = f" ({uncertain} whose last reply a network fault may have cut were not judged)" if uncertain else ""
    n = len(judged) - uncertain
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {n} payments with a transient failure were not retried{note}",
                      clause=clause, judged=n, offenders=len(offenders), examples=pick_examples(offenders, exponents=ev.exponents))
    if not n:
        return skipped(ctx, cid, f"every payment that met a transient failure ended on a reply a network fault may "
                       f"have cut, and the fault backend cannot say whether it reached the service ({uncertain})",
                       clause=clause)
    return passed(ctx, cid, f"{n} payments met transient failures; each was retried or resolved{note}",
                  clause=clause, judged=n)


@register("retry.never_retry", severity="major", clause="declines and invalid requests are not retried")
def never_retry(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "retry.never_retry"
    if (v := _no_section(ctx, cid)) is not None:
        return v
    r = ctx.contract.spec.retry
    clause = f"no retry after {r.never_text()}"
    if (v := incomplete_journal(ev, ctx, cid, clause)) is not None:
        return v

    def never(a: Attempt) -> bool:
        return a.klass != "ok" and r.is_never_retry(a.failure, a.retry_hint)

    judged = [h for h in ev.histories() if any(never(a) for a in h.in_call_charges)]
    if not judged:
        return skipped(ctx, cid, f"no payment met a failure that is never retried ({r.never_text()})", clause=clause)
    offenders = []
    for h in judged:
        attempts = h.in_call_charges
        first = next(i for i, a in enumerate(attempts) if never(a))
        extra = len(attempts) - first - 1
        if extra > 0:
            a = attempts[first]
            said = " (the provider said do not retry)" if a.retry_hint is False else ""
            why = (f"attempt {first + 1} got {a.label()} ({a.failure}: never retried{said}) and the target tried "
                   f"{extra} more time(s)")
            offenders.append((h, why, extra))
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} of {len(judged)} payments were retried after a non-retryable failure",
                      clause=clause, judged=len(judged), offenders=len(offenders), examples=pick_examples(offenders, exponents=ev.exponents))
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
    if (v := incomplete_journal(ev, ctx, cid, clause)) is not None:
        return v
    if b.jitter == "full":
        return skipped(ctx, cid, "full jitter allows any wait from 0, so no single wait can break it", clause=clause)
    offenders, judged, gaps = _judge_waits(
        ev, lambda retry, a: b.min_wait_ms(retry), b.tolerance_ms,
        lambda retry, a, wait, need: (f"retry {retry} came {wait:.0f} ms after attempt {retry} ended ({a.label()}); "
                                      f"the documented backoff allows no less than {need:.0f} ms"))
    if not judged:
        return skipped(ctx, cid, "no payment was retried, so no backoff could be measured", clause=clause)
    figures = {"retries": judged, "min_gap_ms": round(min(gaps), 1)}
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} payments retried sooner than the backoff allows (shortest wait "
                      f"{min(gaps):.0f} ms)", clause=clause, judged=judged, offenders=len(offenders),
                      examples=pick_examples(offenders, exponents=ev.exponents), figures=figures)
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
    if (v := incomplete_journal(ev, ctx, cid, clause)) is not None:
        return v
    offenders, judged, _ = _judge_waits(
        ev, lambda retry, a: None if a.retry_after_s is None else a.retry_after_s * 1000, tol,
        lambda retry, a, wait, need: (f"attempt {retry} got {a.label()} with Retry-After {a.retry_after_s:g}s; "
                                      f"the retry came {wait:.0f} ms later"))
    if not judged:
        return skipped(ctx, cid, "no retry followed a response with Retry-After", clause=clause)
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} payments retried before Retry-After elapsed ({judged} retries judged)",
                      clause=clause, judged=judged, offenders=len(offenders), examples=pick_examples(offenders, exponents=ev.exponents))
    return passed(ctx, cid, f"{judged} retries after Retry-After, all waited long enough", clause=clause, judged=judged)
