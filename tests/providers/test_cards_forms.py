"""Test-card table and form decoding: pure data, no sockets."""

from __future__ import annotations

import json

import pytest

from mock_providers.cardpay.cards import TEST_CARDS, card_for_number, card_for_payment_method, luhn_ok
from mock_providers.cardpay.params import boolean
from mock_providers.cardpay.payment_intents import CREATE as PI_CREATE
from mock_providers.cardpay.payment_intents import merged_metadata
from mock_providers.core.forms import array, nested, parse_form, unknown_params

EXPECTED = {  # name: (number, outcome, category, code, decline_code)
    "visa": ("4242424242424242", "succeeded", "ok", None, None),
    "generic_decline": ("4000000000000002", "declined", "decline", "card_declined", "generic_decline"),
    "insufficient_funds": ("4000000000009995", "declined", "decline", "card_declined", "insufficient_funds"),
    "lost_card": ("4000000000009987", "declined", "decline", "card_declined", "lost_card"),
    "stolen_card": ("4000000000009979", "declined", "decline", "card_declined", "stolen_card"),
    "expired_card": ("4000000000000069", "declined", "decline", "expired_card", None),
    "incorrect_cvc": ("4000000000000127", "declined", "invalid", "incorrect_cvc", None),
    "processing_error": ("4000000000000119", "declined", "decline", "processing_error", None),
    "incorrect_number": ("4242424242424241", "declined", "invalid", "incorrect_number", None),
    "velocity_exceeded": ("4000000000006975", "declined", "decline", "card_declined", "card_velocity_exceeded"),
    "fraudulent": ("4100000000000019", "declined", "risk_block", "card_declined", "fraudulent"),
    "requires_action": ("4000002500003155", "requires_action", "action", None, None),
}


def test_table_has_the_twelve_public_cards():
    assert set(TEST_CARDS) == set(EXPECTED)
    for name, (number, outcome, category, code, decline) in EXPECTED.items():
        card = TEST_CARDS[name]
        assert (card.number, card.outcome, card.category, card.code, card.decline_code) == \
            (number, outcome, category, code, decline), name
        assert card_for_number(number) is card
        assert card_for_payment_method(card.payment_method) is card
        for alias in card.aliases:
            assert card_for_payment_method(alias) is card


def test_table_is_read_only():
    with pytest.raises(TypeError):
        TEST_CARDS["x"] = TEST_CARDS["visa"]  # type: ignore[index]


def test_brief_payment_method_names_resolve():
    for pm, name in [("pm_card_chargeDeclined", "generic_decline"),
                     ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
                     ("pm_card_radarBlock", "fraudulent"), ("pm_card_chargeDeclinedFraudulent", "fraudulent"),
                     ("pm_card_threeDSecure2Required", "requires_action")]:
        assert card_for_payment_method(pm) is TEST_CARDS[name]


def test_luhn():
    assert all(luhn_ok(c.number) for c in TEST_CARDS.values() if c.name != "incorrect_number")
    assert not luhn_ok("4242424242424241")
    assert not luhn_ok("42424242")


def test_parse_form_keeps_brackets_flat_and_decodes():
    body = b"amount=1200&metadata%5Border_id%5D=ord+1&description=a%26b&empty=&flag"
    assert parse_form(body) == {"amount": "1200", "metadata[order_id]": "ord 1", "description": "a&b",
                                "empty": "", "flag": ""}
    assert parse_form(b"") == {}
    assert nested(parse_form(body), "metadata") == {"order_id": "ord 1"}


def test_unknown_params():
    allowed = frozenset({"amount", "metadata"})
    assert unknown_params({"amount": "1", "metadata[a]": "b"}, allowed) is None
    assert unknown_params({"amount": "1", "bogus[x]": "1"}, allowed) == "bogus"


def test_arrays_arrive_as_brackets_or_indices_and_read_the_same():
    both = parse_form(b"expand%5B%5D=latest_charge&expand[]=customer&amount=1")
    assert both == {"expand[0]": "latest_charge", "expand[1]": "customer", "amount": "1"}
    assert both == parse_form(b"expand[0]=latest_charge&expand[1]=customer&amount=1")
    assert array(both, "expand") == ["latest_charge", "customer"]
    assert array(parse_form(b"expand[1]=b&expand[0]=a&expand[x]=c"), "expand") == ["a", "b"], "index order"


def _why(result) -> tuple[int, str, str | None]:
    err = json.loads(result.body)["error"]
    return result.status, err.get("code"), err.get("param")


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "false", "False"])
def test_booleans_in_any_case_are_booleans(value):
    assert PI_CREATE.check({"amount": "100", "currency": "usd", "confirm": value}) is None
    assert boolean(value) is (value.lower() == "true")


@pytest.mark.parametrize(("params", "code", "param"), [
    ({"confirm": "maybe"}, "parameter_invalid_boolean", "confirm"),
    ({"amount": "abc"}, "parameter_invalid_integer", "amount"),
    ({"amount": ""}, "parameter_invalid_integer", "amount"),
    ({"bogus": "1"}, "parameter_unknown", "bogus"),
    ({"bogus[x]": "1"}, "parameter_unknown", "bogus"),
    ({"capture_method": "later"}, "parameter_invalid_string", "capture_method"),
    ({"expand": "latest_charge"}, "parameter_invalid_array", "expand"),
    ({"expand[x]": "latest_charge"}, "parameter_invalid_array", "expand"),
    ({"metadata[a][b]": "c"}, "parameter_invalid_string", "metadata"),
    ({"metadata": "x"}, "parameter_invalid_hash", "metadata"),
    ({"currency[x]": "usd"}, "parameter_invalid_string", "currency"),
])
def test_what_stripe_refuses_is_refused_with_the_parameter_named(params, code, param):
    result = PI_CREATE.check({"amount": "100", "currency": "usd", **params})
    assert result is not None and _why(result) == (400, code, param)


def test_required_parameters_are_named_when_missing():
    assert _why(PI_CREATE.check({"amount": "100"})) == (400, "parameter_missing", "currency")


def test_an_empty_string_unsets_a_field_or_a_whole_hash():
    assert PI_CREATE.check({"amount": "100", "currency": "usd", "metadata": "", "description": ""}) is None
    current = {"order_id": "o1", "note": "x", "keep": "y"}
    assert merged_metadata(current, {"metadata[note]": "", "metadata[new]": "z"}) == {
        "order_id": "o1", "keep": "y", "new": "z"}
    assert merged_metadata(current, {"metadata": ""}) == {}
    assert merged_metadata(current, {"metadata": "", "metadata[fresh]": "1"}) == {"fresh": "1"}
