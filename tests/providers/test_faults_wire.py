"""Every fault kind's effect on the wire, through the real host process."""

from __future__ import annotations

import asyncio
import json
import math
import time

import pytest

from ._wire import form, request

pytestmark = pytest.mark.integration

PI = "/v1/payment_intents"


def _pay(order: str, pm: str = "pm_card_visa") -> bytes:
    return form(amount=1200, currency="usd", payment_method=pm, confirm="true", **{"metadata[order_id]": order})


@pytest.mark.parametrize("status, etype, code", [
    (400, "invalid_request_error", None), (402, "card_error", "card_declined"),
    (404, "invalid_request_error", "resource_missing"), (409, "invalid_request_error", "idempotency_key_in_use"),
    (429, "invalid_request_error", "rate_limit"), (502, "api_error", None), (503, "api_error", None),
    (504, "api_error", None),
])
async def test_status_answers_with_stripes_error_body(cardpay, status, etype, code):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "status", "status": status})
    got, headers, body = await request(url, PI, _pay("s1"), {"Idempotency-Key": "sk"})
    err = json.loads(body)["error"]
    assert got == status and err["type"] == etype and err.get("code") == code and err["message"]
    assert headers["request-id"].startswith("req_")
    assert (await ctl.ledger())["entries"] == []
    entry = (await ctl.journal())["entries"][-1]
    assert entry["fault"]["kind"] == "status" and entry["response"]["status"] == status
    await ctl.clear_faults()
    got, headers, _ = await request(url, PI, _pay("s1"), {"Idempotency-Key": "sk"})
    assert got == 200 and "idempotent-replayed" not in headers  # nothing was saved


async def test_status_429_lock_timeout_asks_for_a_retry(cardpay):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "status", "status": 429, "code": "lock_timeout", "retry_after_s": 0.3})
    got, headers, body = await request(url, PI, _pay("l1"))
    assert got == 429 and json.loads(body)["error"]["code"] == "lock_timeout"
    assert headers["stripe-should-retry"] == "true" and headers["retry-after"] == "1"


async def test_outage_defaults_to_503(cardpay):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "outage", "match": {"path": "/v1/*"}})
    got, _, body = await request(url, PI, _pay("o1"))
    assert got == 503 and json.loads(body)["error"]["type"] == "api_error"


async def test_rate_limit_sends_retry_after_rounded_up_and_exact(cardpay):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "rate_limit", "retry_after_s": 1.25})
    got, headers, body = await request(url, PI, _pay("rl1"))
    assert got == 429 and json.loads(body)["error"]["code"] == "rate_limit"
    assert headers["retry-after"] == "2" and headers["paychaos-retry-after-ms"] == "1250"
    assert "stripe-should-retry" not in headers
    entry = (await ctl.journal())["entries"][-1]
    assert entry["response"]["retry_after_s"] == 1.25


async def test_decline_forces_a_real_card_decline(cardpay):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "decline", "decline_code": "insufficient_funds"})
    got, headers, body = await request(url, PI, _pay("dc1"))
    err = json.loads(body)["error"]
    assert got == 402 and err["code"] == "card_declined" and err["decline_code"] == "insufficient_funds"
    assert err["payment_intent"]["status"] == "requires_payment_method"
    assert headers["stripe-should-retry"] == "false"
    assert (await ctl.ledger())["entries"] == []


async def test_delay_is_accurate_within_tolerance(cardpay):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "delay", "delay_ms": 200})
    t0 = time.monotonic()
    got, _, _ = await request(url, PI, _pay("dl1"))
    elapsed = time.monotonic() - t0
    assert got == 200
    assert 0.200 - 0.005 <= elapsed <= 0.200 + 0.150, elapsed  # never early; late only by scheduling
    entry = (await ctl.journal())["entries"][-1]
    assert 0.195 <= entry["t_end"] - entry["t_start"] <= 0.35


async def test_drop_closes_without_answer_and_nothing_executes(cardpay):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "drop"})
    with pytest.raises(asyncio.IncompleteReadError):
        await request(url, PI, _pay("dr1"))
    assert (await ctl.ledger()) == {"entries": [], "objects": []}
    entry = (await ctl.journal())["entries"][-1]
    assert entry["delivery"] == "dropped" and entry["response"] is None


async def test_commit_drop_ledger_has_the_charge_client_saw_a_close(cardpay):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "commit_drop", "match": {"method": "POST"}})
    with pytest.raises(asyncio.IncompleteReadError):
        await request(url, PI, _pay("cdw1"))
    ledger = await ctl.ledger()
    assert [(e["kind"], e["order_ref"]) for e in ledger["entries"]] == [("charge", "cdw1")]
    assert ledger["objects"][0]["status"] == "succeeded"


async def _run_orders(url, ctl, schedule, concurrent: bool) -> dict:
    await ctl.reset()
    await ctl.configure(seed=11)
    await ctl.add_fault({"kind": "status", "status": 503, "rate": 0.3})
    if concurrent:
        # Each order's attempts stay in order; orders interleave freely.
        async def one(order, attempts):
            for _ in range(attempts):
                await request(url, PI, _pay(order))
        await asyncio.gather(*(one(o, n) for o, n in schedule))
    else:
        for order, attempts in schedule:
            for _ in range(attempts):
                await request(url, PI, _pay(order))
    out: dict[str, list[bool]] = {}
    for e in await ctl.journal_all():
        out.setdefault(e["order_ref"], []).append(e["fault"] is not None)
    return out


async def test_seeded_rate_is_binomial_and_replays_across_interleavings(cardpay):
    url, ctl = cardpay
    schedule = [(f"ord{i}", 2) for i in range(150)]
    first = await _run_orders(url, ctl, schedule, concurrent=False)
    second = await _run_orders(url, ctl, list(reversed(schedule)), concurrent=True)
    assert first == second
    n = sum(len(v) for v in first.values())
    hits = sum(sum(v) for v in first.values())
    sigma = math.sqrt(n * 0.3 * 0.7)
    assert abs(hits - 0.3 * n) < 4 * sigma, (hits, n)


async def test_first_n_faults_each_order_then_never(cardpay):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "status", "status": 502, "first_n": 2, "match": {"path": PI}})
    for order in ("fa", "fb"):
        statuses = [(await request(url, PI, _pay(order)))[0] for _ in range(3)]
        assert statuses == [502, 502, 200]
