"""The retry policy: what is retried, how often, how far apart, and with which key."""

from __future__ import annotations

import httpx
import pytest

from .fakes import FakeCardpay
from .support import events

# Equal jitter: before retry k the sleep is in [nominal/2, nominal],
# nominal = min(2.0, 0.2 * 2**(k-1)). EPS absorbs float rounding only.
EPS = 1e-9


def nominal(k: int, initial: float = 0.2, cap: float = 2.0) -> float:
    return min(cap, initial * 2 ** (k - 1))


TRANSIENT_FIRST_ATTEMPTS = [
    pytest.param(FakeCardpay.status(409, error_code="idempotency_key_in_use"), id="409"),
    pytest.param(FakeCardpay.status(429, error_code="rate_limit"), id="429"),
    pytest.param(FakeCardpay.status(500), id="500"),
    pytest.param(FakeCardpay.status(502), id="502"),
    pytest.param(FakeCardpay.status(503), id="503"),
    pytest.param(FakeCardpay.status(504), id="504"),
    pytest.param(httpx.ConnectError, id="connect-error"),
    pytest.param(httpx.ConnectTimeout, id="connect-timeout"),
    pytest.param(httpx.ReadTimeout, id="read-timeout"),
    pytest.param(httpx.WriteTimeout, id="write-timeout"),
    pytest.param(httpx.PoolTimeout, id="pool-timeout"),
    pytest.param(httpx.RemoteProtocolError, id="server-disconnected"),
    pytest.param(httpx.ReadError, id="read-error"),
]


@pytest.mark.parametrize("first", TRANSIENT_FIRST_ATTEMPTS)
async def test_transient_failure_is_retried_with_the_same_key(cardpay, reftarget, sleeps, first):
    cardpay.script.append(first)
    async with reftarget() as target:
        response = await target.pay("ord_t")
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert len(cardpay.creates) == 2
    assert cardpay.keys[0] == cardpay.keys[1]
    assert cardpay.creates[0].params == cardpay.creates[1].params
    assert len(sleeps.calls) == 1
    assert nominal(1) / 2 - EPS <= sleeps.calls[0] <= nominal(1) + EPS
    # The second attempt answered definitively: no lookup needed.
    assert cardpay.searches == []
    assert len(cardpay.charges) == 1


async def test_503_then_200_is_one_charge_under_one_key(cardpay, reftarget):
    cardpay.script.append(FakeCardpay.status(503))
    async with reftarget() as target:
        response = await target.pay("ord_503")
        order = target.service.get("ord_503")
    assert response.status_code == 200
    assert cardpay.keys == [order.idempotency_key] * 2
    assert order.attempts == 2


async def test_at_most_three_attempts_then_failed_502(cardpay, reftarget, sleeps):
    cardpay.script.extend([FakeCardpay.status(503)] * 10)
    async with reftarget() as target:
        response = await target.pay("ord_down")
    assert len(cardpay.creates) == 3
    assert len(set(cardpay.keys)) == 1
    assert response.status_code == 502
    body = response.json()
    assert body["status"] == "failed"
    assert body["error"]["type"] == "provider_unavailable"
    assert body["error"]["action"] and body["error"]["contact"]
    # 503 means "not accepted": nothing can have been charged, nothing to look up.
    assert cardpay.searches == []
    assert len(sleeps.calls) == 2


async def test_backoff_bounds_per_attempt(cardpay, reftarget, sleeps):
    cardpay.script.extend([FakeCardpay.status(503)] * 10)
    async with reftarget(max_attempts=7) as target:
        await target.pay("ord_bo")
    assert len(cardpay.creates) == 7
    assert len(sleeps.calls) == 6
    for k, slept in enumerate(sleeps.calls, start=1):
        # k=1..6 -> nominal 0.2, 0.4, 0.8, 1.6, 2.0 (capped), 2.0
        assert nominal(k) / 2 - EPS <= slept <= nominal(k) + EPS, (k, slept)


async def test_backoff_spacing_on_the_real_clock(cardpay, reftarget):
    cardpay.script.extend([FakeCardpay.status(503), FakeCardpay.status(503)])
    async with reftarget(real_sleep=True) as target:
        response = await target.pay("ord_clock")
    assert response.status_code == 200
    t = [call.t for call in cardpay.creates]
    assert len(t) == 3
    # Lower bound: asyncio may wake up to a clock tick early (~1 ms). Upper
    # bound: scheduling on a loaded CI box; generous but far below the next step.
    early, late = 0.005, 0.15
    assert nominal(1) / 2 - early <= t[1] - t[0] <= nominal(1) + late
    assert nominal(2) / 2 - early <= t[2] - t[1] <= nominal(2) + late


async def test_retry_after_is_honoured(cardpay, reftarget, sleeps):
    cardpay.script.append(FakeCardpay.status(429, retry_after="1", error_code="rate_limit"))
    async with reftarget() as target:
        response = await target.pay("ord_ra")
    assert response.status_code == 200
    # max(Retry-After, backoff) and backoff <= 0.2 here.
    assert sleeps.calls == [pytest.approx(1.0, abs=EPS)]


async def test_retry_after_shorter_than_backoff_keeps_the_backoff(cardpay, reftarget, sleeps):
    cardpay.script.append(FakeCardpay.status(503, retry_after="0"))
    async with reftarget() as target:
        await target.pay("ord_ra0")
    assert nominal(1) / 2 - EPS <= sleeps.calls[0] <= nominal(1) + EPS


async def test_retry_after_longer_than_the_budget_fails_fast(cardpay, reftarget, sleeps):
    cardpay.script.append(FakeCardpay.status(429, retry_after="30", error_code="rate_limit"))
    async with reftarget(retry_after_max_s=5.0) as target:
        response = await target.pay("ord_ra30")
    assert len(cardpay.creates) == 1
    assert sleeps.calls == []
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "provider_unavailable"


async def test_attempts_and_decisions_are_logged(cardpay, reftarget, caplog):
    caplog.set_level("INFO", logger="reference_target")
    cardpay.script.append(FakeCardpay.status(503))
    async with reftarget() as target:
        await target.pay("ord_log")
    calls = events(caplog, "provider_call", order_id="ord_log", endpoint="payment_intents.create")
    assert [call["attempt"] for call in calls] == [1, 2]
    assert [call.get("status") for call in calls] == [503, 200]
    for call in calls:
        assert {"ts", "t", "idempotency_key", "elapsed_s", "outcome", "trace"} <= set(call)
    decisions = [d["decision"] for d in events(caplog, "decision", order_id="ord_log")]
    assert decisions == ["retry", "succeeded"]
