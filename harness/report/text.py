"""Plain-text renderings of verdicts and order histories, shared by the
JUnit, Markdown and terminal reports."""

from __future__ import annotations

from typing import Any

from harness.checks.base import Example, Verdict

__all__ = ["verdict_text", "example_text", "event_line", "money"]


def money(minor: int | None) -> str:
    return "" if minor is None else f"{minor / 100:,.2f}"


def event_line(ev: dict[str, Any]) -> str:
    extra = []
    for key in ("class", "fault", "network_fault", "retry_after_s", "replayed"):
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
    head = (f"{indent}{ex.order_id} ({o.get('amount', 0) / 100:,.2f} {str(o.get('currency', '')).upper()}, "
            f"card {o.get('card')}, final {h.get('final')}): {ex.why}")
    lines = [head] + [f"{indent}  {event_line(ev)}" for ev in h.get("events", [])]
    return "\n".join(lines)


def verdict_text(v: Verdict, scenario: str | None = None) -> str:
    lines = [f"{v.check}: {v.status.upper()}" + (f" in scenario {scenario}" if scenario else "")]
    lines.append(f"  clause:   {v.clause}" + (f"  ({v.where})" if v.where else ""))
    if v.measured:
        lines.append(f"  measured: {v.measured}")
    if v.reason:
        lines.append(f"  reason:   {v.reason}")
    if v.money_at_risk:
        lines.append(f"  money at risk: {money(v.money_at_risk)}")
    if v.examples:
        lines.append("  offending orders (first, worst, last):")
        lines.extend(example_text(ex, "    ") for ex in v.examples)
    return "\n".join(lines)
