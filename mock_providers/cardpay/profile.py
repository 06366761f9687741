"""What the harness knows about cardpay: Stripe's v1 semantics, mapped onto
paychaos's neutral roles and failure classes (docs/interfaces.md section 8)."""

from __future__ import annotations

from types import MappingProxyType

from ..core.profile import AnswerRule, Credential, IdempotencyCarrier, IntegrationRule, ProviderProfile, TestInstrument
from .cards import TEST_CARDS

__all__ = ["PROFILE"]

# Stripe's radar blocks come back as a 402 card_error with one of these codes.
RISK_CODES = frozenset({"fraudulent", "merchant_blacklist", "radar_block"})

ANSWERS = (
    AnswerRule("ok", status=(200, 299)),
    AnswerRule("failed", "risk_block", status=402, codes=RISK_CODES),
    AnswerRule("failed", "decline", status=402),
    AnswerRule("failed", "rate_limited", status=429),
    AnswerRule("failed", "conflict", status=409),  # idempotency_key_in_use
    AnswerRule("failed", "auth", status=401),
    AnswerRule("failed", "auth", status=403),
    AnswerRule("failed", "not_found", status=404),
    AnswerRule("failed", "invalid_request", status=(400, 499)),
    # Stripe: a 500 may have executed (and is saved under the key); a 504 may have too.
    AnswerRule("unknown", "server_error", status=500),
    AnswerRule("unknown", "unavailable", status=504),
    AnswerRule("failed", "unavailable", status=(500, 599)),
)

INSTRUMENTS = MappingProxyType({
    name: TestInstrument(name, card.outcome, card.category,
                         MappingProxyType({"number": card.number, "payment_method": card.payment_method,
                                           "exp_month": 12, "exp_year": 2030, "cvc": "123"}))
    for name, card in TEST_CARDS.items()
})

# Stripe's answers to a request it does not understand: an unknown URL, an unknown,
# missing or malformed parameter, or credentials it refuses (when no fault said so).
INTEGRATION = (
    IntegrationRule(404, unknown_route=True),
    IntegrationRule(400, code_prefixes=("parameter_",)),
    IntegrationRule(401),
    IntegrationRule(403),
)

PROFILE = ProviderProfile(
    type="cardpay",
    provider="mock_providers.cardpay.provider:CardPay",
    description="Stripe-compatible card acquirer (API v1 for card payments; the official stripe SDKs talk to it)",
    routes=MappingProxyType({
        "payment_intents.create": "charge",
        "payment_intents.confirm": "charge",
        "payment_intents.capture": "capture",
        "payment_intents.retrieve": "lookup",
        "payment_intents.search": "lookup",
        "payment_intents.list": "lookup",
        "payment_intents.update": "other",
        "payment_intents.cancel": "cancel",
        "charges.create": "charge",
        "charges.capture": "capture",
        "charges.retrieve": "lookup",
        "charges.list": "lookup",
        "refunds.create": "refund",
        "refunds.retrieve": "other",
        "refunds.list": "other",
        "customers.create": "other",
        "customers.retrieve": "other",
        "payment_methods.create": "token",
        "payment_methods.retrieve": "other",
        "payment_methods.attach": "other",
    }),
    answers=ANSWERS,
    idempotency=IdempotencyCarrier(header="Idempotency-Key"),
    credentials=(Credential("api_key", "sk_test_paychaos_{token}",
                            "secret key, sent as Authorization: Bearer (or Basic user name)", header="Authorization"),
                 Credential("publishable_key", "pk_test_paychaos_{token}",
                            "publishable key of the customer's browser (Stripe.js): confirms or retrieves one "
                            "PaymentIntent with its client_secret", header="Authorization")),
    order_ref_default="metadata[order_id]",
    instruments=INSTRUMENTS,
    integration=INTEGRATION,
)
