"""A lost reply is lost whatever answered it: ``commit_drop`` loses the replayed
answer of a same-key retry too, ``window_s`` keeps a selected payment's
replies lost for a while, and the journal's ``fault`` names a fault only where
it took effect. Real sockets, a CardPay in the test's loop."""

from __future__ import annotations

import asyncio
import json

import pytest

from mock_providers.cardpay import CardPay
from mock_providers.core.faults import FaultRuleError
from mock_providers.core.server import HttpServer

from ._wire import AUTH, form, open_conn, post_bytes, read_response, request

PI = "/v1/payment_intents"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def served():
    """(provider, url, clock) of a CardPay on a clock the test moves."""
    clock = Clock()
    provider = CardPay(seed=1, clock=clock)
    server = await HttpServer(provider).start(0)
    try:
        yield provider, server.url, clock
    finally:
        await server.close()
        provider.close()


def _pay(order: str) -> bytes:
    return form(amount=1200, currency="usd", payment_method="pm_card_visa", confirm="true",
                **{"metadata[order_id]": order})


async def _post(url: str, order: str, key: str) -> int | None:
    """The status of one POST, or None when the connection closed without an answer."""
    reader, writer = await open_conn(url)
    try:
        writer.write(post_bytes(url, PI, _pay(order), {"Idempotency-Key": key}, close=True))
        try:
            status, _, _ = await read_response(reader)
        except asyncio.IncompleteReadError:
            return None
        return status
    finally:
        writer.close()
        await writer.wait_closed()


def _entries(provider) -> list[dict]:
    return provider.journal.query()["entries"]


async def test_commit_drop_loses_the_replayed_answer_of_a_same_key_retry(served):
    provider, url, _ = served
    provider.faults.add({"id": "lost", "kind": "commit_drop", "match": {"method": "POST", "path": PI}})
    assert await _post(url, "o1", "k1") is None
    assert await _post(url, "o1", "k1") is None, "the retry's replayed answer is lost too"
    assert len(provider.ledger) == 1, "charged once: the retry was answered from the idempotency store"
    first, retry = _entries(provider)
    assert first["committed"] and not retry["committed"]
    for e in (first, retry):
        assert e["fault"]["rule"] == "lost" and e["delivery"] == "dropped" and e["response"] is None
        assert e["class"] == "unknown"
    # A lookup is not a payment attempt: it is answered and tells the truth.
    reader, writer = await open_conn(url)
    try:
        writer.write((f"GET {PI}/{provider.ledger.entries()[0]['object_id']} HTTP/1.1\r\nHost: x\r\n"
                      f"Authorization: {AUTH}\r\nConnection: close\r\n\r\n").encode())
        status, _, body = await read_response(reader)
    finally:
        writer.close()
        await writer.wait_closed()
    assert status == 200 and json.loads(body)["status"] == "succeeded"


async def test_window_s_loses_every_reply_of_a_selected_payment_for_that_long(served):
    provider, url, clock = served
    provider.faults.add({"id": "w", "kind": "commit_drop", "window_s": 5, "match": {"method": "POST", "path": PI}})
    assert await _post(url, "o1", "k1") is None
    clock.t += 4.9
    assert await _post(url, "o1", "k1") is None, "inside the window"
    clock.t += 0.2
    assert await _post(url, "o1", "k1") == 200, "after the window the replay is delivered"
    faults = [e["fault"] for e in _entries(provider)]
    assert [f is not None for f in faults] == [True, True, False]
    assert len(provider.ledger) == 1
    # Another payment starts its own window.
    assert await _post(url, "o2", "k2") is None


async def test_window_s_and_first_n_both_limit(served):
    provider, url, _ = served
    provider.faults.add({"kind": "commit_drop", "window_s": 60, "first_n": 2, "match": {"method": "POST", "path": PI}})
    assert [await _post(url, "o1", "k1") for _ in range(3)] == [None, None, 200]


def test_window_s_must_be_positive():
    with pytest.raises(FaultRuleError) as err:
        CardPay(seed=1).faults.add({"kind": "commit_drop", "window_s": 0})
    assert "window_s=0" in str(err.value) and "> 0" in str(err.value)


async def test_a_fault_is_journaled_only_where_it_took_effect(served):
    provider, url, _ = served
    # A decline rule that also matches requests that charge nothing: those are unaffected.
    provider.faults.add({"id": "d", "kind": "decline", "decline_code": "insufficient_funds"})
    create = form(amount=1200, currency="usd", **{"metadata[order_id]": "o3"})  # no confirm: charges nothing
    status, _, body = await request(url, PI, create)
    assert status == 200 and json.loads(body)["status"] == "requires_payment_method"
    status, _, _ = await request(url, PI, _pay("o4"))
    assert status == 402
    faults = [e["fault"] for e in _entries(provider)]
    assert faults[0] is None, "the create without confirm was not declined: no fault"
    assert faults[1]["rule"] == "d"


async def test_a_replay_is_not_journaled_with_a_fault_that_cannot_apply_to_it(served):
    provider, url, _ = served
    status = await _post(url, "o5", "k5")
    assert status == 200
    # A decline rule cannot turn a saved success into a decline: the replay is not affected.
    provider.faults.add({"id": "dec", "kind": "decline", "match": {"method": "POST", "path": PI}})
    assert await _post(url, "o5", "k5") == 200, "the replay answers the saved success"
    assert _entries(provider)[-1]["fault"] is None
