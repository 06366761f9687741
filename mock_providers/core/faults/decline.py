"""``decline``: a charge in the request is declined like a real card decline
(402 card_error card_declined with this decline_code), whatever the card.
Requests that charge nothing are unaffected.
"""

from __future__ import annotations

from pydantic import field_validator

from ._base import Effect, FaultKind

__all__ = ["Decline"]


class Decline(FaultKind, kind="decline"):
    description = "a forced card decline"
    decline_code: str = "generic_decline"

    @field_validator("decline_code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not v or not v.replace("_", "").isalnum():
            raise ValueError(f"decline_code={v!r} is invalid: use a Stripe decline code such as"
                             " 'generic_decline' or 'insufficient_funds'")
        return v

    def effect(self) -> Effect:
        return Effect(decline_code=self.decline_code)
