"""The control API: answers, and clear 400s for bad input (never a crash)."""

from __future__ import annotations

import aiohttp
import pytest

from mock_providers.control import ControlClient, ControlError

from ._wire import form, request

pytestmark = pytest.mark.integration


async def test_health_faults_roundtrip_and_reset(cardpay):
    url, ctl = cardpay
    assert (await ctl.health())["provider"] == "cardpay"
    rid = await ctl.add_fault({"kind": "delay", "delay_ms": 5, "match": {"path": "/v1/*"}})
    assert rid == "f1"
    assert await ctl.add_fault({"id": "mine", "kind": "drop", "rate": 0}) == "mine"
    assert [f["id"] for f in await ctl.faults()] == ["f1", "mine"]
    await ctl.remove_fault("mine")
    assert [f["id"] for f in await ctl.faults()] == ["f1"]
    await ctl.clear_faults()
    assert await ctl.faults() == []
    await request(url, "/v1/payment_intents", form(amount=900, currency="usd", payment_method="pm_card_visa",
                                                   confirm="true"))
    assert len((await ctl.ledger())["entries"]) == 1
    await ctl.add_fault({"kind": "drop"})
    await ctl.reset()
    assert await ctl.faults() == [] and (await ctl.ledger()) == {"entries": [], "objects": []}
    assert (await ctl.journal())["entries"] == []


@pytest.mark.parametrize("call, status, text", [
    (lambda c: c.add_fault({"kind": "status", "status": 302}), 400, "must be 400..599"),
    (lambda c: c.add_fault({"kind": "nope"}), 400, "not a registered fault kind"),
    (lambda c: c.remove_fault("f99"), 404, "no active fault rule with id='f99'"),
    (lambda c: c.configure(seed="seven"), 400, "seed='seven' is invalid"),
    (lambda c: c.configure(order_ref_field=""), 400, "order_ref_field='' is invalid"),
    (lambda c: c.configure(idempotency_ttl_s=0), 400, "idempotency_ttl_s=0 is invalid"),
    (lambda c: c.configure(api_keys="sk_test_x"), 400, "api_keys='sk_test_x' is invalid"),
    (lambda c: c.configure(colour="blue"), 400, "unknown config key(s) ['colour']"),
    (lambda c: c.journal(after=-1), 400, "after=-1 is invalid"),
    (lambda c: c.journal(limit=0), 400, "limit=0 is invalid"),
])
async def test_bad_input_is_a_clear_error(cardpay, call, status, text):
    _, ctl = cardpay
    with pytest.raises(ControlError) as info:
        await call(ctl)
    assert info.value.status == status
    assert text in str(info.value) and text in info.value.payload["error"]


async def test_a_bad_config_key_changes_nothing(cardpay):
    url, ctl = cardpay
    with pytest.raises(ControlError):
        await ctl.configure(order_ref_field="metadata[other]", colour="blue")
    await request(url, "/v1/payment_intents", form(amount=900, currency="usd", **{"metadata[order_id]": "kept"}))
    assert (await ctl.journal())["entries"][-1]["order_ref"] == "kept"


@pytest.mark.parametrize("method, path, body, status, text", [
    ("POST", "faults", b"{not json", 400, "not valid JSON"),
    ("POST", "faults", b"", 400, "body is empty"),
    ("PUT", "config", b"[1]", 400, "config must be a JSON object"),
    ("GET", "journal?after=abc", None, 400, "after='abc' is invalid"),
    ("GET", "teapot", None, 404, "unknown control endpoint"),
    ("POST", "health", None, 405, "POST is not allowed"),
])
async def test_raw_bad_requests(cardpay, method, path, body, status, text):
    url, _ = cardpay
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{url}/__paychaos/{path}", data=body) as resp:
            payload = await resp.json()
            assert resp.status == status and text in payload["error"]


async def test_unreachable_provider_is_a_provider_error():
    async with ControlClient("http://127.0.0.1:9", timeout=2) as ctl:
        with pytest.raises(ControlError, match="ClientConnectorError|Connect"):
            await ctl.health()
