"""Clear errors: a failed or declined payment tells the user the error type, a
suggested next step and a contact, never a bare "payment failed, retry"."""

from __future__ import annotations

import re

from harness.checks.base import CheckContext, Verdict, failed, passed, pick_examples, register, skipped
from harness.evidence.model import Evidence
from harness.workload.client import read_path

__all__: list[str] = []


@register("errors.required", severity="major",
          clause="a failed payment's answer carries the error type, a suggested action and a contact")
def required(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "errors.required"
    section = ctx.contract.spec.errors
    if section is None:
        return skipped(ctx, cid, "the contract has no errors section")
    paths = ctx.target.response.error
    clause = f"a declined or failed answer carries {', '.join(section.required)}"
    unmapped = [f for f in section.required if getattr(paths, f) is None]
    if unmapped:
        return skipped(ctx, cid, f"the target file does not say where {', '.join(unmapped)} live "
                       "(response.error in the target file)", clause=clause)
    forbidden = [re.compile(p, re.IGNORECASE) for p in section.forbidden_messages]
    judged, offenders = 0, []
    for h in ev.histories():
        problems = []
        for call in h.calls:
            if call.outcome not in ("declined", "failed"):
                continue
            judged += 1
            missing = [f for f in section.required if not _text(read_path(call.body, getattr(paths, f)))]
            if missing:
                problems.append(f"{call.kind} answer (HTTP {call.status}, {call.outcome}) lacks "
                                + ", ".join(f"{f} ({getattr(paths, f)})" for f in missing))
            message = _text(read_path(call.body, paths.message)) if paths.message else ""
            for rx in forbidden:
                if message and rx.search(message):
                    problems.append(f"{call.kind} answer's message {message!r} matches the forbidden {rx.pattern!r}")
        if problems:
            offenders.append((h, "; ".join(problems), len(problems)))
    if not judged:
        return skipped(ctx, cid, "no payment was declined or failed, so no error answer was seen", clause=clause)
    if offenders:
        return failed(ctx, cid, f"{len(offenders)} orders got an error answer without {', '.join(section.required)} "
                      f"({judged} error answers judged)", clause=clause, judged=judged, offenders=len(offenders),
                      examples=pick_examples(offenders, exponents=ev.exponents))
    return passed(ctx, cid, f"{judged} error answers, each with {', '.join(section.required)}", clause=clause,
                  judged=judged)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))
