"""Turning a payment method into a charge outcome: card lookup, raw-card
validation, and the success / 3-D Secure / decline transitions of an intent.
"""

from __future__ import annotations

import datetime

from ..core.forms import nested
from ..core.provider import Result
from .cards import TEST_CARDS, TestCard, card_for_number, card_for_payment_method, luhn_ok
from .errors import invalid, stripe_error
from .intents import THREE_DS_ACTION, IntentStore, PaymentIntent

__all__ = ["resolve_payment_method", "charge", "intent_result"]

# Test PaymentMethods carry a valid future expiry; computed once, not per request.
_EXP_YEAR = datetime.date.today().year + 5

_LIVE_CARD = ("Your card was declined. Your request was in test mode, but used a non test (live) card."
              " For a list of valid test cards, visit: https://stripe.com/docs/testing.")


def intent_result(intent: PaymentIntent) -> Result:
    # The journal's response tuple, built inline: this is the hot path (see core.provider.info).
    return Result(200, intent.to_json(), (200, None, None, None, intent.id, intent.status, False, None, None))


def _card_error(status: int, message: str, code: str, param: str) -> Result:
    return stripe_error(status, "card_error", message, code, param=param, should_retry="false", saved=False)


def resolve_payment_method(store: IntentStore, params: dict) -> tuple[str | None, object]:
    """-> (pm_id, card_entry) or (None, error Result) or (None, None) when none was given.

    ``card_entry`` is ``(TestCard, number, exp_month, exp_year)``.
    """
    pm = params.get("payment_method")
    pm_type = params.get("payment_method_data[type]")
    if pm is not None and pm_type is not None:
        return None, invalid("You cannot specify both `payment_method` and `payment_method_data`.",
                             "parameter_unknown", "payment_method_data")
    if pm is not None:
        entry = store.payment_methods.get(pm)
        if entry is not None:
            return pm, entry
        card = card_for_payment_method(pm)
        if card is None:
            return None, invalid(f"No such PaymentMethod: '{pm}'", "resource_missing", "payment_method")
        return pm, (card, card.number, 12, _EXP_YEAR)
    if pm_type is None:
        return None, None
    if pm_type != "card":
        return None, invalid(f"Invalid payment_method_data[type]: {pm_type!r}; this mock supports 'card'",
                             "parameter_invalid_string", "payment_method_data[type]")
    return _raw_card(store, nested(params, "payment_method_data[card]"))


def _raw_card(store: IntentStore, card: dict) -> tuple[str | None, object]:
    for field in ("number", "exp_month", "exp_year"):
        if not card.get(field):
            return None, invalid(f"Missing required param: payment_method_data[card][{field}].",
                                 "parameter_missing", f"payment_method_data[card][{field}]")
    number = card["number"].replace(" ", "")
    try:
        month, year = int(card["exp_month"]), int(card["exp_year"])
    except ValueError:
        return None, _card_error(402, "Your card's expiration date is invalid.", "invalid_expiry_month",
                                 "exp_month")
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return None, _card_error(402, "Your card's expiration month is invalid.", "invalid_expiry_month",
                                 "exp_month")
    today = datetime.date.today()
    if (year, month) < (today.year, today.month):
        return None, _card_error(402, "Your card's expiration year is invalid.", "invalid_expiry_year",
                                 "exp_year")
    cvc = card.get("cvc")
    if cvc is not None and not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        return None, _card_error(402, "Your card's security code is invalid.", "invalid_cvc", "cvc")
    test_card = card_for_number(number)
    if test_card is None:
        if not luhn_ok(number):
            test_card = TEST_CARDS["incorrect_number"]
        else:
            # A real card in test mode: Stripe declines it.
            test_card = TestCard("live_card", number, "", "declined", "decline", "card_declined",
                                 "test_mode_live_card", _LIVE_CARD)
    pm_id = store.new_id("pm")
    entry = (test_card, number, month, year)
    store.payment_methods[pm_id] = entry
    return pm_id, entry


def _decline_for(code: str) -> tuple[str, str | None, str, str | None]:
    """(error code, decline_code, message, param) for a forced decline code."""
    for card in TEST_CARDS.values():
        if card.outcome == "declined" and code in (card.decline_code, card.code):
            return card.code, card.decline_code, card.message, card.param
    return "card_declined", code, "Your card was declined.", None


def _pm_object(pm_id: str, entry) -> dict:
    card, number, month, year = entry
    return {"id": pm_id, "object": "payment_method", "type": "card",
            "card": {"brand": card.brand, "last4": number[-4:], "exp_month": month, "exp_year": year,
                     "funding": "credit", "country": "US"}}


def charge(provider, intent: PaymentIntent, pm_id: str, entry, ex, forced: str | None) -> Result:
    """Confirm ``intent`` with a payment method: success, 3DS, or a 402 decline."""
    card: TestCard = entry[0]
    store = provider.store
    if forced is None and card.outcome == "succeeded":
        intent.status = "succeeded"
        intent.payment_method = pm_id
        intent.amount_received = intent.amount
        intent.latest_charge = store.new_id("ch")
        if intent.last_payment_error is not None:
            intent.set_payment_error(None)
        intent.next_action = None
        provider.ledger.charge(intent.amount, intent.currency, intent.id, intent.order_ref, ex.idempotency_key)
        ex.committed = True
        return intent_result(intent)
    if forced is None and card.outcome == "requires_action":
        intent.status = "requires_action"
        intent.payment_method = pm_id
        intent.next_action = THREE_DS_ACTION
        return intent_result(intent)
    if forced is not None:
        code, decline_code, message, param = _decline_for(forced)
    else:
        code, decline_code, message, param = card.code, card.decline_code, card.message, card.param
    charge_id = store.new_id("ch")
    pm_obj = _pm_object(pm_id, entry)
    err = {"type": "card_error", "code": code, "message": message, "charge": charge_id,
           "doc_url": "https://stripe.com/docs/error-codes/" + code.replace("_", "-"), "payment_method": pm_obj}
    if decline_code is not None:
        err["decline_code"] = decline_code
    if param is not None:
        err["param"] = param
    intent.status = "requires_payment_method"
    intent.payment_method = None
    intent.latest_charge = charge_id
    intent.next_action = None
    # The 402 body is last_payment_error plus the intent: serialise each once, splice.
    err_json = intent.set_payment_error(err)
    body = ('{"error":' + err_json[:-1] + ',"payment_intent":').encode() + intent.to_json() + b"}}"
    return Result(402, body, (402, "card_error", code, decline_code, intent.id, intent.status, False, None, "false"),
                  b"Stripe-Should-Retry: false\r\n")
