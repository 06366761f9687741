"""The HTTP layer: fault rules inside a mock provider, through its control API.

Kinds are the provider fault kinds registered in ``mock_providers.core.faults``
(the same pydantic models the provider validates with).
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import BaseModel, Field, field_validator

from harness.run.layers.base import TimelineLayer, register_layer
from harness.spec.scenario import FaultSpec
from harness.spec.types import Probability, Strict

__all__ = ["HttpLayer"]


class _Match(Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] | None = None
    path: str | None = None
    role: str | None = Field(None, description="a route role from the provider's profile: charge, lookup, refund...")

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("/"):
            raise ValueError(f"must start with / (got {v!r}); wildcards like /v1/charges* are allowed")
        return v

    @field_validator("role")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        from mock_providers.core.profile import ROLES

        if v is not None and v not in ROLES:
            raise ValueError(f"{v!r} is not a route role; use one of {', '.join(ROLES)}")
        return v


class HttpEnvelope(Strict):
    rate: Probability = 1.0
    first_n: int | None = Field(None, ge=1, le=1000)
    window_s: float | None = Field(None, gt=0, le=3600)
    match: _Match | None = None


@register_layer
class HttpLayer(TimelineLayer):
    name = "http"
    summary = "answers from inside a mock provider: statuses, delays, drops, declines"
    envelope = HttpEnvelope

    @classmethod
    def kinds(cls) -> Mapping[str, type[BaseModel]]:
        from mock_providers.core.faults import FAULT_KINDS

        return FAULT_KINDS

    @classmethod
    def build_rule(cls, name: str, kind: str, envelope: Any, attributes: dict[str, Any]) -> dict[str, Any]:
        rule: dict[str, Any] = {"id": name, "kind": kind, "rate": envelope.rate, **attributes}
        if envelope.first_n is not None:
            rule["first_n"] = envelope.first_n
        if envelope.window_s is not None:
            rule["window_s"] = envelope.window_s
        if envelope.match is not None:
            rule["match"] = envelope.match.model_dump(exclude_none=True)
        return rule

    @classmethod
    def label(cls) -> str:
        return "HTTP"

    async def apply(self, spec: FaultSpec) -> None:
        await self.env.controls[spec.provider].add_fault(spec.rule)

    async def lift(self, spec: FaultSpec) -> None:
        await self.env.controls[spec.provider].remove_fault(spec.name)
