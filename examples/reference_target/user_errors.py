"""What the customer is told: error type, a human message and a concrete next step.

Never "payment failed, please retry" as the whole story: every answer names
what happened and what to do. Lost, stolen and fraudulent cards are presented
as a generic decline (Stripe's advice: telling a fraudster the card was
reported only helps the fraudster); the real reason stays in our logs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "UserError",
    "from_card_error",
    "from_provider_refusal",
    "provider_unavailable",
    "payment_unconfirmed",
    "invalid_request",
]

USE_ANOTHER_CARD = "Use another card or payment method."
ASK_BANK = "Contact your bank to find out why, or use another card or payment method."
TRY_LATER = "Try again in a few minutes, or use another card or payment method."


@dataclass(frozen=True)
class UserError:
    type: str
    code: str
    message: str
    action: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


_GENERIC_DECLINE = UserError("card_declined", "generic_decline", "Your card was declined.", ASK_BANK)

# Decline reasons we must not reveal to the person holding the card.
_CONCEALED = frozenset(
    {
        "lost_card",
        "stolen_card",
        "fraudulent",
        "pickup_card",
        "restricted_card",
        "merchant_blacklist",
        "security_violation",
        "stop_payment_order",
    }
)

_BY_REASON: dict[str, UserError] = {
    "insufficient_funds": UserError(
        "card_declined", "insufficient_funds", "Your card has insufficient funds.", USE_ANOTHER_CARD
    ),
    "card_velocity_exceeded": UserError(
        "card_declined",
        "card_velocity_exceeded",
        "Your card was declined: it has reached its spending or attempt limit.",
        ASK_BANK,
    ),
    "expired_card": UserError(
        "card_expired",
        "expired_card",
        "Your card has expired.",
        "Check the expiry date, or use another card or payment method.",
    ),
    "incorrect_cvc": UserError(
        "invalid_card",
        "incorrect_cvc",
        "Your card's security code (CVC) is incorrect.",
        "Check the 3- or 4-digit security code on your card and pay again, or use another card.",
    ),
    "incorrect_number": UserError(
        "invalid_card",
        "incorrect_number",
        "Your card number is incorrect.",
        "Check the card number and pay again, or use another card.",
    ),
    "processing_error": UserError(
        "processing_error",
        "processing_error",
        "An error occurred while your bank was processing the card. You have not been charged.",
        TRY_LATER,
    ),
    "authentication_required": UserError(
        "authentication_required",
        "authentication_required",
        "Your bank asks for extra authentication (3-D Secure), which this checkout does not support.",
        USE_ANOTHER_CARD,
    ),
}
_ALIASES = {
    "invalid_cvc": "incorrect_cvc",
    "invalid_number": "incorrect_number",
    "invalid_expiry_month": "expired_card",
    "invalid_expiry_year": "expired_card",
    "issuer_not_available": "processing_error",
    "reenter_transaction": "processing_error",
    "try_again_later": "processing_error",
    "withdrawal_count_limit_exceeded": "card_velocity_exceeded",
    "authentication_not_handled": "authentication_required",
}


def from_card_error(error: dict[str, Any] | None) -> UserError:
    """A provider card error (402 body or `last_payment_error`) as the customer sees it."""
    error = error or {}
    code, decline_code = error.get("code"), error.get("decline_code")
    # `card_declined` carries its reason in decline_code; expired_card,
    # incorrect_cvc... come as the code itself.
    reason = decline_code if (code == "card_declined" or not code) and decline_code else code
    reason = _ALIASES.get(reason, reason)
    if reason in _CONCEALED:
        return _GENERIC_DECLINE
    return _BY_REASON.get(reason, _GENERIC_DECLINE)


def provider_unavailable() -> UserError:
    """Attempts exhausted and none was accepted: nothing was charged."""
    return UserError(
        "provider_unavailable",
        "provider_unavailable",
        "Our card processor is not responding right now. You have not been charged.",
        TRY_LATER,
    )


def payment_unconfirmed() -> UserError:
    """The reconcile window closed without the provider showing a charge."""
    return UserError(
        "provider_unavailable",
        "payment_unconfirmed",
        "We could not confirm this payment with our card processor, so the order was not placed.",
        "Try again in a few minutes or use another payment method. If a charge for this "
        "order appears on your statement, contact us with the order id and we will refund it.",
    )


def from_provider_refusal(status: int | None, error: dict[str, Any] | None) -> UserError:
    """The provider refused the request (400/401/403/404): no retry will help."""
    error = error or {}
    if status == 400 and error.get("param") in ("payment_method", "currency", "amount"):
        return invalid_request(
            f"The card processor did not accept the {error['param'].replace('_', ' ')}.",
            "Check the payment details and pay again, or use another card or payment method.",
            code=str(error.get("code") or "invalid_payment_details"),
        )
    # Our credentials or our request are wrong: the shop has to fix it.
    return UserError(
        "provider_error",
        "provider_rejected_request",
        "Card payments are unavailable because of a problem on our side. You have not been charged.",
        "Use another payment method, or try again later; our team has been alerted.",
    )


def invalid_request(message: str, action: str, *, code: str = "invalid_request") -> UserError:
    return UserError("invalid_request", code, message, action)
