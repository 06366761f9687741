"""The run journal's schema: one JSON document per run, from which every
report renders. The run fills it (``harness.run``) and the reports read it
(``harness.report``); both import it from here and nothing else.

Versions, platform, seed and the replay command; the inputs as run; per
scenario the provider instances, the faults as applied, the evidence summary
and the verdicts.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

from pydantic import BaseModel, Field

from harness.checks.base import Verdict
from harness.evidence.model import FaultEvent

__all__ = ["RunJournal", "ScenarioResult", "TargetInfo", "new_journal", "exit_code_for", "versions"]


class TargetInfo(BaseModel):
    command: list[str] = Field(default_factory=list)
    cwd: str = ""
    base_url: str = ""
    pid: int | None = None
    ready_s: float | None = None
    exit_status: int | None = None
    died_during_run: bool = False
    killed_by_fault: int = 0  # process-layer kills (expected deaths)
    restarts: int = 0
    log_file: str = ""
    log_tail: str = ""


class ScenarioResult(BaseModel):
    name: str
    file: str
    seed: int
    status: str = "error"  # passed | failed | error | interrupted | skipped (not run; summary["skipped"] says why)
    started: str = ""
    ended: str = ""
    duration_s: float = 0.0
    error: str | None = None
    target: TargetInfo = Field(default_factory=TargetInfo)
    providers: dict[str, str] = Field(default_factory=dict)  # instance (or "instance (via proxy)") -> URL
    instances: dict[str, str] = Field(default_factory=dict)  # instance -> provider type
    currency_exponents: dict[str, int] = Field(default_factory=dict)
    engine: str = ""
    fault_backend: dict[str, Any] | None = None
    faults: list[FaultEvent] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)
    evidence_file: str | None = None


class RunJournal(BaseModel):
    paychaos: str
    versions: dict[str, str] = Field(default_factory=dict)
    platform: str = ""
    command: list[str] = Field(default_factory=list)
    replay: str = ""
    seed: int
    env: dict[str, str | None] = Field(default_factory=dict)  # the target file's replay_env, as run (None: unset)
    fault_backend: str | None = None
    status: str = "running"  # completed | interrupted | aborted
    started: str = ""
    ended: str = ""
    duration_s: float = 0.0
    inputs: dict[str, Any] = Field(default_factory=dict)
    scenarios: list[ScenarioResult] = Field(default_factory=list)
    totals: dict[str, int] = Field(default_factory=dict)
    exit_code: int | None = None
    message: str | None = None

    def exponents(self) -> dict[str, int]:
        """Currency exponents of every scenario (for money summed across the run)."""
        out: dict[str, int] = {}
        for s in self.scenarios:
            out.update(s.currency_exponents)
        return out

    def tally(self) -> dict[str, int]:
        totals = {"pass": 0, "fail": 0, "skipped": 0, "error": 0, "scenarios": len(self.scenarios),
                  "scenarios_failed": 0, "scenarios_error": 0, "scenarios_skipped": 0}
        for s in self.scenarios:
            for v in s.verdicts:
                totals[v.status] += 1
            if s.status == "failed":
                totals["scenarios_failed"] += 1
            elif s.status in ("error", "interrupted"):
                totals["scenarios_error"] += 1
            elif s.status == "skipped":
                totals["scenarios_skipped"] += 1
        self.totals = totals
        return totals


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for dist in ("paychaos", "pydantic", "aiohttp", "httptools", "uvloop", "toxiproxy-python", "faker"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def new_journal(seed: int, command: list[str], replay: str, inputs: dict[str, Any], fault_backend: str | None) -> RunJournal:
    v = versions()
    return RunJournal(paychaos=v.get("paychaos", "0+unknown"), versions=v, platform=platform.platform(),
                      command=command, replay=replay, seed=seed, inputs=inputs, fault_backend=fault_backend)


def exit_code_for(journal: RunJournal) -> int:
    """0 all checks pass; 1 a check failed; 3 the harness could not run, or nothing was judged because
    every scenario was skipped (or it was interrupted: 130)."""
    t = journal.tally()
    if journal.status == "interrupted":
        return 130
    if t["fail"] or t["scenarios_failed"]:
        return 1
    if t["error"] or t["scenarios_error"]:
        return 3
    if t["scenarios"] and t["scenarios_skipped"] == t["scenarios"]:
        return 3
    return 0
