"""Fault timeline entries, validated in two phases (like Toxiproxy's AddToxicJson).

Phase 1 checks the envelope every fault shares (kind, provider, at, for, name)
and the envelope of the fault's timeline layer (HTTP: rate, first_n, match;
network: stream, toxicity). Phase 2 validates the remaining keys with the
kind's own attribute model, the same model the provider, the fault backend or
the process layer uses, so the scenario and the runtime never disagree. The
layers are read from their registry (``harness.run.layers``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from harness.errors import SpecIssue
from harness.spec import catalog
from harness.spec.messages import did_you_mean, got, issues_from_validation
from harness.spec.scenario import FaultSpec
from harness.spec.source import Document
from harness.spec.types import Seconds, Strict

__all__ = ["parse_faults"]

_COMMON = ("kind", "provider", "at", "for", "name")


class _Common(Strict):
    kind: str
    provider: str | None = None
    at: Seconds = 0.0
    for_: Seconds | None = Field(None, alias="for")
    name: str | None = Field(None, min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")


def parse_faults(raw: list[Any], providers: list[str], doc: Document) -> tuple[list[FaultSpec], list[SpecIssue]]:
    specs: list[FaultSpec] = []
    issues: list[SpecIssue] = []
    names: set[str] = set()
    for i, entry in enumerate(raw):
        where = ("faults", i)
        if not isinstance(entry, dict):
            issues.append(doc.issue(where, f"must be a mapping with at least kind: (got {got(entry)})"))
            continue
        spec, problems = _parse_one(i, entry, providers, doc)
        issues.extend(problems)
        if spec is None:
            continue
        if spec.name in names:
            issues.append(doc.issue((*where, "name"), f"{spec.name!r} is used by another fault; names must be unique"))
            continue
        names.add(spec.name)
        specs.append(spec)
    return specs, issues


def _parse_one(i: int, entry: dict[str, Any], providers: list[str], doc: Document):
    where = ("faults", i)
    common_part = {k: v for k, v in entry.items() if k in _COMMON}
    try:
        common = _Common.model_validate(common_part)
    except ValidationError as exc:
        return None, issues_from_validation(exc, doc, _Common, where)

    layer_name = catalog.layer_of(common.kind)
    if layer_name is None:
        known = catalog.fault_kinds()
        every = [k for kinds in known.values() for k in kinds]
        listing = "; ".join(f"{name} kinds: {', '.join(kinds)}" for name, kinds in known.items())
        return None, [doc.issue((*where, "kind"), f"unknown fault kind {common.kind!r}{did_you_mean(common.kind, every)}; "
                                f"{listing}")]
    layer = catalog.layers()[layer_name]

    provider = common.provider
    if not layer.needs_provider:
        if provider is not None:
            return None, [doc.issue((*where, "provider"), f"{common.kind} acts on the target, not on a provider; "
                                    "remove provider:")]
    elif provider is None:
        if len(providers) != 1:
            return None, [doc.issue(where, f"provider: is required when the scenario has several providers ({', '.join(providers)})")]
        provider = providers[0]
    elif provider not in providers:
        return None, [
            doc.issue((*where, "provider"), f"{provider!r} is not in this scenario's providers ({', '.join(providers)}){did_you_mean(provider, providers)}")
        ]
    instant = common.kind in layer.instant_kinds
    if instant and common.for_ is not None:
        return None, [doc.issue((*where, "for"), f"{common.kind} is an instant: it happens at `at` and has no duration; "
                                "remove for:")]

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
        try:
            envelope = layer.envelope.model_validate({k: v for k, v in rest.items() if k in own})
        except ValidationError as exc:
            return None, issues_from_validation(exc, doc, layer.envelope, where)

    attributes = {k: v for k, v in rest.items() if k not in own}
    attributes, problems = catalog.validate_attributes(layer_name, common.kind, attributes, doc, where)
    if problems:
        return None, problems

    name = common.name or f"{common.kind}-{i}"
    problems = [doc.issue((*where, *loc), msg) for loc, msg in layer.check(name, common.kind, envelope, attributes)]
    if problems:
        return None, problems
    rule = layer.build_rule(name, common.kind, envelope, attributes)
    return (
        FaultSpec(index=i, layer=layer_name, kind=common.kind, provider=provider, at=common.at, duration=common.for_,
                  name=name, instant=instant, rule=rule),
        [],
    )
