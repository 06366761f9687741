"""Stripe's public test cards (docs.stripe.com/testing), as data.

``TEST_CARDS`` is what the harness imports to build card mixes and to know
the outcome each card must produce. Every card is reachable as a
PaymentMethod id (``payment_method`` and ``aliases``) and as a raw number in
``payment_method_data[card][number]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Mapping

from ..core.luhn import luhn_ok as _luhn

__all__ = ["TestCard", "TEST_CARDS", "card_for_payment_method", "card_for_number", "luhn_ok",
           "SUCCESS_PAYMENT_METHODS", "SUCCESS_NUMBERS"]

Outcome = Literal["succeeded", "declined", "requires_action"]
Category = Literal["ok", "decline", "invalid", "risk_block", "action"]


@dataclass(frozen=True)
class TestCard:
    __test__ = False  # not a pytest test class, despite the name

    name: str
    number: str
    payment_method: str
    outcome: Outcome
    category: Category
    code: str | None = None  # error.code of the 402
    decline_code: str | None = None  # error.decline_code (card_declined only)
    message: str | None = None  # what Stripe tells the customer
    param: str | None = None  # error.param
    retry_later: bool = False  # a new attempt later may succeed (processing_error)
    aliases: tuple[str, ...] = ()  # other PaymentMethod ids that behave the same
    stripe_native: bool = True  # False: the PaymentMethod id exists only in this mock

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        return "visa" if self.number.startswith("4") else "unknown"


_DECLINED = "Your card was declined."

_CARDS = (
    TestCard("visa", "4242424242424242", "pm_card_visa", "succeeded", "ok"),
    TestCard("generic_decline", "4000000000000002", "pm_card_visa_chargeDeclined", "declined", "decline",
             "card_declined", "generic_decline", _DECLINED, aliases=("pm_card_chargeDeclined",)),
    TestCard("insufficient_funds", "4000000000009995", "pm_card_visa_chargeDeclinedInsufficientFunds",
             "declined", "decline", "card_declined", "insufficient_funds", "Your card has insufficient funds.",
             aliases=("pm_card_chargeDeclinedInsufficientFunds",)),
    # Lost, stolen and fraudulent present as a plain decline to the customer.
    TestCard("lost_card", "4000000000009987", "pm_card_visa_chargeDeclinedLostCard", "declined", "decline",
             "card_declined", "lost_card", _DECLINED, aliases=("pm_card_chargeDeclinedLostCard",)),
    TestCard("stolen_card", "4000000000009979", "pm_card_visa_chargeDeclinedStolenCard", "declined",
             "decline", "card_declined", "stolen_card", _DECLINED, aliases=("pm_card_chargeDeclinedStolenCard",)),
    TestCard("expired_card", "4000000000000069", "pm_card_chargeDeclinedExpiredCard", "declined", "decline",
             "expired_card", None, "Your card has expired.", "exp_month"),
    TestCard("incorrect_cvc", "4000000000000127", "pm_card_chargeDeclinedIncorrectCvc", "declined", "invalid",
             "incorrect_cvc", None, "Your card's security code is incorrect.", "cvc"),
    TestCard("processing_error", "4000000000000119", "pm_card_chargeDeclinedProcessingError", "declined",
             "decline", "processing_error", None,
             "An error occurred while processing your card. Try again in a little bit.", retry_later=True),
    # Fails the Luhn check; Stripe has no PaymentMethod for it, so the id is ours.
    TestCard("incorrect_number", "4242424242424241", "pm_card_chargeDeclinedIncorrectNumber", "declined",
             "invalid", "incorrect_number", None, "Your card number is incorrect.", "number",
             stripe_native=False),
    TestCard("velocity_exceeded", "4000000000006975", "pm_card_visa_chargeDeclinedVelocityLimitExceeded",
             "declined", "decline", "card_declined", "card_velocity_exceeded",
             "Your card was declined for making repeated attempts too frequently or exceeding its amount limit.",
             aliases=("pm_card_chargeDeclinedVelocityLimitExceeded",)),
    TestCard("fraudulent", "4100000000000019", "pm_card_radarBlock", "declined", "risk_block",
             "card_declined", "fraudulent", _DECLINED, aliases=("pm_card_chargeDeclinedFraudulent",)),
    TestCard("requires_action", "4000002500003155", "pm_card_threeDSecure2Required", "requires_action",
             "action", aliases=("pm_card_authenticationRequired", "pm_card_authenticationRequiredOnSetup")),
)

TEST_CARDS: Mapping[str, TestCard] = MappingProxyType({c.name: c for c in _CARDS})

# Other cards that simply succeed (brands, debit) and 3DS numbers that require action.
SUCCESS_PAYMENT_METHODS = frozenset({
    "pm_card_mastercard", "pm_card_amex", "pm_card_discover", "pm_card_visa_debit",
    "pm_card_mastercard_debit", "pm_card_jcb", "pm_card_diners", "pm_card_unionpay",
})
SUCCESS_NUMBERS = frozenset({
    "4000056655665556", "5555555555554444", "2223003122003222", "5200828282828210",
    "378282246310005", "6011111111111117", "3056930009020004", "3566002020360505", "6200000000000005",
})
_ACTION_NUMBERS = ("4000000000003220", "4000002760003184")

_BY_PM: dict[str, TestCard] = {}
_BY_NUMBER: dict[str, TestCard] = {}
for _c in _CARDS:
    _BY_NUMBER[_c.number] = _c
    for _pm in (_c.payment_method, *_c.aliases):
        _BY_PM[_pm] = _c
for _n in _ACTION_NUMBERS:
    _BY_NUMBER[_n] = TEST_CARDS["requires_action"]
for _pm in SUCCESS_PAYMENT_METHODS:
    _BY_PM[_pm] = TEST_CARDS["visa"]
for _n in SUCCESS_NUMBERS:
    _BY_NUMBER[_n] = TEST_CARDS["visa"]


def card_for_payment_method(pm_id: str) -> TestCard | None:
    return _BY_PM.get(pm_id)


def card_for_number(number: str) -> TestCard | None:
    return _BY_NUMBER.get(number)


def luhn_ok(number: str) -> bool:
    """A card number: 12 to 19 digits passing the Luhn check."""
    return number.isdigit() and 12 <= len(number) <= 19 and _luhn(number)
