"""The terminal: a live progress line while a scenario runs, then a verdict
table and the evidence for every failure (rich)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from harness.evidence.journal import RunJournal
from harness.evidence.money import add_amounts
from harness.report.markdown import headline
from harness.report.text import money, skip_reason, verdict_text
from harness.run.observer import RunObserver

__all__ = ["TerminalObserver", "print_report"]

_STYLE = {"pass": "green", "passed": "green", "fail": "bold red", "failed": "bold red", "error": "yellow",
          "skipped": "dim", "interrupted": "yellow"}


class TerminalObserver(RunObserver):
    def __init__(self, console: Console):
        self.console = console
        self._live: Live | None = None
        self._reset("", 0)

    def _reset(self, name: str, orders: int) -> None:
        self.name, self.total, self.phase_name = name, orders, ""
        self.outcomes: dict[str, int] = {}
        self.done = 0
        self.faults: set[str] = set()
        self.t_start = time.monotonic()

    def scenario_started(self, name: str, seed: int, orders: int) -> None:
        self._reset(name, orders)
        self.console.print(f"[bold]▶ {escape(name)}[/]  seed {seed}, {orders} orders")
        if self.console.is_terminal:
            self._live = Live(self._line(), console=self.console, refresh_per_second=8, transient=True)
            self._live.start()

    def phase(self, name: str, phase: str) -> None:
        self.phase_name = phase
        if self._live is None:
            self.console.print(f"  · {phase}", style="dim")
        self._refresh()

    def call_done(self, name: str, call: Any) -> None:
        if call.kind == "pay":
            self.done += 1
            key = call.outcome or ("no answer" if call.status is None else "unreadable")
            self.outcomes[key] = self.outcomes.get(key, 0) + 1
        self._refresh()

    def fault_changed(self, name: str, event: Any) -> None:
        if event.t_off is None:
            self.faults.add(event.name)
        else:
            self.faults.discard(event.name)
        if self._live is None:
            state = "on" if event.t_off is None else "off"
            self.console.print(f"  · fault {event.name} ({event.layer} {event.kind}) {state}", style="dim")
        self._refresh()

    def scenario_done(self, result: Any) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        style = _STYLE.get(result.status, "")
        counts = {k: sum(1 for v in result.verdicts if v.status == k) for k in ("pass", "fail", "skipped", "error")}
        detail = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        why = result.error or skip_reason(result)
        self.console.print(f"  [{style}]{result.status.upper()}[/] {escape(result.name)} in {result.duration_s:.1f}s"
                           + (f" ({detail})" if detail else "")
                           + (f": {escape(why)}" if why else ""))
        loose = result.summary.get("unattributed_attempts", 0)
        if loose:
            self.console.print(f"    {loose} of {result.summary.get('provider_requests')} provider requests not tied "
                               "to an order", style="dim")

    def _line(self) -> Text:
        out = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "-"
        faults = ", ".join(sorted(self.faults)) or "none"
        return Text.assemble(
            ("  ", ""), (f"{self.phase_name:<20}", "cyan"),
            f" orders {self.done}/{self.total}  [{out}]  faults on: {faults}  {time.monotonic() - self.t_start:5.1f}s",
        )

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._line())


def print_report(console: Console, j: RunJournal) -> None:
    word, text = headline(j)
    table = Table(title="Verdicts", expand=False)
    table.add_column("scenario", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("measured / reason", overflow="fold", min_width=30)
    for s in j.scenarios:
        if not s.verdicts:
            table.add_row(s.name, "run", Text(s.status, style=_STYLE.get(s.status, "")),
                          escape(s.error or skip_reason(s) or ""))
        for i, v in enumerate(s.verdicts):
            shown = v.measured if v.status in ("pass", "fail") else v.reason
            table.add_row(s.name if i == 0 else "", v.check, Text(v.status, style=_STYLE.get(v.status, "")),
                          escape(shown))
        table.add_section()
    console.print(table)
    for s in j.scenarios:
        for v in s.verdicts:
            if v.status in ("fail", "error"):
                console.rule(f"[{_STYLE[v.status]}]{escape(s.name)}: {v.check}", align="left")
                # Evidence lines are never wrapped: they are read side by side.
                console.print(Text(verdict_text(v, s.name, s.currency_exponents)), soft_wrap=True)
        if s.status in ("error", "interrupted") and s.error and s.target.log_tail:
            console.rule(f"[yellow]{escape(s.name)}: target output (tail)", align="left")
            console.print(Text(s.target.log_tail[-3000:]), soft_wrap=True)
    at_risk = add_amounts(v.money_at_risk for s in j.scenarios for v in s.verdicts if v.status == "fail")
    style = {"PASS": "bold green", "FAIL": "bold red"}.get(word, "bold yellow")
    console.print(Text(f"{word}: {text}" + (f" Money at risk: {money(at_risk, j.exponents())}." if at_risk else ""),
                       style=style))
    console.print(f"seed {j.seed} · replay: [bold]{escape(j.replay)}[/]", soft_wrap=True)
