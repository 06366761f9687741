"""Provider profiles: the only place a provider's wire details meet the
harness's neutral words (roles, answer classes, failure classes), and the
registry that finds a profile by type name or module path."""

from __future__ import annotations

import pytest

from mock_providers.cardpay.profile import PROFILE as CARDPAY
from mock_providers.core.profile import AnswerRule, IdempotencyCarrier, ProviderProfile, iso_exponent
from mock_providers.registry import load_profile, load_provider


@pytest.mark.parametrize("status,delivery,codes,klass,failure", [
    (200, "delivered", (), "ok", None),
    (402, "delivered", ("card_declined", "insufficient_funds"), "failed", "decline"),
    (402, "delivered", ("card_declined", "fraudulent"), "failed", "risk_block"),
    (402, "delivered", ("radar_block", None), "failed", "risk_block"),
    (503, "delivered", (), "failed", "unavailable"),
    (502, "delivered", (), "failed", "unavailable"),
    (500, "delivered", (), "unknown", "server_error"),
    (504, "delivered", (), "unknown", "unavailable"),
    (None, "dropped", (), "unknown", "dropped"),
    (200, "client_gone", (), "unknown", "timeout"),
    (429, "delivered", (), "failed", "rate_limited"),
    (409, "delivered", (), "failed", "conflict"),
    (401, "delivered", (), "failed", "auth"),
    (403, "delivered", (), "failed", "auth"),
    (404, "delivered", (), "failed", "not_found"),
    (400, "delivered", (), "failed", "invalid_request"),
])
def test_cardpay_answers_map_onto_neutral_classes(status, delivery, codes, klass, failure) -> None:
    assert CARDPAY.classify(status, delivery, *codes) == (klass, failure)


def test_cardpay_roles() -> None:
    assert CARDPAY.role_of("payment_intents.create") == "charge"
    assert CARDPAY.role_of("payment_intents.confirm") == "charge"
    assert CARDPAY.role_of("payment_intents.retrieve") == "lookup"
    assert CARDPAY.role_of("refunds.create") == "refund"
    assert CARDPAY.role_of("unknown") == "other"


def test_credentials_are_fixed_by_seed_and_instance() -> None:
    a = CARDPAY.mint_credentials(7, "primary")
    assert a == CARDPAY.mint_credentials(7, "primary") and a["api_key"].startswith("sk_test_paychaos_")
    assert a != CARDPAY.mint_credentials(7, "backup") and a != CARDPAY.mint_credentials(8, "primary")


@pytest.mark.parametrize("currency,exponent", [("usd", 2), ("JPY", 0), ("krw", 0), ("kwd", 3), ("eur", 2)])
def test_currency_exponents_follow_iso_4217(currency: str, exponent: int) -> None:
    assert iso_exponent(currency) == exponent == CARDPAY.exponent(currency)


def test_a_profile_can_override_an_exponent() -> None:
    p = ProviderProfile(type="x", provider="m:C", description="", routes={}, answers=(),
                        idempotency=IdempotencyCarrier(field="out_trade_no"), currency_exponents={"huf": 0})
    assert p.exponent("HUF") == 0 and p.exponent("usd") == 2


def test_instruments_carry_their_template_fields() -> None:
    visa = CARDPAY.instruments["visa"]
    assert visa.expected == "succeeded" and visa.fields["payment_method"] == "pm_card_visa"
    assert CARDPAY.instruments["fraudulent"].category == "risk_block"


@pytest.mark.parametrize("kwargs,message", [
    ({"klass": "maybe"}, "klass='maybe' is invalid"),
    ({"klass": "failed", "failure": "card_error"}, "not a neutral failure class"),
    ({"klass": "ok", "failure": "decline"}, "an ok answer has no failure class"),
    ({"klass": "failed"}, "an ok answer has no failure class"),
])
def test_bad_answer_rules_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnswerRule(**kwargs)


def test_a_profile_refuses_an_unknown_role_and_a_carrier_needs_one_place() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        ProviderProfile(type="x", provider="m:C", description="", routes={"pay": "charges"}, answers=(),
                        idempotency=IdempotencyCarrier(header="Idempotency-Key"))
    with pytest.raises(ValueError, match="exactly one of header or field"):
        IdempotencyCarrier(header="Idempotency-Key", field="out_trade_no")


def test_registry_finds_types_by_name_or_module_path() -> None:
    assert load_profile("cardpay") is CARDPAY
    assert load_profile("mock_providers.cardpay.profile") is CARDPAY
    assert load_provider("cardpay").__name__ == "CardPay"
    with pytest.raises(KeyError, match="provider type 'paypalish' is unknown"):
        load_profile("paypalish")
    with pytest.raises(KeyError, match="cannot import nowhere.at_all"):
        load_profile("nowhere.at_all")
    with pytest.raises(KeyError, match="defines no PROFILE"):
        load_profile("mock_providers.cardpay.cards")


@pytest.mark.parametrize("status,code,endpoint,integration", [
    (404, "resource_missing", "unknown", True),  # a URL cardpay does not serve
    (404, "resource_missing", "payment_intents.retrieve", False),  # no such intent: a real answer
    (400, "parameter_unknown", "payment_intents.create", True),
    (400, "parameter_missing", "payment_intents.create", True),
    (400, "amount_too_small", "payment_intents.create", False),
    (401, None, "payment_intents.create", True),
    (402, "card_declined", "payment_intents.create", False),
    (503, None, "payment_intents.create", False),
])
def test_cardpay_integration_answers(status, code, endpoint, integration) -> None:
    assert CARDPAY.is_integration_error(status, code, endpoint) is integration
