"""Integration: the service and the mock provider speak the same API.

A request the provider refused as not understood (an endpoint it does not
serve, an unknown or malformed parameter, credentials it does not accept) when
no fault asked for it is an integration mismatch: either the service calls the
provider wrongly, or the mock does not (yet) serve what the real provider does.
Either way the run cannot say anything true about resilience, so this gate
turns the scenario into an error (exit 3) and no other verdict is computed.
Which answers count is the provider profile's ``integration`` table.
"""

from __future__ import annotations

from harness.checks.base import CheckContext, Verdict, errored, passed, register, skipped
from harness.evidence.model import Attempt, Evidence

__all__: list[str] = []


def _what(a: Attempt) -> str:
    detail = a.error_code or ""
    if a.error_param:
        detail += f" (parameter {a.error_param})"
    if a.endpoint == "unknown":
        detail = "not served by this provider"
    return f"{a.method} {a.path} -> {a.status} {detail}".strip()


@register("integration.api", severity="critical", gate=True,
          clause="the service calls the providers' API as they serve it: no request refused as not understood")
def api(ev: Evidence, ctx: CheckContext) -> Verdict:
    cid = "integration.api"
    if not ev.provider_requests:
        return skipped(ctx, cid, "no request reached a provider")
    bad = ev.integration_errors
    if not bad:
        return passed(ctx, cid, f"{ev.provider_requests} provider requests, none refused as not understood",
                      judged=ev.provider_requests)
    groups: dict[tuple[str, str], list[Attempt]] = {}
    for a in bad:
        groups.setdefault((a.provider, _what(a)), []).append(a)
    parts = [f"{len(v)} x {inst}: {what} (first at seq {v[0].seq}, order {v[0].order_ref or 'unknown'})"
             for (inst, what), v in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
    served = "; ".join(f"{inst} serves {', '.join(r)}" for inst, r in sorted(ev.routes.items()) if r)
    reason = (f"{len(bad)} of {ev.provider_requests} provider requests were refused as not understood, with no fault "
              f"injected: {'; '.join(parts[:5])}. Either the service calls the provider wrongly or the mock does not "
              f"serve this part of the API" + (f" ({served})" if served else ""))
    return errored(ctx, cid, reason, judged=ev.provider_requests, offenders=len(bad),
                   figures={"refused": [{"instance": k[0], "request": k[1], "count": len(v)}
                                        for k, v in groups.items()]})
