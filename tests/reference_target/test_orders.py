"""Orders: idempotent per order_id, persistent across restarts, and the HTTP API's edges."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from examples.reference_target.store import OrderStore

from .fakes import FakeCardpay
from .support import wait_until


@pytest.mark.parametrize(
    ("payment_method", "status"),
    [("pm_card_visa", 200), ("pm_card_visa_chargeDeclined", 402)],
)
async def test_repeat_post_answers_the_stored_state_without_calling_the_provider(
    cardpay, reftarget, payment_method, status
):
    async with reftarget() as target:
        first = await target.pay("ord_rep", payment_method)
        second = await target.pay("ord_rep", payment_method)
        third = await target.pay("ord_rep", "pm_card_visa", amount=999)  # other parameters: still the stored state
    assert first.status_code == second.status_code == third.status_code == status
    assert first.json() == second.json() == third.json()
    assert len(cardpay.creates) == 1


async def test_repeat_post_of_a_failed_order_does_not_charge(cardpay, reftarget):
    cardpay.script.extend([FakeCardpay.status(503)] * 3)
    async with reftarget() as target:
        first = await target.pay("ord_f")
        second = await target.pay("ord_f")
    assert first.status_code == second.status_code == 502
    assert len(cardpay.creates) == 3


async def test_concurrent_repeats_share_one_payment(cardpay, reftarget):
    cardpay.delay_s = 0.1
    async with reftarget() as target:
        answers = await asyncio.gather(*(target.pay("ord_conc") for _ in range(5)))
    assert len(cardpay.creates) == 1
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["payment_intent"] for a in answers}) == 1


async def test_a_client_that_hangs_up_does_not_abandon_the_payment(cardpay, reftarget):
    cardpay.delay_s = 0.2
    async with reftarget() as target:
        request = asyncio.create_task(target.pay("ord_gone"))
        await wait_until(lambda: len(cardpay.creates) == 1, timeout_s=2.0)
        request.cancel()
        await wait_until(lambda: target.service.get("ord_gone").status == "succeeded", timeout_s=2.0)
    assert len(cardpay.charges) == 1


async def test_state_survives_a_restart(cardpay, reftarget, settings_factory):
    settings = settings_factory(reconcile_window_s=60.0)
    cardpay.search_script.append(FakeCardpay.status(503))
    async with reftarget(settings=settings) as target:
        assert (await target.pay("ord_a")).status_code == 200
        cardpay.script.extend([httpx.ReadTimeout] * 3)
        assert (await target.pay("ord_p")).status_code == 202
    creates_before = len(cardpay.creates)

    # While the service was down the provider did commit ord_p's charge.
    cardpay._execute(cardpay.keys[-1], cardpay.creates[-1].params)

    async with reftarget(settings=settings) as target:
        stored = await target.status("ord_a")
        repeat = await target.pay("ord_a")
        # Reconciled at startup, without any request for it.
        await wait_until(lambda: target.service.get("ord_p").status == "succeeded", timeout_s=2.0)
    assert stored.status_code == repeat.status_code == 200
    assert stored.json()["payment_intent"] == "pi_1"
    assert len(cardpay.creates) == creates_before


async def test_an_order_left_processing_by_a_crash_is_reconciled_at_startup(cardpay, reftarget, settings_factory):
    settings = settings_factory(reconcile_window_s=1.0)
    crashed = OrderStore(settings.db_path)
    long_ago = time.time() - 60
    crashed.create_or_get("ord_crash", 1200, "usd", "pay-ord_crash-x", long_ago)
    crashed.record_attempt("ord_crash", 1, long_ago)
    crashed.close()
    async with reftarget(settings=settings) as target:
        pending = await target.status("ord_crash")
        await wait_until(lambda: target.service.get("ord_crash").status == "failed", timeout_s=2.0)
    assert pending.status_code in (202, 502)
    assert cardpay.searches and cardpay.creates == []


async def test_get_unknown_order_is_404_with_an_error_object(cardpay, reftarget):
    async with reftarget() as target:
        response = await target.status("nope")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
    assert response.json()["error"]["contact"]


async def test_healthz(cardpay, reftarget):
    async with reftarget() as target:
        response = await target.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}


GOOD = {
    "order_id": "ord_v",
    "amount": 1200,
    "currency": "usd",
    "payment_method": "pm_card_visa",
    "customer": {"name": "Ada", "email": "ada@example.com"},
}


def without(field: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != field}


@pytest.mark.parametrize(
    ("body", "code", "mentions"),
    [
        ([1, 2], "invalid_json", "JSON object"),
        (without("order_id"), "missing_field", "order_id"),
        ({**GOOD, "order_id": "x'y"}, "invalid_order_id", "order_id"),
        ({**GOOD, "order_id": "o" * 101}, "invalid_order_id", "order_id"),
        (without("amount"), "missing_field", "amount"),
        ({**GOOD, "amount": "12"}, "invalid_amount", "amount"),
        ({**GOOD, "amount": 0}, "invalid_amount", "amount"),
        ({**GOOD, "amount": True}, "invalid_amount", "amount"),
        ({**GOOD, "currency": "dollars"}, "invalid_currency", "currency"),
        (without("payment_method"), "missing_field", "payment_method"),
        (without("customer"), "missing_field", "customer"),
        ({**GOOD, "customer": {"name": "Ada"}}, "invalid_customer", "customer.email"),
        ({**GOOD, "customer": {"email": "a@b.c"}}, "invalid_customer", "customer.name"),
        ({**GOOD, "description": 5}, "invalid_description", "description"),
    ],
)
async def test_bad_requests_are_400_with_the_error_object(cardpay, reftarget, body, code, mentions):
    async with reftarget() as target:
        response = await target.client.post("/payments", json=body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "failed"
    error = answer["error"]
    assert set(error) == {"type", "code", "message", "action", "contact"}
    assert error["type"] == "invalid_request" and error["code"] == code
    assert mentions in error["message"]
    assert cardpay.creates == []


async def test_body_that_is_not_json_is_400(cardpay, reftarget):
    async with reftarget() as target:
        response = await target.client.post("/payments", content=b"{nope")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
