"""What a caller asks of a fault backend, and what a backend reports back.

A toxic is validated in two phases, as Toxiproxy's ``AddToxicJson``: first the
envelope (name, type, stream, toxicity) with its defaults, then the attributes
against the model registered for that type. The stored ``attributes`` are the
complete set with defaults filled in, so an update replaces them all.

    ToxicSpec(type="latency", attributes={"latency": 200})
    # -> name="latency_downstream", stream="downstream", toxicity=1.0,
    #    attributes={"latency": 200, "jitter": 0}
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .toxics import REGISTRY

__all__ = ["ToxicSpec", "ProxyInfo", "Stream", "check_proxy_name", "check_upstream"]

Stream = Literal["upstream", "downstream"]

# Names end up in Toxiproxy URL paths: keep them to URL-safe characters.
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class ToxicSpec(BaseModel):
    """One toxic on one proxy: envelope plus per-type attributes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="unique per proxy; default '<type>_<stream>'")
    type: str
    stream: Stream = "downstream"
    toxicity: float = Field(1.0, description="probability, drawn once per connection")
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("name"):
            data = dict(data)
            data["name"] = f"{data.get('type', '')}_{data.get('stream') or 'downstream'}"
        return data

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise PydanticCustomError(
                "toxic_name",
                "name={value} is invalid: use 1-100 letters, digits, '_', '.' or '-'",
                {"value": repr(value)},
            )
        return value

    @field_validator("type")
    @classmethod
    def _check_type(cls, value: str) -> str:
        if value not in REGISTRY:
            close = difflib.get_close_matches(value, list(REGISTRY), n=1)
            fix = f"did you mean '{close[0]}'? " if close else ""
            raise PydanticCustomError(
                "toxic_type",
                "type={value} is not a known toxic; {fix}known toxics: {known}",
                {"value": repr(value), "fix": fix, "known": ", ".join(REGISTRY)},
            )
        return value

    @field_validator("toxicity")
    @classmethod
    def _check_toxicity(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise PydanticCustomError(
                "toxicity_range",
                "toxicity={value} is invalid: must be between 0 and 1 (the probability that a "
                "CONNECTION is affected; for a per-request probability use an HTTP fault)",
                {"value": value},
            )
        return value

    @field_validator("attributes")
    @classmethod
    def _check_attributes(cls, value: dict[str, Any], info) -> dict[str, Any]:
        kind = info.data.get("type")
        if kind is None:  # the type itself was invalid; that error is enough
            return value
        try:
            parsed = REGISTRY[kind].Attributes.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(
                (f"{'.'.join(map(str, e['loc']))}: " if e["loc"] else "") + e["msg"]
                for e in exc.errors()
            )
            raise PydanticCustomError(
                "toxic_attributes", "attributes for toxic '{kind}': {problems}",
                {"kind": kind, "problems": problems},
            ) from None
        return parsed.model_dump()

    @model_validator(mode="after")
    def _proxy_level_rules(self) -> ToxicSpec:
        if REGISTRY[self.type].proxy_level and self.toxicity != 1.0:
            raise PydanticCustomError(
                "toxicity_range",
                "toxicity={value} is invalid for '{kind}': it takes the whole proxy down, so "
                "toxicity must be 1; to affect some connections use reset_peer or timeout",
                {"value": self.toxicity, "kind": self.type},
            )
        return self

    @property
    def proxy_level(self) -> bool:
        return REGISTRY[self.type].proxy_level

    def parsed_attributes(self):
        return REGISTRY[self.type].Attributes.model_validate(self.attributes)

    def journal(self) -> dict[str, Any]:
        return self.model_dump()


class ProxyInfo(BaseModel):
    """A proxy as a backend reports it."""

    model_config = ConfigDict(frozen=True)

    name: str
    listen: str  # "127.0.0.1:PORT"
    upstream: str  # "HOST:PORT"
    enabled: bool
    toxics: tuple[ToxicSpec, ...] = ()


def check_proxy_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"proxy name={name!r} is invalid: use 1-100 letters, digits, '_', '.' or '-'")
    return name


def check_upstream(upstream: str) -> tuple[str, int]:
    """'HOST:PORT' -> (host, port), with a message that says what is expected."""
    host, sep, port = str(upstream).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"upstream={upstream!r} is invalid: expected 'HOST:PORT', e.g. '127.0.0.1:8080'")
    return host.strip("[]"), int(port)
