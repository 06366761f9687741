"""Ambiguous outcomes: the provider may have charged although we could not tell.

The service replays with the same key, looks the order up when attempts run
out, answers `pending` while it does not know, and only fails an order after a
lookup that answered "nothing" once the reconcile window has closed.
"""

from __future__ import annotations

import time

import httpx

from .fakes import FakeCardpay
from .support import wait_until


async def test_timeout_then_replay_is_one_charge(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.COMMIT_THEN_TIMEOUT)
    async with reftarget() as target:
        response = await target.pay("ord_replay")
    assert response.status_code == 200
    assert response.json()["payment_intent"] == "pi_1"
    assert len(cardpay.creates) == 2
    assert len(set(cardpay.keys)) == 1
    assert len(cardpay.charges_for("ord_replay")) == 1


async def test_disconnect_after_commit_then_replay_is_one_charge(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.COMMIT_THEN_DISCONNECT)
    async with reftarget() as target:
        response = await target.pay("ord_disc")
    assert response.status_code == 200
    assert len(cardpay.charges_for("ord_disc")) == 1
    assert len(set(cardpay.keys)) == 1


async def test_ambiguous_attempts_exhausted_lookup_finds_the_charge(cardpay, reftarget):
    cardpay.script.extend([FakeCardpay.COMMIT_THEN_TIMEOUT] * 3)
    async with reftarget() as target:
        response = await target.pay("ord_found")
    assert len(cardpay.creates) == 3
    assert cardpay.searches == ["metadata['order_id']:'ord_found'"]
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert response.json()["payment_intent"] == "pi_1"
    assert len(cardpay.charges) == 1


async def test_ambiguous_attempts_exhausted_lookup_finds_a_decline(cardpay, reftarget):
    cardpay.script.extend([FakeCardpay.COMMIT_THEN_DISCONNECT] * 3)
    async with reftarget() as target:
        response = await target.pay("ord_fd", "pm_card_visa_chargeDeclinedInsufficientFunds")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert len(cardpay.searches) == 1


async def test_saved_500_replayed_is_resolved_by_lookup(cardpay, reftarget):
    # Stripe saves a 500 under the key: every retry replays it.
    cardpay.script.append(FakeCardpay.SAVED_500)
    async with reftarget() as target:
        response = await target.pay("ord_500")
    assert [c.key for c in cardpay.creates] == [cardpay.keys[0]] * 3
    assert len(cardpay.searches) == 1
    assert response.status_code == 202
    assert response.json()["status"] == "pending"


async def test_ambiguous_then_not_accepted_still_looks_up(cardpay, reftarget):
    cardpay.script.extend([httpx.ReadTimeout, FakeCardpay.status(503), FakeCardpay.status(503)])
    async with reftarget() as target:
        await target.pay("ord_mix")
    assert len(cardpay.searches) == 1


async def test_ambiguous_nothing_found_pending_then_failed_after_the_window(cardpay, reftarget):
    cardpay.script.extend([httpx.ReadTimeout] * 3)
    async with reftarget(reconcile_interval_s=0.05, reconcile_window_s=0.4) as target:
        response = await target.pay("ord_lost")
        answered = time.time()
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "pending"
        assert body["message"] and body["action"] and body["contact"]
        last_attempt_at = target.service.get("ord_lost").last_attempt_at

        async def failed() -> bool:
            return (await target.status("ord_lost")).json()["status"] == "failed"

        await wait_until(failed, timeout_s=3.0)
        order = target.service.get("ord_lost")
        final = await target.status("ord_lost")
    # Not before the window closed (tolerance: the store's clock reads only).
    assert order.updated_at >= last_attempt_at + 0.4 - 1e-3
    # ... and not much after: one reconcile interval plus scheduling slack.
    assert order.updated_at <= last_attempt_at + 0.4 + 0.05 + 0.5
    assert answered <= order.updated_at
    assert final.status_code == 502
    error = final.json()["error"]
    assert error["type"] == "provider_unavailable" and error["code"] == "payment_unconfirmed"
    # The reconciler kept looking: the POST's lookup plus at least one sweep.
    assert len(cardpay.searches) >= 2
    assert len(cardpay.creates) == 3  # it never charges again from the reconciler


async def test_reconciler_finds_a_charge_that_committed_late(cardpay, reftarget):
    cardpay.script.extend([httpx.ReadTimeout] * 3)
    cardpay.search_script.append(FakeCardpay.status(503))  # the POST's own lookup fails
    async with reftarget(reconcile_window_s=5.0) as target:
        response = await target.pay("ord_late")
        assert response.status_code == 202
        # The provider finishes the delayed charge under our key.
        key = target.service.get("ord_late").idempotency_key
        await cardpay.create(
            httpx.Request(
                "POST",
                "http://cardpay.test/v1/payment_intents",
                data=cardpay.creates[0].params,
                headers={"Idempotency-Key": key},
            )
        )
        await wait_until(lambda: target.service.get("ord_late").status == "succeeded", timeout_s=3.0)
        final = await target.status("ord_late")
    assert final.status_code == 200
    assert final.json()["payment_intent"] == "pi_1"


async def test_failed_lookups_never_close_the_window(cardpay, reftarget):
    cardpay.script.extend([httpx.ReadTimeout] * 3)
    cardpay.search_script.extend([httpx.ConnectError] * 1000)
    async with reftarget(reconcile_interval_s=0.02, reconcile_window_s=0.1) as target:
        await target.pay("ord_blind")
        # Well past the window, with the provider's search still down.
        await wait_until(lambda: len(cardpay.searches) >= 15, timeout_s=3.0)
        assert target.service.get("ord_blind").status == "pending"
        # The search comes back and answers "nothing": now it may fail.
        cardpay.search_script.clear()
        await wait_until(lambda: target.service.get("ord_blind").status == "failed", timeout_s=3.0)


async def test_processing_intent_stays_pending(cardpay, reftarget):
    cardpay.script.append(
        httpx.Response(200, json={"id": "pi_p", "status": "processing", "metadata": {"order_id": "ord_proc"}})
    )
    async with reftarget() as target:
        response = await target.pay("ord_proc")
    assert response.status_code == 202
    assert len(cardpay.creates) == 1


async def test_malformed_success_body_is_replayed(cardpay, reftarget):
    cardpay.script.append(httpx.Response(200, content=b'{"id": "pi_1", "sta'))
    async with reftarget() as target:
        response = await target.pay("ord_trunc")
    assert response.status_code == 200
    assert len(cardpay.creates) == 2 and len(set(cardpay.keys)) == 1
