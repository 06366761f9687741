"""The HTTP layer on real sockets: keep-alive, pipelining, bounds, wire faults.

Runs a CardPay inside the test's loop (``inproc``) so that the test can look
at the provider's journal and ledger directly.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from mock_providers.cardpay import CardPay
from mock_providers.core.server import HttpServer

from ._helpers import wait_for
from ._wire import conn, form, post_bytes, read_response, request

PI = "/v1/payment_intents"


def _pay(order: str, pm: str = "pm_card_visa") -> bytes:
    return form(amount=1200, currency="usd", payment_method=pm, confirm="true", **{"metadata[order_id]": order})


async def test_keep_alive_serves_many_requests_on_one_connection(inproc):
    provider, url = inproc
    async with conn(url) as (reader, writer):
        for i in range(5):
            writer.write(post_bytes(url, PI, _pay(f"o{i}")))
            status, headers, body = await read_response(reader)
            assert status == 200 and json.loads(body)["status"] == "succeeded"
            assert headers["request-id"].startswith("req_")
        assert len(provider.ledger) == 5


async def test_pipelined_requests_answer_in_order_even_behind_a_slow_one(inproc):
    provider, url = inproc
    provider.faults.add({"kind": "delay", "delay_ms": 150, "match": {"path": PI}, "first_n": 1})
    async with conn(url) as (reader, writer):
        writer.write(b"".join(post_bytes(url, PI, _pay(f"p{i}")) for i in range(4)))
        orders = []
        for _ in range(4):
            status, _, body = await read_response(reader)
            orders.append(json.loads(body)["metadata"]["order_id"])
        assert orders == ["p0", "p1", "p2", "p3"]


async def test_body_over_the_bound_is_refused_with_413(inproc):
    _, url = inproc
    async with conn(url) as (reader, writer):
        writer.write(post_bytes(url, PI, b"a=" + b"x" * 70_000))
        status, _, body = await read_response(reader)
        assert status == 413 and b"larger than" in body
        assert await asyncio.wait_for(reader.read(), 2) == b""  # and closed


async def test_malformed_request_is_400_and_closed(inproc):
    _, url = inproc
    async with conn(url) as (reader, writer):
        writer.write(b"GARBAGE / NOPE\r\n\r\n")
        status, _, _ = await read_response(reader)
        assert status == 400
        assert await asyncio.wait_for(reader.read(), 2) == b""


async def test_drop_closes_without_answer_and_charges_nothing(inproc):
    provider, url = inproc
    provider.faults.add({"kind": "drop"})
    with pytest.raises(asyncio.IncompleteReadError):
        await request(url, PI, _pay("d1"))
    assert len(provider.ledger) == 0
    entry = provider.journal.query()["entries"][-1]
    assert entry["delivery"] == "dropped" and entry["response"] is None and not entry["committed"]
    assert entry["fault"]["kind"] == "drop"


async def test_commit_drop_commits_then_closes(inproc):
    provider, url = inproc
    provider.faults.add({"kind": "commit_drop"})
    with pytest.raises(asyncio.IncompleteReadError):
        await request(url, PI, _pay("c1"), {"Idempotency-Key": "ck1"})
    assert [e["order_ref"] for e in provider.ledger.entries()] == ["c1"]
    entry = provider.journal.query()["entries"][-1]
    assert entry["delivery"] == "dropped" and entry["committed"] and entry["response"] is None
    provider.faults.clear()
    status, headers, _ = await request(url, PI, _pay("c1"), {"Idempotency-Key": "ck1"})
    assert status == 200 and headers["idempotent-replayed"] == "true"
    assert len(provider.ledger) == 1


async def test_client_that_leaves_during_a_delay_is_recorded_client_gone(inproc):
    provider, url = inproc
    delay_s = 1.0  # long beside the client's stay, so "when it left" and "when the delay ended" stay apart
    provider.faults.add({"kind": "delay", "delay_ms": int(delay_s * 1000)})

    async def last_entry(pending: bool):
        entries = provider.journal.query()["entries"]
        if entries and (entries[-1]["delivery"] == "pending") == pending:
            return entries[-1]
        return None

    async with conn(url) as (reader, writer):
        writer.write(post_bytes(url, PI, _pay("g1")))
        # The provider holds the request (journaled, in flight) before the client leaves.
        held = await wait_for(lambda: last_entry(pending=True), what="the request held by the delay")
        assert held["fault"]["kind"] == "delay"
        left = time.monotonic()
    # The client has closed its connection; the provider still holds the request.
    entry = await wait_for(lambda: last_entry(pending=False), timeout=delay_s + 5, what="the delayed request done")
    assert entry["delivery"] == "client_gone" and entry["response"] is None
    assert entry["committed"], "the delayed request still executes: an ambiguous outcome"
    # t_end is when the client left (same clock: the provider runs in this process), not when the delay
    # ended; 0.2 s of scheduling slack, and still far from the end of the delay.
    assert left - 0.01 <= entry["t_end"] <= left + 0.2, (left, entry["t_end"])
    assert entry["t_end"] < entry["t_start"] + delay_s - 0.2
    (charge,) = provider.ledger.entries()
    assert charge["t"] >= entry["t_start"] + delay_s - 0.01, "charged after the delay, the client long gone"


async def test_control_prefix_is_never_faulted_or_journaled(inproc):
    provider, url = inproc
    provider.faults.add({"kind": "drop"})
    async with conn(url) as (reader, writer):
        writer.write(b"GET /__paychaos/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = await read_response(reader)
        assert status == 200 and json.loads(body)["ok"] is True
        assert provider.journal.query()["entries"] == []


async def test_idle_connection_is_closed():
    provider = CardPay()
    server = await HttpServer(provider, idle_timeout=0.5).start(0)
    try:
        async with conn(server.url) as (reader, writer):
            assert await asyncio.wait_for(reader.read(), 5) == b""
    finally:
        await server.close()


async def test_server_refuses_a_non_loopback_host():
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        await HttpServer(CardPay()).start(0, host="0.0.0.0")
