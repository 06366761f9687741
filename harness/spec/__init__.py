"""Target, contract and scenario models, loaded from YAML with line-accurate errors."""

from harness.spec.contract import Contract
from harness.spec.loader import (
    Inputs,
    LoadedContract,
    LoadedScenario,
    LoadedTarget,
    discover_scenarios,
    load_contract,
    load_inputs,
    load_scenario,
    load_target,
)
from harness.spec.scenario import FaultSpec, Scenario
from harness.spec.target import Target

__all__ = [
    "Contract",
    "FaultSpec",
    "Inputs",
    "LoadedContract",
    "LoadedScenario",
    "LoadedTarget",
    "Scenario",
    "Target",
    "discover_scenarios",
    "load_contract",
    "load_inputs",
    "load_scenario",
    "load_target",
]
