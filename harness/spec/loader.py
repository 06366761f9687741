"""One entry point that validates every input before anything starts.

Errors from all files are collected and raised together as one SpecError, each
with file:line, the field path, what was wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from harness.errors import SpecError, SpecIssue
from harness.spec import catalog
from harness.spec.contract import Contract
from harness.spec.faults import parse_faults
from harness.spec.messages import did_you_mean, issues_from_validation
from harness.spec.scenario import FaultSpec, Scenario
from harness.spec.source import Document, load_document
from harness.spec.target import Target

__all__ = ["LoadedTarget", "LoadedContract", "LoadedScenario", "Inputs", "load_inputs", "discover_scenarios",
           "load_target", "load_contract", "load_scenario"]

M = TypeVar("M", bound=BaseModel)

SKIP_DIRS = {"targets", "contracts"}


@dataclass(frozen=True)
class LoadedTarget:
    path: Path
    doc: Document
    spec: Target


@dataclass(frozen=True)
class LoadedContract:
    path: Path
    doc: Document
    spec: Contract

    def where(self, clause: str) -> str:
        """``contracts/reference.yaml:5`` for a clause id like ``retry.max_attempts``."""
        parts = tuple(clause.split("."))
        line = self.doc.line_of(parts)
        return f"{self.doc.file}:{line}" if line else self.doc.file


@dataclass(frozen=True)
class LoadedScenario:
    path: Path
    doc: Document
    spec: Scenario
    faults: tuple[FaultSpec, ...]
    checks: tuple[str, ...]  # resolved clause ids, money included


@dataclass
class Inputs:
    target: LoadedTarget
    contract: LoadedContract
    scenarios: list[LoadedScenario] = field(default_factory=list)


def _validate(doc: Document, model: type[M]) -> tuple[M | None, list[SpecIssue]]:
    if not isinstance(doc.data, dict):
        kind = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        return None, [SpecIssue(doc.file, 1, "", f"must be a mapping of fields at the top level (the file is {kind})")]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, issues_from_validation(exc, doc, model)


def load_target(path: str | Path) -> LoadedTarget:
    doc = load_document(path)
    spec, issues = _validate(doc, Target)
    if issues:
        raise SpecError(issues)
    for name in spec.providers:
        if name not in catalog.PROVIDERS:
            raise SpecError([doc.issue(("providers", name), f"unknown provider{did_you_mean(name, catalog.PROVIDERS)}; "
                                       f"known: {', '.join(catalog.PROVIDERS)}")])
    return LoadedTarget(Path(path), doc, spec)


def load_contract(path: str | Path) -> LoadedContract:
    doc = load_document(path)
    spec, issues = _validate(doc, Contract)
    if issues:
        raise SpecError(issues)
    return LoadedContract(Path(path), doc, spec)


def load_scenario(path: str | Path, target: Target | None = None) -> LoadedScenario:
    from harness.checks import resolve_checks  # checks import spec models; avoid a cycle at import time

    doc = load_document(path)
    spec, issues = _validate(doc, Scenario)
    if issues:
        raise SpecError(issues)
    issues = []
    for i, provider in enumerate(spec.providers):
        if provider not in catalog.PROVIDERS:
            issues.append(doc.issue(("providers", i), f"unknown provider {provider!r}{did_you_mean(provider, catalog.PROVIDERS)}; "
                                    f"known: {', '.join(catalog.PROVIDERS)}"))
        elif target is not None and provider not in target.providers:
            issues.append(doc.issue(("providers", i), f"{provider!r} is not configured in the target's providers "
                                    f"({', '.join(target.providers)}); add it there or remove it here"))
    if issues:
        raise SpecError(issues)

    known_cards: dict[str, str] = {}
    for provider in spec.providers:
        for card in catalog.test_cards(provider):
            known_cards.setdefault(card, provider)
    for card in spec.workload.cards:
        if card not in known_cards:
            issues.append(doc.issue(("workload", "cards", card), f"unknown test card{did_you_mean(card, known_cards)}; "
                                    f"known: {', '.join(sorted(known_cards))}"))

    faults, fault_issues = parse_faults(spec.faults, spec.providers, doc)
    issues.extend(fault_issues)
    for fault in faults:
        if fault.at >= spec.workload.max_duration_s:
            issues.append(doc.issue(("faults", fault.index, "at"), f"{fault.at:g}s is not before the workload ends "
                                    f"(max_duration_s {spec.workload.max_duration_s:g}s), so it would never apply"))

    checks, check_issues = resolve_checks(spec.verify)
    issues.extend(doc.issue(("verify", i), msg) for i, msg in check_issues)
    if issues:
        raise SpecError(issues)
    return LoadedScenario(Path(path), doc, spec, tuple(faults), tuple(checks))


def discover_scenarios(paths: list[str | Path]) -> list[Path]:
    """Files named directly, plus every *.yaml under named directories (sorted),
    skipping ``targets/`` and ``contracts/`` folders."""
    found: list[Path] = []
    missing: list[SpecIssue] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix in (".yaml", ".yml") and f.is_file() and not (SKIP_DIRS & set(f.relative_to(p).parts[:-1])):
                    found.append(f)
        elif p.exists():
            found.append(p)
        else:
            missing.append(SpecIssue(str(p), None, "", "no such file or directory"))
    if missing:
        raise SpecError(missing)
    if not found:
        raise SpecError([SpecIssue(", ".join(map(str, paths)) or ".", None, "", "no scenario files (*.yaml) found")])
    return found


def load_inputs(scenario_paths: list[str | Path], target_path: str | Path, contract_path: str | Path) -> Inputs:
    """Validate everything; raise one SpecError listing every problem found."""
    issues: list[SpecIssue] = []
    target = contract = None
    try:
        target = load_target(target_path)
    except SpecError as exc:
        issues.extend(exc.issues)
    try:
        contract = load_contract(contract_path)
    except SpecError as exc:
        issues.extend(exc.issues)
    scenarios: list[LoadedScenario] = []
    try:
        files = discover_scenarios(scenario_paths)
    except SpecError as exc:
        issues.extend(exc.issues)
        files = []
    names: dict[str, Path] = {}
    for f in files:
        try:
            loaded = load_scenario(f, target.spec if target else None)
        except SpecError as exc:
            issues.extend(exc.issues)
            continue
        if loaded.spec.name in names:
            issues.append(loaded.doc.issue(("name",), f"{loaded.spec.name!r} is also the name of {names[loaded.spec.name]}; "
                                           "scenario names must be unique"))
            continue
        names[loaded.spec.name] = f
        scenarios.append(loaded)
    if issues:
        raise SpecError(issues)
    assert target is not None and contract is not None
    return Inputs(target, contract, scenarios)
