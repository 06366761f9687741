"""The contract: the target's documented resilience expectations, with numbers.

Each leaf is a *clause* (``retry.max_attempts``); checks enforce clauses and
verdicts cite them with their file:line. A section left out means its checks
are skipped with that reason, never passed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from mock_providers.core.profile import FAILURE_CLASSES as _NEUTRAL
from harness.spec.types import Strict

__all__ = ["Contract", "RetryClause", "Backoff", "IdempotencyClause", "ErrorsClause", "DegradationClause", "MoneyClause",
           "ReconcileClause", "ProviderTimeouts", "FAILURE_CLASSES", "SDK_UNHINTED_TRANSIENT"]

# The provider-neutral failure classes contracts name; every provider profile
# maps its own status and error codes onto them (mock_providers/core/profile.py).
FAILURE_CLASSES = tuple(_NEUTRAL)

# With `transient: provider_hint`, what the official Stripe SDKs retry when the
# provider gives no hint: connection failures, 409 and 5xx (never a 429 or other 4xx).
SDK_UNHINTED_TRANSIENT = ("timeout", "dropped", "conflict", "server_error", "unavailable")


class Backoff(Strict):
    initial_ms: int = Field(ge=0)
    multiplier: float = Field(2.0, ge=1.0, le=10.0)
    max_ms: int = Field(ge=0)
    jitter: Literal["none", "equal", "full"] = "equal"
    tolerance_ms: int = Field(10, ge=0, description="slack for scheduling noise when judging a gap")

    @field_validator("max_ms")
    @classmethod
    def _order(cls, v: int, info: ValidationInfo) -> int:
        initial = info.data.get("initial_ms")
        if initial is not None and v < initial:
            raise ValueError(f"must be >= initial_ms ({initial}) (got {v}); the cap cannot be below the first wait")
        return v

    def nominal_ms(self, retry: int) -> float:
        """Nominal wait before retry ``retry`` (1 = the first retry)."""
        return min(float(self.max_ms), self.initial_ms * self.multiplier ** (retry - 1))

    def min_wait_ms(self, retry: int) -> float:
        """The least wait the documented policy allows before that retry."""
        nominal = self.nominal_ms(retry)
        return {"none": nominal, "equal": nominal / 2, "full": 0.0}[self.jitter]


class RetryClause(Strict):
    """Retries inside the pay call (attempts sent while the service had not yet answered)."""

    max_attempts: int = Field(ge=1, le=100, description="attempts per payment, counting the first")
    backoff: Backoff | None = None
    honour_retry_after: bool = True
    # A list of failure classes, or `provider_hint`: retry exactly when the provider
    # says so (Stripe-Should-Retry), and where it says nothing, as the official SDKs do.
    transient: list[Literal[FAILURE_CLASSES]] | Literal["provider_hint"] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["timeout", "dropped", "conflict", "rate_limited", "server_error", "unavailable"]
    )
    never_retry: list[Literal[FAILURE_CLASSES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["decline", "invalid_request", "auth", "risk_block"]
    )

    @field_validator("never_retry")
    @classmethod
    def _disjoint(cls, v: list[str], info: ValidationInfo) -> list[str]:
        transient = info.data.get("transient") or ()
        if transient == "provider_hint":
            transient = SDK_UNHINTED_TRANSIENT
        both = sorted(set(transient) & set(v))
        if both:
            raise ValueError(f"{', '.join(both)} cannot be both transient and never_retry; remove it from one list")
        return v

    @property
    def follows_hints(self) -> bool:
        return self.transient == "provider_hint"

    def is_transient(self, failure: str | None, hint: bool | None) -> bool:
        """Should an attempt that failed so be retried (while attempts remain)?"""
        if self.follows_hints:
            return bool(hint) if hint is not None else failure in SDK_UNHINTED_TRANSIENT
        return failure in self.transient

    def is_never_retry(self, failure: str | None, hint: bool | None) -> bool:
        if self.follows_hints and hint is not None:
            return not hint
        return failure in self.never_retry

    def transient_text(self) -> str:
        if self.follows_hints:
            return ("the provider's retry hint says retry, or, without a hint, "
                    + ", ".join(SDK_UNHINTED_TRANSIENT))
        return ", ".join(self.transient)

    def never_text(self) -> str:
        if self.follows_hints:
            return "the provider's retry hint says do not retry, or, without a hint, " + ", ".join(self.never_retry)
        return ", ".join(self.never_retry)


class ReconcileClause(Strict):
    """What the service does AFTER it answered (a reconciler, a webhook or lookup handler)."""

    how: list[Literal["replay", "lookup"]] = Field(
        default_factory=lambda: ["lookup"], min_length=1,
        description="replay: the charge again under the payment's own idempotency key; lookup: ask the provider")
    max_requests: int = Field(50, ge=1, le=100_000, description="provider requests per payment after the answer")


class IdempotencyClause(Strict):
    same_key_across_retries: bool = True


class ErrorsClause(Strict):
    required: list[Literal["type", "code", "message", "action", "contact"]] = Field(
        default_factory=lambda: ["type", "action", "contact"], min_length=1
    )
    forbidden_messages: list[str] = Field(
        default_factory=list, description="regular expressions a user-facing message must not match (case-insensitive)"
    )

    @field_validator("forbidden_messages")
    @classmethod
    def _regex(cls, v: list[str]) -> list[str]:
        import re

        for i, pattern in enumerate(v):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"item {i} is not a valid regular expression: {exc}") from None
        return v


class DegradationClause(Strict):
    max_response_ms: int = Field(ge=1, description="every pay call is answered within this, even when nothing can pay")


class ProviderTimeouts(Strict):
    """The service's documented timeouts towards one provider instance. No check
    enforces them: scenarios use them to aim their faults (a delay just over the
    client timeout), see ``harness.spec.relative``."""

    client_ms: int = Field(ge=1, le=600_000, description="how long one request to the provider may take before the "
                           "service gives up on it (per attempt)")


class MoneyClause(Strict):
    """Money invariants are always checked; this only tunes them."""

    final_states: list[Literal["succeeded", "declined", "failed", "pending"]] = Field(
        default_factory=lambda: ["succeeded", "declined", "failed"], min_length=1
    )


class Contract(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    retry: RetryClause | None = None
    idempotency: IdempotencyClause | None = None
    errors: ErrorsClause | None = None
    degradation: DegradationClause | None = None
    reconcile: ReconcileClause | None = None
    # provider instance (as the target and the scenarios name it) -> its timeouts
    timeouts: dict[str, ProviderTimeouts] | None = None
    money: MoneyClause = Field(default_factory=MoneyClause)
