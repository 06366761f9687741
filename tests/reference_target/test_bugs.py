"""Each seeded bug shows its ONE deviation, and the same scenario passes without it.

The catalogue's own shape (names, docstrings, parsing) is tested in test_units.py.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from examples.reference_target.bugs import SEEDED_BUGS

from tests.providers._helpers import served_cardpay

from .conftest import PROVIDER_URL
from .fakes import FakeCardpay
from .support import wait_until

EPS = 1e-9


def test_every_seeded_bug_has_a_test_here():
    tested = {name.removeprefix("test_").split("__")[0].replace("_", "-") for name in globals()
              if name.startswith("test_") and "__" in name}
    assert SEEDED_BUGS, "the catalogue is empty: nothing would be proved here"
    assert tested >= set(SEEDED_BUGS), f"no test for {sorted(set(SEEDED_BUGS) - tested)}"
    assert tested <= set(SEEDED_BUGS), f"tests for bugs the catalogue does not have: {sorted(tested - set(SEEDED_BUGS))}"


async def test_no_retry__gives_up_after_one_transient_failure(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.status(503))
    async with reftarget(bugs="no-retry") as target:
        response = await target.pay("ord_b")
    assert len(cardpay.creates) == 1
    assert response.status_code == 502


async def test_no_retry__still_resolves_ambiguity_by_lookup(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.COMMIT_THEN_TIMEOUT)
    async with reftarget(bugs="no-retry") as target:
        response = await target.pay("ord_b")
    assert len(cardpay.creates) == 1
    assert len(cardpay.searches) == 1
    assert response.status_code == 200


async def test_retry_declines__retries_a_402_with_the_same_key(cardpay, reftarget):
    async with reftarget(bugs="retry-declines") as target:
        response = await target.pay("ord_b", "pm_card_visa_chargeDeclinedInsufficientFunds")
    assert len(cardpay.creates) == 3
    assert len(set(cardpay.keys)) == 1
    # Only the retrying is wrong: the answer is still an honest decline.
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_funds"


async def test_unbounded_retry__makes_five_attempts(cardpay, reftarget, sleeps):
    cardpay.script.extend([FakeCardpay.status(503)] * 20)
    async with reftarget(bugs="unbounded-retry") as target:
        response = await target.pay("ord_b")
    assert len(cardpay.creates) == 5
    assert len(set(cardpay.keys)) == 1
    assert response.status_code == 502
    # Still backed off between them: one equal-jitter wait before each of the 4 retries, each at least
    # half its nominal delay (0.2 s doubling, capped at 2 s), so the bug is the attempt count alone.
    assert len(sleeps.calls) == 4, sleeps.calls
    for k, slept in enumerate(sleeps.calls, start=1):
        nominal = min(2.0, 0.2 * 2 ** (k - 1))
        assert nominal / 2 - EPS <= slept <= nominal + EPS, (k, sleeps.calls)


async def test_no_backoff__retries_without_sleeping(cardpay, reftarget, sleeps):
    cardpay.script.extend([FakeCardpay.status(503)] * 3)
    async with reftarget(bugs="no-backoff") as target:
        await target.pay("ord_b")
    assert len(cardpay.creates) == 3
    assert sleeps.calls == [0.0, 0.0]


async def test_no_backoff__still_honours_retry_after(cardpay, reftarget, sleeps):
    cardpay.script.append(FakeCardpay.status(429, retry_after="1", error_code="rate_limit"))
    async with reftarget(bugs="no-backoff") as target:
        await target.pay("ord_b")
    assert sleeps.calls == [pytest.approx(1.0, abs=EPS)]


async def test_new_key_per_attempt__sends_distinct_keys(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.status(503))
    async with reftarget(bugs="new-key-per-attempt") as target:
        response = await target.pay("ord_b")
    assert len(cardpay.creates) == 2
    assert len(set(cardpay.keys)) == 2
    assert response.status_code == 200


async def test_ignore_retry_after__sleeps_only_its_backoff(cardpay, reftarget, sleeps):
    cardpay.script.append(FakeCardpay.status(429, retry_after="1", error_code="rate_limit"))
    async with reftarget(bugs="ignore-retry-after") as target:
        await target.pay("ord_b")
    assert len(sleeps.calls) == 1
    assert 0.1 - EPS <= sleeps.calls[0] <= 0.2 + EPS


async def test_double_charge_on_timeout__charges_again_under_a_new_key(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.COMMIT_THEN_TIMEOUT)
    async with reftarget(bugs="double-charge-on-timeout") as target:
        response = await target.pay("ord_b")
    assert response.status_code == 200
    assert len(set(cardpay.keys)) == 2
    assert len(cardpay.charges_for("ord_b")) == 2


async def test_double_charge_on_timeout__keeps_the_key_when_not_ambiguous(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.status(503))
    async with reftarget(bugs="double-charge-on-timeout") as target:
        await target.pay("ord_b")
    assert len(set(cardpay.keys)) == 1


@pytest.mark.parametrize(
    ("payment_method", "script"),
    [("pm_card_visa_chargeDeclinedInsufficientFunds", []), ("pm_card_visa", [FakeCardpay.status(503)] * 3)],
    ids=["declined", "failed"],
)
async def test_vague_errors__carry_only_a_message(cardpay, reftarget, payment_method, script):
    cardpay.script.extend(script)
    async with reftarget(bugs="vague-errors") as target:
        response = await target.pay("ord_b", payment_method)
        stored = await target.status("ord_b")
    for answer in (response, stored):
        assert answer.json()["error"] == {"message": "Payment failed, please try again"}
    assert response.status_code in (402, 502)


async def test_fail_on_ambiguous__answers_failed_without_a_lookup(cardpay, reftarget):
    cardpay.script.extend([FakeCardpay.COMMIT_THEN_TIMEOUT] * 3)
    async with reftarget(bugs="fail-on-ambiguous") as target:
        response = await target.pay("ord_b")
    assert response.status_code == 502 and response.json()["status"] == "failed"
    assert cardpay.searches == [] and len(cardpay.charges_for("ord_b")) == 1  # charged, yet "failed"


async def test_fail_on_ambiguous__keeps_clear_outcomes(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.COMMIT_THEN_TIMEOUT)  # the retry replays the success
    async with reftarget(bugs="fail-on-ambiguous") as target:
        response = await target.pay("ord_b")
    assert response.json()["status"] == "succeeded"


async def test_succeed_on_ambiguous__answers_succeeded_without_a_lookup(cardpay, reftarget):
    cardpay.script.extend([httpx.RemoteProtocolError] * 3)  # nothing executed, nothing charged
    async with reftarget(bugs="succeed-on-ambiguous") as target:
        response = await target.pay("ord_b")
    assert response.json()["status"] == "succeeded"
    assert cardpay.searches == [] and cardpay.charges_for("ord_b") == []


async def test_succeed_on_ambiguous__correct_service_looks_up_instead(cardpay, reftarget):
    cardpay.script.extend([httpx.RemoteProtocolError] * 3)
    async with reftarget() as target:
        response = await target.pay("ord_b")
    assert response.json()["status"] == "pending" and len(cardpay.searches) == 1


async def test_forget_unpaid__lookup_answers_404_for_a_declined_order(cardpay, reftarget):
    async with reftarget(bugs="forget-unpaid") as target:
        declined = await target.pay("ord_d", payment_method="pm_card_visa_chargeDeclinedInsufficientFunds")
        paid = await target.pay("ord_p")
        assert declined.json()["status"] == "declined"  # the answer itself is right
        assert (await target.status("ord_d")).status_code == 404
        assert (await target.status("ord_p")).json()["status"] == "succeeded"


async def test_no_client_timeout__builds_a_client_without_timeout(cardpay, reftarget):
    async with reftarget(bugs="no-client-timeout") as target:
        timeout = target.service.client.http.timeout
    assert timeout == httpx.Timeout(None)
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (None, None, None, None)


async def test_correct_service_client_has_the_configured_timeout(cardpay, reftarget):
    async with reftarget(timeout_s=0.7) as target:
        timeout = target.service.client.http.timeout
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (0.7, 0.7, 0.7, 0.7)


async def test_bugs_combine(cardpay, reftarget, sleeps):
    cardpay.script.extend([FakeCardpay.status(503)] * 3)
    async with reftarget(bugs="no-backoff,new-key-per-attempt") as target:
        await target.pay("ord_b")
    assert sleeps.calls == [0.0, 0.0]
    assert len(set(cardpay.keys)) == 3


async def test_reconcile_new_key__charges_a_pending_order_again_under_another_key(cardpay, reftarget):
    cardpay.script.extend([httpx.ReadTimeout] * 3)  # every attempt in the call times out: pending
    async with reftarget(bugs="reconcile-new-key", reconcile_interval_s=0.05, reconcile_window_s=5.0) as target:
        response = await target.pay("ord_b")
        assert response.status_code == 202

        async def charged_again() -> bool:
            return len(cardpay.creates) == 4

        await wait_until(charged_again, timeout_s=3.0)
    first_key, late_key = cardpay.keys[0], cardpay.keys[3]
    assert cardpay.keys[:3] == [first_key] * 3, "the retries in the call keep one key"
    assert late_key == f"{first_key}-reconcile", "the reconciler's charge carries a key of its own"


async def test_reconcile_hammer__ignores_the_reconcile_interval(cardpay, reftarget):
    cardpay.script.extend([httpx.ReadTimeout] * 3)
    async with reftarget(bugs="reconcile-hammer", reconcile_interval_s=1.0, reconcile_window_s=5.0) as target:
        response = await target.pay("ord_b")
        assert response.status_code == 202

        async def many_lookups() -> bool:
            return len(cardpay.searches) >= 15

        # With a 1 s interval this would take 14 s; the bug's tight loop takes well under a second.
        await wait_until(many_lookups, timeout_s=3.0)
    assert len(cardpay.creates) == 3, "it still never charges from the reconciler"


async def test_legacy_charges_api__creates_through_an_endpoint_the_provider_does_not_serve(reftarget):
    with respx.mock(base_url=PROVIDER_URL, assert_all_called=False) as router:
        legacy = router.post("/v1/charges").mock(return_value=httpx.Response(404, json={"error": {
            "type": "invalid_request_error", "message": "Unrecognized request URL (POST: /v1/charges)"}}))
        modern = router.post("/v1/payment_intents").mock(return_value=httpx.Response(200, json={}))
        router.get("/v1/payment_intents/search").mock(return_value=httpx.Response(200, json={"data": []}))
        async with reftarget(bugs="legacy-charges-api") as target:
            await target.pay("ord_b")
    assert legacy.call_count >= 1 and modern.call_count == 0


async def test_guess_on_unknown__answers_failed_without_a_lookup_after_a_lost_reply(cardpay, reftarget):
    cardpay.script.extend([FakeCardpay.COMMIT_THEN_TIMEOUT] * 3)  # charged; every reply lost
    async with reftarget(bugs="guess-on-unknown") as target:
        response = await target.pay("ord_g")
    assert response.json()["status"] == "failed"
    assert cardpay.searches == [], "the bug never looks the payment up"
    assert cardpay.charges_for("ord_g"), "the provider did charge: the guess is wrong here"


async def test_guess_on_unknown__keeps_a_clear_last_answer(cardpay, reftarget):
    cardpay.script.extend([httpx.RemoteProtocolError, None])  # the retry gets the real answer
    async with reftarget(bugs="guess-on-unknown") as target:
        response = await target.pay("ord_c")
    assert response.json()["status"] == "succeeded"


async def test_guess_on_unknown__correct_service_looks_up_instead(cardpay, reftarget):
    cardpay.script.extend([FakeCardpay.COMMIT_THEN_TIMEOUT] * 3)
    async with reftarget() as target:
        response = await target.pay("ord_g")
    assert response.json()["status"] == "succeeded", "the lookup found the committed charge"
    assert len(cardpay.searches) == 1


@pytest.fixture
async def real_cardpay():
    """A real CardPay served in this test's loop (manual capture needs the real
    intent life cycle: authorise, capture, cancel), with its ledger."""
    async with served_cardpay() as served:
        yield served


def _kinds(provider, order_id: str) -> list[tuple[str, int]]:
    return [(e["kind"], e["amount"]) for e in provider.ledger.entries() if e["order_ref"] == order_id]


async def test_hold_left_open__fails_the_order_and_leaves_the_money_held(real_cardpay, reftarget):
    provider, url = real_cardpay
    provider.faults.add({"kind": "status", "status": 503, "match": {"role": "capture"}})
    async with reftarget(bugs="hold-left-open", capture="manual", cardpay_base_url=url) as target:
        response = await target.pay("ord_h")
    assert response.json()["status"] == "failed"
    assert _kinds(provider, "ord_h") == [("authorize", 1200)], "authorised, never captured, never released"


async def test_hold_left_open__correct_service_releases_the_hold_before_failing(real_cardpay, reftarget):
    provider, url = real_cardpay
    provider.faults.add({"kind": "status", "status": 503, "match": {"role": "capture"}})
    async with reftarget(capture="manual", cardpay_base_url=url) as target:
        response = await target.pay("ord_h")
    assert response.json()["status"] == "failed"
    assert _kinds(provider, "ord_h") == [("authorize", 1200), ("release", 1200)]
    captures = [e for e in provider.journal.query()["entries"] if e["endpoint"] == "payment_intents.capture"]
    assert len(captures) == 3 and len({e["idempotency_key"] for e in captures}) == 1, "retried, one key"


async def test_hold_left_open__manual_capture_without_faults_captures_each_order_once(real_cardpay, reftarget):
    provider, url = real_cardpay
    async with reftarget(capture="manual", cardpay_base_url=url) as target:
        paid = await target.pay("ord_p")
        declined = await target.pay("ord_d", "pm_card_visa_chargeDeclined")
    assert paid.json()["status"] == "succeeded" and declined.json()["status"] == "declined"
    assert _kinds(provider, "ord_p") == [("authorize", 1200), ("charge", 1200)]
    assert _kinds(provider, "ord_d") == []


async def test_hold_left_open__correct_service_captures_a_hold_it_only_finds_by_lookup(real_cardpay, reftarget):
    provider, url = real_cardpay
    # Every reply of the authorisation is lost after it committed: only the lookup sees the hold.
    provider.faults.add({"kind": "commit_drop", "first_n": 3, "match": {"role": "charge"}})
    async with reftarget(capture="manual", cardpay_base_url=url) as target:
        response = await target.pay("ord_l")
    assert response.json()["status"] == "succeeded"
    assert _kinds(provider, "ord_l") == [("authorize", 1200), ("charge", 1200)]


async def test_hold_left_open__correct_reconciler_captures_a_hold_found_later(real_cardpay, reftarget):
    provider, url = real_cardpay
    provider.faults.add({"kind": "commit_drop", "first_n": 3, "match": {"role": "charge"}})
    provider.faults.add({"kind": "status", "status": 503, "first_n": 1, "match": {"role": "lookup"}})
    async with reftarget(capture="manual", cardpay_base_url=url) as target:
        assert (await target.pay("ord_r")).json()["status"] == "pending"

        async def captured() -> bool:
            return (await target.status("ord_r")).json()["status"] == "succeeded"

        await wait_until(captured, timeout_s=5.0)
    assert _kinds(provider, "ord_r") == [("authorize", 1200), ("charge", 1200)]
