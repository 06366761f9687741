"""Fault timeline entries, validated in two phases (like Toxiproxy's AddToxicJson).

Phase 1 checks the envelope every fault shares (kind, provider, at, for, name)
and the layer's own envelope (HTTP: rate, first_n, match; network: stream,
toxicity). Phase 2 looks the kind up in its layer's registry and validates the
remaining keys with that kind's attribute model, the same model the provider
or the fault backend uses, so the scenario and the runtime never disagree.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from harness.errors import SpecIssue
from harness.spec import catalog
from harness.spec.messages import did_you_mean, got, issues_from_validation
from harness.spec.scenario import FaultSpec
from harness.spec.source import Document
from harness.spec.types import Probability, Seconds, Strict

__all__ = ["parse_faults"]

_COMMON = ("kind", "provider", "at", "for", "name")
_HTTP_ENVELOPE = ("rate", "first_n", "match")
_NET_ENVELOPE = ("stream", "toxicity")


class _Common(Strict):
    kind: str
    provider: str | None = None
    at: Seconds = 0.0
    for_: Seconds | None = Field(None, alias="for")
    name: str | None = Field(None, min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")


class _Match(Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] | None = None
    path: str | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("/"):
            raise ValueError(f"must start with / (got {v!r}); wildcards like /v1/payment_intents* are allowed")
        return v


class _HttpEnvelope(Strict):
    rate: Probability = 1.0
    first_n: int | None = Field(None, ge=1, le=1000)
    match: _Match | None = None


class _NetEnvelope(Strict):
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: Probability = 1.0


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

    layer = catalog.layer_of(common.kind)
    if layer is None:
        known = catalog.fault_kinds()
        hint = did_you_mean(common.kind, known["http"] + known["network"])
        return None, [
            doc.issue(
                (*where, "kind"),
                f"unknown fault kind {common.kind!r}{hint}; HTTP kinds: {', '.join(known['http'])}; "
                f"network kinds: {', '.join(known['network'])}",
            )
        ]

    provider = common.provider
    if provider is None:
        if len(providers) != 1:
            return None, [doc.issue(where, f"provider: is required when the scenario has several providers ({', '.join(providers)})")]
        provider = providers[0]
    elif provider not in providers:
        return None, [
            doc.issue((*where, "provider"), f"{provider!r} is not in this scenario's providers ({', '.join(providers)}){did_you_mean(provider, providers)}")
        ]

    rest = {k: v for k, v in entry.items() if k not in _COMMON}
    if layer == "http":
        envelope_keys, model, wrong = _HTTP_ENVELOPE, _HttpEnvelope, _NET_ENVELOPE
    else:
        envelope_keys, model, wrong = _NET_ENVELOPE, _NetEnvelope, _HTTP_ENVELOPE
    for key in wrong:
        if key in rest:
            return None, [doc.issue((*where, key), _wrong_layer(key, layer))]
    try:
        envelope = model.model_validate({k: v for k, v in rest.items() if k in envelope_keys})
    except ValidationError as exc:
        return None, issues_from_validation(exc, doc, model, where)

    attributes = {k: v for k, v in rest.items() if k not in envelope_keys}
    attributes, problems = catalog.validate_attributes(layer, common.kind, attributes, doc, where)
    if problems:
        return None, problems

    name = common.name or f"{common.kind}-{i}"
    if layer == "network":
        problems = _check_toxic(name, common.kind, envelope, attributes, doc, where)
        if problems:
            return None, problems
    if layer == "http":
        rule: dict[str, Any] = {"kind": common.kind, "rate": envelope.rate, **attributes}
        if envelope.first_n is not None:
            rule["first_n"] = envelope.first_n
        if envelope.match is not None:
            rule["match"] = envelope.match.model_dump(exclude_none=True)
    else:
        rule = {"stream": envelope.stream, "toxicity": envelope.toxicity, "attributes": attributes}
    if layer == "http":
        rule["id"] = name
    return (
        FaultSpec(index=i, layer=layer, kind=common.kind, provider=provider, at=common.at, duration=common.for_,
                  name=name, rule=rule),
        [],
    )


def _check_toxic(name: str, kind: str, envelope: _NetEnvelope, attributes: dict[str, Any], doc: Document,
                 where: tuple) -> list[SpecIssue]:
    """The backends' own ToxicSpec rules that span envelope and kind (e.g.
    ``down`` takes the whole proxy, so its toxicity must be 1)."""
    from harness.faults import ToxicSpec

    try:
        ToxicSpec(name=name, type=kind, stream=envelope.stream, toxicity=envelope.toxicity, attributes=attributes)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            loc = tuple(err.get("loc", ()))
            if loc[:1] == ("attributes",):
                loc = loc[1:]
            elif loc[:1] == ("type",):
                loc = ("kind",)
            elif not loc and "toxicity" in str(err.get("msg", "")):
                loc = ("toxicity",)
            issues.append(doc.issue((*where, *loc), str(err.get("msg"))))
        return issues
    return []


def _wrong_layer(key: str, layer: str) -> str:
    if layer == "network":
        return (
            f"{key}: is for HTTP faults; network faults take stream and toxicity. Toxiproxy draws toxicity once per "
            "connection, so for a per-request probability use an HTTP fault kind instead"
        )
    return f"{key}: is for network faults; HTTP faults take rate, first_n and match"
