"""cardpay's webhook events and their Stripe-Signature, verified by the official SDK
(stripe.Webhook.construct_event): the first part of cardpay's webhooks."""

from __future__ import annotations

import json

import pytest
import stripe

from mock_providers.cardpay.events import EVENT_TYPES, event_body, new_event, sign, signature_matches
from mock_providers.cardpay.intents import PaymentIntent

SECRET = "whsec_paychaos_test"


def _intent() -> dict:
    intent = PaymentIntent("pi_test", 1200, "usd", "ord_1", {"order_id": "ord_1"}, None, "pm_card_visa")
    intent.status = "succeeded"
    return intent.to_api()


def test_the_official_sdk_verifies_a_signed_event_and_reads_its_object():
    body = event_body(new_event("payment_intent.succeeded", _intent(), "req_abc", "pay-ord_1-k1"))
    event = stripe.Webhook.construct_event(body.decode(), sign(body, SECRET), SECRET)
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == "pi_test" and event.data.object.metadata["order_id"] == "ord_1"
    assert event.request.idempotency_key == "pay-ord_1-k1"


@pytest.mark.parametrize("tamper", ["body", "secret", "stale"])
def test_the_official_sdk_refuses_what_stripe_would_not_have_signed(tamper):
    body = event_body(new_event("payment_intent.succeeded", _intent()))
    header = sign(body, SECRET, 1_000_000_000 if tamper == "stale" else None)
    if tamper == "body":
        body = body.replace(b'"amount":1200', b'"amount":1')
    secret = "whsec_other" if tamper == "secret" else SECRET
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), header, secret)
    assert not signature_matches(body, header, secret)


def test_our_check_agrees_with_the_sdk_on_a_good_signature():
    body = event_body(new_event("payment_intent.succeeded", _intent()))
    assert signature_matches(body, sign(body, SECRET), SECRET)
    assert not signature_matches(body, "t=notanumber,v1=00", SECRET)
    assert not signature_matches(body, "", SECRET)


def test_an_event_is_what_stripe_sends():
    event = json.loads(event_body(new_event("payment_intent.payment_failed", {**_intent(), "status": "x"})))
    assert {"id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request",
            "type"} <= set(event)
    assert event["object"] == "event" and event["id"].startswith("evt_")


def test_an_event_names_only_a_type_cardpay_sends_with_the_object_it_carries():
    with pytest.raises(ValueError, match="known: payment_intent.succeeded"):
        new_event("invoice.paid", _intent())
    with pytest.raises(ValueError, match="carries a charge"):
        new_event("charge.refunded", _intent())
    assert set(EVENT_TYPES) >= {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"}
    with pytest.raises(ValueError, match="whsec_"):
        sign(b"{}", "")
