"""One entry point that validates every input before anything starts.

Errors from all files are collected and raised together as one SpecError, each
with file:line, the field path, what was wrong and how to fix it.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from harness.errors import SpecError, SpecIssue
from harness.spec import catalog
from harness.spec.contract import Contract
from harness.spec.faults import parse_faults
from harness.spec.messages import did_you_mean, issues_from_validation
from harness.spec.relative import ContractNumbers
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

    def type_of(self, instance: str) -> str:
        """The provider type of one of the target's instances."""
        return self.spec.providers[instance].type or instance


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
    instances: dict[str, str] = field(default_factory=dict)  # provider instance -> type
    # Why it cannot run with this contract (its story needs a number the contract does not state):
    # the run skips it with this reason. None: it runs.
    skip: str | None = None


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


def _unknown_type(type_name: str) -> str:
    known = catalog.provider_types()
    if "." in type_name:  # a module path: say why it did not resolve (not importable, no PROFILE)
        return f"{catalog.known_type(type_name)}; known types: {', '.join(known)}"
    return (f"unknown provider type {type_name!r}{did_you_mean(type_name, known)}; known: {', '.join(known)}, or the "
            "dotted path of a module that defines PROFILE")


def load_target(path: str | Path, environ: dict[str, str] | None = None) -> LoadedTarget:
    doc = load_document(path)
    data, issues = expand_environment(doc, os.environ if environ is None else environ)
    if issues:
        raise SpecError(issues)
    spec, issues = _validate(Document(doc.file, data, doc.lines) if data is not doc.data else doc, Target)
    if issues:
        raise SpecError(issues)
    fields: set[str] = set()
    for name, binding in spec.providers.items():
        type_name = binding.type or name
        if catalog.known_type(type_name) is not None:
            where = ("providers", name, "type") if binding.type else ("providers", name)
            issues.append(doc.issue(where, _unknown_type(type_name)))
            continue
        profile = catalog.profile(type_name)
        creds = {c.name for c in profile.credentials}
        for cred in binding.credential_names():
            if cred not in creds:
                issues.append(doc.issue(("providers", name, "credentials", cred),
                                        f"{type_name} has no credential {cred!r}; it takes {', '.join(sorted(creds)) or 'none'}"))
        if binding.order_ref is None and profile.order_ref_default is None:
            issues.append(doc.issue(("providers", name), f"{type_name} has no default order reference field; "
                                    "set order_ref: to the request field that carries the order id"))
        for instrument in profile.instruments.values():
            fields.update(instrument.fields)
    issues.extend(_card_placeholders(doc, spec, fields))
    if issues:
        raise SpecError(issues)
    return LoadedTarget(Path(path), doc, spec)


# ${NAME} or ${NAME:-default}; a default may hold one level of {placeholder}.
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^{}]|\{[^{}]*\})*))?\}")
# Where ${VAR} is expanded: how the service is started and where it listens.
_EXPANDED = (("start", "command"), ("start", "env"), ("start", "cwd"), ("start", "before"), ("base_url",))


