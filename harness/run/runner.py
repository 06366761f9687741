"""Run every scenario in turn, filling the run journal as it goes, so that an
interrupted run still has everything that finished (and the partial one). A
scenario whose story needs a number the contract does not state is skipped:
nothing is started for it, and the journal says why."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from harness.evidence.journal import RunJournal, ScenarioResult
from harness.run.observer import RunObserver, SafeObserver
from harness.run.scenario_run import RunOptions, run_scenario, scenario_seed
from harness.spec.loader import Inputs, LoadedScenario

__all__ = ["run_all", "skipped"]


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
            if scenario.skip is not None:
                result = skipped(scenario, opts, observer)
            else:
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


def skipped(scenario: LoadedScenario, opts: RunOptions, observer: RunObserver | None = None) -> ScenarioResult:
    """The result of a scenario that is not run; the reason is ``summary["skipped"]``."""
    now = _now()
    result = ScenarioResult(name=scenario.spec.name, file=str(scenario.path), seed=scenario_seed(opts.seed, scenario),
                            status="skipped", started=now, ended=now, instances=dict(scenario.instances),
                            engine=scenario.spec.workload.engine, summary={"skipped": scenario.skip})
    SafeObserver(observer).scenario_done(result)
    return result
