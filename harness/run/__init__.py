"""Orchestration: runner, fault timeline, target process, ports."""

from harness.run.observer import RunObserver
from harness.run.runner import run_all
from harness.run.scenario_run import RunOptions, ScenarioResult, run_scenario

__all__ = ["RunObserver", "RunOptions", "ScenarioResult", "run_all", "run_scenario"]
