"""Run every scenario in turn, filling the run journal as it goes, so that an
interrupted run still has everything that finished (and the partial one)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from harness.evidence.journal import RunJournal
from harness.run.observer import RunObserver
from harness.run.scenario_run import RunOptions, run_scenario
from harness.spec.loader import Inputs

__all__ = ["run_all"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def run_all(inputs: Inputs, opts: RunOptions, journal: RunJournal, observer: RunObserver | None = None) -> RunJournal:
    journal.started = _now()
    started = time.monotonic()
    if observer is not None:
        observer.run_started(opts.seed, [s.spec.name for s in inputs.scenarios])
    journal.status = "completed"
    try:
        for scenario in inputs.scenarios:
            result = await run_scenario(inputs, scenario, opts, observer)
            journal.scenarios.append(result)
            if result.status == "interrupted":
                journal.status = "interrupted"
                break
    finally:
        journal.ended = _now()
        journal.duration_s = round(time.monotonic() - started, 3)
        journal.tally()
    return journal
