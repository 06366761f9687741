"""Test-card table and form decoding: pure data, no sockets."""

from __future__ import annotations

import pytest

from mock_providers.cardpay.cards import TEST_CARDS, card_for_number, card_for_payment_method, luhn_ok
from mock_providers.core.forms import nested, parse_form, unknown_params

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
