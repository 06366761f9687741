"""The embedded proxy knows what reached the service: per connection, how many
reply bytes it handed to the service's socket, keyed by the upstream port the
provider journals. Real sockets: a CardPay behind an embedded proxy, a raw
HTTP client in front."""

from __future__ import annotations

import asyncio

import pytest

from harness.faults import EmbeddedBackend, ToxiproxyBackend
from harness.faults.spec import ToxicSpec
from mock_providers.cardpay import CardPay
from mock_providers.core.server import HttpServer
from tests.providers._wire import form, open_conn, post_bytes, read_response
from tests.toxiproxy_gate import need_toxiproxy

from .support import poll

PI = "/v1/payment_intents"


@pytest.fixture
async def behind_proxy():
    """(provider, proxy backend, proxy listen url)."""
    provider = CardPay(seed=1)
    server = await HttpServer(provider).start(0)
    backend = EmbeddedBackend(seed=1)
    await backend.start()
    try:
        listen = await backend.create_proxy("cardpay", server.url.split("://", 1)[1])
        yield provider, backend, f"http://{listen}"
    finally:
        await backend.close()
        await server.close()
        provider.close()


def _pay(order: str) -> bytes:
    return form(amount=1200, currency="usd", payment_method="pm_card_visa", confirm="true",
                **{"metadata[order_id]": order})


def _fate(provider, backend) -> list[tuple[bool, dict]]:
    """Per journal entry with a written reply: (did it reach the client, the entry)."""
    records = backend.deliveries("cardpay")
    out = []
    for e in provider.journal.query()["entries"]:
        if e["conn"] is None:
            continue
        (rec,) = [r for r in records if r["port"] == e["conn"]["port"]]
        out.append((rec["delivered"] >= e["conn"]["reply_end"], e))
    return out


async def test_every_reply_on_a_keep_alive_connection_is_recorded_as_delivered(behind_proxy):
    provider, backend, url = behind_proxy
    reader, writer = await open_conn(url)
    try:
        for i in range(3):
            writer.write(post_bytes(url, PI, _pay(f"o{i}")))
            status, _, _ = await read_response(reader)
            assert status == 200
    finally:
        writer.close()
        await writer.wait_closed()
    fates = _fate(provider, backend)
    assert [reached for reached, _ in fates] == [True, True, True]
    ends = [e["conn"]["reply_end"] for _, e in fates]
    assert ends == sorted(ends) and len(set(ends)) == 3, "offsets grow along the connection"


@pytest.mark.parametrize("toxic", [
    ToxicSpec(type="timeout", stream="downstream", attributes={"timeout": 0}),
    ToxicSpec(type="reset_peer", stream="downstream", attributes={"timeout": 0}),
])
async def test_a_reply_a_toxic_swallowed_is_recorded_as_not_delivered(behind_proxy, toxic):
    provider, backend, url = behind_proxy
    await backend.add_toxic("cardpay", toxic)
    reader, writer = await open_conn(url)
    try:
        writer.write(post_bytes(url, PI, _pay("o1")))
        with pytest.raises((asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError)):
            await read_response(reader, timeout=1.0)
    finally:
        writer.close()
    await poll(lambda: provider.journal.query()["entries"] and provider.journal.query()["entries"][-1]["conn"],
               5.0, what="the provider wrote its reply")
    assert len(provider.ledger) == 1, "the charge committed: only the reply was lost"
    [(reached, _)] = _fate(provider, backend)
    assert not reached


async def test_a_reply_delivered_before_the_reset_still_counts(behind_proxy):
    provider, backend, url = behind_proxy
    reader, writer = await open_conn(url)
    try:
        writer.write(post_bytes(url, PI, _pay("o1")))
        assert (await read_response(reader))[0] == 200
        await backend.add_toxic("cardpay", ToxicSpec(type="reset_peer", stream="downstream", attributes={"timeout": 0}))
        writer.write(post_bytes(url, PI, _pay("o2")))
        with pytest.raises((asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError)):
            await read_response(reader, timeout=1.0)
    finally:
        writer.close()
    await poll(lambda: len([e for e in provider.journal.query()["entries"] if e["conn"]]) == 2, 5.0,
               what="both replies written")
    assert [reached for reached, _ in _fate(provider, backend)] == [True, False]


def test_toxiproxy_cannot_say_what_reached_the_service():
    need_toxiproxy()  # the backend finds its server when it is made
    assert ToxiproxyBackend().deliveries("cardpay") is None
