"""Fault timeline entries, validated in two phases (like Toxiproxy's AddToxicJson).

Phase 1 checks the envelope every fault shares (kind, provider, at, for, name)
and the envelope of the fault's timeline layer (HTTP: rate, first_n, match;
network: stream, toxicity). Phase 2 validates the remaining keys with the
kind's own attribute model, the same model the provider, the fault backend or
the process layer uses, so the scenario and the runtime never disagree. The
layers are read from their registry (``harness.run.layers``).

Before each phase, numbers written relative to the contract (``delay_ms:
{over: timeouts.cardpay.client_ms, by: 500}``) are resolved (``relative.py``),
with the unit of the field they go into, so each phase validates plain
numbers; a problem at such a field also says how its number was derived.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from harness.errors import SpecIssue
from harness.spec import catalog
from harness.spec.messages import did_you_mean, got, issues_from_validation
from harness.spec.relative import ContractNumbers, Derived, field_unit, is_relative
from harness.spec.scenario import FaultSpec
from harness.spec.source import Document, format_path
from harness.spec.types import Seconds, Strict

__all__ = ["parse_faults"]

_COMMON = ("kind", "provider", "at", "for", "name")


class _Common(Strict):
    kind: str
    provider: str | None = None
    at: Seconds = 0.0
    for_: Seconds | None = Field(None, alias="for")
    name: str | None = Field(None, min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")


def parse_faults(raw: list[Any], providers: list[str], doc: Document,
                 numbers: ContractNumbers | None = None) -> tuple[list[FaultSpec], list[SpecIssue]]:
    """The fault timeline. A fault that needs a number the contract does not
    state is checked as far as it can be and left out; ``numbers.missing`` says
    which (the scenario is then skipped)."""
    numbers = numbers if numbers is not None else ContractNumbers(None, providers)
    specs: list[FaultSpec] = []
    issues: list[SpecIssue] = []
    names: set[str] = set()
    for i, entry in enumerate(raw):
        where = ("faults", i)
        if not isinstance(entry, dict):
            issues.append(doc.issue(where, f"must be a mapping with at least kind: (got {got(entry)})"))
            continue
        spec, problems = _Entry(i, doc, numbers).parse(entry, providers)
        issues.extend(problems)
        if spec is None:
            continue
        if spec.name in names:
            issues.append(doc.issue((*where, "name"), f"{spec.name!r} is used by another fault; names must be unique"))
            continue
        names.add(spec.name)
        specs.append(spec)
    return specs, issues


class _Entry:
    """One fault entry: its relative numbers as they are resolved, then the two phases."""

    def __init__(self, i: int, doc: Document, numbers: ContractNumbers):
        self.where = ("faults", i)
        self.i, self.doc, self.numbers = i, doc, numbers
        self.derived: dict[str, Derived] = {}
        self.unresolved: set[str] = set()  # keys whose number the contract does not state

    def resolve(self, part: dict[str, Any], model: type[BaseModel]) -> tuple[dict[str, Any], list[SpecIssue]]:
        """``part`` with its relative numbers resolved with the units of ``model``'s fields."""
        out, issues = dict(part), []
        for key, value in part.items():
            if not is_relative(value):
                continue
            info = next((f for name, f in model.model_fields.items() if key in (name, f.alias)), None)
            if info is None:
                continue  # the model rejects the unknown key by name
            unit = field_unit(key, info)
            if unit is None:
                issues.append(self.doc.issue((*self.where, key), f"cannot be relative to the contract: {key} is not "
                                             "a time or a count; write a number"))
                continue
            res = self.numbers.resolve(value, unit, (*self.where, key), self.doc)
            issues.extend(res.issues)
            if res.missing is not None:
                del out[key]
                self.unresolved.add(key)
            elif res.derived is not None:
                out[key] = res.value
                self.derived[key] = res.derived
        return out, issues

    def explain(self, issues: list[SpecIssue]) -> list[SpecIssue]:
        """Issues at a field whose number the contract does not state are dropped (that
        field cannot be judged without it); those at a derived one say how it was derived."""
        out = []
        for issue in issues:
            key = next((k for k in (*self.unresolved, *self.derived) if issue.path == format_path((*self.where, k))
                        or issue.path.startswith(format_path((*self.where, k)) + ".")), None)
            if key in self.unresolved:
                continue
            if key is not None:
                d = self.derived[key]
                issue = replace(issue, message=f"{issue.message} ({key} is {d.text}; {d.ref} is at {d.ref_where})")
            out.append(issue)
        return out

    def validate(self, model: type[BaseModel], part: dict[str, Any]) -> tuple[Any, list[SpecIssue]]:
        try:
            return model.model_validate(part), []
        except ValidationError as exc:
            return None, self.explain(issues_from_validation(exc, self.doc, model, self.where))

    def parse(self, entry: dict[str, Any], providers: list[str]) -> tuple[FaultSpec | None, list[SpecIssue]]:
        where, doc = self.where, self.doc
        common_part, problems = self.resolve({k: v for k, v in entry.items() if k in _COMMON}, _Common)
        if problems:
            return None, problems
        common, problems = self.validate(_Common, common_part)
        if common is None:
            return None, problems

        layer_name = catalog.layer_of(common.kind)
        if layer_name is None:
            known = catalog.fault_kinds()
            every = [k for kinds in known.values() for k in kinds]
            listing = "; ".join(f"{name} kinds: {', '.join(kinds)}" for name, kinds in known.items())
            return None, [doc.issue((*where, "kind"), f"unknown fault kind {common.kind!r}"
                                    f"{did_you_mean(common.kind, every)}; {listing}")]
        layer = catalog.layers()[layer_name]

        provider = common.provider
        if not layer.needs_provider:
            if provider is not None:
                return None, [doc.issue((*where, "provider"), f"{common.kind} acts on the target, not on a provider; "
                                        "remove provider:")]
        elif provider is None:
            if len(providers) != 1:
                return None, [doc.issue(where, f"provider: is required when the scenario has several providers "
                                        f"({', '.join(providers)})")]
            provider = providers[0]
        elif provider not in providers:
            return None, [
                doc.issue((*where, "provider"), f"{provider!r} is not in this scenario's providers "
                          f"({', '.join(providers)}){did_you_mean(provider, providers)}")
            ]
        instant = common.kind in layer.instant_kinds
        if instant and common.for_ is not None:
            return None, [doc.issue((*where, "for"), f"{common.kind} is an instant: it happens at `at` and has no "
                                    "duration; remove for:")]

        rest = {k: v for k, v in entry.items() if k not in _COMMON}
        own = layer.envelope_keys()
        for other_name, other in catalog.layers().items():
            if other_name == layer_name:
                continue
            for key in other.envelope_keys():
                if key in rest and key not in own:
                    return None, [doc.issue((*where, key), layer.wrong_key(key, other))]
        envelope = None
        if layer.envelope is not None:
            envelope_part, problems = self.resolve({k: v for k, v in rest.items() if k in own}, layer.envelope)
            if problems:
                return None, problems
            envelope, problems = self.validate(layer.envelope, envelope_part)
            if envelope is None:
                return None, problems

        model = layer.kinds()[common.kind]
        attributes, problems = self.resolve({k: v for k, v in rest.items() if k not in own}, model)
        if problems:
            return None, problems
        attributes, problems = catalog.validate_attributes(layer_name, common.kind, attributes, doc, where)
        problems = self.explain(problems)
        if problems or self.unresolved:
            return None, problems  # unresolved: validated as far as it can be; the scenario is skipped

        name = common.name or f"{common.kind}-{self.i}"
        problems = self.explain([doc.issue((*where, *loc), msg)
                                 for loc, msg in layer.check(name, common.kind, envelope, attributes)])
        if problems:
            return None, problems
        rule = layer.build_rule(name, common.kind, envelope, attributes)
        return (
            FaultSpec(index=self.i, layer=layer_name, kind=common.kind, provider=provider, at=common.at,
                      duration=common.for_, name=name, instant=instant, rule=rule, derived=self.derived),
            [],
        )
