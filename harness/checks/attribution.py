"""Attribution: the provider traffic and money the verdicts judge are tied to
orders. When more than the target file allows (``unattributed_max``, 2% by
default) of an instance's requests or ledger entries cannot be tied to any
order, money and retry verdicts would be computed on partial evidence and
could be false either way: this gate stops them (exit 3) and says what to set
in the target file.
"""

from __future__ import annotations

from harness.checks.base import CheckContext, Verdict, errored, passed, register, skipped
from harness.evidence.model import Evidence

__all__: list[str] = []

HOW_TO = ("tie them to orders in the target file: providers.{inst}.order_ref (the request field that carries your "
          "order id, if the service sends one), or providers.{inst}.correlate: [{{response: PATH, pattern: REGEX}}] "
          "(where the service's answer carries the provider's object id, e.g. a PaymentIntent id inside a "
          "clientSecret), or {{response: PATH, as: reference}} (the service's own order code, sent to the provider)")


@register("attribution.coverage", severity="critical", gate=True,
          clause="provider requests and ledger entries are tied to orders, so verdicts rest on whole evidence")
def coverage(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "attribution.coverage"
    total = sum(s["requests"] + s["ledger"] for s in ev.attribution.values())
    if not total:
        return skipped(ctx, cid, "no request reached a provider and no ledger moved")
    over = []
    for inst, s in sorted(ev.attribution.items()):
        binding = ctx.target.providers.get(inst)
        limit = binding.unattributed_max if binding is not None else 0.02
        for what, n, of in (("requests", s["unattributed"], s["requests"]),
                            ("ledger entries", s["ledger_unattributed"], s["ledger"])):
            if of and n / of > limit:
                over.append(f"{inst}: {n} of {of} {what} ({n / of:.0%}, more than {limit:.0%})")
    unattributed = sum(s["unattributed"] + s["ledger_unattributed"] for s in ev.attribution.values())
    figures = {inst: dict(s) for inst, s in ev.attribution.items()}
    if not over:
        inferred = sum(s.get("inferred", 0) for s in ev.attribution.values())
        note = f" ({inferred} ledger entries only by amount and time)" if inferred else ""
        return passed(ctx, cid, f"{total - unattributed} of {total} provider requests and ledger entries tied to "
                      f"orders{note}", judged=total, offenders=unattributed, figures=figures)
    examples = "; ".join(f"{a.provider} seq {a.seq}: {a.method} {a.path} (order ref {a.order_ref or 'none'}, key "
                         f"{(a.idempotency_key or 'none')[:32]})" for a in ev.unattributed_examples[:3])
    if not examples:  # only ledger entries are over: name them
        examples = ", ".join(f"{e.provider}:{e.object_id or '?'} ({e.kind} of {e.amount} {e.currency})"
                             for e in ev.unattributed_ledger[:3]) or "none recorded"
    inst = over[0].split(":", 1)[0]  # the fix names an instance that is over its limit
    return errored(ctx, cid, f"could not be tied to any order: {', '.join(over)}. For example: {examples}. To judge "
                   f"this service, {HOW_TO.format(inst=inst)}", judged=total, offenders=unattributed,
                   figures=figures)
