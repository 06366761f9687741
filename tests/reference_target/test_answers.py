"""Definitive provider answers: success, every decline kind, refusals, and what the customer reads."""

from __future__ import annotations

import httpx
import pytest

from .fakes import FakeCardpay

CONTACT = "support@shop.example, +1-555-0100"


async def test_success_answers_200_with_the_intent(cardpay, reftarget):
    async with reftarget() as target:
        response = await target.pay("ord_ok")
    assert response.status_code == 200
    assert response.json() == {
        "order_id": "ord_ok",
        "status": "succeeded",
        "payment_intent": "pi_1",
        "amount": 1200,
        "currency": "usd",
    }
    assert len(cardpay.charges_for("ord_ok")) == 1
    sent = cardpay.creates[0]
    assert sent.params == {
        "amount": "1200",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "metadata[order_id]": "ord_ok",
        "description": "Order ord_ok",
    }
    assert sent.key and sent.key.startswith("pay-ord_ok-")


async def test_provider_call_carries_bearer_key_and_trace(cardpay, reftarget):
    async with reftarget() as target:
        traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        await target.client.post(
            "/payments",
            json={
                "order_id": "ord_tr",
                "amount": 5,
                "currency": "EUR",
                "payment_method": "pm_card_visa",
                "customer": {"name": "A", "email": "a@example.com"},
                "description": "two socks",
            },
            headers={"traceparent": traceparent},
        )
    sent = cardpay.creates[0]
    assert sent.params["currency"] == "eur"
    assert sent.params["description"] == "two socks"
    assert sent.headers["authorization"] == "Bearer sk_test_fake"
    assert sent.headers["traceparent"] == traceparent


# (payment method, type, code) the customer sees; lost/stolen/fraudulent are a generic decline.
DECLINES = [
    ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_visa_chargeDeclinedLostCard", "card_declined", "generic_decline"),
    ("pm_card_visa_chargeDeclinedStolenCard", "card_declined", "generic_decline"),
    ("pm_card_visa_chargeDeclinedFraudulent", "card_declined", "generic_decline"),
    ("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "card_declined", "card_velocity_exceeded"),
    ("pm_card_visa_chargeDeclinedExpiredCard", "card_expired", "expired_card"),
    ("pm_card_visa_chargeDeclinedIncorrectCvc", "invalid_card", "incorrect_cvc"),
    ("pm_card_visa_incorrectNumber", "invalid_card", "incorrect_number"),
    ("pm_card_visa_chargeDeclinedProcessingError", "processing_error", "processing_error"),
]


@pytest.mark.parametrize(("payment_method", "error_type", "code"), DECLINES)
async def test_every_decline_is_answered_402_once_never_retried(
    cardpay, reftarget, sleeps, payment_method, error_type, code
):
    async with reftarget() as target:
        response = await target.pay("ord_d", payment_method)
        again = await target.status("ord_d")
    assert response.status_code == 402
    body = response.json()
    assert body["status"] == "declined"
    error = body["error"]
    assert set(error) == {"type", "code", "message", "action", "contact"}
    assert (error["type"], error["code"]) == (error_type, code)
    assert error["contact"] == CONTACT
    assert error["message"] and error["action"]
    assert "please try again" not in error["message"].lower()
    # Not retried: one call, no sleep, and no lookup (a 402 is definitive).
    assert len(cardpay.creates) == 1
    assert sleeps.calls == []
    assert cardpay.searches == []
    assert cardpay.charges == []
    assert again.status_code == 402 and again.json() == body


@pytest.mark.parametrize(
    "payment_method",
    [
        "pm_card_visa_chargeDeclinedLostCard",
        "pm_card_visa_chargeDeclinedStolenCard",
        "pm_card_visa_chargeDeclinedFraudulent",
    ],
)
async def test_lost_stolen_fraud_are_never_revealed(cardpay, reftarget, payment_method):
    async with reftarget() as target:
        response = await target.pay("ord_hide", payment_method)
        stored = await target.status("ord_hide")
    for text in (response.text.lower(), stored.text.lower()):
        for word in ("lost", "stolen", "fraud", "pickup", "restricted"):
            assert word not in text
    assert response.json()["error"]["message"] == "Your card was declined."


@pytest.mark.parametrize(("status", "error_code"), [(401, None), (403, None), (404, "resource_missing")])
async def test_provider_refusals_are_not_retried_and_fail_502(cardpay, reftarget, sleeps, status, error_code):
    cardpay.script.append(FakeCardpay.status(status, error_code=error_code))
    async with reftarget() as target:
        response = await target.pay("ord_ref")
    assert response.status_code == 502
    body = response.json()
    assert body["status"] == "failed"
    assert body["error"]["type"] == "provider_error"
    assert body["error"]["action"] and body["error"]["contact"] == CONTACT
    assert len(cardpay.creates) == 1 and sleeps.calls == [] and cardpay.searches == []


async def test_provider_400_on_the_payment_method_is_the_customers_to_fix(cardpay, reftarget):
    cardpay.script.append(
        httpx.Response(
            400,
            json={"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "payment_method"}},
        )
    )
    async with reftarget() as target:
        response = await target.pay("ord_pm", "pm_nope")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request" and error["code"] == "resource_missing"
    assert "payment method" in error["message"]
    assert len(cardpay.creates) == 1


async def test_three_d_secure_is_declined_with_a_next_step(cardpay, reftarget):
    cardpay.script.append(
        httpx.Response(200, json={"id": "pi_3ds", "status": "requires_action", "metadata": {"order_id": "ord_3ds"}})
    )
    async with reftarget() as target:
        response = await target.pay("ord_3ds")
    assert response.status_code == 402
    assert response.json()["error"]["type"] == "authentication_required"
    assert response.json()["error"]["action"] == "Use another card or payment method."


async def test_custom_contact_is_used(cardpay, reftarget):
    async with reftarget(contact="help@shop.test") as target:
        response = await target.pay("ord_c", "pm_card_visa_chargeDeclined")
    assert response.json()["error"]["contact"] == "help@shop.test"
