"""Plain-text renderings of verdicts and order histories, shared by the
JUnit, Markdown and terminal reports."""

from __future__ import annotations

from typing import Any

from harness.checks.base import Example, Verdict
from harness.evidence.money import format_amounts

__all__ = ["verdict_text", "example_text", "event_line", "money", "skip_reason", "from_contract"]


def skip_reason(s: Any) -> str | None:
    """Why a scenario was not run (its story needs a number the contract does not state), or None."""
    return s.summary.get("skipped") if s.status == "skipped" else None


def from_contract(inputs: dict[str, Any], scenario: str) -> list[str]:
    """The scenario's fault numbers taken from the contract, as the journal's inputs record them:
    ``slower-than-client-timeout delay_ms 1500 ms (timeouts.cardpay.client_ms 1000 + 500 ms)``."""
    for rec in inputs.get("scenarios", []):
        if rec.get("name") == scenario:
            return [f"{f.get('name')} {key} {d.get('text')}" for f in rec.get("faults", [])
                    for key, d in (f.get("derived") or {}).items()]
    return []


def money(amounts: dict[str, int] | None, exponents: dict[str, int] | None = None) -> str:
    """Per-currency amounts as text: ``318.81 USD + 1,200 JPY``."""
    return format_amounts(amounts, exponents)


def event_line(ev: dict[str, Any]) -> str:
    extra = []
    for key in ("class", "fault", "network_fault", "retry_after_s", "replayed", "object_id", "inferred"):
        if ev.get(key) not in (None, "ok", False):
            extra.append(f"{key}={ev[key]}")
    if ev.get("key"):
        extra.append(f"key={str(ev['key'])[:32]}")
    if ev.get("elapsed_ms") is not None:
        extra.append(f"{ev['elapsed_ms']:.0f} ms")
    tail = f"  [{', '.join(extra)}]" if extra else ""
    return f"+{ev['t']:8.3f}s  {ev['who']:<22} {ev['what']:<34} {ev['result']}{tail}"


def example_text(ex: Example, indent: str = "  ") -> str:
    h = ex.history
    o = h.get("order", {})
    amount = h.get("amount_text") or f"{o.get('amount')} {str(o.get('currency', '')).upper()} minor units"
    head = f"{indent}{ex.order_id} ({amount}, card {o.get('card')}, final {h.get('final')}): {ex.why}"
    lines = [head] + [f"{indent}  {event_line(ev)}" for ev in h.get("events", [])]
    return "\n".join(lines)


def verdict_text(v: Verdict, scenario: str | None = None, exponents: dict[str, int] | None = None) -> str:
    lines = [f"{v.check}: {v.status.upper()}" + (f" in scenario {scenario}" if scenario else "")]
    lines.append(f"  clause:   {v.clause}" + (f"  ({v.where})" if v.where else ""))
    if v.measured:
        lines.append(f"  measured: {v.measured}")
    if v.reason:
        lines.append(f"  reason:   {v.reason}")
    if v.money_at_risk:
        lines.append(f"  money at risk: {money(v.money_at_risk, exponents)}")
    if v.examples:
        lines.append("  offending orders (first, worst, last):")
        lines.extend(example_text(ex, "    ") for ex in v.examples)
    return "\n".join(lines)
