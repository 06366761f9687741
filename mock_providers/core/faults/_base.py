"""Fault rules: a common envelope plus per-kind attributes, validated in two
phases (envelope, then the kind's own model), like toxiproxy's AddToxicJson.

A kind is a frozen pydantic model in its own file, registered by name when
its class is defined (``class Delay(FaultKind, kind="delay")``). It says what
it does through ``effect()``: a small ``Effect`` value that the provider
pipeline interprets. Probability is applied in ONE place, the fault engine.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

__all__ = ["Effect", "FaultKind", "FaultRule", "Match", "FaultRuleError", "FAULT_KINDS", "parse_rule"]

_REGISTRY: dict[str, type["FaultKind"]] = {}
FAULT_KINDS: Mapping[str, type["FaultKind"]] = MappingProxyType(_REGISTRY)

# Longest a delay may hold a request: a provider must never hang.
MAX_DELAY_MS = 600_000


@dataclass(frozen=True, slots=True)
class Effect:
    """What a fired rule does to one request, in pipeline order."""

    drop_before: bool = False  # close without answering, before anything runs
    status: int | None = None  # answer at the front door (nothing saved)
    code: str | None = None  # provider error code for that answer
    retry_after_s: float | None = None
    saved_status: int | None = None  # execution began, then failed: saved and replayed (500)
    delay_s: float = 0.0  # hold the idempotency key this long, then execute
    drop_after: bool = False  # execute and commit, then close without answering
    decline_code: str | None = None  # a charge in this request is declined


class FaultKind(BaseModel):
    """Base of every fault kind. Subclass with ``kind="name"`` to register."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind_name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init_subclass__(cls, kind: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kind is None:
            return
        if kind in _REGISTRY:
            raise ValueError(
                f"fault kind {kind!r} is already registered by {_REGISTRY[kind].__module__}."
                f"{_REGISTRY[kind].__qualname__}; pick another name")
        cls.kind_name = kind
        _REGISTRY[kind] = cls

    def effect(self) -> Effect:  # pragma: no cover - every kind overrides it
        raise NotImplementedError


class Match(BaseModel):
    """Which requests a rule applies to; control requests never match."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    method: str | None = None
    path: str | None = None
    role: str | None = None  # the route's role in the provider's profile (charge, lookup...)

    @field_validator("method")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return None if v is None else v.upper()

    @field_validator("role")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        from ..profile import ROLES

        if v is not None and v not in ROLES:
            raise ValueError(f"role={v!r} is not a route role; use one of {', '.join(ROLES)}")
        return v

    def matches(self, method: str, path: str, role: str = "other") -> bool:
        if self.method is not None and method != self.method:
            return False
        if self.role is not None and role != self.role:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    kind: str
    rate: float = 1.0
    first_n: int | None = None
    window_s: float | None = None
    match: Match = Match()

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"rate={v} is invalid: it is a probability, so it must be between 0 and 1;"
                             " use 1 to fault every matching request")
        return v

    @field_validator("window_s")
    @classmethod
    def _window_s(cls, v: float | None) -> float | None:
        if v is not None and not v > 0:
            raise ValueError(f"window_s={v} is invalid: it is how long a selected order stays faulted, so it must"
                             " be > 0; leave it out to fault requests at random")
        return v

    @field_validator("first_n")
    @classmethod
    def _first_n(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError(f"first_n={v} is invalid: it counts requests, so it must be >= 1;"
                             " leave it out to fault requests at random")
        return v


@dataclass(frozen=True)
class FaultRule:
    id: str | None
    kind: str
    rate: float
    first_n: int | None
    match: Match
    attrs: FaultKind
    window_s: float | None = None

    def effect(self) -> Effect:
        return self.attrs.effect()

    def with_id(self, rule_id: str) -> "FaultRule":
        return FaultRule(rule_id, self.kind, self.rate, self.first_n, self.match, self.attrs, self.window_s)

    def to_json(self) -> dict:
        match = self.match.model_dump()
        if match["role"] is None:
            del match["role"]
        out = {"id": self.id, "kind": self.kind, "rate": self.rate, "first_n": self.first_n, "match": match}
        if self.window_s is not None:
            out["window_s"] = self.window_s
        out.update(self.attrs.model_dump())
        return out


class FaultRuleError(ValueError):
    """A rule is invalid. ``issues`` is a list of (field, message)."""

    def __init__(self, issues: list[tuple[str, str]]):
        self.issues = issues
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in issues))


def _issues(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for err in exc.errors(include_url=False):
        field = prefix + ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown attribute {field!r}; remove it or check its spelling"
        elif err["type"] == "missing":
            msg = f"{field} is missing: this kind requires it; add it to the rule"
        elif not msg.startswith(field.rsplit(".", 1)[-1] + "="):
            msg = f"{field}={err.get('input')!r} is invalid: {msg}"
        out.append((field, msg))
    return out


def parse_rule(data: Mapping[str, Any]) -> FaultRule:
    """Validate one rule (envelope, then its kind). Raises ``FaultRuleError``.

    >>> parse_rule({"kind": "status", "status": 503, "rate": 0.1}).attrs.status
    503
    """
    if not isinstance(data, Mapping):
        raise FaultRuleError([("", f"a fault rule must be a JSON object, got {type(data).__name__}")])
    try:
        env = _Envelope.model_validate(dict(data))
    except ValidationError as exc:
        raise FaultRuleError(_issues(exc)) from None
    cls = _REGISTRY.get(env.kind)
    if cls is None:
        raise FaultRuleError([("kind", f"kind={env.kind!r} is not a registered fault kind;"
                                       f" use one of {sorted(_REGISTRY)}")])
    attrs = dict(env.model_extra or {})
    try:
        kind = cls.model_validate(attrs)
    except ValidationError as exc:
        raise FaultRuleError(_issues(exc)) from None
    return FaultRule(env.id, env.kind, env.rate, env.first_n, env.match, kind, env.window_s)
