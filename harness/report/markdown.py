"""summary.md: the run for humans who read it in a CI artifact or a PR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from harness.evidence.journal import RunJournal
from harness.evidence.money import add_amounts
from harness.report.text import from_contract, money, skip_reason, verdict_text

__all__ = ["render_markdown", "write_markdown", "headline"]

_ICON = {"pass": "✅", "passed": "✅", "fail": "❌", "failed": "❌", "error": "⚠️", "skipped": "⏭️",
         "interrupted": "⏹️"}


def headline(j: RunJournal) -> tuple[str, str]:
    t = j.tally()
    if j.status == "interrupted":
        word = "INTERRUPTED"
    elif t["fail"] or t["scenarios_failed"]:
        word = "FAIL"
    elif t["error"] or t["scenarios_error"]:
        word = "ERROR"
    elif t["scenarios"] and t["scenarios_skipped"] == t["scenarios"]:
        word = "NOTHING JUDGED"  # every scenario skipped: not a pass
    else:
        word = "PASS"
    skipped = t["scenarios_skipped"]
    scenarios = f"{t['scenarios']} scenarios" + (f" ({skipped} skipped)" if skipped else "")
    text = (f"{scenarios}: {t['pass']} checks passed, {t['fail']} failed, {t['skipped']} skipped, "
            f"{t['error']} errors.")
    return word, text


def _env() -> Environment:
    env = Environment(loader=PackageLoader("harness.report", "templates"), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    return env


def render_markdown(j: RunJournal) -> str:
    word, text = headline(j)

    def count(s: Any, status: str) -> int:
        return sum(1 for v in s.verdicts if v.status == status)

    def at_risk(s: Any) -> str:
        total = add_amounts(v.money_at_risk for v in s.verdicts if v.status == "fail")
        return money(total, s.currency_exponents) if total else "-"

    def rel(s: Any, t: float | None) -> str:
        return "-" if t is None else f"{t - s.summary.get('t0', 0):.2f}" if "t0" in s.summary else f"{t:.2f}"

    def fmt_counts(d: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "-"

    tpl = _env().get_template("summary.md.j2")
    return tpl.render(j=j, verdict_word=word, headline=text, status_icon=lambda s: _ICON.get(s, ""), count=count,
                      at_risk=at_risk, rel=rel, fmt_counts=fmt_counts, verdict_text=verdict_text,
                      skip_reason=skip_reason, from_contract=lambda s: from_contract(j.inputs, s.name))


def write_markdown(j: RunJournal, path: Path) -> None:
    path.write_text(render_markdown(j), encoding="utf-8")
