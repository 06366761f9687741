"""CardPay details on raw HTTP (in-process server): auth forms, 404s, key
limits, TTL, search on any metadata key."""

from __future__ import annotations

import base64
import json

import pytest

from ._wire import form, request

PI = "/v1/payment_intents"


def _pay(order: str, **extra) -> bytes:
    return form(amount=1200, currency="usd", payment_method="pm_card_visa", confirm="true",
                **{"metadata[order_id]": order}, **extra)


async def test_basic_auth_with_the_key_as_user(inproc):
    _, url = inproc
    token = base64.b64encode(b"sk_test_basic:").decode()
    status, _, _ = await request(url, PI, _pay("b1"), {"Authorization": f"Basic {token}"})
    assert status == 200


async def test_missing_key_is_401_with_stripes_message(inproc):
    provider, url = inproc
    status, headers, body = await request(url, PI, _pay("n1"), {"Authorization": "Token nope"})
    err = json.loads(body)["error"]
    assert status == 401 and err["type"] == "invalid_request_error"
    assert err["message"].startswith("You did not provide an API key")
    assert headers["www-authenticate"].startswith("Bearer")
    assert len(provider.ledger) == 0


async def test_unknown_route_is_404_unrecognized_url(inproc):
    provider, url = inproc
    status, _, body = await request(url, "/v1/subscriptions", b"")
    assert status == 404 and "Unrecognized request URL (POST: /v1/subscriptions)" in json.loads(body)["error"]["message"]
    assert provider.journal.query()["entries"][-1]["endpoint"] == "unknown"


async def test_idempotency_key_longer_than_255_is_refused(inproc):
    provider, url = inproc
    status, _, body = await request(url, PI, _pay("k1"), {"Idempotency-Key": "k" * 256})
    assert status == 400 and "longer than 255" in json.loads(body)["error"]["message"]
    assert len(provider.ledger) == 0


async def test_expired_key_starts_a_new_request(inproc):
    provider, url = inproc
    now = [1000.0]
    provider.idem._clock = lambda: now[0]
    provider.idem.ttl_s = 60
    first = json.loads((await request(url, PI, _pay("t1"), {"Idempotency-Key": "tk"}))[2])
    now[0] += 59
    _, headers, body = await request(url, PI, _pay("t1"), {"Idempotency-Key": "tk"})
    assert headers["idempotent-replayed"] == "true" and json.loads(body)["id"] == first["id"]
    now[0] += 2
    _, headers, body = await request(url, PI, _pay("t1"), {"Idempotency-Key": "tk"})
    assert "idempotent-replayed" not in headers and json.loads(body)["id"] != first["id"]
    assert len(provider.ledger) == 2  # a pruned key is a new charge, as on Stripe


async def test_search_on_any_metadata_key_and_limit(inproc):
    _, url = inproc
    for i in range(3):
        await request(url, PI, _pay(f"s{i}", **{"metadata[cart]": "c7"}))
    await request(url, PI, _pay("s9", **{"metadata[cart]": "c8"}))
    reader_url = f"{PI}/search?query=metadata%5B%27cart%27%5D%3A%27c7%27&limit=2"
    status, _, body = await _get(url, reader_url)
    data = json.loads(body)
    assert status == 200 and len(data["data"]) == 2 and data["has_more"] is True
    status, _, body = await _get(url, f"{PI}/search?limit=2")
    assert status == 400 and json.loads(body)["error"]["code"] == "parameter_missing"


async def _get(url: str, path: str):
    from ._wire import conn, read_response
    async with conn(url) as (reader, writer):
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_x\r\n\r\n".encode())
        return await read_response(reader)


@pytest.mark.parametrize("card, code", [
    ({"number": "4242424242424242", "exp_month": "13", "exp_year": "2040"}, "invalid_expiry_month"),
    ({"number": "4242424242424242", "exp_month": "1", "exp_year": "2001"}, "invalid_expiry_year"),
    ({"number": "4242424242424242", "exp_month": "1", "exp_year": "2040", "cvc": "1"}, "invalid_cvc"),
    ({"number": "4000056655665556", "exp_month": "1", "exp_year": "2040"}, None),
    ({"number": "4111111111111111", "exp_month": "1", "exp_year": "2040"}, "card_declined"),
])
async def test_raw_card_validation(inproc, card, code):
    _, url = inproc
    params = {"amount": 1200, "currency": "usd", "confirm": "true", "payment_method_data[type]": "card",
              **{f"payment_method_data[card][{k}]": v for k, v in card.items()}}
    status, _, body = await request(url, PI, form(**params))
    if code is None:
        assert status == 200
    else:
        assert status == 402 and json.loads(body)["error"]["code"] == code
