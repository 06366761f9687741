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
from .objects import Charge, PaymentMethod

__all__ = ["resolve_payment_method", "payment_method", "test_payment_method", "raw_card", "charge", "intent_result",
           "decline_for", "card_error_body"]

# Test PaymentMethods carry a valid future expiry; computed once, not per request.
_EXP_YEAR = datetime.date.today().year + 5

_LIVE_CARD = ("Your card was declined. Your request was in test mode, but used a non test (live) card."
              " For a list of valid test cards, visit: https://stripe.com/docs/testing.")


def intent_result(intent: PaymentIntent) -> Result:
    # The journal's response tuple, built inline: this is the hot path (see core.provider.info).
    return Result(200, intent.to_json(), (200, None, None, None, intent.id, intent.status, False, None, None))


def _card_error(status: int, message: str, code: str, param: str) -> Result:
    return stripe_error(status, "card_error", message, code, param=param, should_retry="false", saved=False)


# One PaymentMethod per Stripe test id (``pm_card_visa``), made on first use: the hot path reuses it.
_TEST_PMS: dict[str, PaymentMethod] = {}


def test_payment_method(pm: str) -> PaymentMethod | None:
    """The PaymentMethod a Stripe test id such as ``pm_card_visa`` (or source ``tok_visa``) stands for."""
    found = _TEST_PMS.get(pm)
    if found is not None:
        return found
    card = card_for_payment_method(pm if not pm.startswith("tok_") else "pm_card_" + pm[4:])
    if card is None:
        return None
    found = _TEST_PMS[pm] = PaymentMethod(pm, card, card.number, 12, _EXP_YEAR)
    return found


def payment_method(store: IntentStore, pm: str) -> PaymentMethod | None:
    return store.payment_methods.get(pm) or test_payment_method(pm)


def resolve_payment_method(store: IntentStore, params: dict) -> tuple[str | None, object]:
    """-> (pm_id, PaymentMethod) or (None, error Result) or (None, None) when none was given."""
    pm = params.get("payment_method")
    pm_type = params.get("payment_method_data[type]")
    if pm is not None and pm_type is not None:
        return None, invalid("You cannot specify both `payment_method` and `payment_method_data`.",
                             "parameter_unknown", "payment_method_data")
    if pm is not None:
        found = payment_method(store, pm)
        if found is None:
            return None, invalid(f"No such PaymentMethod: '{pm}'", "resource_missing", "payment_method")
        return pm, found
    if pm_type is None:
        if any(k.startswith("payment_method_data[") for k in params):
            return None, invalid("Missing required param: payment_method_data[type].", "parameter_missing",
                                 "payment_method_data[type]")
        return None, None
    if pm_type != "card":
        return None, invalid(f"Invalid payment_method_data[type]: {pm_type!r}; this mock supports 'card'",
                             "parameter_invalid_string", "payment_method_data[type]")
    return raw_card(store, nested(params, "payment_method_data[card]"), "payment_method_data[card]",
                    nested(params, "payment_method_data[billing_details]"))


def raw_card(store: IntentStore, card: dict, where: str, billing: dict | None = None) -> tuple[str | None, object]:
    for field in ("number", "exp_month", "exp_year"):
        if not card.get(field):
            return None, invalid(f"Missing required param: {where}[{field}].", "parameter_missing",
                                 f"{where}[{field}]")
    number = card["number"].replace(" ", "")
    for field in ("exp_month", "exp_year"):
        if not card[field].strip().isdigit():
            return None, invalid(f"Invalid integer: {card[field]}", "parameter_invalid_integer", f"{where}[{field}]")
    month, year = int(card["exp_month"]), int(card["exp_year"])
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
    pm = PaymentMethod(store.new_id("pm"), test_card, number, month, year, billing_details=billing or None)
    store.payment_methods[pm.id] = pm
    return pm.id, pm


def decline_for(code: str) -> tuple[str, str | None, str, str | None]:
    """(error code, decline_code, message, param) for a forced decline code."""
    for card in TEST_CARDS.values():
        if card.outcome == "declined" and code in (card.decline_code, card.code):
            return card.code, card.decline_code, card.message, card.param
    return "card_declined", code, "Your card was declined.", None


def card_error_body(code, decline_code, message, param, charge_id: str, pm: PaymentMethod) -> dict:
    err = {"type": "card_error", "code": code, "message": message, "charge": charge_id,
           "doc_url": "https://stripe.com/docs/error-codes/" + code.replace("_", "-"), "payment_method": pm.to_api()}
    if decline_code is not None:
        err["decline_code"] = decline_code
    if param is not None:
        err["param"] = param
    return err


def charge(provider, intent: PaymentIntent, pm_id: str, pm: PaymentMethod, ex, forced: str | None) -> Result:
    """Confirm ``intent`` with a payment method: success (captured, or held when
    ``capture_method=manual``), 3-D Secure, or a 402 decline."""
    card: TestCard = pm.card
    store = provider.store
    if forced is None and card.outcome == "succeeded":
        manual = intent.capture_method == "manual"
        intent.payment_method = pm_id
        ch = Charge(store.new_id("ch"), intent.amount, intent.currency, pm, captured=not manual, succeeded=True,
                    payment_intent=intent.id, customer=intent.customer, description=intent.description,
                    order_ref=intent.order_ref, receipt_email=intent.receipt_email)
        store.charges[ch.id] = ch
        intent.latest_charge = ch.id
        if intent.last_payment_error is not None:
            intent.set_payment_error(None)
        intent.next_action = None
        if manual:
            intent.status = "requires_capture"
            intent.amount_capturable = intent.amount
            provider.ledger.authorize(intent.amount, intent.currency, intent.id, intent.order_ref,
                                      ex.idempotency_key)
        else:
            intent.status = "succeeded"
            intent.amount_received = intent.amount
            provider.ledger.charge(intent.amount, intent.currency, intent.id, intent.order_ref, ex.idempotency_key)
        ex.committed = True
        return intent_result(intent)
    if forced is None and card.outcome == "requires_action":
        intent.status = "requires_action"
        intent.payment_method = pm_id
        intent.next_action = THREE_DS_ACTION
        return intent_result(intent)
    if forced is not None:
        code, decline_code, message, param = decline_for(forced)
    else:
        code, decline_code, message, param = card.code, card.decline_code, card.message, card.param
    ch = Charge(store.new_id("ch"), intent.amount, intent.currency, pm, captured=False, succeeded=False,
                payment_intent=intent.id, customer=intent.customer, description=intent.description,
                order_ref=intent.order_ref, failure=(code, decline_code, message))
    store.charges[ch.id] = ch
    intent.status = "requires_payment_method"
    intent.payment_method = None
    intent.latest_charge = ch.id
    intent.next_action = None
    # The 402 body is last_payment_error plus the intent: serialise each once, splice.
    err_json = intent.set_payment_error(card_error_body(code, decline_code, message, param, ch.id, pm))
    body = ('{"error":' + err_json[:-1] + ',"payment_intent":').encode() + intent.to_json() + b"}}"
    return Result(402, body, (402, "card_error", code, decline_code, intent.id, intent.status, False, None, "false"),
                  b"Stripe-Should-Retry: false\r\n")