def expand_environment(doc: Document, environ) -> tuple[Any, list[SpecIssue]]:
    """``${VAR}`` / ``${VAR:-default}`` from paychaos's environment in the start
    section and base_url; ``$${`` is a literal ``${``. A variable that is unset
    with no default is an error at its line."""
    issues: list[SpecIssue] = []
    if not isinstance(doc.data, dict):
        return doc.data, issues

    def expand(value: Any, where: tuple) -> Any:
        if isinstance(value, str):
            def one(m: re.Match) -> str:
                name, default = m.group(1), m.group(2)
                if name in environ:
                    return environ[name]
                if default is not None:
                    return default
                issues.append(doc.issue(where, f"${{{name}}} is not set in paychaos's environment; export it, or "
                                        f"give a default: ${{{name}:-value}}"))
                return m.group(0)

            parts = value.split("$${")
            return "${".join(_VAR.sub(one, part) for part in parts)
        if isinstance(value, dict):
            return {k: expand(v, (*where, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [expand(v, (*where, i)) for i, v in enumerate(value)]
        return value

    data = copy.deepcopy(doc.data)
    for path in _EXPANDED:
        parent = data
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            parent[path[-1]] = expand(parent[path[-1]], path)
    return data, issues


def _card_placeholders(doc: Document, spec: Target, fields: set[str]) -> list[SpecIssue]:
    """Placeholders the template models leave to the loader: ``{order.card.<field>}``
    (a field of the providers' test instruments), ``{name}`` (a value an earlier
    step captured) and ``{credentials.<instance>.<name>}``."""
    from harness.spec.target import Sequence
    from harness.spec.templates import CARD_PREFIX, CREDENTIALS_PREFIX, placeholders

    out = []
    pay_captures: list[str] = []
    for req_name in ("pay", "lookup"):
        request = getattr(spec.requests, req_name)
        if request is None:
            continue
        steps = list(enumerate(request.steps)) if isinstance(request, Sequence) else [(None, request)]
        captured = list(pay_captures) if req_name == "lookup" else []
        for i, template in steps:
            base = ("requests", req_name) if i is None else ("requests", req_name, "steps", i)
            provider = getattr(template, "provider", None)
            if provider is not None and provider not in spec.providers:
                out.append(doc.issue((*base, "to"), f"{provider!r} is not a provider instance of this target "
                                     f"({', '.join(spec.providers)})"))
            for part in ("path", "json_body", "form", "headers"):
                key = "json" if part == "json_body" else part
                for ph in placeholders(getattr(template, part)):
                    problem = None
                    if ph.startswith(CARD_PREFIX) and ph != "order.card.name" and ph[len(CARD_PREFIX):] not in fields:
                        problem = ("the providers' test cards have "
                                   + ", ".join("{order.card." + f + "}" for f in sorted({"name", *fields})))
                    elif ph.startswith(CREDENTIALS_PREFIX):
                        _, inst, cred = ph.split(".")
                        binding = spec.providers.get(inst)
                        if binding is None:
                            problem = f"{inst!r} is not a provider instance of this target"
                        elif catalog.known_type(binding.type or inst) is None:
                            names = {c.name for c in catalog.profile(binding.type or inst).credentials}
                            if cred not in names:
                                problem = f"{binding.type or inst} has no credential {cred!r}; it has {sorted(names)}"
                    elif "." not in ph and ph not in captured:
                        problem = ("no earlier step captures it" + (f"; captured so far: {', '.join(captured)}"
                                                                     if captured else ""))
                    if problem:
                        out.append(doc.issue((*base, key), f"unknown placeholder {{{ph}}}; {problem}"))
            captured.extend(getattr(template, "capture", {}))
        if req_name == "pay":
            pay_captures = captured
    for inst, binding in spec.providers.items():
        for i, corr in enumerate(binding.correlate):
            if corr.capture is not None and corr.capture not in pay_captures:
                out.append(doc.issue(("providers", inst, "correlate", i, "capture"),
                                     f"no step of requests.pay captures {corr.capture!r}"
                                     + (f"; it captures {', '.join(pay_captures)}" if pay_captures else "")))
    return out


def load_contract(path: str | Path) -> LoadedContract:
    doc = load_document(path)
    spec, issues = _validate(doc, Contract)
    if issues:
        raise SpecError(issues)
    return LoadedContract(Path(path), doc, spec)


def _contract_instances(contract: LoadedContract, target: Target) -> list[SpecIssue]:
    """The contract's per-instance numbers name instances the target has."""
    known = list(target.providers)
    return [contract.doc.issue(("timeouts", name), f"{name!r} is not a provider instance of the target "
                               f"({', '.join(known)}){did_you_mean(name, known)}; name it as the target file does")
            for name in contract.spec.timeouts or {} if name not in target.providers]


def _instances(doc: Document, spec: Scenario, target: Target | None) -> tuple[dict[str, str], list[SpecIssue]]:
    """Provider instance -> type: the scenario's type, else the target's, else the instance name."""
    instances: dict[str, str] = {}
    issues: list[SpecIssue] = []
    for i, name in enumerate(spec.providers):
        use = spec.providers[name] if isinstance(spec.providers, dict) else None
        where = ("providers", name) if isinstance(spec.providers, dict) else ("providers", i)
        binding = target.providers.get(name) if target is not None else None
        if target is not None and binding is None:
            issues.append(doc.issue(where, f"unknown provider {name!r}{did_you_mean(name, target.providers)}: it is "
                                    f"not an instance in the target's providers ({', '.join(target.providers)}); add it "
                                    "there or remove it here"))
            continue
        target_type = (binding.type or name) if binding is not None else None
        type_name = (use.type if use is not None else None) or target_type or name
        if target is None and (use is None or use.type is None):
            instances[name] = type_name  # no target to take the type from (its own errors are reported)
            continue
        if catalog.known_type(type_name) is not None:
            issues.append(doc.issue((*where, "type") if use is not None and use.type else where, _unknown_type(type_name)))
            continue
        if target_type is not None and type_name != target_type:
            issues.append(doc.issue((*where, "type"), f"{name!r} is of type {target_type} in the target file, not "
                                    f"{type_name}; make them agree"))
            continue
        instances[name] = type_name
    return instances, issues


def load_scenario(path: str | Path, target: Target | None = None,
                  contract: LoadedContract | None = None) -> LoadedScenario:
    """One scenario, its numbers relative to the contract resolved against ``contract``.
    Without a contract, or when it does not state a number the scenario needs, it
    loads with ``skip`` saying why (a malformed reference is an error all the same)."""
    from harness.checks import resolve_checks  # checks import spec models; avoid a cycle at import time

    doc = load_document(path)
    spec, issues = _validate(doc, Scenario)
    if issues:
        raise SpecError(issues)
    instances, issues = _instances(doc, spec, target)
    if spec.workload.engine not in catalog.engines():
        known = sorted(catalog.engines())
        issues.append(doc.issue(("workload", "engine"), f"unknown workload engine {spec.workload.engine!r}"
                                f"{did_you_mean(spec.workload.engine, known)}; known: {', '.join(known)}"))
    if issues:
        raise SpecError(issues)

    known_cards: dict[str, str] = {}
    for type_name in dict.fromkeys(t for t in instances.values() if catalog.known_type(t) is None):
        for card in catalog.instruments(type_name):
            known_cards.setdefault(card, type_name)
    for card in spec.workload.cards:
        if card not in known_cards:
            issues.append(doc.issue(("workload", "cards", card), f"unknown test card{did_you_mean(card, known_cards)}; "
                                    f"known: {', '.join(sorted(known_cards))}"))

    numbers = ContractNumbers(contract, list(instances))
    faults, fault_issues = parse_faults(spec.faults, list(instances), doc, numbers)
    issues.extend(fault_issues)
    for fault in faults:
        if fault.provider is None and target is not None and target.start is None:
            issues.append(doc.issue(("faults", fault.index, "kind"), f"{fault.kind} acts on the target process, but "
                                    "the target file has no start section (paychaos did not start it); add one or "
                                    "remove this fault"))
        if fault.at >= spec.workload.max_duration_s:
            how = f" (at is {fault.derived['at'].text})" if "at" in fault.derived else ""
            issues.append(doc.issue(("faults", fault.index, "at"), f"{fault.at:g}s is not before the workload ends "
                                    f"(max_duration_s {spec.workload.max_duration_s:g}s), so it would never apply"
                                    + how))

    checks, check_issues = resolve_checks(spec.verify)
    issues.extend(doc.issue(("verify", i), msg) for i, msg in check_issues)
    if issues:
        raise SpecError(issues)
    return LoadedScenario(Path(path), doc, spec, tuple(faults), tuple(checks), instances, numbers.skip_reason())


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
    if target is not None and contract is not None:
        issues.extend(_contract_instances(contract, target.spec))
    scenarios: list[LoadedScenario] = []
    try:
        files = discover_scenarios(scenario_paths)
    except SpecError as exc:
        issues.extend(exc.issues)
        files = []
    names: dict[str, Path] = {}
    for f in files:
        try:
            loaded = load_scenario(f, target.spec if target else None, contract)
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
