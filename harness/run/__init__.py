"""Orchestration: runner (``harness.run.runner``), one scenario end to end,
the fault timeline, the target process, ports."""

from harness.run.observer import RunObserver
from harness.run.scenario_run import RunOptions, ScenarioResult, run_scenario

__all__ = ["RunObserver", "RunOptions", "ScenarioResult", "run_scenario"]
