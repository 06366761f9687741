"""A scenario: one failure story. Providers, workload, fault timeline, checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from harness.spec.relative import Derived
from harness.spec.types import Probability, Seconds, Strict

__all__ = ["Scenario", "Workload", "AmountRange", "Drain", "FaultSpec", "ProviderUse"]


class AmountRange(Strict):
    """Order amounts in minor units (cents)."""

    min: int = Field(500, ge=1)
    max: int = Field(20_000, ge=1)

    @field_validator("max")
    @classmethod
    def _order(cls, v: int, info: ValidationInfo) -> int:
        low = info.data.get("min")
        if low is not None and v < low:
            raise ValueError(f"must be >= min ({low}) (got {v})")
        return v


class Workload(Strict):
    engine: str = Field("async", min_length=1, description="workload engine (registered by name); async: built in")
    orders: int = Field(ge=1, le=100_000, description="how many orders to submit (the loop's bound)")
    concurrency: int | None = Field(None, ge=1, le=1024, description="closed loop: this many workers")
    rate: float | None = Field(None, gt=0, le=10_000, description="open loop: orders per second")
    max_in_flight: int = Field(256, ge=1, le=10_000, description="open loop: cap on outstanding calls")
    max_duration_s: Seconds = Field(60.0, description="stop submitting after this long, whatever is left")
    amount: AmountRange = Field(default_factory=AmountRange)
    currency: str = Field("usd", pattern=r"^[a-z]{3}$")
    cards: dict[str, Probability] = Field(default_factory=lambda: {"visa": 1.0}, min_length=1)

    @model_validator(mode="after")
    def _one_mode(self) -> "Workload":
        if self.concurrency is not None and self.rate is not None:
            raise ValueError("give either concurrency (closed loop) or rate (open loop), not both")
        if self.max_duration_s <= 0:
            raise ValueError("max_duration_s must be > 0")
        if sum(self.cards.values()) <= 0:
            raise ValueError("cards: the weights must not all be 0")
        return self

    @property
    def workers(self) -> int:
        return self.concurrency or 1


class Drain(Strict):
    """After the workload: faults are lifted and pending orders get this long to settle."""

    timeout_s: Seconds = 15.0
    poll_interval_s: Seconds = 0.25


class FaultSpec(Strict):
    """One entry of the fault timeline, validated in two phases (see spec.faults)."""

    index: int
    layer: str  # a registered timeline layer: http, network, process
    kind: str
    provider: str | None  # the provider INSTANCE it acts on; None for layers that act on the target
    at: float
    duration: float | None
    name: str
    instant: bool = False  # happens at `at` (kill the target now), never lifted
    # http: the provider rule sent to the control API (kind, rate, first_n, match, attributes)
    # network: stream, toxicity and toxic attributes; process: the action's attributes
    rule: dict[str, Any]
    # fields written relative to the contract (as written: delay_ms, for, first_n) -> how each was derived
    derived: dict[str, Derived] = Field(default_factory=dict)


class ProviderUse(Strict):
    """A provider instance in a scenario; ``type`` defaults to the target's for that instance."""

    type: str | None = Field(None, min_length=1)


class Scenario(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    # [cardpay] (instances named like their type) or {primary: {type: cardpay}, backup: {type: cardpay}}
    providers: list[str] | dict[str, ProviderUse] = Field(default_factory=lambda: ["cardpay"], min_length=1)
    workload: Workload
    faults: list[dict[str, Any]] = Field(default_factory=list)
    verify: list[str] = Field(default_factory=list, description="check families or clause ids; money is always on")
    drain: Drain = Field(default_factory=Drain)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    tags: list[str] = Field(default_factory=list)

    @field_validator("providers")
    @classmethod
    def _unique(cls, v: list[str] | dict[str, ProviderUse]) -> list[str] | dict[str, ProviderUse]:
        if isinstance(v, list):
            dupes = sorted({p for p in v if v.count(p) > 1})
            if dupes:
                raise ValueError(f"{dupes[0]} is listed twice; list each provider once")
        return v

    @property
    def instances(self) -> list[str]:
        return list(self.providers)
